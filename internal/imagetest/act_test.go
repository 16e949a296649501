package imagetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// actWorkflow deploys with this repository's action (`uses: ./`) and reads its outputs in a
// later step, as docs/github.md shows.
const actWorkflow = `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: deploy
        uses: ./
        with:
          api-token: ${{ secrets.SCALINGO_API_TOKEN }}
          app: %s
          api-url: %s
          auth-url: %s
      - name: Read the outputs
        shell: sh
        env:
          ID: ${{ steps.deploy.outputs.deployment-id }}
          STATUS: ${{ steps.deploy.outputs.status }}
          URL: ${{ steps.deploy.outputs.app-url }}
          REF: ${{ steps.deploy.outputs.git-ref }}
          SIZE: ${{ steps.deploy.outputs.archive-size }}
        run: echo "outputs id=${ID} status=${STATUS} url=${URL} ref=${REF} size=${SIZE}"
`

var actOutputs = regexp.MustCompile(`outputs id=(\S*) status=(\S*) url=(\S*) ref=(\S*) size=(\S*)`)

// TestGitHubAct deploys one app with the action under act (see runAct) and reads the outputs in a
// later step.
func TestGitHubAct(t *testing.T) {
	t.Parallel()
	image(t) // skips before the fake starts when podman is missing
	srv := startFake(t)
	out, head := runAct(t, fmt.Sprintf(actWorkflow, appName, srv.APIURL, srv.AuthURL),
		map[string]string{"SCALINGO_API_TOKEN": srv.APIToken})
	m := actOutputs.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the later step printed no outputs:\n%s", out)
	}
	outputs := map[string]string{
		"SCALINGO_DEPLOYMENT_ID":     m[1],
		"SCALINGO_DEPLOYMENT_STATUS": m[2],
		"SCALINGO_APP_URL":           m[3],
		"SCALINGO_GIT_REF":           m[4],
		"SCALINGO_ARCHIVE_SIZE":      m[5],
	}
	checkDeployed(t, srv, outputs, head, out)
}

// runAct runs workflow under act, a real GitHub Actions runner, through podman's Docker API, in
// a checkout of the test workspace, and returns act's output and the commit it ran on. The
// action's metadata is this repository's action.yml as the release workflow rewrites it
// (`image: docker://…`, by .github/pin-action-image.sh), pointing at the image built once for
// these tests: act then runs it with INPUT_* variables (hyphens kept), GITHUB_OUTPUT and the
// workspace, as GitHub does.
func runAct(t *testing.T, workflow string, secrets map[string]string) (out, head string) {
	t.Helper()
	ws := actWorkspace(t, image(t))
	writeFile(t, ws, ".github/workflows/deploy.yml", workflow)
	head = actCommit(t, ws)
	args := []string{"--workflows", ".github/workflows/deploy.yml"}
	for name, value := range secrets {
		args = append(args, "--secret", name+"="+value)
	}
	out = act(t, ws, "push", args...)
	if !strings.Contains(out, `entrypoint=["/usr/local/bin/scalingo-deploy"]`) {
		t.Errorf("act did not start the binary as action.yml's runs.entrypoint says:\n%s", out)
	}
	if strings.Contains(out, "::add-mask::") {
		t.Errorf("act printed a raw ::add-mask:: command:\n%s", out)
	}
	return out, head
}

// actWorkspace is a workspace for act holding this repository's action.yml as the release
// workflow rewrites it (`image: docker://…`, by .github/pin-action-image.sh), pointing at img;
// actCommit makes it a repository.
func actWorkspace(t *testing.T, img string) string {
	t.Helper()
	root := repoRoot(t)
	ws := newWorkspace(t)
	if err := os.RemoveAll(filepath.Join(ws, ".git")); err != nil {
		t.Fatal(err)
	}
	action, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, ws, "action.yml", string(action))
	pin := exec.Command("sh", filepath.Join(root, ".github", "pin-action-image.sh"), "docker://"+img, "action.yml")
	pin.Dir = ws
	if out, err := pin.CombinedOutput(); err != nil {
		t.Fatalf("pin-action-image.sh: %v\n%s", err, out)
	}
	return ws
}

// gitIn runs git in dir as a CI user on a main branch, and returns what it printed.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// actCommit commits ws as one commit of acme/web (act wants a git repository with a remote
// for actions/checkout, which it emulates by copying; github.repository comes from the
// remote), and returns the commit.
func actCommit(t *testing.T, ws string) string {
	t.Helper()
	gitIn(t, ws, "init", "-q")
	gitIn(t, ws, "add", "-A")
	gitIn(t, ws, "commit", "-q", "-m", "app")
	gitIn(t, ws, "remote", "add", "origin", "https://github.com/acme/web.git")
	return gitIn(t, ws, "rev-parse", "HEAD")
}

// act runs act on event in ws (args: the workflow, the event's payload, secrets…) through
// podman's Docker API, with the locally made job image, and returns its output; a failed
// run fails the test.
func act(t *testing.T, ws, event string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	writeFile(t, home, ".actrc", "") // no first-run questions
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args = append([]string{event,
		"--platform", "ubuntu-latest=" + baseImage, // a job container with a shell, made locally
		"--pull=false", "--no-cache-server"}, args...)
	cmd := exec.CommandContext(ctx, tool(t, "act"), args...)
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"DOCKER_HOST=unix://"+dockerSocket(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("act: %v\n%s", err, out)
	}
	return string(out)
}
