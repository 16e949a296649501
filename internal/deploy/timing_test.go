package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// sim runs the deploy flow and the fake on one fake clock that moves only while the run
// is at rest: nothing in transit between the client and the fake (counted where it
// goes through: requests at the client's transport, stream events in the fake, stream
// bytes at both ends of each connection), and no goroutine of the run running or
// runnable. Reading goroutine states alone is not enough: a goroutine waiting for the
// network looks parked while its answer is on the way, and the clock would jump ahead
// of it (a stream event in transit, a handshake), under load especially.
//
// Answers are handed to the run one at a time, in the order they came, each only once
// the run is at rest: as if the network were slow and the machine fast, whatever the
// load. Without it, which target's requests queue first for the budget would depend on
// the scheduler: a target whose source and upload went through before the others had
// queued theirs would be created with the whole budget spent behind it (see the report
// in TestDeploy_BudgetSpentEvenly).
type sim struct {
	clk    *clock.Fake
	fake   *fakescalingo.Server
	client *scalingo.Client
	base   http.RoundTripper
	wire   wire
	label  string // the pprof label every goroutine of the run carries
	out    lockedBuffer
}

var simEpoch = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

var simN atomic.Int64

func init() {
	// Goroutine labels in runtime.Stack's dump: a goroutine of the run is known by its
	// label, which every goroutine it starts inherits, even once its parent is gone
	// (the transport's connection goroutines).
	os.Setenv("GODEBUG", strings.TrimPrefix(os.Getenv("GODEBUG")+",tracebacklabels=1", ","))
}

func newSim(t *testing.T, opts fakescalingo.Options) *sim {
	t.Helper()
	s := &sim{clk: clock.NewFake(simEpoch), label: fmt.Sprint(simN.Add(1))}
	s.wire.init()
	opts.Now = s.clk.Now
	opts.StreamConn = func(c net.Conn) net.Conn { return s.wire.conn(c, c.RemoteAddr().String(), true) }
	fake, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	s.fake = fake
	streamHost := strings.TrimPrefix(fake.StreamURL, "ws://")
	dialer := &net.Dialer{}
	s.base = &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil || addr != streamHost {
			return c, err
		}
		return s.wire.conn(c, c.LocalAddr().String(), false), nil
	}}
	s.client, err = scalingo.New(scalingo.Options{APIURL: fake.APIURL, AuthURL: fake.AuthURL, APIToken: fake.APIToken,
		Clock: s.clk, Transport: s})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RoundTrip counts the request in flight until its whole answer came, then holds the
