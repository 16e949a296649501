package imagetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestForkLabelAct runs the fork workflow of docs/review-apps.md under act, with the
// pull_request_target payloads of a fork: the labeled event deploys the labelled commit
// to the fork's review app, a new commit while labelled deploys nothing, and the closed
// event deletes the review app.
func TestForkLabelAct(t *testing.T) {
	t.Parallel()
	img := image(t)
	actBin := tool(t, "act")
	sock := dockerSocket(t)
	srv := startFake(t)
	root := repoRoot(t)
	const child = appName + "-pr58" // the number in testdata/events/github-pull_request_target-fork-*.json

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
	wf := reviewDocBlock(t, "name: review-app-forks")
	wf = replaceN(t, wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: scalingo-deploy/scalingo-deploy@v1", 2)
	wf = strings.Replace(wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: ./", 1)
	wf = strings.Replace(wf, "uses: scalingo-deploy/scalingo-deploy@v1", "uses: docker://"+img, 1)
	wf = replaceN(t, wf, "          app: my-app\n",
		fmt.Sprintf("          app: %s\n          api-url: %s\n          auth-url: %s\n", appName, srv.APIURL, srv.AuthURL), 2)
	// act uses the local tree for actions/checkout only without another ref (it would
	// clone actions/checkout from GitHub otherwise): the tree stands for the head commit.
	wf = replaceN(t, wf, "          ref: ${{ github.event.pull_request.head.sha }}\n", "", 1)
	wf = replaceN(t, wf, "\npermissions:\n", "\ndefaults:\n  run:\n    shell: sh\n\npermissions:\n", 1)
	writeFile(t, ws, ".github/workflows/review-app-forks.yml", wf)

	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = ws
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "app")
	// github.repository is acme/web, the base of the events; the head is mallory/web.
	git("remote", "add", "origin", "https://github.com/acme/web.git")

	home := t.TempDir()
	writeFile(t, home, ".actrc", "")
	act := func(t *testing.T, eventFile string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, actBin, "pull_request_target",
			"--eventpath", filepath.Join(root, "testdata", "events", eventFile),
			"--workflows", ".github/workflows/review-app-forks.yml",
			"--platform", "ubuntu-latest="+baseImage,
			"--pull=false", "--no-cache-server",
			"--secret", "SCALINGO_API_TOKEN="+srv.APIToken)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
			"DOCKER_HOST=unix://"+sock)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("act: %v\n%s", err, out)
		}
		return string(out)
	}

	// A new commit while labelled: the workflow's event types leave it out (and the tool
	// would refuse it).
	out := act(t, "github-pull_request_target-fork-synchronize-labeled.json")
	if _, ok := srv.App(child); ok {
		t.Fatalf("a synchronize event made %s\n%s", child, out)
	}

	// Labeled: the labelled commit is deployed to the fork's review app.
	out = act(t, "github-pull_request_target-fork-labeled.json")
	checkReviewDeployed(t, srv, child, out)

	// Closed: the review app is deleted.
	out = act(t, "github-pull_request_target-fork-closed.json")
	checkReviewDestroyed(t, srv, child, out)
}
