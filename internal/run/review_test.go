package run

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// Review apps end to end: the real run against the fake and a real S3.

// event writes the GitHub pull_request event of PR 42 (acme/web, not a fork) with
// that action, and returns its path.
func event(t *testing.T, action string) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/events/github-pull_request-opened.json")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `"action": "opened"`, `"action": "`+action+`"`, 1)
	if !strings.Contains(s, `"action": "`+action+`"`) {
		t.Fatal("the opened event does not have the expected shape")
	}
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// reviewEnv is a GitHub pull_request run with review-app: true, its outputs and step
// summary in files of their own.
func reviewEnv(t *testing.T, w *world, eventPath string, extra ...string) env {
	t.Helper()
	e := w.env("github", append([]string{"GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", eventPath, "INPUT_REVIEW-APP", "true"}, extra...)...)
	dir := t.TempDir()
	e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	os.WriteFile(e["GITHUB_OUTPUT"], nil, 0o644)
	return e
}

// everything is all a run printed and wrote, but for the add-mask commands that tell
// the runner what to mask.
func everything(w *world, res result, e env) string {
	all := res.stdout + "\n" + res.stderr
	for _, f := range []string{e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"], filepath.Join(w.ws, "scalingo-deploy.env")} {
		if f != "" {
			data, _ := os.ReadFile(f)
			all += "\n" + string(data)
		}
	}
	var kept []string
	for _, line := range strings.Split(all, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// requestsSince returns "METHOD path" of the API requests after the first n.
func requestsSince(w *world, n int) []string {
	var out []string
	for _, r := range w.fake.Requests()[n:] {
		if r.Server == "api" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

const lifecycleManifest = `{
  "env": {
    "FEATURE_FLAG": {"value": "manifest"},
    "OVERRIDDEN": {"value": "manifest"},
    "SECRET_KEY_BASE": {"generator": "secret"},
    "PUBLIC_URL": {"generator": "url"},
    "LABEL": {"generator": "template", "template": "%APP% of %PARENT_APP% #%PR_NUMBER%"}
  },
  "addons": ["postgresql:postgresql-starter-512"],
  "formation": {"web": {"amount": 2, "size": "S"}},
  "scripts": {"first-deploy": "bin/seed"}
}`

// TestReview_Lifecycle runs a pull request's whole life on GitHub: opened (the review
// app is created, configured and deployed), pushed again (reused, configured nothing
// again), closed (deleted).
func TestReview_Lifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	const smtpPassword, stripeKey, envSecret = "parent-smtp-password-1234", "sk_live_parent_9876", "from-env-secret-5678"
	w.fake.AddApp("my-app", fakescalingo.Scenario{Variables: map[string]string{
		"SMTP_HOST": "smtp.parent.example", "SMTP_PASSWORD": smtpPassword, "STRIPE_SECRET": stripeKey, "FEATURE_FLAG": "parent",
	}})
	w.fake.PlanApp("my-app-pr42", fakescalingo.Scenario{AddonPolls: 2, ScalePolls: 1})
	writeTree(t, w.ws, map[string]string{"scalingo.json": lifecycleManifest})
	opened := event(t, "opened")
	inputs := []string{"INPUT_COPY-ENV", "SMTP_*\nFEATURE_FLAG", "INPUT_ENV", "OVERRIDDEN=" + envSecret}

	// Opened.
	e := reviewEnv(t, w, opened, inputs...)
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("opened: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	child, ok := w.fake.App("my-app-pr42")
	if !ok || child.Parent != "my-app" || child.Region != "osc-fr1" {
		t.Fatalf("review app %+v (exists %v), want a child of my-app in osc-fr1", child, ok)
	}
	if n := len(w.fake.Deployments("my-app")); n != 0 {
		t.Errorf("%d deployments of the parent", n)
	}
	deps := w.fake.Deployments("my-app-pr42")
	if len(deps) != 1 || deps[0].Status != "success" {
		t.Fatalf("deployments of the review app: %+v", deps)
	}
	if h := deps[0].PostdeployHook; h == nil || *h != "bin/seed" {
		t.Errorf("the first deployment's postdeploy_hook is %v, want scripts.first-deploy", h)
	}
	env := deps[0].Env
	secretKey := env["SECRET_KEY_BASE"]
	for k, want := range map[string]string{
		"SMTP_HOST": "smtp.parent.example", "SMTP_PASSWORD": smtpPassword, // copied
		"FEATURE_FLAG": "manifest", // the manifest wins over a copy
		"OVERRIDDEN":   envSecret,  // env wins over the manifest
		"PUBLIC_URL":   child.URL,
		"LABEL":        "my-app-pr42 of my-app #42",
	} {
		if env[k] != want {
			t.Errorf("the deployment saw %s=%q, want %q", k, env[k], want)
		}
	}
	if _, copied := env["STRIPE_SECRET"]; copied {
		t.Error("a parent variable that copy-env does not name was copied")
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(secretKey) {
		t.Errorf("SECRET_KEY_BASE = %q, want 32 hex characters", secretKey)
	}
	if env["SCALINGO_POSTGRESQL_URL"] == "" {
		t.Error("the deployment did not see the addon's variable")
	}
	if len(child.Addons) != 1 || child.Addons[0].PlanName != "postgresql-starter-512" {
		t.Errorf("addons %+v", child.Addons)
	}
	reqs := requestsSince(w, 0)
	lastAddonGet := slices.Index(reqs, "GET /v1/apps/my-app-pr42/addons")
	for i, r := range reqs {
		if r == "GET /v1/apps/my-app-pr42/addons" {
			lastAddonGet = i
		}
	}
	depPost := slices.Index(reqs, "POST /v1/apps/my-app-pr42/deployments")
	scalePost := slices.Index(reqs, "POST /v1/apps/my-app-pr42/scale")
	addonGets := 0
	for _, r := range reqs {
		if r == "GET /v1/apps/my-app-pr42/addons" {
			addonGets++
		}
	}
	if addonGets < 3 || lastAddonGet > depPost {
		t.Errorf("the addons were checked %d times, the last at %d, the deployment created at %d: want them running first", addonGets, lastAddonGet, depPost)
	}
	if scalePost < depPost {
		t.Errorf("scaled at request %d, before the deployment (%d)", scalePost, depPost)
	}
	if child, _ = w.fake.App("my-app-pr42"); child.Formation["web"] != (fakescalingo.Container{Amount: 2, Size: "S"}) {
		t.Errorf("formation %+v, want web 2×S after the first success", child.Formation)
	}
	out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	if out["app"] != "my-app-pr42" || out["app-url"] != child.URL || out["status"] != "success" || out["deployment-id"] != deps[0].ID ||
		out["dashboard-url"] != "https://dashboard.scalingo.com/apps/osc-fr1/my-app-pr42" {
		t.Errorf("outputs %v", out)
	}
	md, _ := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(md), "my-app-pr42") || !strings.Contains(string(md), child.URL) {
		t.Errorf("the step summary does not name the review app and its URL:\n%s", md)
	}
	all := everything(w, res, e)
	for _, secret := range []string{smtpPassword, stripeKey, envSecret, secretKey} {
		if strings.Contains(all, secret) {
			t.Errorf("the value %q shows in the output:\n%s", secret, all)
		}
	}
	assertNoSecrets(t, w, res, true, e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"])

	// Pushed again: the review app is reused as it is; env is set again, as on every run.
	w.fake.AddApp("my-app-pr42", fakescalingo.Scenario{Parent: "my-app", Variables: map[string]string{"FEATURE_FLAG": "by-hand"}})
	n := len(w.fake.Requests())
	e = reviewEnv(t, w, event(t, "synchronize"), inputs...)
	res = w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("synchronize: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var writes []string
	for _, r := range requestsSince(w, n) {
		if !strings.HasPrefix(r, "GET ") {
			writes = append(writes, r)
		}
	}
	want := []string{"POST /v1/sources", "PUT /v1/apps/my-app-pr42/variables", "POST /v1/apps/my-app-pr42/deployments"}
	if !slices.Equal(writes, want) {
		t.Errorf("the second run sent %q, want only %q", writes, want)
	}
	child, _ = w.fake.App("my-app-pr42")
	if child.Variables["FEATURE_FLAG"] != "by-hand" || child.Variables["SECRET_KEY_BASE"] != secretKey || len(child.Addons) != 1 {
		t.Errorf("the reused review app was configured again: %v, %+v", child.Variables, child.Addons)
	}
	deps = w.fake.Deployments("my-app-pr42")
	if len(deps) != 2 || deps[1].PostdeployHook != nil || deps[1].Env["OVERRIDDEN"] != envSecret {
		t.Errorf("second deployment: %+v", deps[len(deps)-1])
	}

	// Closed: deleted, with no archive sent.
	n = len(w.fake.Requests())
	e = reviewEnv(t, w, "../../testdata/events/github-pull_request-closed.json")
	res = w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("closed: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if _, ok := w.fake.App("my-app-pr42"); ok || !slices.Equal(w.fake.Deleted(), []string{"my-app-pr42"}) {
		t.Errorf("deleted %q, want the review app only", w.fake.Deleted())
	}
	if _, ok := w.fake.App("my-app"); !ok {
		t.Error("the parent is gone")
	}
	if got := requestsSince(w, n); slices.Contains(got, "POST /v1/sources") {
		t.Errorf("the destroy sent an archive: %q", got)
	}
	out = readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	if out["app"] != "my-app-pr42" || out["status"] != "destroyed" {
		t.Errorf("destroy outputs %v", out)
	}
}

// TestReview_FromEachPlatform deploys the review app of the request each CI names.
func TestReview_FromEachPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform string
		vars     []string
	}{
		{"gitlab", []string{"CI_MERGE_REQUEST_IID", "42", "CI_MERGE_REQUEST_PROJECT_ID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "7", "SCALINGO_REVIEW_APP", "true"}},
		{"woodpecker", []string{"CI_COMMIT_PULL_REQUEST", "42", "PLUGIN_REVIEW_APP", "true"}},
		{"drone", []string{"DRONE_PULL_REQUEST", "42", "PLUGIN_REVIEW_APP", "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{Variables: map[string]string{"DATABASE_URL": "postgres://prod"}})
			res := w.run(t, context.Background(), w.env(tt.platform, tt.vars...))
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if deps := w.fake.Deployments("my-app-pr42"); len(deps) != 1 || deps[0].Status != "success" {
				t.Errorf("review app deployments %+v", deps)
			}
			got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
			child, _ := w.fake.App("my-app-pr42")
			if got["SCALINGO_APP_NAME"] != "my-app-pr42" || got["SCALINGO_APP_URL"] != child.URL {
				t.Errorf("outputs %v", got)
			}
			if len(child.Variables) != 0 {
				t.Errorf("without copy-env the review app got variables: %v", slices.Collect(maps.Keys(child.Variables)))
			}
			// GitLab tells a fork apart; Drone and Woodpecker do not, and the run says so.
			warned := strings.Contains(res.stdout, "cannot refuse one")
			if warned != (tt.platform != "gitlab") {
				t.Errorf("fork warning shown: %v, on %s\n%s", warned, tt.platform, res.stdout)
			}
		})
	}
}

// TestReview_SeveralParents deploys one review app per parent, together, with a name
// each; and destroys them together.
func TestReview_SeveralParents(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-api", fakescalingo.Scenario{})
	w.fake.AddApp("my-web", fakescalingo.Scenario{})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_APP", "my-api,my-web")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, p := range []string{"my-api", "my-web"} {
		child, ok := w.fake.App(p + "-pr42")
		if !ok || child.Parent != p || len(w.fake.Deployments(p+"-pr42")) != 1 || len(w.fake.Deployments(p)) != 0 {
			t.Errorf("%s: review app %+v (exists %v)", p, child, ok)
		}
	}
	e = reviewEnv(t, w, event(t, "opened"), "INPUT_APP", "my-api,my-web", "INPUT_DESTROY", "true")
	res = w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("destroy: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	got := w.fake.Deleted()
	slices.Sort(got)
	if !slices.Equal(got, []string{"my-api-pr42", "my-web-pr42"}) {
		t.Errorf("deleted %q", got)
	}
}

// TestReview_Destroy deletes only a child of the parent, and only as its owner.
func TestReview_Destroy(t *testing.T) {
	t.Parallel()
	const collaborator = "tk-us-collaborator-000000000000000000000000"
	tests := []struct {
		name       string
		existing   *fakescalingo.Scenario
		token      string
		code       int
		status     string
		stderr     string
		stdout     string
		wantDelete bool
	}{
		{name: "as the owner", existing: &fakescalingo.Scenario{Parent: "my-app"}, code: 0, status: "destroyed", wantDelete: true},
		{name: "as a collaborator", existing: &fakescalingo.Scenario{Parent: "my-app"}, token: collaborator, code: 1,
			stderr: "only the owner of the parent app can delete its review apps: use the owner's API token"},
		{name: "absent", code: 0, status: "absent", stdout: "nothing to delete"},
		{name: "not a child", existing: &fakescalingo.Scenario{}, code: 1, stderr: "exists and is not a review app of my-app"},
		{name: "a child of another app", existing: &fakescalingo.Scenario{Parent: "other-app"}, code: 1, stderr: "exists and is not a review app of my-app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{CollaboratorToken: collaborator})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			w.fake.AddApp("other-app", fakescalingo.Scenario{})
			if tt.existing != nil {
				w.fake.AddApp("my-app-pr42", *tt.existing)
			}
			e := w.env("gitlab", "CI_MERGE_REQUEST_IID", "42", "SCALINGO_REVIEW_APP", "true", "SCALINGO_DESTROY", "true")
			if tt.token != "" {
				e["SCALINGO_API_TOKEN"] = tt.token
			}
			// No archive is built: the path may be absent.
			e["SCALINGO_PATH"] = "not-checked-out"
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.stderr) || !strings.Contains(res.stdout, tt.stdout) {
				t.Errorf("stdout lacks %q or stderr lacks %q:\n%s\n%s", tt.stdout, tt.stderr, res.stdout, res.stderr)
			}
			deleted := w.fake.Deleted()
			if tt.wantDelete != (len(deleted) == 1) || len(deleted) > 1 {
				t.Errorf("deleted %q", deleted)
			}
			for _, app := range []string{"my-app", "other-app"} {
				if _, ok := w.fake.App(app); !ok {
					t.Errorf("%s is gone", app)
				}
			}
			if tt.status != "" {
				got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
				if got["SCALINGO_APP_NAME"] != "my-app-pr42" || got["SCALINGO_DEPLOYMENT_STATUS"] != tt.status {
					t.Errorf("outputs %v, want app my-app-pr42 and status %s", got, tt.status)
				}
			}
		})
	}
}

// TestReview_Refusals are runs that must change nothing: bad inputs (exit 2) and a
// fork (exit 1) before any request; an existing app that is not a child; a free trial.
func TestReview_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vars     []string
		manifest string
		setup    func(f *fakescalingo.Server)
		code     int
		stderr   []string
		requests bool
	}{
		{name: "no request number and no name", vars: []string{"SCALINGO_REVIEW_APP", "true"}, code: 2, stderr: []string{"review-app-name"}},
		{name: "a name over 48 characters", vars: []string{"SCALINGO_REVIEW_APP", "true", "SCALINGO_REVIEW_APP_NAME", strings.Repeat("a", 49)}, code: 2,
			stderr: []string{"review-app-name"}},
		{name: "a default name over 48 characters", vars: []string{"SCALINGO_REVIEW_APP", "true", "CI_MERGE_REQUEST_IID", "42", "SCALINGO_APP", strings.Repeat("a", 44)}, code: 2,
			stderr: []string{"review-app-name"}},
		{name: "destroy without review-app", vars: []string{"SCALINGO_DESTROY", "true", "CI_MERGE_REQUEST_IID", "42"}, code: 2, stderr: []string{"destroy", "review-app"}},
		{name: "review-app-name with several parents", vars: []string{"SCALINGO_REVIEW_APP", "true", "SCALINGO_REVIEW_APP_NAME", "my-review", "SCALINGO_APP", "my-app,my-api"},
			code: 2, stderr: []string{"review-app-name"}},
		{name: "an invalid manifest", vars: []string{"SCALINGO_REVIEW_APP", "true", "CI_MERGE_REQUEST_IID", "42"},
			manifest: `{"env":{"SECRET":{"generator":"password"}}}`, code: 2, stderr: []string{"env.SECRET.generator"}},
		{name: "a fork", vars: []string{"SCALINGO_REVIEW_APP", "true", "CI_MERGE_REQUEST_IID", "42", "CI_MERGE_REQUEST_PROJECT_ID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "666"},
			code: 1, stderr: []string{"merge request comes from a fork", "SCALINGO_ALLOW_FORKS=true"}},
		{name: "an app that is not a child", vars: []string{"SCALINGO_REVIEW_APP", "true", "CI_MERGE_REQUEST_IID", "42"},
			setup: func(f *fakescalingo.Server) {
				f.AddApp("my-app-pr42", fakescalingo.Scenario{Variables: map[string]string{"KEEP": "me"}})
			},
			code: 1, stderr: []string{"exists and is not a review app of my-app"}, requests: true},
		{name: "free trial", vars: []string{"SCALINGO_REVIEW_APP", "true", "CI_MERGE_REQUEST_IID", "42"},
			setup: func(f *fakescalingo.Server) { f.AddApp("my-app", fakescalingo.Scenario{FreeTrialExceeded: true}) },
			code:  1, stderr: []string{"review apps need a paid account"}, requests: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			w.fake.AddApp("my-api", fakescalingo.Scenario{})
			if tt.setup != nil {
				tt.setup(w.fake)
			}
			if tt.manifest != "" {
				writeTree(t, w.ws, map[string]string{"scalingo.json": tt.manifest})
			}
			before, _ := w.fake.App("my-app-pr42")
			res := w.run(t, context.Background(), w.env("gitlab", tt.vars...))
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
			if n := len(w.fake.Requests()); !tt.requests && n > 0 {
				t.Errorf("%d requests reached the fake: %+v", n, w.fake.Requests())
			}
			for _, r := range w.fake.Requests() {
				if r.Server == "api" && r.Method != "GET" && r.Status < 400 {
					t.Errorf("a refused run changed something: %s %s", r.Method, r.Path)
				}
			}
			if after, _ := w.fake.App("my-app-pr42"); after.Variables["KEEP"] != before.Variables["KEEP"] {
				t.Errorf("an app that is not a review app was changed: %v", after.Variables)
			}
			if len(w.fake.Deleted()) > 0 {
				t.Errorf("deleted %q", w.fake.Deleted())
			}
		})
	}
}

// TestReview_ForkAllowed deploys a fork's request when allow-forks says so.
func TestReview_ForkAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		allow string
		code  int
	}{
		{"refused by default", "", 1},
		{"allowed", "true", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := reviewEnv(t, w, "../../testdata/events/github-pull_request-fork.json", "INPUT_ALLOW-FORKS", tt.allow)
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			_, created := w.fake.App("my-app-pr57")
			if created != (tt.code == 0) {
				t.Errorf("review app created: %v", created)
			}
			if tt.code != 0 && len(w.fake.Requests()) > 0 {
				t.Errorf("%d requests before the refusal", len(w.fake.Requests()))
			}
		})
	}
}

