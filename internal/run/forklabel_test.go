package run

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// Forks on a maintainer's word: with fork-label, a fork's pull request is deployed on
// the pull_request_target event that adds the label, and on no other.

func eventFile(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "events", name))
	return p
}

func TestForkLabel(t *testing.T) {
	t.Parallel()
	const label = "safe-to-deploy"
	tests := []struct {
		name       string
		event      string // a file of testdata/events
		eventName  string
		inputs     []string
		code       int
		deployed   string // the review app deployed, if any
		deleted    string // the review app deleted, if any
		want       string // in the output
		noRequests bool
	}{
		{name: "a fork labeled by a maintainer is deployed", event: "github-pull_request_target-fork-labeled.json",
			code: 0, deployed: "my-app-pr58"},
		{name: "a fork's new commit while labeled is refused", event: "github-pull_request_target-fork-synchronize-labeled.json",
			code: 1, want: "removes the label and adds it again", noRequests: true},
		{name: "a fork opened carrying the label is refused", event: "github-pull_request_target-fork-opened-labeled.json",
			code: 1, want: `on the event that adds the label "safe-to-deploy"`, noRequests: true},
		{name: "another label added to a labeled fork is refused", event: "github-pull_request_target-fork-labeled-other.json",
			code: 1, want: "adds it again", noRequests: true},
		{name: "a label of another case is not the label", event: "github-pull_request_target-fork-labeled.json",
			inputs: []string{"INPUT_FORK-LABEL", "Safe-To-Deploy"}, code: 1, want: "adds it again", noRequests: true},
		{name: "copy-env for a labeled fork is invalid input", event: "github-pull_request_target-fork-labeled.json",
			inputs: []string{"INPUT_COPY-ENV", "SMTP_*"}, code: 2, want: "a fork's code would read the parent's values", noRequests: true},
		{name: "copy-env for a fork's new commit is invalid input too", event: "github-pull_request_target-fork-synchronize-labeled.json",
			inputs: []string{"INPUT_COPY-ENV", "SMTP_*"}, code: 2, want: "a fork's code would read the parent's values", noRequests: true},
		{name: "a fork's closed event destroys its review app", event: "github-pull_request_target-fork-closed.json",
			code: 0, deleted: "my-app-pr58"},
		{name: "a same-repository pull request is unaffected", event: "github-pull_request-opened.json", eventName: "pull_request",
			inputs: []string{"INPUT_COPY-ENV", "SMTP_*"}, code: 0, deployed: "my-app-pr42"},
		{name: "a same-repository labeled event deploys as any event", event: "github-pull_request_target-labeled.json",
			code: 0, deployed: "my-app-pr58"},
		{name: "without fork-label, a labeled fork is refused as before", event: "github-pull_request_target-fork-labeled.json",
			inputs: []string{"INPUT_FORK-LABEL", ""}, code: 1, want: "allow-forks", noRequests: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{Variables: map[string]string{"SMTP_PASSWORD": "parent-smtp-secret-42"}})
			if tt.deleted != "" {
				w.fake.AddApp(tt.deleted, fakescalingo.Scenario{Parent: "my-app", Deployed: true})
			}
			name := tt.eventName
			if name == "" {
				name = "pull_request_target"
			}
			inputs := append([]string{"GITHUB_EVENT_NAME", name, "INPUT_FORK-LABEL", label}, tt.inputs...)
			e := reviewEnv(t, w, eventFile(tt.event), inputs...)
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if tt.want != "" && !strings.Contains(res.stdout+res.stderr, tt.want) {
				t.Errorf("the output does not say %q:\n%s%s", tt.want, res.stdout, res.stderr)
			}
			if n := len(w.fake.Requests()); tt.noRequests && n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
			if tt.deployed != "" {
				deps := w.fake.Deployments(tt.deployed)
				if len(deps) != 1 || deps[0].Status != "success" {
					t.Errorf("deployments of %s: %+v", tt.deployed, deps)
				}
			} else if n := len(w.fake.Deployments("my-app-pr58")); n > 1 || n == 1 && tt.deleted == "" {
				t.Errorf("%d deployments of the fork's review app", n)
			}
			if tt.deleted != "" {
				if d := w.fake.Deleted(); len(d) != 1 || d[0] != tt.deleted {
					t.Errorf("deleted %v, want %s", d, tt.deleted)
				}
			}
		})
	}
}

// TestForkLabel_NeedsAnApprovingCI: a CI whose event carries no maintainer's approval
// has allow-forks only.
func TestForkLabel_NeedsAnApprovingCI(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	e := w.env("gitlab", "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "12", "CI_MERGE_REQUEST_PROJECT_ID", "13",
		"SCALINGO_REVIEW_APP", "true", "SCALINGO_FORK_LABEL", "safe-to-deploy")
	res := w.run(t, context.Background(), e)
	if res.code != 2 || !strings.Contains(res.stderr+res.stdout, "fork-label: is read from a GitHub, Forgejo or Gitea pull_request_target event") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if n := len(w.fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
