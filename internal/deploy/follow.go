package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
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

	start    time.Time
	deadline time.Time // start + timeout, on the run's clock
	last     bool      // the last status read, after the timeout: the log is caught up after it
	status   string
	// pending are the statuses polls saw while the stream was up and it has not told yet:
	// each shows when the stream tells it, after the lines it sent before it, and what is
	// left shows at the end, after the whole log (never before its lines).
	pending      []string
	shown        string          // the status shown last (status is the last seen)
	told         map[string]bool // the statuses shown
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
	f.deadline = f.start.Add(f.timeout)
	f.status = f.dep.Status
	f.shown = f.status
	f.warned = map[string]bool{}
	f.endGroup = f.Reporter.Group("Build log of deployment " + f.dep.ID)
	defer f.closeGroup() // on every way out; the verdict is printed after it
	f.Reporter.Printf("[%s] %s", f.elapsed(), f.status)

	// The timeout is kept on the run's clock: no retry nor wait for the request budget
	// starts that would end past it, and the loop stops at it. This deadline also bounds
	// in real time a call that hangs.
	waitCtx, cancelWait := context.WithTimeoutCause(ctx, f.timeout, errWaited)
	defer cancelWait()
	waitCtx = clock.WithDeadline(waitCtx, f.deadline)

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
		switch {
		case errors.Is(err, scalingo.ErrStreamRefused):
			// The token may not go there (in clear, or off the API's site): never
			// retried, one warning, the log through the API.
			f.streamFailed.Store(true)
			f.Reporter.Warning("the live log stream is unavailable: %v; following by polling", err)
		case err != nil && streamCtx.Err() == nil:
			f.streamFailed.Store(true)
			f.Reporter.Printf("The live log stream could not be opened (%s); following by polling.", streamTrouble(err, "could not connect"))
			fallthrough
		default:
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.stream(streamCtx, s, chunks, statusHint)
			}()
		}
	} else {
		f.streamFailed.Store(true)
	}

	// Polls keep their own pace, PollInterval apart from a first one that differs from
	// target to target (see Deploy), so that a run's polls spread over the minute.
	next := f.start.Add(f.firstPoll)
	var tick <-chan time.Time
	for {
		if tick == nil {
			at := next
			if f.deadline.Before(at) {
				at = f.deadline
			}
			tick = f.After(at.Sub(f.Now()))
		}
		select {
		case <-waitCtx.Done():
			return f.stop(ctx)
		case c := <-chunks:
			if gap := f.printChunk(c); gap {
				f.catchUp(waitCtx)
			}
			continue
		case st := <-statusHint:
			// The stream says the deployment ended: check now rather than at the next
			// tick (the stream never decides the verdict). Another change is shown as the
			// stream tells it, after the lines it sent before it, for no request (a poll
			// or a log read for each would spend the budget in bursts).
			if !Status(st).Terminal() {
				if gap := f.drain(); gap {
					f.catchUp(waitCtx)
				}
				if i := slices.Index(f.pending, st); i >= 0 {
					// Those a poll saw before it came earlier, and so did their lines (the
					// stream may have missed their status, as when it connected).
					for _, earlier := range f.pending[:i] {
						f.showStatus(earlier)
					}
					f.pending = f.pending[i+1:]
				}
				f.showStatus(st)
				continue
			}
		case <-tick:
			tick = nil
			now := f.Now()
			if !now.Before(f.deadline) {
				return f.timedOut(ctx)
			}
			if next = next.Add(f.PollInterval); !next.After(now) {
				next = now.Add(f.PollInterval)
			}
		}
		done, err := f.poll(waitCtx)
		if waitCtx.Err() != nil {
			return f.stop(ctx)
		}
		if done || err != nil {
			return err
		}
		if !f.Now().Before(f.deadline) {
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

// finalGrace bounds what follows the timeout: one last status read and the log
// catch-up, together, by the run's clock and in real time.
const finalGrace = 10 * time.Second

// timedOut reads the status once more, prints the log lines not printed yet and
// reports the timeout, within finalGrace (or the timeout itself, if shorter). A
// deployment found ended by that last read has its own verdict.
func (f *follower) timedOut(ctx context.Context) error {
	grace := min(finalGrace, f.timeout)
	lastCtx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	lastCtx = clock.WithDeadline(lastCtx, f.deadline.Add(grace))
	f.last = true
	done, err := f.poll(lastCtx)
	var failed *FailedError
	switch {
	case ctx.Err() != nil:
		f.closeGroup()
		return context.Cause(ctx)
	case done && lastCtx.Err() == nil && (err == nil || errors.As(err, &failed)):
		return err
	}
	f.drain()
	f.catchUp(lastCtx)
	f.showPending()
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
	live := f.streamUp.Load()
	if !Status(dep.Status).Terminal() && !f.last && !live {
		// Without the stream, the log comes with the polls; a status change prints after
		// the lines that came before it. (A terminal status catches up below, the last
		// read after it.)
		f.catchUp(ctx)
	}
	if Status(dep.Status).Terminal() {
		// The whole log, then the verdict after the group: what the stream has brought,
		// then what links.output has that the stream did not.
		f.drain()
		f.catchUp(ctx)
		f.showPending()
		f.status = dep.Status
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
	switch {
	case !live:
		f.showStatus(dep.Status)
	case dep.Status != f.shown:
		// The stream shows it after the lines that came before it (run); if it does
		// not, the end does.
		if !slices.Contains(f.pending, dep.Status) && !f.told[dep.Status] {
			f.pending = append(f.pending, dep.Status)
		}
	}
	f.status = dep.Status // the last status seen, whenever it shows
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

// showStatus prints a status the deployment moved to, once.
func (f *follower) showStatus(st string) {
	if st == f.shown {
		return
	}
	f.shown = st
	if f.told == nil {
		f.told = map[string]bool{}
	}
	f.told[st] = true
	f.Reporter.Printf("[%s] %s", f.elapsed(), st)
	f.emit(Event{Kind: EventStatus, Status: Status(st)})
}

// showPending shows the statuses polls saw that the stream has not told.
func (f *follower) showPending() {
	for _, st := range f.pending {
		f.showStatus(st)
	}
	f.pending = nil
}

// drain prints the log lines the stream has passed on and the loop has not taken yet.
// It reports a gap, for the caller to fill with a catch-up (some call one anyway).
func (f *follower) drain() (gap bool) {
	for {
		select {
		case c := <-f.chunks:
			gap = f.printChunk(c) || gap
		default:
			return gap
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
				if why := streamTrouble(err, ""); why != "" {
					f.Reporter.Printf("The live log stream closed (%s); following by polling.", why)
				} else {
					f.Reporter.Printf("The live log stream closed; following by polling.")
				}
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

// errStreamIdle is a stream silent for streamIdle.
var errStreamIdle = errors.New("the stream stalled")

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
		idle := err != nil && readCtx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case idle:
			return errStreamIdle
		case err != nil:
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

// streamTrouble says in plain words why the stream could not be opened or ended, when
// there is more to say than that the connection failed or closed; then it returns plain
// (the WebSocket library's own words, "failed to read frame header: EOF", tell a user
// nothing more).
func streamTrouble(err error, plain string) string {
	var he *scalingo.StreamHTTPError
	switch {
	case err == nil:
		return plain
	case errors.As(err, &he):
		return fmt.Sprintf("HTTP %d", he.StatusCode)
	case errors.Is(err, scalingo.ErrStreamTokenRefused):
		return "the stream refused the token"
	case errors.Is(err, errStreamIdle):
		return "nothing came for 2 minutes"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	return plain
}