// TestReview_FirstDeployUntilSuccess: scripts.first-deploy goes with every deployment
// until one succeeds, and the formation is applied after that first success, not before.
func TestReview_FirstDeployUntilSuccess(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	w.fake.PlanApp("my-app-pr42", fakescalingo.Scenario{FinalStatus: "build-error"})
	writeTree(t, w.ws, map[string]string{"scalingo.json": `{"formation":{"web":{"amount":3,"size":"M"}},"scripts":{"first-deploy":"bin/seed"}}`})
	e := w.env("gitlab", "CI_MERGE_REQUEST_IID", "42", "SCALINGO_REVIEW_APP", "true")
	scales := func() int { return apiCalls(w, "POST", "/my-app-pr42/scale") }

	if res := w.run(t, context.Background(), e); res.code != 1 {
		t.Fatalf("exit %d, want 1 (build error)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if scales() != 0 {
		t.Error("scaled after a failed deployment")
	}
	w.fake.AddApp("my-app-pr42", fakescalingo.Scenario{Parent: "my-app"}) // the next build succeeds
	for run := 2; run <= 3; run++ {
		if res := w.run(t, context.Background(), e); res.code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", run, res.code, res.stdout, res.stderr)
		}
	}
	deps := w.fake.Deployments("my-app-pr42")
	if len(deps) != 3 {
		t.Fatalf("%d deployments, want 3", len(deps))
	}
	for i, want := range []bool{true, true, false} {
		if got := deps[i].PostdeployHook != nil && *deps[i].PostdeployHook == "bin/seed"; got != want {
			t.Errorf("deployment %d (%s) has the first-deploy hook: %v, want %v", i+1, deps[i].Status, got, want)
		}
	}
	child, _ := w.fake.App("my-app-pr42")
	if scales() != 1 || child.Formation["web"].Amount != 3 {
		t.Errorf("%d scales, formation %+v: want one, after the first success", scales(), child.Formation)
	}
}

