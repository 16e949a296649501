package imagetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

// whenScheduled evaluates a job's rules joined by && (the scheduled jobs of the docs) in a
// pipeline with the variables ci: the first rule that holds says when.
func whenScheduled(t *testing.T, j gitlabJob, ci map[string]string) string {
	t.Helper()
	for _, r := range j.Rules {
		holds := true
		for _, cond := range strings.Split(r.If, " && ") {
			m := ruleVar.FindStringSubmatch(cond)
			if m == nil {
				t.Fatalf("rule %q: this test knows `$VAR == \"…\"` and `$VAR != \"…\"` joined by && only", r.If)
			}
			holds = holds && (j.lookup(ci, m[1]) == m[3]) == (m[2] == "==")
		}
		if holds {
			if r.When == "" {
				return "on_success"
			}
			return r.When
		}
	}
	return "never"
}

// TestSweepGitLab runs the scheduled sweep job of docs/review-apps.md, and the deploy
// component with review-app-sweep, as GitLab's Docker executor does in a pipeline
// schedule: the stale review app is deleted, the fresh one and a staging child stay.
func TestSweepGitLab(t *testing.T) {
	t.Parallel()
	img := image(t)
	const projectDir = "/builds/acme/web"
	docs := gitlabJobs(t, reviewDocBlock(t, `SCALINGO_REVIEW_APP_SWEEP: "true"`))
	comp, err := readComponent(t).interpolate(map[string]string{"app": appName, "image": img, "job-name": "sweep-review-apps",
		"review-app-sweep": "true", "review-app-max-age": "7d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		job  gitlabJob
	}{
		{"docs", docs["sweep-review-apps"]},
		{"component", comp["sweep-review-apps"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The fake's clock is moved back while the apps are made, so that they are old
			// when the job, in its container, reads them by the real clock.
			var mu sync.Mutex
			var back time.Duration
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(-back) }
			at := func(d time.Duration) { mu.Lock(); back = d; mu.Unlock() }
			srv, err := fakescalingo.Start(fakescalingo.Options{Storage: s3test.Start(t), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			at(30 * 24 * time.Hour)
			srv.AddApp(appName, fakescalingo.Scenario{Deployed: true})
			srv.AddApp(appName+"-pr1", fakescalingo.Scenario{Parent: appName, Deployed: true})
			srv.AddApp(appName+"-staging", fakescalingo.Scenario{Parent: appName, Deployed: true})
			at(24 * time.Hour)
			srv.AddApp(appName+"-pr2", fakescalingo.Scenario{Parent: appName, Deployed: true})
			at(0)

			ci := map[string]string{
				"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": projectDir, "CI_COMMIT_SHA": commitID, "CI_JOB_ID": "42",
				"CI_PIPELINE_SOURCE": "schedule", "REVIEW_APPS": "sweep",
				"SCALINGO_API_TOKEN": srv.APIToken, "SCALINGO_API_URL": srv.APIURL, "SCALINGO_AUTH_URL": srv.AuthURL,
			}
			job := tc.job
			if w := whenScheduled(t, job, ci); w == "never" {
				t.Fatalf("the job does not run in the schedule's pipeline")
			}
			if w := whenScheduled(t, job, map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event"}); tc.name == "docs" && w != "never" {
				t.Errorf("the sweep job runs in a merge request pipeline too")
			}
			ws := t.TempDir()
			if err := os.Chmod(ws, 0o777); err != nil {
				t.Fatal(err)
			}
			args := []string{"--volume", ws + ":" + projectDir, "--workdir", projectDir}
			for k, v := range job.Variables {
				args = append(args, "--env", k+"="+job.expandWith(ci, v))
			}
			for k, v := range ci {
				args = append(args, "--env", k+"="+v)
			}
			image := job.Image
			if tc.name == "docs" {
				image = imageFor(t, job.Image, img)
			}
			out, code := podmanRun(t, "set -e\n"+strings.Join(job.Script, "\n")+"\n", append(args, image, "sh", "-c", gitlabDetectShell)...)
			if code != 0 {
				t.Fatalf("the sweep job exited %d\n%s", code, out)
			}
			if del := srv.Deleted(); !slices.Equal(del, []string{appName + "-pr1"}) {
				t.Errorf("deleted %v, want the stale review app only\n%s", del, out)
			}
			report := readDotenv(t, filepath.Join(ws, "scalingo-deploy.env"))
			var verdicts []struct{ App, Status string }
			if err := json.Unmarshal([]byte(report["SCALINGO_DEPLOYMENTS"]), &verdicts); err != nil {
				t.Fatalf("SCALINGO_DEPLOYMENTS %q: %v", report["SCALINGO_DEPLOYMENTS"], err)
			}
			got := map[string]string{}
			for _, v := range verdicts {
				got[v.App] = v.Status
			}
			want := map[string]string{appName + "-pr1": "deleted", appName + "-pr2": "kept", appName + "-staging": "kept"}
			if len(got) != len(want) || got[appName+"-pr1"] != "deleted" || got[appName+"-pr2"] != "kept" || got[appName+"-staging"] != "kept" {
				t.Errorf("verdicts %v, want %v", got, want)
			}
			if report["SCALINGO_DEPLOYMENT_STATUS"] != "swept" {
				t.Errorf("dotenv report %v", report)
			}
			if strings.Contains(out, srv.APIToken) {
				t.Error("the token shows in the job's log")
			}
		})
	}
}
