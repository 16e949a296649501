package run

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestGitRef_PullRequestTarget: one deployment names one commit. On a pull_request_target
// event GITHUB_SHA is the base branch's tip, while the documented workflow deploys the
// pull request's head: the Scalingo deployment's git_ref, the outputs, the comment's
// Commit column and the GitHub deployment all name the head. On a pull_request event
// GITHUB_SHA is the merge commit the default checkout deploys, and stays the git ref.
func TestGitRef_PullRequestTarget(t *testing.T) {
	t.Parallel()
	const (
		head   = "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39" // pull_request.head.sha of every event used
		ghSHA  = "0123456789abcdef0123456789abcdef01234567" // GITHUB_SHA (world.env)
		pinned = "v9.9.9"
	)
	tests := []struct {
		name, event, eventName string
		extra                  []string
		child                  string
		want                   string // the git ref deployed and written out
	}{
		{name: "a labeled fork deploys its head", event: "github-pull_request_target-fork-labeled.json", eventName: "pull_request_target",
			extra: []string{"INPUT_FORK-LABEL", "safe-to-deploy"}, child: "my-app-pr58", want: head},
		{name: "a same-repository pull_request_target deploys the head", event: "github-pull_request_target-labeled.json", eventName: "pull_request_target",
			child: "my-app-pr58", want: head},
		{name: "a pull_request event keeps the merge commit", event: "github-pull_request-opened.json", eventName: "pull_request",
			child: "my-app-pr42", want: ghSHA},
		{name: "an explicit git-ref wins", event: "github-pull_request_target-labeled.json", eventName: "pull_request_target",
			extra: []string{"INPUT_GIT-REF", pinned}, child: "my-app-pr58", want: pinned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			gh := fakegithub.Start(fakegithub.Options{Token: ghToken, Repository: "acme/web", PullRequests: []int{42, 58}})
			t.Cleanup(gh.Close)
			e := feedbackEnv(t, w, gh, eventFile(tt.event), append([]string{"GITHUB_EVENT_NAME", tt.eventName}, tt.extra...)...)
			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}

			deps := w.fake.Deployments(tt.child)
			if len(deps) != 1 || deps[0].GitRef == nil || *deps[0].GitRef != tt.want {
				t.Errorf("Scalingo deployments of %s: %+v, want git_ref %s", tt.child, deps, tt.want)
			}

			out := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
			if out["git-ref"] != tt.want {
				t.Errorf("git-ref output %q, want %q", out["git-ref"], tt.want)
			}
			var list []struct {
				GitRef string `json:"git_ref"`
			}
			if err := json.Unmarshal([]byte(out["deployments"]), &list); err != nil || len(list) != 1 || list[0].GitRef != tt.want {
				t.Errorf("deployments output %s (%v), want git_ref %s", out["deployments"], err, tt.want)
			}

			// The GitHub deployment is of the head, which the pull request shows, on either
			// event.
			if ghDeps := gh.Deployments(); len(ghDeps) != 1 || ghDeps[0].SHA != head {
				t.Errorf("GitHub deployments %+v, want one of %s", ghDeps, head)
			}
			n := map[string]int{"my-app-pr42": 42, "my-app-pr58": 58}[tt.child]
			comments := gh.Comments(n)
			short := tt.want
			if len(short) == 40 {
				short = short[:7]
			}
			if len(comments) != 1 || !strings.Contains(comments[0].Body, "`"+short+"`") {
				t.Errorf("comment on #%d does not show %s: %+v", n, short, comments)
			}
		})
	}
}
