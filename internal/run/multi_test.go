package run

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Several apps in one run (issue 9): one archive, every target looked up first, a source
// and a deployment each, followed in parallel, one verdict for the set.

// deploymentEntry is one object of the deployments output.
type deploymentEntry struct {
	App          string `json:"app"`
	Region       string `json:"region"`
	DeploymentID string `json:"deployment_id"`
	Status       string `json:"status"`
	AppURL       string `json:"app_url"`
	GitRef       string `json:"git_ref"`
	DashboardURL string `json:"dashboard_url"`
}

func parseDeployments(t *testing.T, js string) []deploymentEntry {
	t.Helper()
	var out []deploymentEntry
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatalf("deployments output %q: %v", js, err)
	}
	return out
}

// apiCalls counts the requests to the API (any region) with that method and path suffix.
func apiCalls(w *world, method, pathSuffix string) int {
	n := 0
	for _, r := range w.fake.Requests() {
		if (r.Server == "api" || r.Server == "auth") && r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
			n++
		}
	}
	return n
}

func TestMulti_Outcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		apps      map[string]fakescalingo.Scenario
		app       string // the app input
		extra     []string
		wantCode  int
		wantState map[string]string // app → status of its one deployment; absent: none created
		wantOut   string            // SCALINGO_DEPLOYMENT_STATUS
		wantErr   []string          // in stderr
	}{
		{
			name:      "two targets, one region",
			apps:      map[string]fakescalingo.Scenario{"my-api": {}, "my-worker": {}},
			app:       "my-api,my-worker",
			wantState: map[string]string{"my-api": "success", "my-worker": "success"},
			wantOut:   "success",
		},
		{
			name:      "newline-separated, one build error among three: the others still followed to success",
			apps:      map[string]fakescalingo.Scenario{"a-app": {}, "b-app": {FinalStatus: "build-error"}, "c-app": {QueuedPolls: 3}},
			app:       "a-app\nb-app\nc-app",
			wantCode:  1,
			wantState: map[string]string{"a-app": "success", "b-app": "build-error", "c-app": "success"},
			wantOut:   "build-error",
			wantErr:   []string{"2 of 3 deployed:", "❌ b-app failed to build (build-error)"},
		},
		{
			name:      "one timeout among successes: exit 3",
			apps:      map[string]fakescalingo.Scenario{"a-app": {}, "b-app": {NeverFinish: true}},
			app:       "a-app,b-app",
			extra:     []string{"SCALINGO_TIMEOUT", "10m"},
			wantCode:  3,
			wantState: map[string]string{"a-app": "success", "b-app": "building"},
			wantOut:   "building",
			wantErr:   []string{"1 of 2 deployed:", "⏳ b-app is still building at Scalingo after 10m0s: this run stopped waiting"},
		},
		{
			name:      "a failure wins over a timeout: exit 1",
			apps:      map[string]fakescalingo.Scenario{"a-app": {NeverFinish: true}, "b-app": {FinalStatus: "crashed-error"}},
			app:       "a-app,b-app",
			extra:     []string{"SCALINGO_TIMEOUT", "10m"},
			wantCode:  1,
			wantState: map[string]string{"a-app": "building", "b-app": "crashed-error"},
			wantOut:   "building",
		},
		{
			name:     "one target missing among three: nothing uploaded anywhere",
			apps:     map[string]fakescalingo.Scenario{"a-app": {}, "c-app": {}},
			app:      "a-app,missing-app,c-app",
			wantCode: 1,
			wantErr:  []string{"nothing was deployed", "[missing-app] find app missing-app", "another region"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			for name, sc := range tt.apps {
				w.fake.AddApp(name, sc)
			}
			e := w.env("gitlab", append([]string{"SCALINGO_APP", tt.app}, tt.extra...)...)
			res := w.run(t, context.Background(), e)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			for name := range tt.apps {
				deps := w.fake.Deployments(name)
				want, ok := tt.wantState[name]
				switch {
				case !ok && len(deps) != 0:
					t.Errorf("%s: %d deployments, want none", name, len(deps))
				case ok && len(deps) != 1:
					t.Errorf("%s: %d deployments, want exactly 1", name, len(deps))
				case ok && deps[0].Status != want:
					t.Errorf("%s: status %q, want %q", name, deps[0].Status, want)
				}
			}
			if got, want := apiCalls(w, "POST", "/v1/sources"), len(tt.wantState); got != want {
				t.Errorf("%d sources created, want %d (one per deployed target)", got, want)
			}
			if n := strings.Count(res.stdout, "Archive built from"); n != 1 {
				t.Errorf("the archive was described %d times, want once (built once)", n)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
			if len(tt.wantState) == 0 {
				if _, err := os.Stat(filepath.Join(w.ws, "scalingo-deploy.env")); err == nil {
					got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
					if got["SCALINGO_DEPLOYMENT_STATUS"] != "" {
						t.Errorf("a status output with nothing deployed: %v", got)
					}
				}
				return
			}
			got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
			if got["SCALINGO_DEPLOYMENT_STATUS"] != tt.wantOut {
				t.Errorf("SCALINGO_DEPLOYMENT_STATUS = %q, want %q", got["SCALINGO_DEPLOYMENT_STATUS"], tt.wantOut)
			}
			for _, k := range []string{"SCALINGO_DEPLOYMENT_ID", "SCALINGO_APP_URL", "SCALINGO_APP_NAME"} {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q written with several targets", k, v)
				}
			}
			entries := parseDeployments(t, got["SCALINGO_DEPLOYMENTS"])
			order := strings.FieldsFunc(tt.app, func(r rune) bool { return r == ',' || r == '\n' })
			if len(entries) != len(order) {
				t.Fatalf("deployments output has %d entries, want %d: %s", len(entries), len(order), got["SCALINGO_DEPLOYMENTS"])
			}
			for i, name := range order {
				en := entries[i]
				deps := w.fake.Deployments(name)
				if en.App != name || en.Region != "osc-fr1" || len(deps) != 1 || en.DeploymentID != deps[0].ID || en.Status != deps[0].Status {
					t.Errorf("entry %d = %+v, want app %s and its deployment", i, en, name)
				}
				suffix := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if got["SCALINGO_DEPLOYMENT_ID_"+suffix] != en.DeploymentID || got["SCALINGO_DEPLOYMENT_STATUS_"+suffix] != en.Status ||
					got["SCALINGO_APP_URL_"+suffix] != en.AppURL {
					t.Errorf("per-app variables of %s: %v", name, got)
				}
				if !strings.Contains(res.stdout, "["+name+"] Deployment "+en.DeploymentID+" created") {
					t.Errorf("no [%s]-prefixed line for its deployment:\n%s", name, res.stdout)
				}
			}
		})
	}
}