// TestReview_NewChildStartsEmpty: whether Scalingo copies a parent's variables into a
// new child has been documented both ways (review-apps.md §1.2); either way, a new review
// app keeps only what copy-env, scalingo.json and env give it, so production's secrets
// never reach pull-request code unasked.
func TestReview_NewChildStartsEmpty(t *testing.T) {
	t.Parallel()
	const secret = "postgres://admin:prod-password@db.internal/prod"
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{ChildrenInheritVariables: true,
		Variables: map[string]string{"DATABASE_URL": secret, "PUBLIC_NAME": "shop"}})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_COPY-ENV", "PUBLIC_*")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	child, ok := w.fake.App("my-app-pr42")
	if !ok {
		t.Fatal("no review app")
	}
	if _, held := child.Variables["DATABASE_URL"]; held || child.Variables["PUBLIC_NAME"] != "shop" {
		t.Errorf("review app variables %v: want PUBLIC_NAME only", slices.Collect(maps.Keys(child.Variables)))
	}
	deps := w.fake.Deployments("my-app-pr42")
	if len(deps) != 1 || deps[0].Env["DATABASE_URL"] != "" {
		t.Errorf("the deployment saw the parent's DATABASE_URL: %+v", deps)
	}
	if strings.Contains(everything(w, res, e), "prod-password") {
		t.Error("the parent's secret shows in the output")
	}
	if !strings.Contains(res.stdout, "Removed 2 variables that my-app-pr42 held (DATABASE_URL, PUBLIC_NAME)") {
		t.Errorf("the removal is not said:\n%s", res.stdout)
	}
}

