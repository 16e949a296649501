package scalingo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

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
	clk.Advance(time.Minute + LimiterMargin)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls, want 2", calls.Load())
	}
}
