package imagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// reviewDocBlock returns the one ```yaml block of docs/review-apps.md holding marker: the
// container tests run the pipelines the docs show, not copies of them.
func reviewDocBlock(t *testing.T, marker string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "review-apps.md"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, b := range yamlBlocks(string(doc)) {
		if strings.Contains(b, marker) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/review-apps.md: want one ```yaml block with %q, found %d", marker, len(found))
	}
	return found[0]
}

// replaceN replaces old by new, which must occur exactly n times: an edit of the docs that the
// test no longer matches fails here rather than testing something else.
func replaceN(t *testing.T, s, old, new string, n int) string {
	t.Helper()
	if got := strings.Count(s, old); got != n {
		t.Fatalf("want %q %d times in the documented pipeline, found %d:\n%s", old, n, got, s)
	}
	return strings.ReplaceAll(s, old, new)
}

// checkReviewDeployed checks that the child app exists, belongs to the parent, got one
// successful deployment of the workspace, and that the parent was left alone.
func checkReviewDeployed(t *testing.T, srv *fakescalingo.Server, child, log string) fakescalingo.App {
	t.Helper()
	a, ok := srv.App(child)
	if !ok {
		t.Fatalf("the review app %s does not exist\n%s", child, log)
	}
	if a.Parent != appName {
		t.Errorf("review app %s has parent %q, want %s", child, a.Parent, appName)
	}
	deps := srv.Deployments(child)
	if len(deps) != 1 || deps[0].Status != "success" {
		t.Fatalf("review app deployments = %+v, want one success\n%s", deps, log)
	}
	if d := deps[0]; d.Archive == nil || !slices.ContainsFunc(d.Archive.Names(), func(n string) bool { return strings.HasSuffix(n, "/index.php") }) {
		t.Errorf("the review app's archive lacks the workspace: %+v", d.Archive)
	}
	if n := len(srv.Deployments(appName)); n != 0 {
		t.Errorf("the parent got %d deployments, want none", n)
	}
	if strings.Contains(log, srv.APIToken) {
		t.Errorf("the API token appears in the output:\n%s", log)
	}
	return a
}

// checkReviewDestroyed checks that the child is gone, deleted once, and the parent is still there.
func checkReviewDestroyed(t *testing.T, srv *fakescalingo.Server, child, log string) {
	t.Helper()
	if _, ok := srv.App(child); ok {
		t.Errorf("the review app %s still exists\n%s", child, log)
	}
	if del := srv.Deleted(); !slices.Equal(del, []string{child}) {
		t.Errorf("deleted apps = %v, want [%s]", del, child)
	}
	if _, ok := srv.App(appName); !ok {
		t.Errorf("the parent %s is gone", appName)
	}
}

var actReviewReport = regexp.MustCompile(`review app (\S+) (?:at|is) (\S+)`)

// TestReviewAppAct runs the GitHub workflow of docs/review-apps.md under act, as TestGitHubAct
// runs the deploy: a pull_request opened event creates and deploys the review app, then a closed
// event deletes it.
func TestReviewAppAct(t *testing.T) {
	t.Parallel()
	img := image(t)
	tool(t, "act") // before anything is built: skipped, or failed in CI, without act
	srv := startFake(t)
	root := repoRoot(t)
	const child = appName + "-pr42" // the number in testdata/events/github-pull_request-*.json

	ws := actWorkspace(t, img)
	// The documented workflow, with this repository's action and the fake's URLs.
	wf := reviewDocBlock(t, "types: [opened, synchronize, reopened, closed]")
	// The deploy job uses this repository's action from its checkout; the destroy job has no
	// checkout, where act cannot read `uses: ./`, so it runs the image itself: that also shows
	// that a destroy needs nothing checked out.
	wf = replaceN(t, wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: scalingo-deploy/scalingo-deploy@v1", 2)
	wf = strings.Replace(wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: ./", 1)
	wf = strings.Replace(wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: docker://"+img, 1)
	if i, j := strings.Index(wf, "uses: ./"), strings.Index(wf, "  destroy:\n"); i < 0 || j < 0 || i > j {
		t.Fatalf("want the deploy job (with uses: ./) before the destroy job:\n%s", wf)
	}
	wf = replaceN(t, wf, "          app: my-app\n",
		fmt.Sprintf("          app: %s\n          api-url: %s\n          auth-url: %s\n", appName, srv.APIURL, srv.AuthURL), 2)
	// The stand-in runner image has sh, not the bash that GitHub's runners use by default.
	wf = replaceN(t, wf, "\npermissions:\n", "\ndefaults:\n  run:\n    shell: sh\n\npermissions:\n", 1)
	writeFile(t, ws, ".github/workflows/review-app.yml", wf)

	// github.repository comes from the remote: acme/web, the base (and head) of the events.
	actCommit(t, ws)

	runEvent := func(t *testing.T, eventFile string) string {
		t.Helper()
		out := act(t, ws, "pull_request",
			"--eventpath", filepath.Join(root, "testdata", "events", eventFile),
			"--workflows", ".github/workflows/review-app.yml",
			"--secret", "SCALINGO_API_TOKEN="+srv.APIToken)
		return out
	}

	// Opened: the deploy job runs, the destroy job is skipped.
	out := runEvent(t, "github-pull_request-opened.json")
	a := checkReviewDeployed(t, srv, child, out)
	m := actReviewReport.FindStringSubmatch(out)
	if m == nil || m[1] != child || m[2] != a.URL {
		t.Errorf("the report step printed %q, want review app %s at %s\n%s", m, child, a.URL, out)
	}
	if len(srv.Deleted()) != 0 {
		t.Fatalf("opened deleted %v", srv.Deleted())
	}

	// Closed: the destroy job deletes the review app, without an archive.
	uploads := len(srv.Deployments(child))
	out = runEvent(t, "github-pull_request-closed.json")
	checkReviewDestroyed(t, srv, child, out)
	if m := actReviewReport.FindStringSubmatch(out); m == nil || m[1] != child || m[2] != "destroyed" {
		t.Errorf("the report step printed %q, want review app %s is destroyed\n%s", m, child, out)
	}
	if uploads != 1 {
		t.Errorf("deployments before closing: %d", uploads)
	}
}

// gitlabJobs reads the documented GitLab pipeline's jobs.
func gitlabJobs(t *testing.T, pipeline string) map[string]gitlabJob {
	t.Helper()
	var all map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(pipeline), &all); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]gitlabJob{}
	for name, node := range all {
		if name == "stages" {
			continue
		}
		var j gitlabJob
		if err := node.Decode(&j); err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		jobs[name] = j
	}
	return jobs
}

// TestReviewAppGitLab runs the review and stop jobs of docs/review-apps.md (and of the
// component) as GitLab's Docker executor does, in a merge request pipeline: the review job
// creates and deploys the review app and reports its URL for the environment; the stop job,
// with nothing checked out (GIT_STRATEGY: none), deletes it; a second stop finds nothing to
// delete and succeeds.
func TestReviewAppGitLab(t *testing.T) {
	t.Parallel()
	img := image(t)
	const projectDir = "/builds/acme/web"

	docs := gitlabJobs(t, reviewDocBlock(t, "stop-review:"))
	comp, err := readComponentFile(t, "review-app.yml").interpolate(map[string]string{"app": appName, "image": img})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		review, stop gitlabJob
	}{
		{"docs", docs["review"], docs["stop-review"]},
		{"component", comp["scalingo-review"], comp["scalingo-review:stop"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startFake(t)
			const iid, child = "17", appName + "-pr17"
			ci := map[string]string{
				"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": projectDir,
				"CI_COMMIT_SHA": commitID, "CI_COMMIT_REF_NAME": "feature", "CI_JOB_ID": "42",
				"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": iid,
				"CI_MERGE_REQUEST_PROJECT_ID": "1001", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "1001",
				// Project CI/CD variables: the masked token, and the fake's URLs.
				"SCALINGO_API_TOKEN": srv.APIToken, "SCALINGO_API_URL": srv.APIURL, "SCALINGO_AUTH_URL": srv.AuthURL,
			}
			run := func(t *testing.T, job gitlabJob, ws string) (string, int) {
				t.Helper()
				if w := job.when(t, ci); w == "never" {
					t.Fatalf("the job does not run in a merge request pipeline")
				}
				args := []string{"--volume", ws + ":" + projectDir, "--workdir", projectDir}
				env := map[string]string{}
				for k, v := range job.Variables {
					env[k] = job.expandWith(ci, v)
				}
				for k, v := range ci {
					env[k] = v // project variables win over the job's, as on GitLab
				}
				env["CI_ENVIRONMENT_NAME"] = job.expandWith(ci, job.Environment.Name)
				for k, v := range env {
					args = append(args, "--env", k+"="+v)
				}
				script := "set -e\n" + strings.Join(job.Script, "\n") + "\n"
				img := job.Image
				if tc.name == "docs" {
					img = imageFor(t, job.Image, image(t)) // the docs name the released image
				}
				return podmanRun(t, script, append(args, img, "sh", "-c", gitlabDetectShell)...)
			}

			// The review job: create, configure, deploy; the dotenv report gives the URL.
			ws := newWorkspace(t)
			if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(tc.review.Artifacts.Reports.Dotenv)), 0o755); err != nil {
				t.Fatal(err)
			}
			out, code := run(t, tc.review, ws)
			if code != 0 {
				t.Fatalf("review job exited %d\n%s", code, out)
			}
			a := checkReviewDeployed(t, srv, child, out)
			report := readDotenv(t, filepath.Join(ws, tc.review.Artifacts.Reports.Dotenv))
			if report["SCALINGO_APP_NAME"] != child || report["SCALINGO_APP_URL"] != a.URL {
				t.Errorf("dotenv report %v, want SCALINGO_APP_NAME=%s and SCALINGO_APP_URL=%s", report, child, a.URL)
			}
			envURL := os.Expand(tc.review.Environment.URL, func(k string) string { return report[k] })
			if envURL != a.URL {
				t.Errorf("environment url %q expands to %q, want %s", tc.review.Environment.URL, envURL, a.URL)
			}

			// The stop job: GIT_STRATEGY none, so nothing is checked out.
			if tc.stop.Variables["GIT_STRATEGY"] != "none" {
				t.Fatalf("the stop job clones: %v", tc.stop.Variables)
			}
			empty := t.TempDir()
			if err := os.Chmod(empty, 0o777); err != nil {
				t.Fatal(err)
			}
			out, code = run(t, tc.stop, empty)
			if code != 0 {
				t.Fatalf("stop job exited %d\n%s", code, out)
			}
			checkReviewDestroyed(t, srv, child, out)
			if r := readDotenv(t, filepath.Join(empty, tc.stop.Artifacts.Reports.Dotenv)); r["SCALINGO_APP_NAME"] != child || r["SCALINGO_DEPLOYMENT_STATUS"] != "destroyed" {
				t.Errorf("stop job's dotenv report %v, want SCALINGO_APP_NAME=%s, SCALINGO_DEPLOYMENT_STATUS=destroyed", r, child)
			}

			// Stopping again (GitLab retries, or auto_stop_in after a manual stop) deletes nothing.
			again := t.TempDir()
			out, code = run(t, tc.stop, again)
			if code != 0 {
				t.Fatalf("second stop exited %d, want 0 (nothing to delete)\n%s", code, out)
			}
			if r := readDotenv(t, filepath.Join(again, tc.stop.Artifacts.Reports.Dotenv)); r["SCALINGO_DEPLOYMENT_STATUS"] != "absent" {
				t.Errorf("second stop's dotenv report %v, want SCALINGO_DEPLOYMENT_STATUS=absent", r)
			}
			if del := srv.Deleted(); len(del) != 1 {
				t.Errorf("deleted apps after a second stop: %v", del)
			}
		})
	}
}

// imageFor checks that the documented job names the released image, and returns the image
// built for these tests to run in its place.
func imageFor(t *testing.T, documented, built string) string {
	t.Helper()
	if !strings.HasPrefix(documented, "ghcr.io/scalingo-deploy/scalingo-deploy:") {
		t.Fatalf("the documented job runs %q, want the released image", documented)
	}
	return built
}
