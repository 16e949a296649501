package run

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// vanishOn is a transport that takes the whole API away (fakescalingo's Vanish) as a
// request to path is about to be sent.
type vanishOn struct {
	base  http.RoundTripper
	fake  *fakescalingo.Server
	path  string
	once  sync.Once
	at    time.Time
	clock *fakeClock
}

func (v *vanishOn) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, v.path) {
		v.once.Do(func() {
			v.at = v.clock.Now()
			v.fake.Vanish()
		})
	}
	return v.base.RoundTrip(req)
}

// TestTimeout_HardWhenTheAPIVanishes: the API goes away at the first status poll, the
// log stream open. `timeout: 75s` must end the run with exit 3 by 75 s + 10 s on its
// clock (one last status read and the log catch-up, however they fail), the outputs
// holding the last status seen, and the stream's end said in plain words.
func TestTimeout_HardWhenTheAPIVanishes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps, NeverFinish: true})
	e := w.env("gitlab", "SCALINGO_TIMEOUT", "75s")
	v := &vanishOn{base: http.DefaultTransport, fake: w.fake, path: "/v1/apps/my-app/deployments/", clock: w.clock}
	start := w.clock.Now()
	res := w.runWith(t, context.Background(), e, func(o *scalingo.Options) { o.Transport = v })
	took := w.clock.Now().Sub(start)
	if res.code != 3 || !strings.Contains(res.stderr, "after 1m15s: this run stopped waiting") {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if v.at.IsZero() {
		t.Fatal("the API never vanished: the test did not test")
	}
	if took > 85*time.Second {
		t.Errorf("the run took %s by its clock with timeout 75s: more than 10 s after it\n%s", took, res.stdout)
	}
	if !strings.Contains(res.stdout, "The live log stream closed; following by polling.") || strings.Contains(res.stdout, "frame header") {
		t.Errorf("the stream's end is not said plainly:\n%s", res.stdout)
	}
	if out := readDotenv(t, w.ws+"/scalingo-deploy.env"); out["SCALINGO_DEPLOYMENT_STATUS"] != "building" {
		t.Errorf("outputs %v", out)
	}
	t.Logf("API gone at +%s, timeout 75s: exit %d after %s by the run's clock", v.at.Sub(start).Round(100*time.Millisecond), res.code, took.Round(100*time.Millisecond))
}
