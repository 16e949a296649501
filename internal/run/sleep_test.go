package run

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
)

// writes returns "METHOD path" of the API requests that change something, after the
// first n.
func writes(w *world, n int) []string {
	var out []string
	for _, r := range w.fake.Requests()[n:] {
		if r.Server == "api" && r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestSleepWake(t *testing.T) {
	t.Parallel()
	w := fleetWorld(t, fakescalingo.Options{})
	type C = fakescalingo.Container
	parentFormation := map[string]C{"web": {Amount: 3, Size: "L"}}
	w.fake.AddApp("api-prod", fakescalingo.Scenario{Deployed: true, Formation: parentFormation, Variables: map[string]string{"SECRET": "parent-secret-123456"}})
	w.fake.AddApp("api-prod-staging", fakescalingo.Scenario{Parent: "api-prod", Deployed: true, Formation: map[string]C{"web": {Amount: 1, Size: "M"}}})
	review4 := map[string]C{"web": {Amount: 2, Size: "M"}, "worker": {Amount: 1, Size: "S"}}
	w.fake.AddApp("api-prod-pr4", fakescalingo.Scenario{Parent: "api-prod", Deployed: true, Formation: review4})
	w.fake.AddApp("api-prod-pr9", fakescalingo.Scenario{Parent: "api-prod", Deployed: true, Formation: map[string]C{"web": {Amount: 0, Size: "M"}}})
	untouched := func(when string) {
		t.Helper()
		if p, _ := w.fake.App("api-prod"); !maps.Equal(p.Formation, parentFormation) || len(p.Variables) != 1 {
			t.Errorf("%s: the parent became %+v", when, p)
		}
		if s, _ := w.fake.App("api-prod-staging"); s.Formation["web"] != (C{Amount: 1, Size: "M"}) || len(s.Variables) != 0 {
			t.Errorf("%s: the non-review child became %+v", when, s)
		}
	}
	sleep := []string{"INPUT_APP", "api-prod", "INPUT_REVIEW-APP-SLEEP", "true"}
	wake := []string{"INPUT_APP", "api-prod", "INPUT_REVIEW-APP-WAKE", "true"}

	// Dry run: nothing changes.
	n := len(w.fake.Requests())
	e := scheduleEnv(t, w, append(sleep, "INPUT_DRY-RUN", "true")...)
	if res := w.run(t, context.Background(), e); res.code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := writes(w, n); len(got) != 0 {
		t.Errorf("the dry run sent %v", got)
	}
	if got := verdicts(t, e); got["api-prod-pr4"] != "would-sleep" {
		t.Errorf("dry run verdicts %v", got)
	}

	// Sleep, twice: the second finds it stopped and keeps what the first remembered.
	for i := range 2 {
		n = len(w.fake.Requests())
		e = scheduleEnv(t, w, sleep...)
		res := w.run(t, context.Background(), e)
		if res.code != 0 {
			t.Fatalf("sleep #%d: exit %d\n%s%s", i+1, res.code, res.stdout, res.stderr)
		}
		a, _ := w.fake.App("api-prod-pr4")
		if want := map[string]C{"web": {Amount: 0, Size: "M"}, "worker": {Amount: 0, Size: "S"}}; !maps.Equal(a.Formation, want) {
			t.Errorf("sleep #%d: formation %v, want %v", i+1, a.Formation, want)
		}
		if got := a.Variables[review.SleepVariable]; got != "web:2:M,worker:1:S" {
			t.Errorf("sleep #%d: remembered %q", i+1, got)
		}
		for _, wr := range writes(w, n) {
			if !strings.Contains(wr, "/api-prod-pr4/") {
				t.Errorf("sleep #%d sent %s", i+1, wr)
			}
		}
		want := map[string]string{"api-prod-pr4": "asleep", "api-prod-pr9": "kept", "api-prod-staging": "kept"}
		if i == 1 {
			want["api-prod-pr4"] = "kept"
		}
		if got := verdicts(t, e); !mapsEqual(got, want) {
			t.Errorf("sleep #%d: verdicts %v, want %v", i+1, got, want)
		}
		untouched("sleep")
	}

	// Wake: exactly what sleep stopped, and the memory goes.
	n = len(w.fake.Requests())
	e = scheduleEnv(t, w, wake...)
	if res := w.run(t, context.Background(), e); res.code != 0 {
		t.Fatalf("wake: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	a, _ := w.fake.App("api-prod-pr4")
	if !maps.Equal(a.Formation, review4) {
		t.Errorf("woken formation %v, want %v", a.Formation, review4)
	}
	if _, ok := a.Variables[review.SleepVariable]; ok {
		t.Error("the remembered formation is still there")
	}
	if a9, _ := w.fake.App("api-prod-pr9"); a9.Formation["web"].Amount != 0 {
		t.Errorf("wake started api-prod-pr9, which sleep did not stop: %v", a9.Formation)
	}
	for _, wr := range writes(w, n) {
		if !strings.Contains(wr, "/api-prod-pr4/") {
			t.Errorf("wake sent %s", wr)
		}
	}
	if got := verdicts(t, e); got["api-prod-pr4"] != "awake" || got["api-prod-pr9"] != "kept" {
		t.Errorf("wake verdicts %v", got)
	}
	untouched("wake")
}

// TestWake_Tampered: the remembered formation is the app's own variable; a value sleep
// does not write is refused, never applied.
func TestWake_Tampered(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"web:11:M", "web:2:16XL", "web:2:M,web:1:S", "web:-1:M", "web:02:M", "web", "web:1:M;curl evil"} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			w := fleetWorld(t, fakescalingo.Options{})
			w.fake.AddApp("api-prod", fakescalingo.Scenario{Deployed: true})
			w.fake.AddApp("api-prod-pr4", fakescalingo.Scenario{Parent: "api-prod", Deployed: true,
				Formation: map[string]fakescalingo.Container{"web": {Amount: 0, Size: "M"}}, Variables: map[string]string{review.SleepVariable: bad}})
			n := len(w.fake.Requests())
			e := scheduleEnv(t, w, "INPUT_APP", "api-prod", "INPUT_REVIEW-APP-WAKE", "true")
			res := w.run(t, context.Background(), e)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
			}
			if got := writes(w, n); len(got) != 0 {
				t.Errorf("sent %v", got)
			}
			if !strings.Contains(res.stdout, "is not what review-app-sleep writes") {
				t.Errorf("no reason given:\n%s", res.stdout)
			}
		})
	}
}