// answer until the sim hands it over. A stream's handshake is answered at once (the
// stream's bytes are counted on its connection).
func (s *sim) RoundTrip(req *http.Request) (*http.Response, error) {
	s.wire.update(func() { s.wire.requests++ })
	resp, err := s.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		s.wire.update(func() { s.wire.requests-- })
		return resp, nil
	}
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		var rest io.Reader = bytes.NewReader(body)
		if rerr != nil {
			rest = io.MultiReader(rest, errReader{rerr}) // a connection cut mid-answer stays cut
		}
		resp.Body = io.NopCloser(rest)
	}
	release := make(chan struct{})
	s.wire.update(func() {
		s.wire.requests--
		s.wire.held = append(s.wire.held, release)
	})
	select {
	case <-release:
		return resp, err
	case <-req.Context().Done():
		s.wire.update(func() {
			s.wire.held = slices.DeleteFunc(s.wire.held, func(c chan struct{}) bool { return c == release })
		})
		if resp != nil {
			resp.Body.Close()
		}
		return nil, context.Cause(req.Context())
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// wire counts what is in transit between the client and the fake: requests sent and
// not yet answered and read, and on each stream connection the bytes one end wrote
// that the other has not read. A write counts before it goes out, a read once it came
// in, so that nothing is ever in transit uncounted. Every change bumps seq and closes
// changed.
type wire struct {
	mu       sync.Mutex
	seq      uint64
	requests int
	held     []chan struct{}      // answers that came, in order, each closed when handed over
	conns    map[string]*wireConn // by the client's address
	changed  chan struct{}
}

type wireConn struct {
	wrote, read [2]int64 // by end: client, server
	closed      [2]bool
	server      bool // the fake accepted it
}

func (w *wire) init() {
	w.conns = map[string]*wireConn{}
	w.changed = make(chan struct{})
}

func (w *wire) update(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f()
	w.seq++
	close(w.changed)
	w.changed = make(chan struct{})
}

// state returns the count of changes so far, whether anything is in transit, and a
// channel closed at the next change.
func (w *wire) state() (seq uint64, busy bool, changed <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	busy = w.requests > 0
	for _, c := range w.conns {
		// A connection the fake has not accepted yet is its handshake, a request.
		if c.server && (!c.closed[0] && c.wrote[1] > c.read[0] || !c.closed[1] && c.wrote[0] > c.read[1]) {
			busy = true
		}
	}
	return w.seq, busy, w.changed
}

// conn counts what goes through c, the end of connection key on the fake's side
// (server) or the client's.
func (w *wire) conn(c net.Conn, key string, server bool) net.Conn {
	end := 0
	if server {
		end = 1
	}
	w.update(func() {
		wc := w.conns[key]
		if wc == nil {
			wc = &wireConn{}
			w.conns[key] = wc
		}
		wc.server = wc.server || server
	})
	return &wireEnd{Conn: c, w: w, key: key, end: end}
}

type wireEnd struct {
	net.Conn
	w   *wire
	key string
	end int
}

func (e *wireEnd) Read(p []byte) (int, error) {
	n, err := e.Conn.Read(p)
	if n > 0 {
		e.w.update(func() { e.w.conns[e.key].read[e.end] += int64(n) })
	}
	return n, err
}

func (e *wireEnd) Write(p []byte) (int, error) {
	e.w.update(func() { e.w.conns[e.key].wrote[e.end] += int64(len(p)) })
	n, err := e.Conn.Write(p)
	if err != nil {
		e.w.update(func() { e.w.conns[e.key].closed[e.end] = true }) // what was not written never arrives
	}
	return n, err
}

func (e *wireEnd) Close() error {
	e.w.update(func() { e.w.conns[e.key].closed[e.end] = true })
	return e.Conn.Close()
}

// handOver hands the first answer held over to the run; false when none is held.
func (w *wire) handOver() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return false
	}
	close(w.held[0])
	w.held = w.held[1:]
	w.seq++
	close(w.changed)
	w.changed = make(chan struct{})
	return true
}

// atRest tells whether the run is at rest: nothing in transit, and no goroutine of the
// run can run. The goroutines are read between two looks at the wire that find it idle
// and unchanged: a goroutine woken by the network between them would have changed it.
// The fake's stream queue only fills on a request or on Tick, and is written out
// through the wire: it cannot fill and drain unseen either.
func (s *sim) atRest() bool {
	seq, busy, _ := s.wire.state()
	if busy || s.fake.StreamBusy() != 0 {
		return false
	}
	if s.runnable() {
		return false
	}
	again, busy, _ := s.wire.state()
	return again == seq && !busy && s.fake.StreamBusy() == 0
}

// runnable tells whether a goroutine of the run is running or runnable, as the
// runtime tells.
func (s *sim) runnable() bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	mark := fmt.Sprintf("%q: %q", "sim", s.label)
	for _, g := range strings.Split(string(buf), "\n\n") {
		head, _, _ := strings.Cut(g, "\n")
		_, state, ok := strings.Cut(head, " [")
		if !ok || !strings.Contains(head, mark) {
			continue
		}
		for _, busy := range []string{"running", "runnable", "syscall", "preempted"} {
			if strings.HasPrefix(state, busy) {
				return true
			}
		}
	}
	return false
}

