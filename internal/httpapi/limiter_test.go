package httpapi

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// spend runs total requests through l from workers goroutines, moving clk a second at a
// time whenever every worker still at work waits for the budget, and returns the starts
// in order.
func spend(t *testing.T, l *Limiter, clk *clock.Fake, workers, total int) []time.Time {
	t.Helper()
	var (
		mu     sync.Mutex
		starts []time.Time
		live   atomic.Int32
		wg     sync.WaitGroup
	)
	live.Store(int32(workers))
	for w := range workers {
		wg.Go(func() {
			defer live.Add(-1)
			for i := w; i < total; i += workers {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, clk.Now())
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// Time moves only when every goroutine still at work is queued and the first of them
	// is parked on the clock (the others wait for their turn).
	for {
		select {
		case <-done:
		default:
			if n := int(live.Load()); n > 0 && l.queued() >= n && clk.Waiters() >= 1 {
				clk.Advance(time.Second)
			} else {
				runtime.Gosched() // let the workers reach the clock
			}
			continue
		}
		break
	}
	if len(starts) != total {
		t.Fatalf("%d starts, want %d", len(starts), total)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	return starts
}

// TestLimiter_SlidingWindow: 200 requests from 8 goroutines; no window of 60 s ever
// holds more than 60 starts, and the budget is used, not wasted.
func TestLimiter_SlidingWindow(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	starts := spend(t, NewLimiter(60, time.Minute, clk), clk, 8, 200)
	for i := 0; i+60 < len(starts); i++ {
		if d := starts[i+60].Sub(starts[i]); d < time.Minute {
			t.Fatalf("starts %d and %d are %s apart: 61 requests within a minute", i, i+60, d)
		}
	}
	// 200 requests at 60 a minute (and the margin): the last starts in the fourth minute.
	if last := starts[len(starts)-1].Sub(epoch); last < 3*time.Minute || last >= 4*time.Minute {
		t.Errorf("the last request started at +%s, want within the fourth minute", last)
	}
}

// TestLimiter_ServerCountsByArrival: the API counts a request when it arrives, which is
// a little after the limiter let it go, by an amount that varies from request to request
// (in flight, a connection to set up). Saturated for three minutes, the limiter must
// never let the API see more than 60 arrivals in any of its sliding minutes. The control,
// the same limiter without its margin, shows that this lag is enough to go over.
func TestLimiter_ServerCountsByArrival(t *testing.T) {
	t.Parallel()
	const maxLag = 1500 * time.Millisecond
	lag := func(k int) time.Duration { return maxLag * time.Duration(k%7) / 6 }
	tests := []struct {
		name   string
		margin time.Duration
		over   bool // the API sees more than 60
	}{
		{"with the margin", LimiterMargin, false},
		{"control: no margin", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(epoch)
			l := NewLimiter(60, time.Minute, clk)
			l.span = time.Minute + tt.margin
			starts := spend(t, l, clk, 8, 200)
			arrivals := make([]time.Time, len(starts))
			for k, s := range starts {
				arrivals[k] = s.Add(lag(k))
			}
			slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
			most := 0
			for i, at := range arrivals {
				// The API's window at this arrival: the arrivals of the last minute.
				n := 0
				for _, b := range arrivals[:i+1] {
					if at.Sub(b) < time.Minute {
						n++
					}
				}
				most = max(most, n)
			}
			if over := most > 60; over != tt.over {
				t.Errorf("the API saw at most %d requests in a minute; over 60: %v, want %v", most, over, tt.over)
			}
		})
	}
}

// TestLimiter_FirstComeFirstServed: with the budget spent, requests start in the order
// they asked, so that none waits behind later ones.
func TestLimiter_FirstComeFirstServed(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	l := NewLimiter(2, time.Minute, clk)
	for range 2 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	order := make(chan int, 6)
	for i := range 6 {
		go func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			order <- i
		}()
		for l.queued() < i+1 { // queue them in a known order
			runtime.Gosched()
		}
	}
	for want := 0; want < 6; want += 2 {
		clk.BlockUntil(1)
		clk.Advance(time.Minute + LimiterMargin)
		for j := range 2 {
			if got := <-order; got != want+j {
				t.Fatalf("request %d started, want %d", got, want+j)
			}
		}
	}
}

// TestLimiter_Deadline: a request that could start only after its context's deadline on
// the run's clock is refused at once, rather than waited for past the deadline.
func TestLimiter_Deadline(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	l := NewLimiter(1, time.Minute, clk)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	soon := clock.WithDeadline(context.Background(), epoch.Add(10*time.Second))
	if err := l.Wait(soon); !errors.Is(err, ErrNoBudget) {
		t.Fatalf("Wait = %v, want ErrNoBudget", err)
	}
	if n := clk.Waiters(); n != 0 || l.queued() != 0 {
		t.Errorf("%d waiting on the clock, %d queued: the refused request stayed", n, l.queued())
	}
	// A deadline after the budget frees up: the request waits and goes.
	later := clock.WithDeadline(context.Background(), epoch.Add(time.Minute+LimiterMargin))
	done := make(chan error, 1)
	go func() { done <- l.Wait(later) }()
	clk.BlockUntil(1)
	clk.Advance(time.Minute + LimiterMargin)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLimiter_WaitEndsWithContext(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1, time.Minute, clock.NewFake(epoch))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Error("Wait returned nil with a cancelled context and no budget left")
	}
}
