package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// The fleet modes end to end: a scheduled run against the fake, whose child listing
// ages review apps by the run's own clock.

const day = 24 * time.Hour

// fleetWorld is a fake sharing the run's clock, and a GitHub scheduled run's env.
func fleetWorld(t *testing.T, opts fakescalingo.Options) *world {
	t.Helper()
	return newWorldWith(t, func(o *fakescalingo.Options, clk *fakeClock) {
		*o = opts
		o.Now = clk.Now
	})
}

func scheduleEnv(t *testing.T, w *world, extra ...string) env {
	t.Helper()
	e := w.env("github", append([]string{"GITHUB_EVENT_NAME", "schedule"}, extra...)...)
	dir := t.TempDir()
	e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	os.WriteFile(e["GITHUB_OUTPUT"], nil, 0o644)
	return e
}

// verdicts reads the deployments output as app → status.
func verdicts(t *testing.T, e env) map[string]string {
	t.Helper()
	var list []struct{ App, Parent, Region, Status, Reason string }
	out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	if err := json.Unmarshal([]byte(out["deployments"]), &list); err != nil {
		t.Fatalf("the deployments output %q: %v", out["deployments"], err)
	}
	got := map[string]string{}
	for _, v := range list {
		if v.Reason == "" {
			t.Errorf("%s: %s without a reason", v.App, v.Status)
		}
		got[v.App] = v.Status
	}
	return got
}

// seedAged adds the parent api-prod and its children, each deployed (or created) so
// many days before the clock's end, then moves the clock to that end.
func seedAged(w *world) {
	type child struct {
		name     string
		parent   string
		ago      time.Duration
		deployed bool
	}
	seeds := []child{
		{"api-prod", "", 40 * day, true},
		{"other-app", "", 40 * day, true},
		{"api-prod-pr1", "api-prod", 30 * day, true},
		{"api-prod-staging", "api-prod", 30 * day, true}, // a child, not a review app
		{"other-app-pr7", "other-app", 30 * day, true},   // a review app of another parent
		{"api-prod-pr5", "api-prod", 10 * day, false},    // never deployed, created 10 days ago
		{"api-prod-pr2", "api-prod", 8 * day, true},
		{"api-prod-pr8", "api-prod", 7*day - time.Hour, true}, // just within the max age: kept
		{"api-prod-pr3", "api-prod", 6 * day, true},
		{"api-prod-pr6", "api-prod", 2 * day, false}, // never deployed, created 2 days ago
		{"api-prod-pr4", "api-prod", 1 * day, true},
	}
	start := w.clock.Now()
	for _, s := range seeds {
		w.clock.mu.Lock()
		w.clock.t = start.Add(40*day - s.ago)
		w.clock.mu.Unlock()
		w.fake.AddApp(s.name, fakescalingo.Scenario{Parent: s.parent, Deployed: s.deployed})
	}
	w.clock.mu.Lock()
	w.clock.t = start.Add(40 * day)
	w.clock.mu.Unlock()
}

