// Package clock is the one source of time of a run: the real clock in production, a
// fake in tests, so that no test waits for time to pass.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the system clock.
var Real Clock = real{}

type real struct{}

func (real) Now() time.Time                         { return time.Now() }
func (real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fake is a clock that moves only when a test calls Advance. It is safe for concurrent
// use.
type Fake struct {
	mu      sync.Mutex
	cond    *sync.Cond
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a fake clock set at start.
func NewFake(start time.Time) *Fake {
	f := &Fake{now: start}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that receives the time once Advance has moved the clock d
// ahead. A d of zero or less fires at once.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), ch: ch})
	f.cond.Broadcast()
	return ch
}

// Advance moves the clock d ahead and fires every After that is due, earliest first.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- f.now
	}
	f.waiters = kept
	f.cond.Broadcast()
}

// Waiters returns how many After calls are waiting for the clock to move. A waiter
// whose caller gave up (its context ended) still counts until it is due.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// Next returns when the earliest waiting After is due; false when none waits. A test
// that moves the clock only while everything waits on it can jump there.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.waiters) == 0 {
		return time.Time{}, false
	}
	next := f.waiters[0].at
	for _, w := range f.waiters[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	return next, true
}

// BlockUntil returns once at least n After calls are waiting: then the goroutines under
// test are parked and the test may Advance.
func (f *Fake) BlockUntil(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.waiters) < n {
		f.cond.Wait()
	}
}

type deadlineKey struct{}

// WithDeadline returns a copy of ctx that carries a deadline on the run's clock: a wait
// on that clock that would end after it is not started (the retry, the request budget
// give up at once instead). Unlike context.WithDeadline it cancels nothing by itself,
// so it holds with a fake clock as with the real one; an earlier deadline already in
// ctx is kept.
func WithDeadline(ctx context.Context, at time.Time) context.Context {
	if cur, ok := Deadline(ctx); ok && !at.Before(cur) {
		return ctx
	}
	return context.WithValue(ctx, deadlineKey{}, at)
}

// Deadline returns the deadline WithDeadline set in ctx, if any.
func Deadline(ctx context.Context) (time.Time, bool) {
	at, ok := ctx.Value(deadlineKey{}).(time.Time)
	return at, ok
}

// Fits tells whether a wait of d from now ends by ctx's deadline on the run's clock
// (always, when ctx has none).
func Fits(ctx context.Context, now time.Time, d time.Duration) bool {
	at, ok := Deadline(ctx)
	return !ok || !now.Add(d).After(at)
}
