package imagetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

const (
	appName  = "my-app"
	commitID = "0123456789abcdef0123456789abcdef01234567"
)

// startFake starts the fake Scalingo, uploading to a real S3 server, with one app.
func startFake(t testing.TB) *fakescalingo.Server {
	t.Helper()
	st := s3test.Start(t)
	srv, err := fakescalingo.Start(fakescalingo.Options{Storage: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddApp(appName, fakescalingo.Scenario{})
	return srv
}

// newWorkspace writes a small checkout: what must ship, and what must not.
func newWorkspace(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"index.php":          "<?php echo 'hello';\n",
		"composer.json":      "{}\n",
		"public/app.js":      "console.log(1)\n",
		".gitignore":         "/build/\n",
		"build/artifact.bin": "not shipped\n",
		".git/HEAD":          "ref: refs/heads/main\n",
		".git/config":        "[core]\n",
	} {
		writeFile(t, dir, name, content)
	}
	// The container runs as root and the checkout may belong to another user, as on GitHub.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// podmanRun runs a container and returns its combined output and exit code.
func podmanRun(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"run", "--rm", "-i", "--pull=never", "--network=host"}, args...)
	cmd := exec.CommandContext(ctx, "podman", full...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("podman %s: %v\n%s", strings.Join(full, " "), err, out)
		return "", -1
	}
}

// readDotenv parses an output file, checking GitLab's dotenv rules on the way.
func readDotenv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("output file: %v", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, "=")
		// GitLab keeps quotes as they are (Ci::ParseDotenvArtifactService) but other readers
		// strip or choke on them: only the JSON of SCALINGO_DEPLOYMENTS may hold any.
		quotesOK := name == "SCALINGO_DEPLOYMENTS" && json.Valid([]byte(value))
		if !ok || name == "" || (strings.ContainsAny(value, `"'`) && !quotesOK) {
			t.Errorf("output file line %q is not NAME=value without quotes", line)
			continue
		}
		env[name] = value
	}
	return env
}

// outputs are the five values every platform gets, by their dotenv names.
var outputNames = []string{
	"SCALINGO_DEPLOYMENT_ID", "SCALINGO_DEPLOYMENT_STATUS", "SCALINGO_APP_URL",
	"SCALINGO_GIT_REF", "SCALINGO_ARCHIVE_SIZE",
}

// checkDeployed checks that the fake got exactly one successful deployment of the workspace and
// that the outputs describe it.
func checkDeployed(t *testing.T, srv *fakescalingo.Server, outputs map[string]string, wantRef, log string) {
	t.Helper()
	d := checkDeployment(t, srv, appName, wantRef, log)
	want := map[string]string{
		"SCALINGO_DEPLOYMENT_ID":     d.ID,
		"SCALINGO_DEPLOYMENT_STATUS": "success",
		"SCALINGO_GIT_REF":           wantRef,
		"SCALINGO_ARCHIVE_SIZE":      strconv.FormatInt(d.Archive.CompressedSize, 10),
	}
	for _, name := range outputNames {
		got, ok := outputs[name]
		if !ok {
			t.Errorf("output %s missing (have %v)", name, outputs)
			continue
		}
		if w, ok := want[name]; ok && got != w {
			t.Errorf("output %s = %q, want %q", name, got, w)
		}
	}
	if u := outputs["SCALINGO_APP_URL"]; !strings.HasPrefix(u, "https://") || !strings.Contains(u, appName) {
		t.Errorf("output SCALINGO_APP_URL = %q, want the app's https URL", u)
	}
	if strings.Contains(log, srv.APIToken) {
		t.Errorf("the API token appears in the output:\n%s", log)
	}
}

// gitlabDetectShell is what GitLab Runner's Docker executor passes after `sh -c` (shells/bash.go):
// it finds a shell, which then reads the job script on stdin.
const gitlabDetectShell = `if [ -x /usr/local/bin/bash ]; then
	exec /usr/local/bin/bash 
elif [ -x /usr/bin/bash ]; then
	exec /usr/bin/bash 
elif [ -x /bin/bash ]; then
	exec /bin/bash 
elif [ -x /usr/local/bin/sh ]; then
	exec /usr/local/bin/sh 
elif [ -x /usr/bin/sh ]; then
	exec /usr/bin/sh 
elif [ -x /bin/sh ]; then
	exec /bin/sh 
elif [ -x /busybox/sh ]; then
	exec /busybox/sh 
else
	echo shell not found
	exit 1
fi
`

// TestGitLab runs the image as GitLab's Docker executor does: the image's entrypoint with
// `sh -c <detect shell>`, the job script on stdin, CI_* variables, the project dir as working
// dir, the token from a masked CI/CD variable; then reads the dotenv report.
func TestGitLab(t *testing.T) {
	t.Parallel()
	img := image(t)
	srv := startFake(t)
	ws := newWorkspace(t)
	const projectDir = "/builds/acme/web"

	script := "set -e\nscalingo-deploy --app " + appName + "\n"
	out, code := podmanRun(t, script,
		"--volume", ws+":"+projectDir, "--workdir", projectDir,
		"--env", "CI=true", "--env", "GITLAB_CI=true",
		"--env", "CI_PROJECT_DIR="+projectDir, "--env", "CI_COMMIT_SHA="+commitID,
		"--env", "CI_COMMIT_REF_NAME=main", "--env", "CI_JOB_ID=42",
		"--env", "SCALINGO_API_TOKEN="+srv.APIToken,
		"--env", "SCALINGO_API_URL="+srv.APIURL, "--env", "SCALINGO_AUTH_URL="+srv.AuthURL,
		img, "sh", "-c", gitlabDetectShell)
	if code != 0 {
		t.Fatalf("job exited %d\n%s", code, out)
	}
	checkDeployed(t, srv, readDotenv(t, filepath.Join(ws, "scalingo-deploy.env")), commitID, out)
}