// TestMulti_TwoRegions: each target in its own region, looked up through the regions
// list, with one token exchange for both.
func TestMulti_TwoRegions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{Region: "test-fr1", OtherRegions: []string{"test-secnum-fr1"}})
	w.fake.AddApp("my-app-staging", fakescalingo.Scenario{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Region: "test-secnum-fr1"})
	e := w.env("github", "INPUT_APP", "my-app-staging@test-fr1, my-app@test-secnum-fr1")
	delete(e, "SCALINGO_API_URL") // api-url with two regions is invalid input
	e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	e["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "summary")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if n := apiCalls(w, "POST", "/v1/tokens/exchange"); n != 1 {
		t.Errorf("%d token exchanges, want 1 for both regions", n)
	}
	for app, region := range map[string]string{"my-app-staging": "test-fr1", "my-app": "test-secnum-fr1"} {
		if n := len(w.fake.Deployments(app)); n != 1 {
			t.Errorf("%s: %d deployments, want 1", app, n)
		}
		for _, r := range w.fake.Requests() {
			if r.Server == "api" && strings.Contains(r.Path, "/apps/"+app+"/") && r.Region != region {
				t.Errorf("%s %s went to region %s, want %s", r.Method, r.Path, r.Region, region)
			}
		}
	}
	out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	entries := parseDeployments(t, out["deployments"])
	if len(entries) != 2 || entries[0].App != "my-app-staging" || entries[0].Region != "test-fr1" ||
		entries[1].App != "my-app" || entries[1].Region != "test-secnum-fr1" || out["status"] != "success" {
		t.Errorf("outputs %v", out)
	}
	for _, en := range entries {
		if want := "https://dashboard.scalingo.com/apps/" + en.Region + "/" + en.App; en.DashboardURL != want {
			t.Errorf("%s: dashboard_url %q, want %q", en.App, en.DashboardURL, want)
		}
	}
	for _, k := range []string{"deployment-id", "app-url", "app", "dashboard-url"} {
		if _, ok := out[k]; ok {
			t.Errorf("output %s written with several targets", k)
		}
	}
	md, _ := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
	for _, en := range entries {
		if !strings.Contains(string(md), "| "+en.App+" | "+en.Region+" | ✅ success |") {
			t.Errorf("the step summary lacks a row for %s:\n%s", en.App, md)
		}
	}
}

