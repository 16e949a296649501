package imagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
)

// TestFeedbackAct runs the pull-request feedback workflow of docs/github.md with act, its
// GITHUB_API_URL at the fake GitHub: opened (one comment, one deployment in_progress then
// success), pushed again (the same comment edited), closed (the deployment inactive, the
// comment says the review app was deleted).
func TestFeedbackAct(t *testing.T) {
	t.Parallel()
	img := image(t)
	tool(t, "act") // before anything is built: skipped, or failed in CI, without act
	srv := startFake(t)
	root := repoRoot(t)
	const token = "ghs_actfeedback0000000000000000000000000"
	gh := fakegithub.Start(fakegithub.Options{Token: token, Repository: "acme/web", PullRequests: []int{42}})
	t.Cleanup(gh.Close)

	doc, err := os.ReadFile(filepath.Join(root, "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	var wf string
	for _, b := range yamlBlocks(string(doc)) {
		if strings.Contains(b, "github-token:") {
			wf = b
		}
	}
	if wf == "" {
		t.Fatal("docs/github.md has no workflow with github-token")
	}
	// The closed run has no checkout, where act cannot read `uses: ./`: the image itself.
	wf = replaceN(t, wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: docker://"+img, 1)
	wf = replaceN(t, wf, "          app: my-app\n",
		"          app: "+appName+"\n          api-url: "+srv.APIURL+"\n          auth-url: "+srv.AuthURL+"\n", 1)

	ws := newWorkspace(t)
	if err := os.RemoveAll(filepath.Join(ws, ".git")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, ws, ".github/workflows/review.yml", wf)
	actCommit(t, ws)

	runEvent := func(t *testing.T, action string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, "testdata", "events", "github-pull_request-opened.json"))
		if err != nil {
			t.Fatal(err)
		}
		ev := filepath.Join(t.TempDir(), "event.json")
		writeFile(t, filepath.Dir(ev), "event.json", strings.Replace(string(data), `"action": "opened"`, `"action": "`+action+`"`, 1))
		out := act(t, ws, "pull_request",
			"--eventpath", ev,
			"--workflows", ".github/workflows/review.yml",
			"--secret", "SCALINGO_API_TOKEN="+srv.APIToken,
			"--secret", "GITHUB_TOKEN="+token,
			"--env", "GITHUB_API_URL="+gh.URL)
		if strings.Contains(out, token) {
			t.Errorf("the token shows in the log:\n%s", out)
		}
		return out
	}
	states := func(d fakegithub.Deployment) string {
		var s []string
		for _, st := range d.Statuses {
			s = append(s, st.State)
		}
		return strings.Join(s, ",")
	}

	out := runEvent(t, "opened")
	deps, comments := gh.Deployments(), gh.Comments(42)
	if len(deps) != 1 || states(deps[0]) != "in_progress,success" || deps[0].Environment != appName+"-pr42" {
		t.Fatalf("deployments after opened: %+v\n%s", deps, out)
	}
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "✅ deployed") {
		t.Fatalf("comments after opened: %+v\n%s", comments, out)
	}

	gitIn(t, ws, "commit", "-q", "--allow-empty", "-m", "second push") // another GITHUB_SHA: another comment
	out = runEvent(t, "synchronize")
	if comments = gh.Comments(42); len(comments) != 1 || comments[0].Edits != 1 {
		t.Fatalf("comments after synchronize: %+v\n%s", comments, out)
	}

	out = runEvent(t, "closed")
	deps, comments = gh.Deployments(), gh.Comments(42)
	if len(deps) != 2 || !strings.HasSuffix(states(deps[1]), ",inactive") {
		t.Fatalf("deployments after closed: %+v\n%s", deps, out)
	}
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "🗑️ deleted") {
		t.Fatalf("comments after closed: %+v\n%s", comments, out)
	}
	for _, r := range gh.Requests() {
		if r.Authorization != "Bearer "+token {
			t.Errorf("%s %s without the token", r.Method, r.Path)
		}
	}
}

