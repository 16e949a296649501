package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// Limiter is a request budget: never more than n requests start in any window of time
// (a sliding window, as the API counts its 60 requests a minute). One Limiter is shared
// by every regional client of a run.
type Limiter struct {
	n      int
	window time.Duration
	clk    clock.Clock

	mu     sync.Mutex
	starts []time.Time // the starts within the last window, oldest first
}

// NewLimiter returns a budget of n requests in any window; clk nil means the real clock.
func NewLimiter(n int, window time.Duration, clk clock.Clock) *Limiter {
	if clk == nil {
		clk = clock.Real
	}
	return &Limiter{n: max(n, 1), window: window, clk: clk}
}

// Wait blocks until a request may start without exceeding the budget, and counts it.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		l.mu.Lock()
		now := l.clk.Now()
		drop := 0
		for drop < len(l.starts) && !l.starts[drop].Add(l.window).After(now) {
			drop++
		}
		l.starts = l.starts[drop:]
		if len(l.starts) < l.n {
			l.starts = append(l.starts, now)
			l.mu.Unlock()
			return nil
		}
		wait := l.starts[0].Add(l.window).Sub(now)
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-l.clk.After(wait):
		}
	}
}
