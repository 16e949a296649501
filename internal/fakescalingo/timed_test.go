package fakescalingo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// timedStep advances the clock by after, then GETs the deployment (poll) or calls
// AdvanceDue, and wants its status.
type timedStep struct {
	after time.Duration
	poll  bool
	want  string
}

// TestDuration: with Scenario.Duration, GETs move a deployment no further than the clock
// allows, and AdvanceDue moves it with no GET at all.
func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		final string
		steps []timedStep
	}{
		// One state per GET, none before it is due: 12 s over building, pushing, starting, success.
		{name: "polls wait for the clock", steps: []timedStep{{0, true, "building"}, {0, true, "building"}, {4 * time.Second, true, "pushing"}, {0, true, "pushing"}, {8 * time.Second, true, "starting"}, {0, true, "success"}}},
		{name: "the clock alone moves it", final: "build-error", steps: []timedStep{{5 * time.Second, false, "building"}, {7 * time.Second, false, "build-error"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			s := startFake(t, fakescalingo.Options{Now: clk.Now})
			s.AddApp("timed-app", fakescalingo.Scenario{Duration: 12 * time.Second, FinalStatus: tc.final})
			jwt, id := deployOK(t, s, "timed-app")
			for i, st := range tc.steps {
				clk.Advance(st.after)
				var got string
				if st.poll {
					got = getDeployment(t, s, jwt, "timed-app", id)["status"].(string)
				} else {
					s.AdvanceDue()
					got = s.Deployments("timed-app")[0].Status
				}
				if got != st.want {
					t.Fatalf("step %d: status %q, want %q", i, got, st.want)
				}
			}
		})
	}
}

// TestPlanApp_default: PlanApp("") is the scenario of every created app without its own.
func TestPlanApp_default(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("parent-app", fakescalingo.Scenario{})
	s.PlanApp("", fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}})
	s.PlanApp("parent-app-pr2", fakescalingo.Scenario{URL: "https://own.example"})
	jwt := exchange(t, s)
	var urls []string
	for _, name := range []string{"parent-app-pr1", "parent-app-pr2"} {
		r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/parent-app/child_apps", header: jsonHeaders(jwt),
			body: strings.NewReader(`{"app":{"name":"` + name + `"}}`)})
		if r.Status != 201 {
			t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
		}
		a, _ := s.App(name)
		urls = append(urls, a.URL)
	}
	if !strings.HasPrefix(urls[0], "http://127.0.0.1:") || urls[1] != "https://own.example" {
		t.Errorf("URLs %q: want the default plan's app server, then the named plan's URL", urls)
	}
}