// TestReview_CopiesAliasesAsWritten: a copied alias points at the review app's own addon,
// never at the parent's production database the API would resolve it to.
func TestReview_CopiesAliasesAsWritten(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Variables: map[string]string{
		"SCALINGO_POSTGRESQL_URL": "postgres://admin:prod-password@db.internal/prod",
		"DATABASE_URL":            "$SCALINGO_POSTGRESQL_URL",
	}})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_COPY-ENV", "DATABASE_URL")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	child, _ := w.fake.App("my-app-pr42")
	if got := child.Variables["DATABASE_URL"]; got != "$SCALINGO_POSTGRESQL_URL" {
		t.Errorf("DATABASE_URL copied as %q, want the alias as written", got)
	}
}

// TestReview_ManifestUnsetsACopy: in scalingo.json, an empty or null value removes a
// variable: a copy of that name from copy-env does not reach the review app.
func TestReview_ManifestUnsetsACopy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Variables: map[string]string{
		"SMTP_HOST": "smtp.example", "SMTP_PASSWORD": "prod-smtp-password", "SMTP_USER": "shop"}})
	writeTree(t, w.ws, map[string]string{"scalingo.json": `{"env": {"SMTP_PASSWORD": {"value": ""}, "SMTP_USER": {"value": null}}}`})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_COPY-ENV", "SMTP_*")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	child, _ := w.fake.App("my-app-pr42")
	if got := slices.Sorted(maps.Keys(child.Variables)); !slices.Equal(got, []string{"SMTP_HOST"}) {
		t.Errorf("review app variables %v, want SMTP_HOST only", got)
	}
}