// TestPlugin runs the image as a Drone or Woodpecker plugin step: no arguments, settings as
// PLUGIN_* variables, the workspace as working dir. Woodpecker turns `api-token` into
// PLUGIN_API_TOKEN; Drone keeps what the user wrote (PLUGIN_API_TOKEN or PLUGIN_API-TOKEN), and
// the hyphenated names must survive the image's shell entrypoint.
func TestPlugin(t *testing.T) {
	t.Parallel()
	img := image(t)
	tests := []struct {
		name      string
		base      string // mounted workspace base
		workspace string // the working dir, under base
		env       []string
		settings  map[string]string // setting → PLUGIN_ name, given the fake
	}{
		{
			name:      "Woodpecker",
			base:      "/woodpecker",
			workspace: "/woodpecker/src/git.example.com/acme/web",
			env: []string{
				"CI=woodpecker", "CI_SYSTEM_NAME=woodpecker",
				"CI_WORKSPACE=/woodpecker/src/git.example.com/acme/web",
				"CI_COMMIT_SHA=" + commitID, "CI_COMMIT_BRANCH=main",
				// Woodpecker also sets Drone's names; detection must still say Woodpecker.
				"DRONE_COMMIT_SHA=" + commitID, "DRONE_BRANCH=main",
			},
			settings: map[string]string{"api-token": "PLUGIN_API_TOKEN", "app": "PLUGIN_APP", "api-url": "PLUGIN_API_URL", "auth-url": "PLUGIN_AUTH_URL"},
		},
		{
			name:      "Drone snake_case settings",
			base:      "/drone",
			workspace: "/drone/src",
			env: []string{
				"CI=true", "DRONE=true", "DRONE_WORKSPACE=/drone/src",
				"DRONE_COMMIT_SHA=" + commitID, "DRONE_BRANCH=main",
				"CI_COMMIT_SHA=" + commitID, "CI_WORKSPACE=/drone/src",
			},
			settings: map[string]string{"api-token": "PLUGIN_API_TOKEN", "app": "PLUGIN_APP", "api-url": "PLUGIN_API_URL", "auth-url": "PLUGIN_AUTH_URL"},
		},
		{
			name:      "Drone kebab-case settings",
			base:      "/drone",
			workspace: "/drone/src",
			env: []string{
				"CI=true", "DRONE=true", "DRONE_WORKSPACE=/drone/src",
				"DRONE_COMMIT_SHA=" + commitID, "DRONE_BRANCH=main",
				"CI_COMMIT_SHA=" + commitID, "CI_WORKSPACE=/drone/src",
			},
			settings: map[string]string{"api-token": "PLUGIN_API-TOKEN", "app": "PLUGIN_APP", "api-url": "PLUGIN_API-URL", "auth-url": "PLUGIN_AUTH-URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startFake(t)
			base := t.TempDir()
			rel := strings.TrimPrefix(tt.workspace, tt.base+"/")
			ws := newWorkspace(t)
			if err := os.MkdirAll(filepath.Dir(filepath.Join(base, rel)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(ws, filepath.Join(base, rel)); err != nil {
				t.Fatal(err)
			}
			ws = filepath.Join(base, rel)

			values := map[string]string{"api-token": srv.APIToken, "app": appName, "api-url": srv.APIURL, "auth-url": srv.AuthURL}
			args := []string{"--volume", base + ":" + tt.base, "--workdir", tt.workspace}
			for _, e := range tt.env {
				args = append(args, "--env", e)
			}
			for setting, name := range tt.settings {
				args = append(args, "--env", name+"="+values[setting])
			}
			out, code := podmanRun(t, "", append(args, img)...)
			if code != 0 {
				t.Fatalf("plugin exited %d\n%s", code, out)
			}
			checkDeployed(t, srv, readDotenv(t, filepath.Join(ws, "scalingo-deploy.env")), commitID, out)
		})
	}
}

// checkDeployment checks that the fake got exactly one successful deployment of the workspace to
// app, with wantRef, and returns it.
func checkDeployment(t *testing.T, srv *fakescalingo.Server, app, wantRef, log string) fakescalingo.Deployment {
	t.Helper()
	deps := srv.Deployments(app)
	if len(deps) != 1 {
		t.Fatalf("the fake has %d deployments of %s, want 1\n%s", len(deps), app, log)
	}
	d := deps[0]
	if d.Status != "success" {
		t.Errorf("%s: deployment status = %q, want success\n%s", app, d.Status, log)
	}
	if d.GitRef == nil || *d.GitRef != wantRef {
		t.Errorf("deployment git_ref = %v, want %q", d.GitRef, wantRef)
	}
	if d.Archive == nil {
		t.Fatalf("the fake builder fetched no archive")
	}
	if d.Archive.Err != "" {
		t.Errorf("archive refused: %s", d.Archive.Err)
	}
	names := strings.Join(d.Archive.Names(), " ")
	for _, want := range []string{"index.php", "public/app.js"} {
		if !slices.ContainsFunc(d.Archive.Names(), func(n string) bool { return strings.HasSuffix(n, "/"+want) }) {
			t.Errorf("archive lacks %s: %s", want, names)
		}
	}
	for _, not := range []string{"/.git/", "/build/artifact.bin"} {
		if strings.Contains(names+" ", not) {
			t.Errorf("archive has %s: %s", not, names)
		}
	}
	return d
}
