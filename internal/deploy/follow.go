package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// follower waits for one deployment's verdict and prints its build log once, live.
//
// The log reads top to bottom: one group (a GitLab section) per deployment holds the
// whole build log, with the status changes as lines inside it; the verdict, what it means
// and the last lines of the log come after the group closes, once, when the stream and
// links.output have been drained.
//
// Polling GET /deployments/{id} is the source of truth for the status. The app's
// WebSocket stream, when it can be opened, brings the log live; when it cannot (or
// while it is down), the log is read from links.output as it grows. Log lines are
// counted from the start of the deployment's log whichever way they come, so a line is
// never printed twice, and the log is caught up from links.output at the end, so none is
// lost.
type follower struct {
	*deployer
	app       string
	dep       *scalingo.Deployment
	timeout   time.Duration
	streamURL string

	start        time.Time
	status       string
	warned       map[string]bool
	queuedNoted  bool
	lines        []string // the log lines printed so far
	chunks       chan logChunk
	endGroup     func()
	streamUp     atomic.Bool
	streamFailed atomic.Bool
}

// logChunk is log lines from the stream. The stream replays the log on each connection,
// and each "log" event holds whole lines (the fake and the official CLI treat an event as
// a line), so lines are counted per connection from the start of the log.
type logChunk struct {
	first int // index, in its connection's count, of the chunk's first line
	lines []string
}

// errWaited is the cause of the wait's own deadline.
var errWaited = errors.New("the wait ran out")

func (f *follower) run(ctx context.Context) error {
	f.start = f.Now()
	f.status = f.dep.Status
	f.warned = map[string]bool{}
	f.endGroup = f.Reporter.Group("Build log of deployment " + f.dep.ID)
	defer f.closeGroup() // on every way out; the verdict is printed after it
	f.Reporter.Printf("[%s] %s", f.elapsed(), f.status)

	// The timeout is checked against the injected clock after each poll; this deadline
	// also bounds a poll that hangs (an API call may retry for minutes) in real time.
	waitCtx, cancelWait := context.WithTimeoutCause(ctx, f.timeout, errWaited)
	defer cancelWait()

	chunks := make(chan logChunk, 256)
	f.chunks = chunks
	statusHint := make(chan string, 16)
	streamCtx, stopStream := context.WithCancel(waitCtx)
	var wg sync.WaitGroup
	defer func() {
		stopStream()
		wg.Wait()
	}()
	if f.streamURL != "" {
		// The first connection is tried here, before the first poll, so that the log
		// says at a fixed place whether it comes live or through the API.
		s, err := f.Client.Stream(streamCtx, f.streamURL)
		if err != nil && streamCtx.Err() == nil {
			f.streamFailed.Store(true)
			f.Reporter.Printf("The live log stream is unavailable (%v); reading the log through the API instead.", redactStreamErr(err, f.streamURL))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.stream(streamCtx, s, chunks, statusHint)
		}()
	} else {
		f.streamFailed.Store(true)
	}

	tick := f.After(f.PollInterval)
	for {
		select {
		case <-waitCtx.Done():
			return f.stop(ctx)
		case c := <-chunks:
			if gap := f.printChunk(c); gap {
				f.catchUp(waitCtx)
			}
			continue
		case <-statusHint:
			// The stream says the status changed: check now rather than at the next tick.
			// The stream never decides the verdict on its own.
		case <-tick:
			tick = f.After(f.PollInterval)
		}
		done, err := f.poll(waitCtx)
		if waitCtx.Err() != nil {
			return f.stop(ctx)
		}
		if done || err != nil {
			return err
		}
		if f.Now().Sub(f.start) >= f.timeout {
			return f.timedOut(ctx)
		}
	}
}

// stop ends a wait cut short: by the run's cancellation (a signal), or by the timeout.
func (f *follower) stop(ctx context.Context) error {
	if ctx.Err() != nil {
		f.closeGroup()
		return context.Cause(ctx)
	}
	return f.timedOut(ctx)
}

// timedOut prints the log lines not printed yet and reports the timeout.
func (f *follower) timedOut(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f.catchUp(ctx)
	f.closeGroup()
	return &TimeoutError{ID: f.dep.ID, App: f.app, Region: f.Region, LastStatus: f.status, After: f.timeout}
}

// poll checks the status; done is true once the deployment has ended.
func (f *follower) poll(ctx context.Context) (done bool, err error) {
	dep, err := f.Client.Deployment(ctx, f.app, f.dep.ID)
	if err != nil {
		if ctx.Err() != nil {
			return true, context.Cause(ctx)
		}
		var apiErr *scalingo.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests {
			// Refused (gone, or no longer allowed): asking again will not change it.
			return true, fmt.Errorf("check deployment %s: %w", f.dep.ID, err)
		}
		// The client has retried already; one failed poll is not a verdict.
		f.Reporter.Warning("could not check deployment %s: %v", f.dep.ID, err)
		return false, nil
	}
	if dep.Links.Output != "" {
		f.dep.Links.Output = dep.Links.Output
	}
	if !Status(dep.Status).Terminal() && (!f.streamUp.Load() || dep.Status != f.status) {
		// A status change prints after the lines that came before it, which the stream
		// may not have brought yet. (A terminal status catches up below.)
		f.drain()
		f.catchUp(ctx)
	}
	if Status(dep.Status).Terminal() {
		f.status = dep.Status
		// The whole log, then the verdict after the group: what the stream has brought,
		// then what links.output has that the stream did not.
		f.drain()
		f.catchUp(ctx)
		f.closeGroup()
		f.emit(Event{Kind: EventStatus, Status: Status(f.status)})
		f.Reporter.Printf("[%s] %s: %s", f.elapsed(), f.status, Status(f.status).Reason(f.app))
		if f.status == "success" {
			return true, nil
		}
		// Folded away, the log's end is shown again under the verdict; in a plain log it
		// is right above.
		if tail := f.tail(50); tail != "" && f.Reporter.Folds() {
			f.Reporter.Printf("Last lines of the build log:")
			f.Reporter.Untrusted(tail)
		}
		return true, &FailedError{ID: f.dep.ID, App: f.app, Status: Status(f.status)}
	}
	if dep.Status != f.status {
		f.status = dep.Status
		f.Reporter.Printf("[%s] %s", f.elapsed(), f.status)
		f.emit(Event{Kind: EventStatus, Status: Status(f.status)})
	}
	switch {
	case f.status == "queued":
		if !f.queuedNoted && f.Now().Sub(f.start) >= f.QueuedNotice {
			f.queuedNoted = true
			f.Reporter.Notice("deployment %s has been queued for %s: all the deployment slots of the app's owner are in use; it starts when one frees up", f.dep.ID, f.elapsed())
		}
	case !Status(f.status).Running() && !f.warned[f.status]:
		f.warned[f.status] = true
		f.Reporter.Warning("deployment %s has an unknown status %q; still waiting for a known one", f.dep.ID, f.status)
	}
	return false, nil
}