// TestReview_SetupFailsThenSecondRun makes each step of a new review app's set-up fail
// in turn, on a parent whose children inherit its variables and addons (production's
// database among them), then runs again as a CI retry or the next push would: no
// deployment ever starts while the review app holds a value the run did not set. The
// fake records the app's variables and addons at each deployment's creation.
func TestReview_SetupFailsThenSecondRun(t *testing.T) {
	t.Parallel()
	const collaborator = "tk-us-collaborator-000000000000000000000000"
	const prodDB, stripe = "postgres://admin:prod-secret-db@db.internal/prod", "sk_live_prod-secret-stripe"
	tests := []struct {
		name   string
		faults []fakescalingo.Fault
		// adopted: the lost creation's app is found and set up in the first run.
		adopted bool
	}{
		{name: "addon removal", faults: []fakescalingo.Fault{{Method: "DELETE", Path: "/v1/apps/my-app-pr42/addons/", Status: 500, Times: -1}}},
		{name: "variable removal", faults: []fakescalingo.Fault{{Method: "DELETE", Path: "/v1/apps/my-app-pr42/variables/", Status: 500, Times: -1}}},
		{name: "copy", faults: []fakescalingo.Fault{{Method: "GET", Path: "/v1/apps/my-app/variables", Status: 500, Times: -1}}},
		{name: "manifest values", faults: []fakescalingo.Fault{{Method: "PUT", Path: "/v1/apps/my-app-pr42/variables", Status: 500, Times: -1}}},
		{name: "addon provisioning", faults: []fakescalingo.Fault{{Method: "POST", Path: "/v1/apps/my-app-pr42/addons", Status: 500, Times: -1}}},
		{name: "creation answer lost", faults: []fakescalingo.Fault{{Method: "POST", Path: "/v1/apps/my-app/child_apps", DropResponse: true}}, adopted: true},
		{name: "creation answer lost, then the app unreadable", faults: []fakescalingo.Fault{
			{Method: "POST", Path: "/v1/apps/my-app/child_apps", DropResponse: true},
			{Method: "GET", Path: "/v1/apps/my-app-pr42", After: 1, Status: 500, Times: -1},
		}},
	}
	for _, tt := range tests {
		for _, owner := range []bool{true, false} {
			name := tt.name + "/as a collaborator"
			if owner {
				name = tt.name + "/as the owner"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, fakescalingo.Options{CollaboratorToken: collaborator})
				w.fake.AddApp("my-app", fakescalingo.Scenario{ChildrenInheritVariables: true, ChildrenInheritAddons: true,
					Variables: map[string]string{"DATABASE_URL": prodDB, "STRIPE_SECRET": stripe, "SMTP_HOST": "smtp.example"}})
				for _, a := range [][2]string{{"postgresql", "postgresql-business-1024"}, {"redis", "redis-starter-256"}} {
					if err := w.fake.AddAddon("my-app", a[0], a[1]); err != nil {
						t.Fatal(err)
					}
				}
				parent, _ := w.fake.App("my-app")
				writeTree(t, w.ws, map[string]string{"scalingo.json": `{"env": {"FEATURE": {"value": "manifest"}}}`})
				inputs := []string{"INPUT_COPY-ENV", "SMTP_HOST", "INPUT_ENV", "RELEASE=v1", "INPUT_ADDONS", "postgresql:postgresql-starter-512"}
				if !owner {
					inputs = append(inputs, "INPUT_API-TOKEN", collaborator)
				}
				for _, f := range tt.faults {
					w.fake.Inject(f)
				}

				e := reviewEnv(t, w, event(t, "opened"), inputs...)
				res := w.run(t, context.Background(), e)
				switch {
				case tt.adopted:
					if res.code != 0 {
						t.Fatalf("first run: exit %d, want the lost creation's app set up\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
					}
				case res.code != 1:
					t.Fatalf("first run: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
				case len(w.fake.Deployments("my-app-pr42")) > 0:
					t.Fatal("a deployment was created after a failed set-up")
				default:
					_, exists := w.fake.App("my-app-pr42")
					out := res.stdout + res.stderr
					said := strings.Contains(out, "was deleted: nothing of it is left") ||
						strings.Contains(out, "is left, never deployed") || strings.Contains(out, "could not tell whether it was created")
					if !said || exists == strings.Contains(out, "was deleted") {
						t.Errorf("the first run does not say what is left (the review app exists: %v):\n%s", exists, res.stdout)
					}
				}
				if all := everything(w, res, e); strings.Contains(all, "prod-secret") {
					t.Errorf("a production value shows in the first run's output:\n%s", all)
				}

				w.fake.ClearFaults()
				e = reviewEnv(t, w, event(t, "synchronize"), inputs...)
				res = w.run(t, context.Background(), e)
				if res.code != 0 {
					t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
				}
				deps := w.fake.Deployments("my-app-pr42")
				if len(deps) == 0 {
					t.Fatal("no deployment")
				}
				for i, d := range deps {
					want := map[string]string{"SMTP_HOST": "smtp.example", "FEATURE": "manifest", "RELEASE": "v1"}
					got := maps.Clone(d.Env)
					if db := got["SCALINGO_POSTGRESQL_URL"]; db == "" || db == parent.Variables["SCALINGO_POSTGRESQL_URL"] {
						t.Errorf("deployment %d started with SCALINGO_POSTGRESQL_URL %q: want the review app's own database", i+1, db)
					}
					delete(got, "SCALINGO_POSTGRESQL_URL")
					if !maps.Equal(got, want) {
						t.Errorf("deployment %d started with variables %v, want %v and the addon's", i+1, slices.Sorted(maps.Keys(d.Env)), slices.Sorted(maps.Keys(want)))
					}
					if len(d.Addons) != 1 || d.Addons[0].PlanName != "postgresql-starter-512" || d.Addons[0].Status != "running" {
						t.Errorf("deployment %d started with addons %+v, want the one the run provisioned, running", i+1, d.Addons)
					}
				}
				if all := everything(w, res, e); strings.Contains(all, "prod-secret") {
					t.Errorf("a production value shows in the second run's output:\n%s", all)
				}
			})
		}
	}
}