// TestFeedbackGitLab runs the review-app component's jobs as GitLab's Docker executor would,
// with SCALINGO_GITLAB_TOKEN and CI_API_V4_URL at the fake GitLab: the review job creates one
// note, a second push edits it, the stop job says the review app was deleted.
func TestFeedbackGitLab(t *testing.T) {
	t.Parallel()
	img := image(t)
	const projectDir, iid = "/builds/acme/web", "17"
	comp, err := readComponentFile(t, "review-app.yml").interpolate(map[string]string{"app": appName, "image": img})
	if err != nil {
		t.Fatal(err)
	}
	srv := startFake(t)
	gl := fakegitlab.Start(fakegitlab.Options{MergeRequests: []int{17}})
	t.Cleanup(gl.Close)
	ci := map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": projectDir, "CI_PROJECT_ID": "42",
		"CI_API_V4_URL": gl.URL, "CI_JOB_URL": "https://gitlab.example/acme/web/-/jobs/42",
		"CI_COMMIT_SHA": commitID, "CI_COMMIT_REF_NAME": "feature", "CI_JOB_ID": "42",
		"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": iid,
		"CI_MERGE_REQUEST_PROJECT_ID": "42", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42",
		// Project CI/CD variables: the masked tokens, and the fake's URLs.
		"SCALINGO_API_TOKEN": srv.APIToken, "SCALINGO_GITLAB_TOKEN": gl.Token,
		"SCALINGO_API_URL": srv.APIURL, "SCALINGO_AUTH_URL": srv.AuthURL,
	}
	run := func(t *testing.T, job gitlabJob, ws string) string {
		t.Helper()
		args := []string{"--volume", ws + ":" + projectDir, "--workdir", projectDir}
		env := map[string]string{}
		for k, v := range job.Variables {
			env[k] = job.expandWith(ci, v)
		}
		for k, v := range ci {
			env[k] = v
		}
		for k, v := range env {
			args = append(args, "--env", k+"="+v)
		}
		script := "set -e\n" + strings.Join(job.Script, "\n") + "\n"
		out, code := podmanRun(t, script, append(args, img, "sh", "-c", gitlabDetectShell)...)
		if code != 0 {
			t.Fatalf("job exited %d\n%s", code, out)
		}
		if strings.Contains(out, gl.Token) {
			t.Errorf("the token shows in the log:\n%s", out)
		}
		return out
	}
	workspace := func() string {
		ws := newWorkspace(t)
		if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(comp["scalingo-review"].Artifacts.Reports.Dotenv)), 0o755); err != nil {
			t.Fatal(err)
		}
		return ws
	}

	out := run(t, comp["scalingo-review"], workspace())
	if n := gl.Notes(17); len(n) != 1 || !strings.Contains(n[0].Body, "✅ deployed") || !strings.Contains(n[0].Body, "`"+commitID[:7]+"`") {
		t.Fatalf("notes after the first push: %+v\n%s", n, out)
	}
	ci["CI_COMMIT_SHA"] = strings.Repeat("b", 40)
	out = run(t, comp["scalingo-review"], workspace())
	if n := gl.Notes(17); len(n) != 1 || n[0].Edits != 1 || !strings.Contains(n[0].Body, "`bbbbbbb`") {
		t.Fatalf("notes after the second push: %+v\n%s", n, out)
	}
	empty := t.TempDir()
	if err := os.Chmod(empty, 0o777); err != nil {
		t.Fatal(err)
	}
	out = run(t, comp["scalingo-review:stop"], empty)
	if n := gl.Notes(17); len(n) != 1 || n[0].Edits != 2 || !strings.Contains(n[0].Body, "🗑️ deleted") {
		t.Fatalf("notes after the stop job: %+v\n%s", n, out)
	}
}
