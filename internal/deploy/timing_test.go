package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/simclock"
)

// sim runs the deploy flow and the fake on one fake clock that moves only while the run
// is at rest (simclock).
type sim struct {
	*simclock.Sim
	clk    *clock.Fake
	fake   *fakescalingo.Server
	client *scalingo.Client
	out    lockedBuffer
}

var simEpoch = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func newSim(t *testing.T, opts fakescalingo.Options) *sim {
	t.Helper()
	sc := simclock.New(simEpoch)
	s := &sim{Sim: sc, clk: sc.Clock}
	opts.Now = s.clk.Now
	opts.StreamConn = sc.ServerConn
	fake, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	s.fake = fake
	sc.Watch(fake.StreamURL, fake.StreamBusy)
	s.client, err = scalingo.New(scalingo.Options{APIURL: fake.APIURL, AuthURL: fake.AuthURL, APIToken: fake.APIToken,
		Clock: s.clk, Transport: sc})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deploy runs Deploy with a target per app and moves the clock until it returns; each,
// if set, is called at every step. It returns the results, how long the run took by
// the fake clock and the error.
func (s *sim) deploy(t *testing.T, apps []string, set Settings, each func()) ([]*Result, time.Duration, error) {
	t.Helper()
	r := platform.New(ci.ByPlatform(ci.Local), &s.out, func(string) string { return "" }, s.clk.Now)
	plan := Plan{Archive: tarball(t), Settings: set, Clock: s.clk, Reporter: r}
	for _, app := range apps {
		plan.Targets = append(plan.Targets, Target{App: app, Region: "osc-fr1", Client: s.client, Reporter: r.For(app)})
	}
	s.Step = func() {
		s.fake.Tick()
		if each != nil {
			each()
		}
	}
	start := s.clk.Now()
	var (
		res []*Result
		err error
		end time.Time
	)
	if serr := s.Run(func(ctx context.Context) error {
		res, err = Deploy(ctx, plan)
		end = s.clk.Now()
		return nil
	}); serr != nil {
		t.Fatalf("%v:\n%s", serr, s.out.String())
	}
	return res, end.Sub(start), err
}

// tarball is an archive the fake's builder accepts: one top-level folder.
func tarball(t *testing.T) Archive {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755})
	body := "web: bin/server\n"
	tw.WriteHeader(&tar.Header{Name: "app/Procfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	io.WriteString(tw, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return Archive{Body: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len())}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDeploy_BudgetSpentEvenly: targets whose builds take their time, against an API
// that allows 60 requests a minute and counts each when it arrives, up to 1.5 s after
// the client sent it. No request may be refused; each target's status must be read at
// least every 15 s from its creation to its verdict when the budget allows (eight
// targets), and no target may go a minute unseen when it does not (twenty, the most a
// run takes, whose first requests alone are more than a minute's budget). Nor may a
// target that has ended wait for the budget to come back before its log is read and
// its verdict given: its reads must go on at the same pace to the end.
func TestDeploy_BudgetSpentEvenly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		targets int
		build   time.Duration
		unread  time.Duration // the longest a target's status may go unread
	}{
		{"8 targets, 20 s builds", 8, 20 * time.Second, 15 * time.Second},
		{"20 targets, 3 min builds", 20, 3 * time.Minute, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t, fakescalingo.Options{RateLimit: 60, RateLimitLag: 1500 * time.Millisecond})
			var apps []string
			for i := range tt.targets {
				app := fmt.Sprintf("shop-%02d", i+1)
				apps = append(apps, app)
				s.fake.AddApp(app, fakescalingo.Scenario{BuildTime: tt.build})
			}
			_, took, err := s.deploy(t, apps, Settings{GitRef: "v1", Wait: true, Timeout: 10 * time.Minute}, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, s.out.String())
			}
			if n := s.fake.RateLimited(); n != 0 {
				t.Errorf("the API refused %d requests (429): the run went over its budget", n)
			}
			reqs := s.fake.Requests()
			worst := time.Duration(0)
			for _, app := range apps {
				deps := s.fake.Deployments(app)
				if len(deps) != 1 || deps[0].Status != "success" {
					t.Fatalf("%s: %d deployments, want 1 that succeeded", app, len(deps))
				}
				// From its creation to its verdict, the deployment is read: its status
				// (the creation's answer, then each poll), then its log once it ended. A
				// long gap is a target unseen, or one whose verdict waits for the budget.
				var reads []time.Time
				for _, r := range reqs {
					if r.Server == "api" && r.Status/100 == 2 && (r.Method == "POST" && r.Path == "/v1/apps/"+app+"/deployments" ||
						r.Method == "GET" && strings.Contains(r.Path, "/deployments/"+deps[0].ID)) {
						reads = append(reads, r.Time)
					}
				}
				for i := 1; i < len(reads); i++ {
					gap := reads[i].Sub(reads[i-1])
					worst = max(worst, gap)
					if gap > tt.unread {
						t.Errorf("%s: unread for %s (reads at %s)", app, gap, offsets(reads))
						break
					}
				}
			}
			api := 0
			for _, r := range reqs {
				if r.Server == "api" {
					api++
				}
			}
			t.Logf("%s: %d API requests, %d refused, a deployment unread for %s at most, the run took %s by the fake clock",
				tt.name, api, s.fake.RateLimited(), worst.Round(100*time.Millisecond), took.Round(100*time.Millisecond))
		})
	}
}

