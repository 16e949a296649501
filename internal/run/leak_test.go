package run

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// TestRun_NoGoroutineLeft runs a deploy that succeeds and one interrupted while waiting
// (the log stream open), and checks that run leaves no goroutine of its own behind. Not
// parallel: other tests' goroutines would blur the count.
func TestRun_NoGoroutineLeft(t *testing.T) {
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps, QueuedPolls: 3})
	e := w.env("gitlab")
	before := runtime.NumGoroutine()

	if res := w.run(t, context.Background(), e); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	res := w.runWith(t, ctx, e, func(o *scalingo.Options) {
		o.Transport = &cancelOn{base: http.DefaultTransport, method: "GET", path: "/v1/apps/my-app/deployments/", cancel: cancel}
	})
	if res.code != 143 {
		t.Fatalf("exit %d, want 143\n%s", res.code, res.stderr)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()

	// Goroutines end asynchronously (a server notices a closed connection a moment
	// later): wait for the count to settle, as goleak does, within a bound.
	var after int
	for i := 0; i < 300; i++ {
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	var ours []string
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "scalingo-deploy/internal/deploy") || strings.Contains(g, "scalingo-deploy/internal/scalingo") {
			ours = append(ours, g)
		}
	}
	if len(ours) > 0 || after > before+2 {
		t.Errorf("%d goroutines before, %d after; ours still running:\n%s", before, after, strings.Join(ours, "\n\n"))
	}
}