// TestSleep_Unrememberable: a formation wake would refuse (more containers than it
// restores, a size it does not know) is never put to sleep: the app keeps running, with
// the reason in the outputs and the summary, and nothing is sent for it. The review app
// beside it sleeps as usual.
func TestSleep_Unrememberable(t *testing.T) {
	t.Parallel()
	type C = fakescalingo.Container
	tests := []struct {
		name      string
		formation map[string]C
		why       string
	}{
		{"eleven containers", map[string]C{"web": {Amount: 11, Size: "M"}}, "the amount is not 1 to 10"},
		{"a size wake does not know", map[string]C{"web": {Amount: 2, Size: "16XL"}, "worker": {Amount: 1, Size: "S"}}, "not a container size"},
	}
	for _, tt := range tests {
		for _, dry := range []bool{false, true} {
			name := tt.name
			if dry {
				name += "/dry run"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				w := fleetWorld(t, fakescalingo.Options{})
				w.fake.AddApp("api-prod", fakescalingo.Scenario{Deployed: true})
				w.fake.AddApp("api-prod-pr4", fakescalingo.Scenario{Parent: "api-prod", Deployed: true, Formation: tt.formation})
				w.fake.AddApp("api-prod-pr5", fakescalingo.Scenario{Parent: "api-prod", Deployed: true, Formation: map[string]C{"web": {Amount: 1, Size: "S"}}})
				n := len(w.fake.Requests())
				inputs := []string{"INPUT_APP", "api-prod", "INPUT_REVIEW-APP-SLEEP", "true"}
				if dry {
					inputs = append(inputs, "INPUT_DRY-RUN", "true")
				}
				e := scheduleEnv(t, w, inputs...)
				res := w.run(t, context.Background(), e)
				if res.code != 0 {
					t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
				}
				wantPR5 := "asleep"
				if dry {
					wantPR5 = "would-sleep"
				}
				if got := verdicts(t, e); got["api-prod-pr4"] != "kept" || got["api-prod-pr5"] != wantPR5 {
					t.Errorf("verdicts %v", got)
				}
				for _, s := range writes(w, n) {
					if strings.Contains(s, "api-prod-pr4") {
						t.Errorf("sent %s", s)
					}
				}
				if a, _ := w.fake.App("api-prod-pr4"); !maps.Equal(a.Formation, tt.formation) || len(a.Variables) != 0 {
					t.Errorf("the app became %+v", a)
				}
				summary, err := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
				if err != nil {
					t.Fatal(err)
				}
				for where, text := range map[string]string{"outputs": readGitHubOutputs(t, e["GITHUB_OUTPUT"])["deployments"], "summary": string(summary), "log": res.stdout} {
					if !strings.Contains(text, "cannot be remembered") || !strings.Contains(text, tt.why) {
						t.Errorf("the %s does not say why api-prod-pr4 is kept (%q):\n%s", where, tt.why, text)
					}
				}
			})
		}
	}
}