// drain prints the log lines the stream has passed on and the loop has not taken yet.
func (f *follower) drain() {
	for {
		select {
		case c := <-f.chunks:
			f.printChunk(c) // a gap is filled by the catch-up that follows
		default:
			return
		}
	}
}

// catchUp prints the log lines that links.output has and this run has not printed.
func (f *follower) catchUp(ctx context.Context) {
	if f.dep.Links.Output == "" {
		return
	}
	text, err := f.Client.Output(ctx, f.dep.Links.Output)
	if err != nil {
		if ctx.Err() == nil {
			f.Reporter.Warning("could not read the build log: %v", err)
		}
		return
	}
	lines := splitLines(text)
	if len(lines) > len(f.lines) {
		f.printLines(lines[len(f.lines):])
	}
}

// printChunk prints the lines of c not printed yet. Lines are counted per connection
// from the start of the log (the stream replays it on connect). It reports a gap when c
// starts past the printed lines: links.output has the missing ones.
func (f *follower) printChunk(c logChunk) (gap bool) {
	skip := len(f.lines) - c.first
	switch {
	case skip < 0:
		return true
	case skip >= len(c.lines):
		return false
	}
	f.printLines(c.lines[skip:])
	return false
}

func (f *follower) printLines(lines []string) {
	if len(lines) == 0 {
		return
	}
	f.Reporter.Untrusted(strings.Join(lines, "\n"))
	f.lines = append(f.lines, lines...)
	for _, l := range lines {
		f.emit(Event{Kind: EventLog, Line: l})
	}
}

func (f *follower) closeGroup() {
	if f.endGroup != nil {
		f.endGroup()
		f.endGroup = nil
	}
}

// tail returns the last n printed log lines.
func (f *follower) tail(n int) string {
	return strings.Join(f.lines[max(0, len(f.lines)-n):], "\n")
}

func (f *follower) elapsed() string {
	d := f.Now().Sub(f.start).Round(time.Second)
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func splitLines(text string) []string {
	text = strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// stream follows the app's deployments stream, reconnecting with backoff, and passes on
// our deployment's log lines and status changes. It gives up on the stream only when the
// run ends; while the stream is down, the poller reads links.output instead.
// first is the connection run opened, nil if it failed (and said so).
func (f *follower) stream(ctx context.Context, first *scalingo.Stream, chunks chan<- logChunk, statusHint chan<- string) {
	backoff := time.Second
	for {
		if first != nil {
			err := f.follow(ctx, first, chunks, statusHint)
			first = nil
			f.streamUp.Store(false)
			if ctx.Err() != nil {
				return
			}
			if !f.streamFailed.Swap(true) {
				f.Reporter.Printf("The live log stream is unavailable (%v); reading the log through the API instead.", redactStreamErr(err, f.streamURL))
			}
		}
		// Down (the first connection failed, or this one ended): wait, then reconnect.
		select {
		case <-ctx.Done():
			return
		case <-f.streamClock.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
		s, err := f.Client.Stream(ctx, f.streamURL)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		first = s
	}
}

// streamIdle is how long the stream may stay silent (the API pings every 30 s) before it
// is taken as stalled and reopened.
const streamIdle = 2 * time.Minute

// follow reads one connection until it ends, and closes it.
func (f *follower) follow(ctx context.Context, s *scalingo.Stream, chunks chan<- logChunk, statusHint chan<- string) error {
	defer s.Close()
	count := 0
	for {
		readCtx, cancel := context.WithTimeout(ctx, streamIdle)
		ev, err := s.Next(readCtx)
		cancel()
		if err != nil {
			return err
		}
		if ev.ID != f.dep.ID {
			continue
		}
		if !f.streamUp.Swap(true) && f.streamFailed.Load() {
			f.Reporter.Printf("The live log stream is back.")
			f.streamFailed.Store(false)
		}
		switch ev.Type {
		case "log":
			lines := splitLines(ev.Content)
			select {
			case chunks <- logChunk{first: count, lines: lines}:
			case <-ctx.Done():
				return ctx.Err()
			}
			count += len(lines)
		case "status":
			select {
			case statusHint <- ev.Status:
			default:
			}
		}
	}
}

func redactStreamErr(err error, streamURL string) string {
	if err == nil {
		return "closed"
	}
	msg := err.Error()
	if u, perr := url.Parse(streamURL); perr == nil && u.RawQuery != "" {
		msg = strings.ReplaceAll(msg, u.RawQuery, "[redacted]")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return msg
}
