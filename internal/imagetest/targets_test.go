package imagetest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

// The tests in this file deploy one archive to several apps in one step, as the docs' monorepo
// and staging/production examples do, and read the outputs from a later step or job.

// deploymentEntry is one object of the deployments output.
type deploymentEntry struct {
	App          string `json:"app"`
	Region       string `json:"region"`
	DeploymentID string `json:"deployment_id"`
	Status       string `json:"status"`
	AppURL       string `json:"app_url"`
	GitRef       string `json:"git_ref"`
}

// startFakeApps starts the fake Scalingo (uploading to a real S3 server) with the given regions
// (the first is the default) and apps, in order.
func startFakeApps(t *testing.T, regions []string, apps []string, sc map[string]fakescalingo.Scenario) *fakescalingo.Server {
	t.Helper()
	srv, err := fakescalingo.Start(fakescalingo.Options{Storage: s3test.Start(t), Region: regions[0], OtherRegions: regions[1:]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, app := range apps {
		srv.AddApp(app, sc[app])
	}
	return srv
}

// checkDeployments checks the deployments output against what the fake did: one object per app,
// in input order, each describing the one successful deployment of that app, all of one archive.
func checkDeployments(t *testing.T, srv *fakescalingo.Server, raw string, apps []string, wantRef, log string) {
	t.Helper()
	var got []deploymentEntry
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("deployments output %q is not a JSON array: %v", raw, err)
	}
	if strings.Contains(raw, "\n") {
		t.Errorf("deployments output spans lines: %q", raw)
	}
	if len(got) != len(apps) {
		t.Fatalf("deployments output has %d objects, want %d (%v): %s", len(got), len(apps), apps, raw)
	}
	var size int64
	for i, app := range apps {
		d := checkDeployment(t, srv, app, wantRef, log)
		a, _ := srv.App(app)
		want := deploymentEntry{App: app, Region: a.Region, DeploymentID: d.ID, Status: "success", AppURL: a.URL, GitRef: wantRef}
		if got[i] != want {
			t.Errorf("deployments[%d] = %+v, want %+v", i, got[i], want)
		}
		// The archive is built once: every app got the same bytes.
		if i > 0 && d.Archive.CompressedSize != size {
			t.Errorf("%s got an archive of %d bytes, %s one of %d: not the same archive", app, d.Archive.CompressedSize, apps[0], size)
		}
		size = d.Archive.CompressedSize
	}
}

// actTargetsWorkflow deploys two apps of a monorepo in one step, sets variables (one from a
// secret) and checks their health, then reads the outputs in a later step with fromJSON, as
// docs/github.md shows.
const actTargetsWorkflow = `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: deploy
        uses: ./
        with:
          api-token: ${{ secrets.SCALINGO_API_TOKEN }}
          app: |
            %s
            %s
          api-url: %s
          auth-url: %s
          env: |
            # set on both apps before their deployments
            GREETING=%s
            API_KEY=${{ secrets.API_KEY }}
          health-check: /
      - name: Read the outputs
        shell: sh
        env:
          DEPLOYMENTS: ${{ steps.deploy.outputs.deployments }}
          SECOND_APP: ${{ fromJSON(steps.deploy.outputs.deployments)[1].app }}
          SECOND_STATUS: ${{ fromJSON(steps.deploy.outputs.deployments)[1].status }}
          STATUS: ${{ steps.deploy.outputs.status }}
          HEALTH: ${{ steps.deploy.outputs.health }}
          ID: ${{ steps.deploy.outputs.deployment-id }}
        run: |
          echo "second ${SECOND_APP}=${SECOND_STATUS} status=${STATUS} health=${HEALTH} id=[${ID}]"
          echo "later step: deployments=${DEPLOYMENTS}"
`

var (
	actTargetsLine = regexp.MustCompile(`second (\S*)=(\S*) status=(\S*) health=(\S*) id=\[(\S*)\]`)
	// "later": act also prints the step's own ::set-output:: deployments=… line.
	laterDeployments = regexp.MustCompile(`later (?:step|job): deployments=(\[.*\])`)
)

// TestGitHubActTargets deploys a monorepo's two apps in one step under act (see runAct): both
// get the variables before their deployment and pass the health check, the later step reads
// each app's verdict from the deployments output, and deployment-id is not written.
func TestGitHubActTargets(t *testing.T) {
	t.Parallel()
	image(t) // skips before the fake starts when podman is missing
	apps := []string{"my-api", "my-worker"}
	// Each app answers on 127.0.0.1, which its url names: the health check reaches it.
	srv := startFakeApps(t, []string{"osc-fr1"}, apps, map[string]fakescalingo.Scenario{
		"my-api":    {Serve: &fakescalingo.AppServer{}},
		"my-worker": {Serve: &fakescalingo.AppServer{}},
	})
	const greeting, apiKey = "greeting-not-a-secret-7f3a", "api-key-secret-91c2"
	out, head := runAct(t, fmt.Sprintf(actTargetsWorkflow, apps[0], apps[1], srv.APIURL, srv.AuthURL, greeting),
		map[string]string{"SCALINGO_API_TOKEN": srv.APIToken, "API_KEY": apiKey})

	m := actTargetsLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the later step printed no outputs:\n%s", out)
	}
	if got, want := m[1:], []string{"my-worker", "success", "success", "ok", ""}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("later step: second app, its status, status, health, deployment-id = %q, want %q\n%s", got, want, out)
	}
	d := laterDeployments.FindStringSubmatch(out)
	if d == nil {
		t.Fatalf("the later step printed no deployments:\n%s", out)
	}
	checkDeployments(t, srv, d[1], apps, head, out)

	for _, app := range apps {
		deps := srv.Deployments(app)
		if len(deps) == 0 {
			continue // reported by checkDeployments
		}
		// Env is the app's variables when its deployment was created: set before, not after.
		if got := deps[0].Env; got["GREETING"] != greeting || got["API_KEY"] != apiKey {
			t.Errorf("%s: variables when the deployment was created: GREETING set %t, API_KEY set %t; want both",
				app, got["GREETING"] == greeting, got["API_KEY"] == apiKey)
		}
		if srv.AppRequests(app) == 0 {
			t.Errorf("%s: the health check never reached the app", app)
		}
		// With several targets every line says which app it is about.
		if !strings.Contains(out, "["+app+"]") {
			t.Errorf("no output line is prefixed [%s]:\n%s", app, out)
		}
	}
	// A value set through env is never printed, secret or not.
	for _, v := range []string{greeting, apiKey} {
		if strings.Contains(out, v) {
			t.Errorf("a variable's value appears in the output:\n%s", out)
		}
	}
}

