// Package simclock runs a client against the fake Scalingo on one fake clock that moves
// only while the run is at rest: nothing in transit between the client and the fake,
// and no goroutine of the run running or runnable. Tests only.
//
// What is in transit is counted where it goes through, not guessed: requests at the
// client's transport, stream events queued in the fake (fakescalingo's StreamBusy), and
// the bytes of each stream connection at both ends. Reading goroutine states alone is
// not enough: a goroutine waiting for the network looks parked while its answer is on
// the way, and the clock would jump ahead of it (a stream event, a handshake), under
// load especially. The goroutines of the run are told by a pprof label they inherit
// (GODEBUG tracebacklabels), which holds even when a parent has exited.
//
// Answers are handed to the run one at a time, in the order they came, each only once
// the run is at rest: as if the network were slow and the machine fast, whatever the
// load. Otherwise the order in which parallel targets queue for the request budget
// would be the scheduler's: a target whose source and upload went through before the
// others had queued theirs is created with the whole budget spent behind it.
package simclock

import (
	"bytes"
	"context"
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
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

func init() {
	// Goroutine labels in runtime.Stack's dump (see runnable).
	os.Setenv("GODEBUG", strings.TrimPrefix(os.Getenv("GODEBUG")+",tracebacklabels=1", ","))
}

var simN atomic.Int64

// Sim is one run's clock and the transport its client must use.
type Sim struct {
	Clock *clock.Fake
	// Step, when set, is called after every move of the clock (the fake's Tick, a
	// test's own event).
	Step func()
	// Limit is how long by the clock a run may take; zero means an hour.
	Limit time.Duration

	label      string
	base       http.RoundTripper
	streamHost string
	streamBusy func() int
	wire       wire
}

// New returns a Sim whose clock starts at start.
func New(start time.Time) *Sim {
	s := &Sim{Clock: clock.NewFake(start), label: fmt.Sprint(simN.Add(1))}
	s.wire.conns = map[string]*wireConn{}
	s.wire.changed = make(chan struct{})
	dialer := &net.Dialer{}
	s.base = &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil || addr != s.streamHost {
			return c, err
		}
		return s.wire.conn(c, c.LocalAddr().String(), false), nil
	}}
	return s
}

// ServerConn wraps a stream connection the fake accepted (fakescalingo's
// Options.StreamConn).
func (s *Sim) ServerConn(c net.Conn) net.Conn {
	return s.wire.conn(c, c.RemoteAddr().String(), true)
}

// Watch tells the Sim the fake's stream URL and how many stream events it has not
// written yet (fakescalingo's StreamURL and StreamBusy). Call it before the run.
func (s *Sim) Watch(streamURL string, busy func() int) {
	s.streamHost = strings.TrimPrefix(strings.TrimPrefix(streamURL, "ws://"), "wss://")
	s.streamBusy = busy
}

// RoundTrip counts the request in flight until its whole answer came, then holds the
// answer until the Sim hands it over. A stream's handshake is answered at once (the
// stream's bytes are counted on its connection).
func (s *Sim) RoundTrip(req *http.Request) (*http.Response, error) {
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

// Run runs f in goroutines of the run's own and moves the clock until f returns: at
// rest, it hands the first answer held over, or else moves the clock to the next wait
// that ends, a quarter of a second at most (so that the fake's builds, which move with
// the clock, speak on time). It returns f's error, or an error if the run goes past
// Limit by the clock.
func (s *Sim) Run(f func(ctx context.Context) error) error {
	limit := s.Clock.Now().Add(cmpOr(s.Limit, time.Hour))
	done := make(chan error, 1)
	pprof.Do(context.Background(), pprof.Labels("simclock", s.label), func(ctx context.Context) {
		go func() { done <- f(ctx) }()
	})
	for {
		_, busy, changed := s.wire.state()
		if busy {
			// Something is in transit: wait for it rather than spin, which would starve
			// the network poller on a busy machine.
			select {
			case err := <-done:
				return err
			case <-changed:
			}
			continue
		}
		select {
		case err := <-done:
			return err
		default:
		}
		if !s.atRest() {
			runtime.Gosched()
			continue
		}
		if s.wire.handOver() {
			continue
		}
		if s.Clock.Waiters() == 0 {
			runtime.Gosched() // nothing to move the clock for
			continue
		}
		if s.Clock.Now().After(limit) {
			return fmt.Errorf("simclock: the run was still going after %s by the fake clock", cmpOr(s.Limit, time.Hour))
		}
		step := 250 * time.Millisecond
		if next, ok := s.Clock.Next(); ok {
			step = min(step, max(next.Sub(s.Clock.Now()), 0))
		}
		s.Clock.Advance(step)
		if s.Step != nil {
			s.Step()
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// atRest tells whether the run is at rest: nothing in transit, and no goroutine of the
// run can run. The goroutines are read between two looks at the wire that find it idle
// and unchanged: a goroutine woken by the network between them would have changed it.
// The fake's stream queue only fills on a request or on Step, and is written out
// through the wire: it cannot fill and drain unseen either.
func (s *Sim) atRest() bool {
	seq, busy, _ := s.wire.state()
	if busy || s.streamBusy != nil && s.streamBusy() != 0 {
		return false
	}
	if s.runnable() {
		return false
	}
	again, busy, _ := s.wire.state()
	return again == seq && !busy && (s.streamBusy == nil || s.streamBusy() == 0)
}

// runnable tells whether a goroutine of the run is running or runnable, as the
// runtime tells.
func (s *Sim) runnable() bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	mark := fmt.Sprintf("%q: %q", "simclock", s.label)
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

// wire counts what is in transit between the client and the fake: requests sent and
// not yet answered, and on each stream connection the bytes one end wrote that the
// other has not read. A write counts before it goes out, a read once it came in, so
// that nothing is ever in transit uncounted. It also holds the answers that came and
// were not handed over. Every change bumps seq and closes changed.
type wire struct {
	mu       sync.Mutex
	seq      uint64
	requests int
	held     []chan struct{} // answers that came, in order, each closed when handed over
	conns    map[string]*wireConn
	changed  chan struct{}
}

// wireConn is one stream connection, by the client's address.
type wireConn struct {
	wrote, read [2]int64 // by end: client, server
	closed      [2]bool
	server      bool // the fake accepted it
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