// TestMulti_RequestBudget: the most targets a run takes, with the fake's 60-requests-a-
// minute rule on, the client's limiter and the fake on one clock that moves only while
// the run is at rest (simclock): never a 429, every deployment once. (On the instant
// clock, whose time jumps at any goroutine's wait, a request let go by the limiter
// could reach the fake a poll interval later, into a window the limiter never saw:
// 429s that depend on the scheduler.) The run's first burst (a token exchange, then a lookup, a listing, a
// source and a creation per target) is over 60 requests, so the control, with the limiter
// made toothless and no wait to move the clock, shows the fake refusing: the test has teeth.
func TestMulti_RequestBudget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		limiter bool
	}{{"with the request budget", true}, {"control: without it the fake refuses", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := simWorld(t, fakescalingo.Options{RateLimit: 60})
			var apps []string
			for i := range 20 {
				name := fmt.Sprintf("city-%02d", i+1)
				apps = append(apps, name)
				w.fake.AddApp(name, fakescalingo.Scenario{QueuedPolls: i % 3})
			}
			// A long timeout keeps this about the budget.
			e := w.env("gitlab", "SCALINGO_APP", strings.Join(apps, ","), "SCALINGO_TIMEOUT", "48h")
			if !tt.limiter {
				// Without waiting, nothing moves the clock before the 61st request: the
				// fake must refuse it, however the targets' goroutines are scheduled.
				e["SCALINGO_WAIT"] = "false"
			}
			res := w.runWith(t, context.Background(), e, func(o *scalingo.Options) {
				if !tt.limiter {
					o.Limiter = scalingo.NewLimiter(1_000_000, time.Minute, w.sim.Clock)
				}
			})
			if !tt.limiter {
				if w.fake.RateLimited() == 0 {
					t.Fatal("without the limiter the fake answered no 429: this test cannot tell a run over budget")
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if n := w.fake.RateLimited(); n != 0 {
				t.Errorf("the fake answered %d 429s: the run went over its request budget", n)
			}
			for _, app := range apps {
				if n := len(w.fake.Deployments(app)); n != 1 {
					t.Errorf("%s: %d deployments, want exactly 1", app, n)
				}
			}
			api := 0
			for _, r := range w.fake.Requests() {
				if r.Server == "api" || r.Server == "auth" {
					api++
				}
			}
			t.Logf("%d API requests for %d targets (%.1f per target)", api, len(apps), float64(api)/float64(len(apps)))
		})
	}
}

// TestEnv_SetBeforeDeployment: env is set with one bulk PUT before each deployment is
// created, and its values show nowhere.
func TestEnv_SetBeforeDeployment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-api", fakescalingo.Scenario{})
	w.fake.AddApp("my-worker", fakescalingo.Scenario{FinalStatus: "build-error"}) // a failure prints the most
	secrets := []string{"s3cr3t-database-password", "another=value,with,commas"}
	e := w.env("github", "INPUT_APP", "my-api,my-worker",
		"INPUT_ENV", "# a comment\nDATABASE_PASSWORD="+secrets[0]+"\n\nFEATURE_FLAGS="+secrets[1]+"\n")
	e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	e["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "summary")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, app := range []string{"my-api", "my-worker"} {
		put, post, source := -1, -1, -1
		puts := 0
		for i, r := range w.fake.Requests() {
			switch {
			case r.Method == "POST" && r.Path == "/v1/sources" && source < 0:
				source = i
			case r.Method == "PUT" && r.Path == "/v1/apps/"+app+"/variables":
				put, puts = i, puts+1
			case r.Method == "POST" && r.Path == "/v1/apps/"+app+"/deployments":
				post = i
			}
		}
		if puts != 1 || put < 0 || post < 0 || put > post {
			t.Errorf("%s: %d variables PUTs (request %d), deployment POST at %d: want one PUT before the POST", app, puts, put, post)
		}
		if put < source {
			t.Errorf("%s: variables set (request %d) before any source was made (%d): a failed upload would leave them changed", app, put, source)
		}
		deps := w.fake.Deployments(app)
		if len(deps) != 1 || deps[0].Env["DATABASE_PASSWORD"] != secrets[0] || deps[0].Env["FEATURE_FLAGS"] != secrets[1] {
			t.Errorf("%s: the deployment did not see the variables: %+v", app, deps)
		}
	}
	all := res.stdout + res.stderr
	for _, f := range []string{e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"]} {
		data, _ := os.ReadFile(f)
		all += string(data)
	}
	for _, line := range strings.Split(all, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			continue // how the runner is told to mask them
		}
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("an env value shows in the output: %q", line)
			}
		}
	}
	if !strings.Contains(res.stdout, "Set 2 variables on my-api") {
		t.Errorf("the log does not say the variables were set:\n%s", res.stdout)
	}
}

func TestHealthCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		serve      *fakescalingo.AppServer
		check      string
		wantCode   int
		wantHealth string
		wantStderr string
	}{
		{name: "healthy after a few requests", serve: &fakescalingo.AppServer{HealthyAfter: 3}, check: "/healthz", wantHealth: "ok"},
		{name: "a redirect is an answer", serve: &fakescalingo.AppServer{RedirectTo: "http://127.0.0.1:9/login"}, check: "/", wantHealth: "ok"},
		{name: "never healthy", serve: &fakescalingo.AppServer{NeverHealthy: true}, check: "/healthz", wantCode: 1, wantHealth: "failed",
			wantStderr: "failed its health check: GET http://127.0.0.1"},
		{name: "never healthy, named status", serve: &fakescalingo.AppServer{NeverHealthy: true, UnhealthyStatus: 500}, check: "/up", wantCode: 1,
			wantHealth: "failed", wantStderr: "last: HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{Serve: tt.serve})
			e := w.env("gitlab", "SCALINGO_HEALTH_CHECK", tt.check, "SCALINGO_HEALTH_CHECK_TIMEOUT", "1m")
			res := w.run(t, context.Background(), e)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
			if got["SCALINGO_HEALTH"] != tt.wantHealth || got["SCALINGO_DEPLOYMENT_STATUS"] != "success" {
				t.Errorf("health %q status %q, want %q and success", got["SCALINGO_HEALTH"], got["SCALINGO_DEPLOYMENT_STATUS"], tt.wantHealth)
			}
			if tt.wantStderr != "" && !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, res.stderr)
			}
			reqs := w.fake.AppRequests("my-app")
			switch {
			case tt.serve.HealthyAfter > 0 && reqs != tt.serve.HealthyAfter+1:
				t.Errorf("%d health requests, want %d", reqs, tt.serve.HealthyAfter+1)
			case tt.serve.NeverHealthy && (reqs < 10 || reqs > 31):
				t.Errorf("%d health requests in 1m every 2s", reqs)
			}
			for _, r := range w.fake.Requests() {
				if r.Server == "app" && r.HadAuthorization {
					t.Errorf("the health check sent an Authorization header to the app")
				}
			}
		})
	}
}

// TestMulti_BadInputs: refused before any request, exit 2.
func TestMulti_BadInputs(t *testing.T) {
	t.Parallel()
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("app-%02d", i)
	}
	tests := []struct {
		name  string
		extra []string
		want  string
	}{
		{"repeated target", []string{"SCALINGO_APP", "my-app,my-app"}, "app"},
		{"more than 20 targets", []string{"SCALINGO_APP", strings.Join(many, ",")}, "20"},
		{"empty list", []string{"SCALINGO_APP", ", ,"}, "app"},
		{"api-url with two regions", []string{"SCALINGO_APP", "a-app@osc-fr1,b-app@osc-secnum-fr1"}, "api-url"},
		{"env line without =", []string{"SCALINGO_ENV", "GOOD=1\nnot a variable"}, "line 2"},
		{"health check without waiting", []string{"SCALINGO_HEALTH_CHECK", "/healthz", "SCALINGO_WAIT", "false"}, "health-check"},
		{"health check timeout not a duration", []string{"SCALINGO_HEALTH_CHECK", "/up", "SCALINGO_HEALTH_CHECK_TIMEOUT", "soon"}, "health-check-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			res := w.run(t, context.Background(), w.env("gitlab", tt.extra...))
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, res.stderr)
			}
			if reqs := w.fake.Requests(); len(reqs) != 0 {
				t.Errorf("%d requests sent for invalid input", len(reqs))
			}
			if strings.Contains(res.stderr, "not a variable") {
				t.Errorf("an env line is echoed:\n%s", res.stderr)
			}
		})
	}
}
