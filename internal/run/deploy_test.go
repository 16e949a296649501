package run

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// wantArchive is what the default workspace's archive must hold: no .git at any depth,
// nothing .gitignore'd (root or nested), everything else.
var wantArchive = []string{
	".gitignore", "Procfile", "bin", "bin/server", "src", "src/main.go", "sub", "sub/lib.txt",
	"web", "web/static", "web/static/.gitignore", "web/static/style.css",
}

func TestRun_DeploysFromEachPlatform(t *testing.T) {
	t.Parallel()
	for _, platform := range []string{"github", "gitlab", "woodpecker", "drone", "shell"} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := w.env(platform)
			ghOutput := filepath.Join(t.TempDir(), "github_output")
			summary := filepath.Join(t.TempDir(), "step_summary")
			if platform == "github" {
				os.WriteFile(ghOutput, nil, 0o644)
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = ghOutput, summary
			}

			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}

			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 {
				t.Fatalf("%d deployments, want exactly 1", len(deps))
			}
			dep := deps[0]
			if dep.Status != "success" {
				t.Errorf("deployment status %q, want success", dep.Status)
			}
			if dep.Archive == nil {
				t.Fatal("the builder fetched no archive")
			}
			var names []string
			for _, n := range dep.Archive.Names() {
				_, rest, _ := strings.Cut(n, "/")
				if rest != "" {
					names = append(names, strings.TrimSuffix(rest, "/"))
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, wantArchive) {
				t.Errorf("archive holds\n  %q\nwant\n  %q", names, wantArchive)
			}

			if dep.GitRef == nil {
				t.Fatal("the deployment has no git_ref")
			}
			want := map[string]string{
				"SCALINGO_DEPLOYMENT_ID":     dep.ID,
				"SCALINGO_DEPLOYMENT_STATUS": "success",
				"SCALINGO_APP_URL":           "https://my-app.osc-fr1.scalingo.io",
				"SCALINGO_GIT_REF":           *dep.GitRef,
				"SCALINGO_DASHBOARD_URL":     "https://dashboard.scalingo.com/apps/osc-fr1/my-app",
			}
			switch platform {
			case "github":
				got := readGitHubOutputs(t, ghOutput)
				for k, v := range map[string]string{"deployment-id": dep.ID, "status": "success", "app-url": want["SCALINGO_APP_URL"], "git-ref": e["GITHUB_SHA"],
					"dashboard-url": want["SCALINGO_DASHBOARD_URL"]} {
					if got[k] != v {
						t.Errorf("output %s = %q, want %q", k, got[k], v)
					}
				}
				if got["archive-size"] == "" || got["archive-size"] == "0" {
					t.Errorf("archive-size output = %q", got["archive-size"])
				}
				if first, _, _ := strings.Cut(res.stdout, "\n"); first != "::add-mask::"+w.fake.APIToken {
					t.Errorf("first line %q, want the token's add-mask", first)
				}
				md, err := os.ReadFile(summary)
				if err != nil || !strings.Contains(string(md), "| Deployment | "+dep.ID+" |") {
					t.Errorf("step summary %q (%v) lacks the deployment row", md, err)
				}
			case "shell":
				if _, err := os.Stat(filepath.Join(w.ws, "scalingo-deploy.env")); !os.IsNotExist(err) {
					t.Errorf("a shell run wrote an output file (%v)", err)
				}
			default:
				got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
			}
			if platform != "github" {
				if strings.Contains(res.stdout+res.stderr, "::") {
					t.Errorf("workflow commands outside GitHub:\n%s", res.stdout)
				}
			}
			assertNoSecrets(t, w, res, platform == "github", ghOutput, summary)
			if !strings.Contains(res.stdout, "Fetching source code") {
				t.Errorf("the build log was not printed:\n%s", res.stdout)
			}
		})
	}
}

// assertNoSecrets checks that neither the token, nor a JWT, nor a signed query string
// shows in the output (beyond GitHub's add-mask commands, which are how they get masked).
func assertNoSecrets(t *testing.T, w *world, res result, github bool, files ...string) {
	t.Helper()
	out := res.stdout + res.stderr
	files = append(files, filepath.Join(w.ws, "scalingo-deploy.env"))
	for _, f := range files {
		data, _ := os.ReadFile(f) // absent is fine
		out += "\n" + string(data)
	}
	var kept []string
	for _, line := range strings.Split(out, "\n") {
		if github && strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		kept = append(kept, line)
	}
	text := strings.Join(kept, "\n")
	if strings.Contains(text, w.fake.APIToken) {
		t.Errorf("the API token shows in the output:\n%s", text)
	}
	for _, marker := range []string{"X-Amz-Signature", "X-Amz-Credential", "eyJ"} {
		if strings.Contains(text, marker) {
			t.Errorf("a secret (%s) shows in the output:\n%s", marker, text)
		}
	}
}

var sixSteps = []string{
	"-----> Fetching source code", "-----> Node.js app detected", "-----> Installing dependencies",
	"-----> Building", "-----> Build complete, shipping your container...", "-----> Waiting for your application to boot...",
}

