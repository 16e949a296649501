package run

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// recorder keeps every event it is sent, per app.
type recorder struct {
	mu     sync.Mutex
	events map[string][]deploy.Event
}

func (r *recorder) Event(e deploy.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.events == nil {
		r.events = map[string][]deploy.Event{}
	}
	r.events[e.App] = append(r.events[e.App], e)
}

// TestObserver_Events: an observer sees, for each target and in order, the deployment
// created, each status change, every build log line once, the final status and one Done
// holding the result the outputs are made from; whichever way the log comes.
func TestObserver_Events(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		apps    map[string]fakescalingo.Scenario
		code    int
		outcome map[string]deploy.Outcome
	}{
		{"one app, live log", map[string]fakescalingo.Scenario{"my-app": {Log: sixSteps}}, 0,
			map[string]deploy.Outcome{"my-app": deploy.OutcomeDeployed}},
		{"one app, log through the API, build error", map[string]fakescalingo.Scenario{"my-app": {Log: sixSteps, FinalStatus: "build-error", NoStream: true}}, 1,
			map[string]deploy.Outcome{"my-app": deploy.OutcomeFailed}},
		{"stream dropped", map[string]fakescalingo.Scenario{"my-app": {Log: sixSteps, DropStreamAfter: 3}}, 0,
			map[string]deploy.Outcome{"my-app": deploy.OutcomeDeployed}},
		{"two apps, one fails", map[string]fakescalingo.Scenario{"my-api": {Log: sixSteps}, "my-worker": {Log: sixSteps, FinalStatus: "crashed-error"}}, 1,
			map[string]deploy.Outcome{"my-api": deploy.OutcomeDeployed, "my-worker": deploy.OutcomeFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			var names []string
			for app, sc := range tt.apps {
				w.fake.AddApp(app, sc)
				names = append(names, app)
			}
			slices.Sort(names)
			rec := &recorder{}
			w.observers = []deploy.Observer{rec}
			res := w.run(t, context.Background(), w.env("shell", "SCALINGO_APP", strings.Join(names, ",")))
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, app := range names {
				dep := w.fake.Deployments(app)[0]
				got := rec.events[app]
				if len(got) == 0 {
					t.Fatalf("%s: no event", app)
				}
				var kinds, lines []string
				var statuses []deploy.Status
				for _, e := range got {
					kinds = append(kinds, fmt.Sprint(e.Kind))
					if e.App != app || e.Region != "osc-fr1" || e.DeploymentID != dep.ID {
						t.Errorf("%s: event %+v names app %q region %q deployment %q", app, e.Kind, e.App, e.Region, e.DeploymentID)
					}
					switch e.Kind {
					case deploy.EventLog:
						lines = append(lines, e.Line)
					case deploy.EventStatus:
						statuses = append(statuses, e.Status)
					}
				}
				first, last := got[0], got[len(got)-1]
				if first.Kind != deploy.EventCreated || last.Kind != deploy.EventDone {
					t.Errorf("%s: events %v: want created first, done last", app, kinds)
				}
				// The log, as the fake's builder wrote it, once.
				if want := strings.Split(strings.TrimRight(dep.Log, "\n"), "\n"); !slices.Equal(lines, want) {
					t.Errorf("%s: log lines\n  %q\nwant\n  %q", app, lines, want)
				}
				if len(statuses) == 0 || statuses[len(statuses)-1] != deploy.Status(dep.Status) {
					t.Errorf("%s: statuses %v, want them to end with %s", app, statuses, dep.Status)
				}
				// The terminal status comes after the last log line.
				lastLog, lastStatus := -1, -1
				for i, e := range got {
					switch e.Kind {
					case deploy.EventLog:
						lastLog = i
					case deploy.EventStatus:
						lastStatus = i
					}
				}
				if lastStatus < lastLog {
					t.Errorf("%s: the final status (event %d) comes before the last log line (event %d)", app, lastStatus, lastLog)
				}
				r := last.Result
				if r == nil || r.DeploymentID != dep.ID || r.Status != deploy.Status(dep.Status) || r.Outcome() != tt.outcome[app] || r.AppURL == "" {
					t.Errorf("%s: done with %+v, want deployment %s, status %s, outcome %v", app, r, dep.ID, dep.Status, tt.outcome[app])
				}
			}
		})
	}
}

// TestObserver_LookupFails: a target that cannot be used stops the run before anything is
// uploaded: no target sends an event.
func TestObserver_LookupFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-api", fakescalingo.Scenario{})
	rec := &recorder{}
	w.observers = []deploy.Observer{rec}
	res := w.run(t, context.Background(), w.env("shell", "SCALINGO_APP", "my-api,missing-app"))
	if res.code != 1 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if len(rec.events) != 0 {
		t.Errorf("events sent: %v", rec.events)
	}
}