// deploy runs Deploy with a target per app and moves the clock until it returns; each,
// if set, is called at every step. It returns the results, how long the run took by
// the fake clock and the error.
func (s *sim) deploy(t *testing.T, apps []string, set Settings, each func()) ([]*Result, time.Duration, error) {
	t.Helper()
	r := platform.New(ci.ByPlatform(ci.Local), &s.out, func(string) string { return "" }, s.clk.Now)
	plan := Plan{Archive: tarball(t), Settings: set, Clock: s.clk, Reporter: r}
	for _, app := range apps {
		plan.Targets = append(plan.Targets, Target{App: app, Region: "osc-fr1", Client: s.client, Reporter: r.For(app)})
	}
	type outcome struct {
		res []*Result
		err error
		end time.Time
	}
	start := s.clk.Now()
	done := make(chan outcome, 1)
	pprof.Do(context.Background(), pprof.Labels("sim", s.label), func(ctx context.Context) {
		go func() {
			res, err := Deploy(ctx, plan)
			done <- outcome{res, err, s.clk.Now()}
		}()
	})
	limit := start.Add(time.Hour)
	for {
		_, busy, changed := s.wire.state()
		if busy {
			// Something is in transit: wait for it rather than spin, which would starve
			// the network poller on a busy machine.
			select {
			case o := <-done:
				return o.res, o.end.Sub(start), o.err
			case <-changed:
			}
			continue
		}
		select {
		case o := <-done:
			return o.res, o.end.Sub(start), o.err
		default:
		}
		if !s.atRest() {
			runtime.Gosched()
			continue
		}
		if s.wire.handOver() {
			continue
		}
		if s.clk.Waiters() == 0 {
			runtime.Gosched() // nothing to move the clock for
			continue
		}
		if s.clk.Now().After(limit) {
			t.Fatalf("the run was still going after an hour by the fake clock:\n%s", s.out.String())
		}
		// Straight to the next wait that ends, a quarter of a second at most, so that
		// the fake's builds (which move with the clock) speak on time, their stream
		// events read before the clock moves much further.
		step := 250 * time.Millisecond
		if next, ok := s.clk.Next(); ok {
			step = min(step, max(next.Sub(s.clk.Now()), 0))
		}
		s.clk.Advance(step)
		s.fake.Tick()
		if each != nil {
			each()
		}
	}
}

// tarball is an archive the fake's builder accepts: one top-level folder.
func tarball(t *testing.T) Archive {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755})
	body := "web: bin/server\n"
	tw.WriteHeader(&tar.Header{Name: "app/Procfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	io.WriteString(tw, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return Archive{Body: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len())}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDeploy_BudgetSpentEvenly: targets whose builds take their time, against an API
// that allows 60 requests a minute and counts each when it arrives, up to 1.5 s after
// the client sent it. No request may be refused; each target's status must be read at
// least every 15 s from its creation to its verdict when the budget allows (eight
// targets), and no target may go a minute unseen when it does not (twenty, the most a
// run takes, whose first requests alone are more than a minute's budget). Nor may a
// target that has ended wait for the budget to come back before its log is read and
// its verdict given: its reads must go on at the same pace to the end.
func TestDeploy_BudgetSpentEvenly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		targets int
		build   time.Duration
		unread  time.Duration // the longest a target's status may go unread
	}{
		{"8 targets, 20 s builds", 8, 20 * time.Second, 15 * time.Second},
		{"20 targets, 3 min builds", 20, 3 * time.Minute, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t, fakescalingo.Options{RateLimit: 60, RateLimitLag: 1500 * time.Millisecond})
			var apps []string
			for i := range tt.targets {
				app := fmt.Sprintf("shop-%02d", i+1)
				apps = append(apps, app)
				s.fake.AddApp(app, fakescalingo.Scenario{BuildTime: tt.build})
			}
			_, took, err := s.deploy(t, apps, Settings{GitRef: "v1", Wait: true, Timeout: 10 * time.Minute}, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, s.out.String())
			}
			if n := s.fake.RateLimited(); n != 0 {
				t.Errorf("the API refused %d requests (429): the run went over its budget", n)
			}
			reqs := s.fake.Requests()
			worst := time.Duration(0)
			for _, app := range apps {
				deps := s.fake.Deployments(app)
				if len(deps) != 1 || deps[0].Status != "success" {
					t.Fatalf("%s: %d deployments, want 1 that succeeded", app, len(deps))
				}
				// From its creation to its verdict, the deployment is read: its status
				// (the creation's answer, then each poll), then its log once it ended. A
				// long gap is a target unseen, or one whose verdict waits for the budget.
				var reads []time.Time
				for _, r := range reqs {
					if r.Server == "api" && r.Status/100 == 2 && (r.Method == "POST" && r.Path == "/v1/apps/"+app+"/deployments" ||
						r.Method == "GET" && strings.Contains(r.Path, "/deployments/"+deps[0].ID)) {
						reads = append(reads, r.Time)
					}
				}
				for i := 1; i < len(reads); i++ {
					gap := reads[i].Sub(reads[i-1])
					worst = max(worst, gap)
					if gap > tt.unread {
						t.Errorf("%s: unread for %s (reads at %s)", app, gap, offsets(reads))
						break
					}
				}
			}
			api := 0
			for _, r := range reqs {
				if r.Server == "api" {
					api++
				}
			}
			t.Logf("%s: %d API requests, %d refused, a deployment unread for %s at most, the run took %s by the fake clock",
				tt.name, api, s.fake.RateLimited(), worst.Round(100*time.Millisecond), took.Round(100*time.Millisecond))
		})
	}
}