// logLines returns the lines of the scenario's log that the output shows, in order of
// appearance, counting repeats: a line printed twice appears twice.
func logLines(out string, want []string) []string {
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if slices.Contains(want, line) {
			got = append(got, line)
		}
	}
	return got
}

func TestRun_Verdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario fakescalingo.Scenario
		extra    []string
		code     int
		status   string
		stderr   []string // each must show
	}{
		{name: "success", scenario: fakescalingo.Scenario{Log: sixSteps}, code: 0, status: "success"},
		{name: "build-error", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "build-error"}, code: 1, status: "build-error",
			stderr: []string{"my-app failed to build (build-error)"}},
		{name: "crashed-error", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "crashed-error"}, code: 1, status: "crashed-error",
			stderr: []string{"my-app built but did not start (crashed-error)"}},
		{name: "timeout-error", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "timeout-error"}, code: 1, status: "timeout-error",
			stderr: []string{"did not listen on $PORT"}},
		{name: "hook-error", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "hook-error"}, code: 1, status: "hook-error",
			stderr: []string{"postdeploy hook failed"}},
		{name: "aborted", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "aborted"}, code: 1, status: "aborted",
			stderr: []string{"aborted"}},
		{name: "queued, then success", scenario: fakescalingo.Scenario{Log: sixSteps, QueuedPolls: 15}, code: 0, status: "success"},
		{name: "never finishes: timeout", scenario: fakescalingo.Scenario{Log: sixSteps, NeverFinish: true}, extra: []string{"SCALINGO_TIMEOUT", "2m"},
			code: 3, status: "building", stderr: []string{"still building at Scalingo after 2m0s: this run stopped waiting", "deployment-follow"}},
		{name: "wait=false", scenario: fakescalingo.Scenario{Log: sixSteps}, extra: []string{"SCALINGO_WAIT", "false"}, code: 0, status: "building"},
		{name: "stream dropped", scenario: fakescalingo.Scenario{Log: sixSteps, DropStreamAfter: 3}, code: 0, status: "success"},
		{name: "stream never sends the final status", scenario: fakescalingo.Scenario{Log: sixSteps, NoFinalStreamStatus: true}, code: 0, status: "success"},
		{name: "stream carries another deployment", scenario: fakescalingo.Scenario{Log: sixSteps, OtherDeploymentEvents: true, FinalStatus: "build-error"}, code: 1, status: "build-error"},
		{name: "no stream: log from the API", scenario: fakescalingo.Scenario{Log: sixSteps, NoStream: true}, code: 0, status: "success"},
		{name: "unknown status", scenario: fakescalingo.Scenario{Log: sixSteps, FinalStatus: "mystery"}, extra: []string{"SCALINGO_TIMEOUT", "1m"},
			code: 3, status: "mystery", stderr: []string{"still mystery"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", tt.scenario)
			res := w.run(t, context.Background(), w.env("gitlab", tt.extra...))
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 {
				t.Fatalf("%d deployments, want 1", len(deps))
			}
			out := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
			if out["SCALINGO_DEPLOYMENT_STATUS"] != tt.status || out["SCALINGO_DEPLOYMENT_ID"] != deps[0].ID {
				t.Errorf("outputs %v, want status %q and id %s", out, tt.status, deps[0].ID)
			}
			if tt.status == "building" {
				return // the log is not complete
			}
			// Every line of the build log once, in order; on failure, repeated once after the verdict.
			got := logLines(res.stdout, sixSteps)
			want := sixSteps
			if tt.code == 1 {
				want = append(slices.Clone(sixSteps), sixSteps...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("build log lines printed:\n  %q\nwant\n  %q\nstdout:\n%s", got, want, res.stdout)
			}
		})
	}
}

