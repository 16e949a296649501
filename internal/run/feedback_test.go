package run

import (
	"context"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// Pull-request feedback end to end: the real run against the fake Scalingo and the
// fake GitHub (or GitLab).

const ghToken = "ghs_feedbacktoken0000000000000000000000001"

// startGitHub is the fake GitHub of acme/web, whose pull requests 42 and 57 (from a
// fork) the events are of.
func startGitHub(t *testing.T, opts fakegithub.Options) *fakegithub.Server {
	t.Helper()
	opts.Token, opts.Repository, opts.PullRequests = ghToken, "acme/web", []int{42, 57}
	s := fakegithub.Start(opts)
	t.Cleanup(s.Close)
	return s
}

// feedbackEnv is a GitHub pull_request run with github-token, its API at gh.
func feedbackEnv(t *testing.T, w *world, gh *fakegithub.Server, eventPath string, extra ...string) env {
	t.Helper()
	e := reviewEnv(t, w, eventPath, append([]string{"INPUT_GITHUB-TOKEN", ghToken, "GITHUB_API_URL", gh.URL,
		"GITHUB_REPOSITORY", "acme/web", "GITHUB_SERVER_URL", "https://github.com", "GITHUB_RUN_ID", "777"}, extra...)...)
	return e
}

func statesOf(d fakegithub.Deployment) string {
	var s []string
	for _, st := range d.Statuses {
		s = append(s, st.State)
	}
	return strings.Join(s, ",")
}

// TestFeedback_ReviewLifecycle: opened → one comment and one deployment with its
// statuses in order; pushed again → the same comment edited, a second deployment;
// closed → the deployment inactive and the comment says the review app was deleted.
func TestFeedback_ReviewLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	gh := startGitHub(t, fakegithub.Options{})
	const runURL = "https://github.com/acme/web/actions/runs/777"

	// Opened.
	e := feedbackEnv(t, w, gh, event(t, "opened"))
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("opened: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	deps := gh.Deployments()
	if len(deps) != 1 || statesOf(deps[0]) != "in_progress,success" {
		t.Fatalf("deployments after opened: %+v", deps)
	}
	d := deps[0]
	// The pull request's head commit, which the pull request shows; GITHUB_SHA is the
	// merge commit.
	if d.Environment != "my-app-pr42" || !d.TransientEnvironment || d.ProductionEnvironment || d.SHA != "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39" || d.Request["auto_merge"] != false {
		t.Errorf("deployment %+v", d)
	}
	scalingoID := w.fake.Deployments("my-app-pr42")[0].ID
	if !strings.Contains(string(d.Payload), `"scalingo_deployment_id":"`+scalingoID+`"`) || !strings.Contains(string(d.Payload), `"region":"osc-fr1"`) {
		t.Errorf("payload %s", d.Payload)
	}
	child, _ := w.fake.App("my-app-pr42")
	if st := d.Statuses[1]; st.EnvironmentURL != child.URL || st.LogURL != runURL || d.Statuses[0].LogURL != runURL {
		t.Errorf("statuses %+v", d.Statuses)
	}
	comments := gh.Comments(42)
	if len(comments) != 1 {
		t.Fatalf("%d comments", len(comments))
	}
	body := comments[0].Body
	for _, want := range []string{"<!-- scalingo-deploy:my-app@osc-fr1 -->", "(review app of my-app)", "✅ deployed", "<" + child.URL + ">",
		"`0123456`", "https://dashboard.scalingo.com/apps/osc-fr1/my-app-pr42", runURL} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment lacks %q:\n%s", want, body)
		}
	}

	// Pushed again.
	e = feedbackEnv(t, w, gh, event(t, "synchronize"), "GITHUB_SHA", "abcdefabcdefabcdefabcdefabcdefabcdefabcd")
	if res := w.run(t, context.Background(), e); res.code != 0 {
		t.Fatalf("synchronize: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	comments = gh.Comments(42)
	if len(comments) != 1 || comments[0].Edits != 1 || !strings.Contains(comments[0].Body, "`abcdefa`") {
		t.Fatalf("after a second push: %+v", comments)
	}
	if deps = gh.Deployments(); len(deps) != 2 || statesOf(deps[1]) != "in_progress,success" {
		t.Fatalf("deployments after synchronize: %+v", deps)
	}

	// Closed.
	e = feedbackEnv(t, w, gh, event(t, "closed"))
	e["INPUT_PATH"] = "not-checked-out"
	res = w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("closed: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	deps = gh.Deployments()
	if len(deps) != 2 || statesOf(deps[1]) != "in_progress,success,inactive" {
		t.Fatalf("deployments after closed: %+v", deps)
	}
	comments = gh.Comments(42)
	if len(comments) != 1 || comments[0].Edits != 2 || !strings.Contains(comments[0].Body, "🗑️ deleted") {
		t.Fatalf("after closed: %+v", comments)
	}

	// Every request carried the token, and no output shows it.
	for _, r := range gh.Requests() {
		if r.Authorization != "Bearer "+ghToken {
			t.Errorf("%s %s sent %q", r.Method, r.Path, r.Authorization)
		}
	}
	if all := everything(w, res, e); strings.Contains(all, ghToken) {
		t.Errorf("the token was printed:\n%s", all)
	}
	if !strings.Contains(res.stdout, "::add-mask::"+ghToken) {
		t.Errorf("the token is not masked:\n%s", res.stdout)
	}
}

// TestFeedback_NoToken: without github-token, not one request reaches the forge, even
// with its API URL set.
func TestFeedback_NoToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	gh := startGitHub(t, fakegithub.Options{})
	e := feedbackEnv(t, w, gh, event(t, "opened"))
	delete(e, "INPUT_GITHUB-TOKEN")
	if res := w.run(t, context.Background(), e); res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := len(gh.Requests()); n != 0 {
		t.Fatalf("%d requests to the forge: %+v", n, gh.Requests())
	}
}

// TestFeedback_Verdicts: the deployment status and the comment follow the verdict; the
// exit code stays the deployment's whatever the forge answers.
func TestFeedback_Verdicts(t *testing.T) {
	t.Parallel()
	readOnly := map[string]string{"deployments": fakegithub.Read, "issues": fakegithub.Read, "pull_requests": fakegithub.Read}
	tests := []struct {
		name     string
		scenario fakescalingo.Scenario
		gh       fakegithub.Options
		extra    []string
		code     int
		states   string
		comment  []string
		warnings []string
	}{
		{name: "build error", scenario: fakescalingo.Scenario{FinalStatus: "build-error", Log: []string{"-----> Building", "./main.go:3:2: undefined: Serve", "``` try to close"}},
			code: 1, states: "in_progress,failure", comment: []string{"❌ failed `build-error`", "./main.go:3:2: undefined: Serve", "````text\n",
				// The repository's line, as the annotation points at it.
				"Where the build broke:\n- `src/main.go:3:2` undefined\\: Serve\n"}},
		{name: "timeout", scenario: fakescalingo.Scenario{NeverFinish: true}, extra: []string{"INPUT_TIMEOUT", "1m"},
			code: 3, states: "in_progress,error", comment: []string{"⏳ still running at Scalingo `building`"}},
		{name: "health check failed", scenario: fakescalingo.Scenario{Serve: &fakescalingo.AppServer{NeverHealthy: true}}, extra: []string{"INPUT_HEALTH-CHECK", "/healthz", "INPUT_HEALTH-CHECK-TIMEOUT", "1m"},
			code: 1, states: "in_progress,failure", comment: []string{"❌ health check failed"}},
		{name: "a token without permissions", gh: fakegithub.Options{Permissions: map[string]string{}},
			code: 0, warnings: []string{"deployments: write", "pull-requests: write"}},
		{name: "the forge is down", gh: fakegithub.Options{}, extra: []string{"GITHUB_API_URL", "http://127.0.0.1:1"},
			code: 0, warnings: []string{"could not create the GitHub deployment", "could not comment on the pull request"}},
		{name: "a fork's read-only token", gh: fakegithub.Options{Permissions: readOnly}, extra: []string{"INPUT_ALLOW-FORKS", "true"},
			code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			w.fake.PlanApp("my-app-pr42", tt.scenario)
			gh := startGitHub(t, tt.gh)
			ev := event(t, "opened")
			if tt.name == "a fork's read-only token" {
				ev = forkEvent(t)
			}
			e := feedbackEnv(t, w, gh, ev, tt.extra...)
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if tt.states != "" {
				deps := gh.Deployments()
				if len(deps) != 1 || statesOf(deps[0]) != tt.states {
					t.Fatalf("deployments %+v, want %s", deps, tt.states)
				}
				comments := gh.Comments(42)
				if len(comments) != 1 {
					t.Fatalf("%d comments", len(comments))
				}
				for _, want := range tt.comment {
					if !strings.Contains(comments[0].Body, want) {
						t.Errorf("the comment lacks %q:\n%s", want, comments[0].Body)
					}
				}
			}
			var warnings, notices []string
			for _, line := range strings.Split(res.stdout, "\n") {
				if strings.HasPrefix(line, "::warning") && strings.Contains(line, "the deployment's result is not affected") {
					warnings = append(warnings, line)
				}
				if strings.HasPrefix(line, "::notice") && strings.Contains(line, "fork") {
					notices = append(notices, line)
				}
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want one each for %q", warnings, tt.warnings)
			}
			for i, want := range tt.warnings {
				if !strings.Contains(warnings[i], want) {
					t.Errorf("warning %q lacks %q", warnings[i], want)
				}
			}
			if fork := tt.name == "a fork's read-only token"; fork != (len(notices) == 1) || len(notices) > 1 {
				t.Errorf("fork notices %q", notices)
			}
			if all := everything(w, res, e); strings.Contains(all, ghToken) {
				t.Errorf("the token was printed:\n%s", all)
			}
		})
	}
}