// TestReview_DestroyOnlyItsOwn tries, as an attacker or a careless workflow would, to make
// a destroy delete what is not a review app of this request: every refusal exits 1 and
// deletes nothing; a closed event leaves a fixed review-app-name alone.
func TestReview_DestroyOnlyItsOwn(t *testing.T) {
	t.Parallel()
	closed := "../../testdata/events/github-pull_request-closed.json"
	tests := []struct {
		name     string
		event    string
		inputs   []string
		code     int
		says     string
		deleted  []string
		status   string
		requests bool
	}{
		{name: "a closed event deletes the request's own review app", event: closed,
			code: 0, deleted: []string{"my-app-pr42"}, status: "destroyed", requests: true},
		{name: "a closed event leaves a fixed review-app-name", event: closed, inputs: []string{"INPUT_REVIEW-APP-NAME", "my-app-staging"},
			code: 0, says: "not deleted: review-app-name is fixed; delete it with destroy: true", status: "kept"},
		{name: "a closed event with destroy: false leaves a fixed review-app-name", event: closed,
			inputs: []string{"INPUT_REVIEW-APP-NAME", "my-app-staging", "INPUT_DESTROY", "false"},
			code:   0, says: "not deleted: review-app-name is fixed", status: "kept"},
		{name: "a fixed review-app-name with destroy: true", event: "opened", inputs: []string{"INPUT_REVIEW-APP-NAME", "my-app-staging", "INPUT_DESTROY", "true"},
			code: 0, deleted: []string{"my-app-staging"}, status: "destroyed", requests: true},
		{name: "the parent by review-app-name", event: "opened", inputs: []string{"INPUT_REVIEW-APP-NAME", "my-app", "INPUT_DESTROY", "true"},
			code: 1, says: "review app my-app is not deleted: it is the parent app itself"},
		{name: "the parent by review-app-name on a closed event", event: closed, inputs: []string{"INPUT_REVIEW-APP-NAME", "my-app"},
			code: 1, says: "review app my-app is not deleted: it is the parent app itself"},
		{name: "a target of the same run", event: "opened", inputs: []string{"INPUT_APP", "my-app,my-app-pr42", "INPUT_DESTROY", "true"},
			code: 1, says: "review app my-app-pr42 is not deleted: it is a target of this same run"},
		{name: "a target of the same run, dry run", event: "opened", inputs: []string{"INPUT_APP", "my-app,my-app-pr42", "INPUT_DESTROY", "true", "INPUT_DRY-RUN", "true"},
			code: 1, says: "review app my-app-pr42 is not deleted: it is a target of this same run"},
		{name: "the request's own review app, dry run", event: "opened", inputs: []string{"INPUT_DESTROY", "true", "INPUT_DRY-RUN", "true"},
			code: 0, says: "Dry run: nothing is sent. Review app my-app-pr42 of my-app would be deleted"},
		{name: "a target of the same run on a closed event", event: closed, inputs: []string{"INPUT_APP", "my-app-pr42,my-app"},
			code: 1, says: "review app my-app-pr42 is not deleted: it is a target of this same run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			for _, child := range []string{"my-app-pr42", "my-app-staging"} {
				w.fake.AddApp(child, fakescalingo.Scenario{Parent: "my-app"})
			}
			w.fake.AddApp("my-app-pr42-pr42", fakescalingo.Scenario{Parent: "my-app-pr42"})
			ev := tt.event
			if ev == "opened" {
				ev = event(t, "opened")
			}
			e := reviewEnv(t, w, ev, tt.inputs...)
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			// On GitHub an error is an annotation on stdout.
			if !strings.Contains(res.stdout+res.stderr, tt.says) {
				t.Errorf("the run does not say %q:\nstdout:\n%s\nstderr:\n%s", tt.says, res.stdout, res.stderr)
			}
			if got := w.fake.Deleted(); !slices.Equal(got, tt.deleted) {
				t.Errorf("deleted %q, want %q", got, tt.deleted)
			}
			if n := len(w.fake.Requests()); !tt.requests && n > 0 {
				t.Errorf("%d requests reached the fake", n)
			}
			if tt.status != "" {
				if out := readGitHubOutputs(t, e["GITHUB_OUTPUT"]); out["status"] != tt.status {
					t.Errorf("outputs %v, want status %s", out, tt.status)
				}
			}
		})
	}
}