// TestGitLabTargets deploys staging and production, in two regions, in one GitLab job (through
// the CI/CD component, as docs/gitlab.md shows), then runs a later job with the dotenv report's
// variables, as GitLab passes them: it reads each app's status by name and the JSON of every
// deployment.
func TestGitLabTargets(t *testing.T) {
	t.Parallel()
	img := image(t)
	// Region names that are not built in: the tool finds their API through the auth
	// service's region list, as it would for a new Scalingo region.
	regions := []string{"fake-fr1", "fake-secnum-fr1"}
	apps := []string{"my-app-staging", "my-app"}
	srv := startFakeApps(t, regions, apps, map[string]fakescalingo.Scenario{
		"my-app": {Region: regions[1]},
	})
	ws := newWorkspace(t)
	const projectDir = "/builds/acme/web"

	jobs, err := readComponent(t).interpolate(map[string]string{
		"app": apps[0] + ", " + apps[1] + "@" + regions[1], "region": regions[0],
		"image": img, "auth-url": srv.AuthURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	job := jobs["scalingo-deploy"]
	gitlabEnv := []string{"--volume", ws + ":" + projectDir, "--workdir", projectDir,
		"--env", "CI=true", "--env", "GITLAB_CI=true",
		"--env", "CI_PROJECT_DIR=" + projectDir, "--env", "CI_COMMIT_SHA=" + commitID,
		"--env", "CI_COMMIT_REF_NAME=main"}
	args := slices.Concat(gitlabEnv, []string{"--env", "CI_JOB_ID=42", "--env", "SCALINGO_API_TOKEN=" + srv.APIToken})
	for name, value := range job.Variables {
		args = append(args, "--env", name+"="+value)
	}
	script := "set -e\n" + strings.Join(job.Script, "\n") + "\n"
	out, code := podmanRun(t, script, append(args, job.Image, "sh", "-c", gitlabDetectShell)...)
	if code != 0 {
		t.Fatalf("job exited %d\n%s", code, out)
	}
	report := readDotenv(t, filepath.Join(ws, job.Artifacts.Reports.Dotenv))
	checkDeployments(t, srv, report["SCALINGO_DEPLOYMENTS"], apps, commitID, out)
	for _, name := range []string{"SCALINGO_DEPLOYMENT_ID", "SCALINGO_APP_URL"} {
		if v, ok := report[name]; ok {
			t.Errorf("with several targets the report must not hold %s (it has %q)", name, v)
		}
	}
	for _, app := range apps {
		a, _ := srv.App(app)
		deps := srv.Deployments(app)
		suffix := strings.ToUpper(strings.ReplaceAll(app, "-", "_"))
		want := map[string]string{"SCALINGO_DEPLOYMENT_STATUS_" + suffix: "success", "SCALINGO_APP_URL_" + suffix: a.URL}
		if len(deps) > 0 {
			want["SCALINGO_DEPLOYMENT_ID_"+suffix] = deps[0].ID
		}
		for name, w := range want {
			if got := report[name]; got != w {
				t.Errorf("report %s = %q, want %q", name, got, w)
			}
		}
	}

	// The later job: GitLab gives it the report's variables as they are (no quotes removed).
	later := "set -e\n" +
		`test "$SCALINGO_DEPLOYMENT_STATUS_MY_APP_STAGING" = success` + "\n" +
		`test "$SCALINGO_DEPLOYMENT_STATUS_MY_APP" = success` + "\n" +
		`echo "production url=$SCALINGO_APP_URL_MY_APP"` + "\n" +
		`echo "later job: deployments=$SCALINGO_DEPLOYMENTS"` + "\n"
	args = slices.Concat(gitlabEnv, []string{"--env", "CI_JOB_ID=43"})
	for name, value := range report {
		args = append(args, "--env", name+"="+value)
	}
	out2, code := podmanRun(t, later, append(args, img, "sh", "-c", gitlabDetectShell)...)
	if code != 0 {
		t.Fatalf("the later job exited %d\n%s\nreport: %v", code, out2, report)
	}
	if prod, _ := srv.App("my-app"); !strings.Contains(out2, "production url="+prod.URL+"\n") {
		t.Errorf("the later job did not read production's URL (%s):\n%s", prod.URL, out2)
	}
	d := laterDeployments.FindStringSubmatch(out2)
	if d == nil {
		t.Fatalf("the later job printed no deployments:\n%s", out2)
	}
	checkDeployments(t, srv, d[1], apps, commitID, out2)
	if strings.Contains(out+out2, srv.APIToken) {
		t.Errorf("the API token appears in the output")
	}
}
