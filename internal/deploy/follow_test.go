package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// TestPrintChunk: log lines arrive from the stream (replayed from the start on each
// connection) and from links.output; each must print once, in order.
func TestPrintChunk(t *testing.T) {
	t.Parallel()
	lines := func(s string) []string { return strings.Fields(s) }
	tests := []struct {
		name    string
		printed string // already printed
		first   int
		chunk   string
		want    string // printed after
		gap     bool
	}{
		{"first lines", "", 0, "a b", "a b", false},
		{"next lines", "a b", 2, "c", "a b c", false},
		{"replay after a reconnect", "a b c", 0, "a b", "a b c", false},
		{"replay overlapping new lines", "a b c", 1, "b c d e", "a b c d e", false},
		{"a gap: left to links.output", "a", 3, "d", "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			f := &follower{deployer: &deployer{Target: Target{Reporter: platform.New(ci.ByPlatform(ci.Local), &out, func(string) string { return "" }, time.Now)}}}
			f.lines = lines(tt.printed)
			gap := f.printChunk(logChunk{first: tt.first, lines: lines(tt.chunk)})
			if got := strings.Join(f.lines, " "); got != tt.want || gap != tt.gap {
				t.Errorf("printed %q, gap %v; want %q, gap %v", got, gap, tt.want, tt.gap)
			}
		})
	}
}

func TestTerminalAndReason(t *testing.T) {
	t.Parallel()
	for _, s := range []Status{"success", "build-error", "crashed-error", "timeout-error", "hook-error", "aborted"} {
		if !s.Terminal() || s.Running() || s.Reason("my-app") == "unknown status" || strings.Contains(s.Reason("my-app"), "APP") {
			t.Errorf("%s: terminal %v, running %v, reason %q", s, s.Terminal(), s.Running(), s.Reason("my-app"))
		}
		if s.Failed() != (s != StatusSuccess) {
			t.Errorf("%s: failed %v", s, s.Failed())
		}
	}
	for _, s := range []Status{"queued", "building", "pushing", "starting", "something-new"} {
		if s.Terminal() || s.Failed() {
			t.Errorf("%s is not terminal", s)
		}
		if s.Running() != (s != "something-new") {
			t.Errorf("%s: running %v", s, s.Running())
		}
	}
}

// TestDrain: the lines the stream has passed on but the loop has not taken yet are
// printed before the verdict, once, in order, replays skipped.
func TestDrain(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	f := &follower{deployer: &deployer{Target: Target{Reporter: platform.New(ci.ByPlatform(ci.Local), &out, func(string) string { return "" }, time.Now)}}}
	f.lines = []string{"a"}
	f.chunks = make(chan logChunk, 4)
	f.chunks <- logChunk{first: 0, lines: []string{"a", "b"}}
	f.chunks <- logChunk{first: 2, lines: []string{"c"}}
	f.chunks <- logChunk{first: 0, lines: []string{"a", "b", "c"}} // a replay after a reconnect
	f.drain()
	if got := strings.Join(f.lines, " "); got != "a b c" || out.String() != "b\nc\n" {
		t.Errorf("lines %q, printed %q; want a b c, and b, c printed", got, out.String())
	}
	if len(f.chunks) != 0 {
		t.Errorf("%d chunks left", len(f.chunks))
	}
}

// TestStreamTrouble: what the log says when the stream fails is plain words, never the
// WebSocket library's.
func TestStreamTrouble(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"closed cleanly", nil, "plain"},
		{"closed abruptly", errors.New("failed to read JSON message: failed to get reader: failed to read frame header: EOF"), "plain"},
		{"refused at the handshake", fmt.Errorf("open: %w", &scalingo.StreamHTTPError{StatusCode: 503}), "HTTP 503"},
		{"token refused", fmt.Errorf("%w: status = StatusPolicyViolation", scalingo.ErrStreamTokenRefused), "the stream refused the token"},
		{"silent", errStreamIdle, "nothing came for 2 minutes"},
		{"dial timed out", fmt.Errorf("open the log stream: %w", context.DeadlineExceeded), "no answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := streamTrouble(tt.err, "plain"); got != tt.want {
				t.Errorf("streamTrouble = %q, want %q", got, tt.want)
			}
		})
	}
}