func TestSweep(t *testing.T) {
	t.Parallel()
	w := fleetWorld(t, fakescalingo.Options{})
	seedAged(w)
	sweep := []string{"INPUT_APP", "api-prod", "INPUT_REVIEW-APP-SWEEP", "true", "INPUT_REVIEW-APP-MAX-AGE", "7d"}
	want := map[string]string{
		"api-prod-pr1": "deleted", "api-prod-pr2": "deleted", "api-prod-pr5": "deleted",
		"api-prod-pr8": "kept", "api-prod-pr3": "kept", "api-prod-pr4": "kept", "api-prod-pr6": "kept",
		"api-prod-staging": "kept",
	}

	// Dry run: every verdict, nothing deleted.
	e := scheduleEnv(t, w, append(sweep, "INPUT_DRY-RUN", "true")...)
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if d := w.fake.Deleted(); len(d) != 0 {
		t.Fatalf("the dry run deleted %v", d)
	}
	for _, r := range w.fake.Requests() {
		if r.Server == "api" && r.Method != "GET" {
			t.Errorf("the dry run sent %s %s", r.Method, r.Path)
		}
	}
	dry := map[string]string{}
	for k, v := range want {
		dry[k] = strings.Replace(v, "deleted", "would-delete", 1)
	}
	if got := verdicts(t, e); !mapsEqual(got, dry) {
		t.Errorf("dry run verdicts %v, want %v", got, dry)
	}
	if !strings.Contains(res.stdout, "review-app=api-prod-pr5 parent=api-prod status=would-delete reason=created, never deployed, 10d ago, older than 7d") {
		t.Errorf("the dry run does not say why api-prod-pr5 would go:\n%s", res.stdout)
	}

	// The sweep.
	e = scheduleEnv(t, w, sweep...)
	res = w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("sweep: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	deleted := w.fake.Deleted()
	slices.Sort(deleted)
	if want := []string{"api-prod-pr1", "api-prod-pr2", "api-prod-pr5"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	for _, app := range []string{"api-prod", "other-app", "other-app-pr7", "api-prod-staging", "api-prod-pr3", "api-prod-pr4", "api-prod-pr6", "api-prod-pr8"} {
		if _, ok := w.fake.App(app); !ok {
			t.Errorf("%s is gone", app)
		}
	}
	if got := verdicts(t, e); !mapsEqual(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	if out["status"] != "swept" || out["app"] != "api-prod" {
		t.Errorf("outputs %v", out)
	}
	md, _ := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{"| api-prod-pr2 | api-prod | deleted | last deployed 8d ago, older than 7d |", "| api-prod-staging | api-prod | kept | not named as a review app of api-prod"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the step summary has no %q:\n%s", want, md)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSweep_NotOwner: a collaborator's token cannot delete; the run says so and fails.
func TestSweep_NotOwner(t *testing.T) {
	t.Parallel()
	const collab = "tk-us-collaborator-1111111111111111111111111111"
	w := fleetWorld(t, fakescalingo.Options{CollaboratorToken: collab})
	seedAged(w)
	e := scheduleEnv(t, w, "INPUT_API-TOKEN", collab, "INPUT_APP", "api-prod", "INPUT_REVIEW-APP-SWEEP", "true", "INPUT_REVIEW-APP-MAX-AGE", "7d")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if d := w.fake.Deleted(); len(d) != 0 {
		t.Errorf("deleted %v", d)
	}
	if !strings.Contains(res.stdout, "only the owner of the parent app can delete its review apps") {
		t.Errorf("the 403 is not explained:\n%s", res.stdout)
	}
	if got := verdicts(t, e); got["api-prod-pr1"] != "failed" || got["api-prod-pr3"] != "kept" {
		t.Errorf("verdicts %v", got)
	}
}

func TestFleet_RefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs []string
		want   string
	}{
		{"sweep without max age", []string{"INPUT_REVIEW-APP-SWEEP", "true"}, "review-app-sweep: needs review-app-max-age"},
		{"max age without sweep", []string{"INPUT_REVIEW-APP-MAX-AGE", "7d"}, "review-app-max-age: needs review-app-sweep: true"},
		{"a bad age", []string{"INPUT_REVIEW-APP-SWEEP", "true", "INPUT_REVIEW-APP-MAX-AGE", "7 days"}, `review-app-max-age: "7 days" is not an age`},
		{"a negative age", []string{"INPUT_REVIEW-APP-SWEEP", "true", "INPUT_REVIEW-APP-MAX-AGE", "-7d"}, `is not an age`},
		{"two modes", []string{"INPUT_REVIEW-APP-SLEEP", "true", "INPUT_REVIEW-APP-WAKE", "true"}, "one mode a run"},
		{"with review-app", []string{"INPUT_REVIEW-APP-SLEEP", "true", "INPUT_REVIEW-APP", "true", "INPUT_REVIEW-APP-NAME", "my-app-pr1"}, "drop review-app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := fleetWorld(t, fakescalingo.Options{})
			res := w.run(t, context.Background(), scheduleEnv(t, w, tt.inputs...))
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if n := len(w.fake.Requests()); n != 0 {
				t.Errorf("%d requests", n)
			}
			if !strings.Contains(res.stdout+res.stderr, tt.want) {
				t.Errorf("the output does not say %q:\n%s%s", tt.want, res.stdout, res.stderr)
			}
		})
	}
}

// TestFleet_DryRunDestinationNotRegular: a fleet mode's dry run writes its outputs and
// step summary, so a destination that is a FIFO (an attacker's, or a mistake) is refused
// before any request, exit 2, rather than block the run for ever on the open.
func TestFleet_DryRunDestinationNotRegular(t *testing.T) {
	t.Parallel()
	modes := map[string][]string{
		"sweep": {"INPUT_REVIEW-APP-SWEEP", "true", "INPUT_REVIEW-APP-MAX-AGE", "7d"},
		"sleep": {"INPUT_REVIEW-APP-SLEEP", "true"},
		"wake":  {"INPUT_REVIEW-APP-WAKE", "true"},
	}
	for mode, inputs := range modes {
		for _, dest := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
			t.Run(mode+"/"+dest, func(t *testing.T) {
				t.Parallel()
				w := fleetWorld(t, fakescalingo.Options{})
				seedAged(w)
				e := scheduleEnv(t, w, append([]string{"INPUT_APP", "api-prod", "INPUT_DRY-RUN", "true"}, inputs...)...)
				e[dest] = fifo(t)
				done := make(chan result, 1)
				n := len(w.fake.Requests())
				go func() { done <- w.run(t, context.Background(), e) }()
				var res result
				select {
				case res = <-done:
				case <-time.After(10 * time.Second): // a bound on a hang, not a wait for time to pass
					t.Fatal("the dry run blocked on the FIFO")
				}
				if res.code != 2 || !strings.Contains(res.stdout+res.stderr, dest) || !strings.Contains(res.stdout+res.stderr, "a FIFO") {
					t.Fatalf("exit %d, want 2 naming %s as a FIFO\nstdout:\n%s\nstderr:\n%s", res.code, dest, res.stdout, res.stderr)
				}
				if got := len(w.fake.Requests()) - n; got != 0 {
					t.Errorf("%d requests before the refusal", got)
				}
			})
		}
	}
}