func TestRun_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(w *world, e env) []string // returns args
		code   int
		stderr []string
		// requests: whether any request may reach the fake.
		requests bool
	}{
		{name: "missing token and app", code: 2, stderr: []string{"api-token: missing", "app: missing", "SCALINGO_API_TOKEN", "--app"},
			setup: func(w *world, e env) []string { delete(e, "SCALINGO_API_TOKEN"); delete(e, "SCALINGO_APP"); return nil }},
		{name: "bad timeout", code: 2, stderr: []string{`timeout: "soon" is not a duration`},
			setup: func(w *world, e env) []string { return []string{"--timeout", "soon"} }},
		{name: "path does not exist", code: 2, stderr: []string{"nope"},
			setup: func(w *world, e env) []string { return []string{"--path", "nope"} }},
		{name: "path is not an archive", code: 2, stderr: []string{"notes.txt"},
			setup: func(w *world, e env) []string {
				os.WriteFile(filepath.Join(w.ws, "notes.txt"), []byte("hello"), 0o644)
				return []string{"--path", "notes.txt"}
			}},
		{name: "over the size limit", code: 1, stderr: []string{"src/main.go", ".scalingoignore"},
			setup: func(w *world, e env) []string { return []string{"--max-size", "100"} }},
		{name: "token refused", code: 1, requests: true, stderr: []string{"HTTP 401", "the API token was refused"},
			setup: func(w *world, e env) []string { e["SCALINGO_API_TOKEN"] = "tk-us-wrong-token"; return nil }},
		{name: "app not found", code: 1, requests: true, stderr: []string{"HTTP 404", `app "other-app" was not found`, "another region", "request id"},
			setup: func(w *world, e env) []string { return []string{"--app", "other-app"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := w.env("gitlab")
			tmp := t.TempDir()
			e["TMPDIR"] = tmp
			args := tt.setup(w, e)
			res := w.run(t, context.Background(), e, args...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if n := len(w.fake.Requests()); !tt.requests && n > 0 {
				t.Errorf("%d requests reached the API before the refusal: %+v", n, w.fake.Requests())
			}
			if n := len(w.fake.Deployments("my-app")); n != 0 {
				t.Errorf("%d deployments created", n)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			assertNoSecrets(t, w, res, false)
			if strings.Contains(res.stderr, "tk-us-wrong-token") {
				t.Errorf("the refused token shows: %s", res.stderr)
			}
		})
	}
}

// TestRun_GitHubFailure checks what a failed deployment shows on GitHub: an error
// annotation, the build log only inside stop-commands blocks (an app's log cannot run
// workflow commands), every group closed, and a step summary with the log tail.
func TestRun_GitHubFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	log := append(slices.Clone(sixSteps), "::add-mask::evil", "::set-env name=X::y", "ERROR: npm ci failed")
	w.fake.AddApp("my-app", fakescalingo.Scenario{Log: log, FinalStatus: "build-error"})
	e := w.env("github")
	dir := t.TempDir()
	e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "out"), filepath.Join(dir, "summary.md")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}

	var stop string
	groups, errorsSeen := 0, 0
	for _, line := range strings.Split(res.stdout, "\n") {
		if stop != "" {
			if line == "::"+stop+"::" {
				stop = ""
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "::stop-commands::"):
			stop = strings.TrimPrefix(line, "::stop-commands::")
		case line == "::endgroup::":
			groups--
		case strings.HasPrefix(line, "::group::"):
			groups++
		case strings.HasPrefix(line, "::error "):
			errorsSeen++
			if !strings.Contains(line, "build-error") {
				t.Errorf("error annotation %q does not name the status", line)
			}
		case strings.HasPrefix(line, "::add-mask::"):
		case strings.HasPrefix(line, "::"):
			t.Errorf("a workflow command outside stop-commands: %q", line)
		}
	}
	if stop != "" || groups != 0 || errorsSeen != 1 {
		t.Errorf("stop-commands open %q, groups open %d, error annotations %d", stop, groups, errorsSeen)
	}
	if strings.Contains(res.stdout, "::add-mask::evil") && !strings.Contains(res.stdout, "::stop-commands::") {
		t.Error("the app's log ran a command")
	}

	md, err := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Status | build-error |", "<details>", "ERROR: npm ci failed", "| App URL | <https://my-app.osc-fr1.scalingo.io> |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	if out["status"] != "build-error" || out["deployment-id"] == "" {
		t.Errorf("outputs %v", out)
	}
	assertNoSecrets(t, w, res, true, e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"])
}

// TestRun_RegionLookup: a region that is not built in is found through the regions API.
func TestRun_RegionLookup(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{Region: "osc-local1"})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	e := w.env("gitlab", "SCALINGO_REGION", "osc-local1")
	delete(e, "SCALINGO_API_URL")
	res := w.run(t, context.Background(), e)
	if res.code != 0 || len(w.fake.Deployments("my-app")) != 1 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	e["SCALINGO_REGION"] = "osc-elsewhere1"
	res = w.run(t, context.Background(), e)
	if res.code != 1 || !strings.Contains(res.stderr, `region "osc-elsewhere1" is not one of this token's regions (osc-local1)`) {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

// TestRun_DryRun: no token, no request, and the listing shows exactly what would ship.
func TestRun_DryRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	e := env{"CI_PROJECT_DIR": w.ws, "GITLAB_CI": "true", "TMPDIR": t.TempDir()}
	res := w.run(t, context.Background(), e, "--dry-run", "--list")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	_, listing, _ := strings.Cut(res.stdout, "Every entry (folders end in /):\n")
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		got = append(got, strings.TrimSuffix(strings.TrimSpace(line), "/"))
	}
	slices.Sort(got)
	if !slices.Equal(got, wantArchive) {
		t.Errorf("listing %q, want %q\n%s", got, wantArchive, res.stdout)
	}
	if len(w.fake.Requests()) != 0 {
		t.Errorf("a dry run sent %d requests", len(w.fake.Requests()))
	}
	if _, err := os.Stat(filepath.Join(w.ws, "scalingo-deploy.env")); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote outputs (%v)", err)
	}
	if left, _ := os.ReadDir(e["TMPDIR"]); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