func offsets(ts []time.Time) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, "+"+t.Sub(simEpoch).Round(100*time.Millisecond).String())
	}
	return strings.Join(parts, " ")
}

// TestDeploy_TimeoutIsHardWhenTheAPIVanishes: the API goes away once the deployment is
// followed, its log stream open (after the first poll). The run must end by timeout + 10 s on its clock (one
// last status read and the log catch-up, however they fail) with a timeout, and say in
// plain words that the stream closed.
func TestDeploy_TimeoutIsHardWhenTheAPIVanishes(t *testing.T) {
	t.Parallel()
	s := newSim(t, fakescalingo.Options{})
	s.fake.AddApp("my-app", fakescalingo.Scenario{NeverFinish: true})
	var gone time.Time
	vanish := func() {
		if !gone.IsZero() {
			return
		}
		// The first poll comes after the stream was opened.
		for _, r := range s.fake.Requests() {
			if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/apps/my-app/deployments/") {
				s.fake.Vanish()
				gone = s.clk.Now()
				return
			}
		}
	}
	const timeout = 75 * time.Second
	_, took, err := s.deploy(t, []string{"my-app"}, Settings{GitRef: "v1", Wait: true, Timeout: timeout}, vanish)
	out := s.out.String()
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a timeout (exit 3)\n%s", err, out)
	}
	if gone.IsZero() {
		t.Fatal("the API never vanished: the test did not test")
	}
	if took > timeout+finalGrace {
		t.Errorf("the run took %s by its clock with timeout %s: more than %s after it\n%s", took, timeout, finalGrace, out)
	}
	// One last status read was tried after the timeout.
	last := false
	for _, r := range s.fake.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/apps/my-app/deployments/") && !r.Time.Before(simEpoch.Add(timeout)) {
			last = true
		}
	}
	if !last {
		t.Errorf("no status read after the timeout")
	}
	if !strings.Contains(out, "The live log stream closed; following by polling.") {
		t.Errorf("the stream's end is not said plainly:\n%s", out)
	}
	for _, jargon := range []string{"frame header", "failed to get reader", "JSON message"} {
		if strings.Contains(out, jargon) {
			t.Errorf("the log says %q:\n%s", jargon, out)
		}
	}
	t.Logf("API gone at +%s, timeout %s: the run ended after %s by its clock", gone.Sub(simEpoch), timeout, took.Round(100*time.Millisecond))
}