// forkEvent is PR 42's opened event coming from a fork.
func forkEvent(t *testing.T) string {
	t.Helper()
	return "../../testdata/events/github-pull_request-fork.json"
}

// TestFeedback_GitLab: one merge-request note, created then edited.
func TestFeedback_GitLab(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	gl := fakegitlab.Start(fakegitlab.Options{MergeRequests: []int{42}})
	t.Cleanup(gl.Close)
	e := w.env("gitlab", "CI_MERGE_REQUEST_IID", "42", "CI_API_V4_URL", gl.URL, "CI_PROJECT_ID", "42",
		"SCALINGO_GITLAB_TOKEN", gl.Token, "CI_JOB_URL", "https://gitlab.example/acme/web/-/jobs/9")
	for i, sha := range []string{"1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"} {
		e["CI_COMMIT_SHA"] = sha
		if res := w.run(t, context.Background(), e); res.code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, res.code, res.stdout, res.stderr)
		} else if strings.Contains(everything(w, res, e), gl.Token) {
			t.Fatalf("the token was printed")
		}
	}
	notes := gl.Notes(42)
	if len(notes) != 1 || notes[0].Edits != 1 || !strings.Contains(notes[0].Body, "`2222222`") {
		t.Fatalf("notes %+v", notes)
	}
	if !strings.Contains(notes[0].Body, "<!-- scalingo-deploy:my-app@osc-fr1 -->") || !strings.Contains(notes[0].Body, "✅ deployed") ||
		!strings.Contains(notes[0].Body, "https://gitlab.example/acme/web/-/jobs/9") {
		t.Fatalf("note:\n%s", notes[0].Body)
	}
	for _, r := range gl.Requests() {
		if r.Authorization != "Bearer "+gl.Token || r.PrivateToken != "" {
			t.Errorf("%s %s: Authorization %q, PRIVATE-TOKEN %q", r.Method, r.Path, r.Authorization, r.PrivateToken)
		}
	}
}

// TestFeedback_Forgejo: the same comment through the forge's own API, and no deployment
// request (Forgejo and Gitea have no deployments API).
func TestFeedback_Forgejo(t *testing.T) {
	t.Parallel()
	for _, marker := range []string{"FORGEJO_ACTIONS", "GITEA_ACTIONS"} {
		t.Run(marker, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			gh := startGitHub(t, fakegithub.Options{})
			e := feedbackEnv(t, w, gh, event(t, "opened"), marker, "true")
			if res := w.run(t, context.Background(), e); res.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			for _, r := range gh.Requests() {
				if strings.Contains(r.Path, "/deployments") {
					t.Errorf("%s %s sent to a forge without deployments", r.Method, r.Path)
				}
			}
			if c := gh.Comments(42); len(c) != 1 || !strings.Contains(c[0].Body, "✅ deployed") {
				t.Fatalf("comments %+v", c)
			}
		})
	}
}