func offsets(ts []time.Time) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, "+"+t.Sub(simEpoch).Round(100*time.Millisecond).String())
	}
	return strings.Join(parts, " ")
}

// TestDeploy_TimeoutIsHardWhenTheAPIVanishes: the API goes away once the deployment is
// followed, its log stream open (after the first poll). The run must end by timeout + 10 s on its clock (one
// last status read and the log catch-up, however they fail) with a timeout, and say in
// plain words that the stream closed.
func TestDeploy_TimeoutIsHardWhenTheAPIVanishes(t *testing.T) {
	t.Parallel()
	s := newSim(t, fakescalingo.Options{})
	s.fake.AddApp("my-app", fakescalingo.Scenario{NeverFinish: true})
	var gone time.Time
	vanish := func() {
		if !gone.IsZero() {
			return
		}
		// The first poll comes after the stream was opened.
		for _, r := range s.fake.Requests() {
			if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/apps/my-app/deployments/") {
				s.fake.Vanish()
				gone = s.clk.Now()
				return
			}
		}
	}
	const timeout = 75 * time.Second
	_, took, err := s.deploy(t, []string{"my-app"}, Settings{GitRef: "v1", Wait: true, Timeout: timeout}, vanish)
	out := s.out.String()
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a timeout (exit 3)\n%s", err, out)
	}
	if gone.IsZero() {
		t.Fatal("the API never vanished: the test did not test")
	}
	if took > timeout+finalGrace {
		t.Errorf("the run took %s by its clock with timeout %s: more than %s after it\n%s", took, timeout, finalGrace, out)
	}
	// One last status read was tried after the timeout.
	last := false
	for _, r := range s.fake.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/apps/my-app/deployments/") && !r.Time.Before(simEpoch.Add(timeout)) {
			last = true
		}
	}
	if !last {
		t.Errorf("no status read after the timeout")
	}
	if !strings.Contains(out, "The live log stream closed; following by polling.") {
		t.Errorf("the stream's end is not said plainly:\n%s", out)
	}
	for _, jargon := range []string{"frame header", "failed to get reader", "JSON message"} {
		if strings.Contains(out, jargon) {
			t.Errorf("the log says %q:\n%s", jargon, out)
		}
	}
	t.Logf("API gone at +%s, timeout %s: the run ended after %s by its clock", gone.Sub(simEpoch), timeout, took.Round(100*time.Millisecond))
}
