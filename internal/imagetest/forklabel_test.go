package imagetest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestForkLabelAct runs the fork workflow of docs/review-apps.md under act, with the
// pull_request_target payloads of a fork: the labeled event deploys the labelled commit
// to the fork's review app, a new commit while labelled deploys nothing, and the closed
// event deletes the review app.
func TestForkLabelAct(t *testing.T) {
	t.Parallel()
	img := image(t)
	tool(t, "act") // before anything is built: skipped, or failed in CI, without act
	srv := startFake(t)
	root := repoRoot(t)
	const child = appName + "-pr58" // the number in testdata/events/github-pull_request_target-fork-*.json

	ws := actWorkspace(t, img)
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

	// github.repository is acme/web, the base of the events; the head is mallory/web.
	actCommit(t, ws)

	runEvent := func(t *testing.T, eventFile string) string {
		t.Helper()
		out := act(t, ws, "pull_request_target",
			"--eventpath", filepath.Join(root, "testdata", "events", eventFile),
			"--workflows", ".github/workflows/review-app-forks.yml",
			"--secret", "SCALINGO_API_TOKEN="+srv.APIToken)
		return out
	}

	// A new commit while labelled: the workflow's event types leave it out (and the tool
	// would refuse it).
	out := runEvent(t, "github-pull_request_target-fork-synchronize-labeled.json")
	if _, ok := srv.App(child); ok {
		t.Fatalf("a synchronize event made %s\n%s", child, out)
	}

	// Labeled: the labelled commit is deployed to the fork's review app.
	out = runEvent(t, "github-pull_request_target-fork-labeled.json")
	checkReviewDeployed(t, srv, child, out)

	// Closed: the review app is deleted.
	out = runEvent(t, "github-pull_request_target-fork-closed.json")
	checkReviewDestroyed(t, srv, child, out)
}
