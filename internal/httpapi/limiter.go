package httpapi

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// LimiterMargin is how much longer than the API's window the limiter counts a request:
// the API counts a request when it arrives, which may be a little after the limiter let
// it go (a request in flight, a connection being set up, clocks a little apart). With the
// margin, a request leaves this budget only after it has left the API's window, so the
// API never sees more than n in any of its windows.
const LimiterMargin = 2 * time.Second

// ErrNoBudget is a request that could start only after the deadline of its context on
// the run's clock (clock.WithDeadline): it is not waited for.
var ErrNoBudget = errors.New("the request budget frees up only after the deadline")

// Limiter is a request budget: never more than n requests start in any window of time
// plus LimiterMargin (a sliding window, as the API counts its 60 requests a minute).
// Requests go first come, first served, so that a target's status poll waits behind the
// requests queued before it, not behind whoever wakes first. One Limiter is shared by
// every regional client of a run.
type Limiter struct {
	n    int
	span time.Duration // the window and the margin
	clk  clock.Clock

	mu     sync.Mutex
	starts []time.Time     // the starts within the last span, oldest first
	queue  []chan struct{} // the waiting requests in order; each is closed when it is first
}

// NewLimiter returns a budget of n requests in any window (plus LimiterMargin); clk nil
// means the real clock.
func NewLimiter(n int, window time.Duration, clk clock.Clock) *Limiter {
	if clk == nil {
		clk = clock.Real
	}
	return &Limiter{n: max(n, 1), span: window + LimiterMargin, clk: clk}
}

// Wait blocks until a request may start without exceeding the budget, and counts it. It
// returns ErrNoBudget at once when that would be after ctx's deadline on the clock.
func (l *Limiter) Wait(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	turn := make(chan struct{})
	l.mu.Lock()
	if now := l.clk.Now(); !clock.Fits(ctx, now, l.earliest(now, len(l.queue)).Sub(now)) {
		l.mu.Unlock()
		return ErrNoBudget
	}
	l.queue = append(l.queue, turn)
	if len(l.queue) == 1 {
		close(turn)
	}
	l.mu.Unlock()
	defer l.leave(turn)

	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-turn:
	}
	for {
		l.mu.Lock()
		now := l.clk.Now()
		l.prune(now)
		if len(l.starts) < l.n {
			l.starts = append(l.starts, now)
			l.mu.Unlock()
			return nil
		}
		wait := l.starts[0].Add(l.span).Sub(now)
		l.mu.Unlock()
		if !clock.Fits(ctx, now, wait) {
			return ErrNoBudget
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-l.clk.After(wait):
		}
	}
}

// prune drops the starts that have left the span. The caller holds mu.
func (l *Limiter) prune(now time.Time) {
	drop := 0
	for drop < len(l.starts) && !l.starts[drop].Add(l.span).After(now) {
		drop++
	}
	l.starts = l.starts[drop:]
}

// earliest is a lower bound of when the request behind k others may start: once as
// many of the current starts have left the span as the budget needs. The caller holds mu.
func (l *Limiter) earliest(now time.Time, k int) time.Time {
	l.prune(now)
	switch i := len(l.starts) + k - l.n; {
	case i < 0:
		return now
	case i < len(l.starts):
		return l.starts[i].Add(l.span)
	default:
		// Behind a whole budget of requests: those start from now on.
		return now.Add(l.span)
	}
}

// leave takes turn out of the queue and, if it was first, hands the turn on.
func (l *Limiter) leave(turn chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.queue, turn)
	if i < 0 {
		return
	}
	l.queue = slices.Delete(l.queue, i, i+1)
	if i == 0 && len(l.queue) > 0 {
		close(l.queue[0])
	}
}

// queued is how many requests wait (tests).
func (l *Limiter) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
