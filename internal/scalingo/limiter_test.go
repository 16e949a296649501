package scalingo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// TestLimiter_SlidingWindow: 200 requests from 8 goroutines; no window of 60 s ever
// holds more than 60 starts, and the budget is used, not wasted.
func TestLimiter_SlidingWindow(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	l := NewLimiter(60, time.Minute, clk)
	const workers, total = 8, 200
	var (
		mu     sync.Mutex
		starts []time.Time
		live   atomic.Int32
		wg     sync.WaitGroup
	)
	live.Store(workers)
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
	// Time moves only when every goroutine still at work is parked on the clock.
	for {
		select {
		case <-done:
		default:
			if n := int(live.Load()); n > 0 && clk.Waiters() >= n {
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
	for i := 0; i+60 < len(starts); i++ {
		if d := starts[i+60].Sub(starts[i]); d < time.Minute {
			t.Fatalf("starts %d and %d are %s apart: 61 requests within a minute", i, i+60, d)
		}
	}
	// 200 requests at 60 a minute: the last starts in the fourth minute.
	if last := starts[len(starts)-1].Sub(epoch); last < 3*time.Minute || last >= 4*time.Minute {
		t.Errorf("the last request started at +%s, want within the fourth minute", last)
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

// TestLimiter_CountsAPIRequestsOnly: the token exchange and every API call spend the
// budget; the upload to the storage does not.
func TestLimiter_CountsAPIRequestsOnly(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	c, mux, _, teardown := setup(t, func(o *Options) {
		o.Clock = clk
		o.Limiter = NewLimiter(2, time.Minute, clk)
	})
	defer teardown()
	handleExchange(t, mux, clk, time.Hour)
	calls := handleApp(mux, func(int32) int { return 200 })
	if _, err := c.App(context.Background(), "my-app"); err != nil { // exchange + GET
		t.Fatal(err)
	}

	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer storage.Close()
	archive := strings.NewReader("x")
	if err := c.Upload(context.Background(), &Source{UploadURL: storage.URL + "/o", CreatedAt: clk.Now()}, archive, archive.Size()); err != nil {
		t.Fatalf("the upload waited for the API budget or failed: %v", err)
	}

	done := make(chan error, 1)
	go func() { _, err := c.App(context.Background(), "my-app"); done <- err }()
	parked(t, clk, 1, done)
	if calls.Load() != 1 {
		t.Fatalf("a third request within the minute was sent")
	}
	clk.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls, want 2", calls.Load())
	}
}
