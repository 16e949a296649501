package ci

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPullRequest_HeadSHA: the head commit comes with the pull-request context, from the
// one read of the event payload; a value that is no commit SHA is left out, not refused.
func TestPullRequest_HeadSHA(t *testing.T) {
	t.Parallel()
	write := func(sha string) string {
		p := filepath.Join(t.TempDir(), "event.json")
		os.WriteFile(p, []byte(`{"action":"opened","pull_request":{"number":1,"head":{"sha":`+sha+`,"repo":{"full_name":"a/b"}},"base":{"repo":{"full_name":"a/b"}}}}`), 0o644)
		return p
	}
	tests := []struct {
		name, event, path, want string
	}{
		{"opened", "pull_request", fixture("github-pull_request-opened.json"), head},
		{"pull_request_target", "pull_request_target", fixture("github-pull_request_target-fork-labeled.json"), head},
		{"push: none", "push", fixture("github-pull_request-opened.json"), ""},
		{"not a SHA", "pull_request", write(`"main\n::error::x"`), ""},
		{"uppercase", "pull_request", write(`"9F2C4E1B7A3D5F60812C9E4B3A7D6F5E0C1B2A39"`), ""},
		{"not a string", "pull_request", write(`42`), ""},
		{"null", "pull_request", write(`null`), ""},
		{"sha256", "pull_request", write(`"` + head + head[:24] + `"`), head + head[:24]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": tt.event, "GITHUB_EVENT_PATH": tt.path}[k]
			}
			pr, err := Detect(getenv).PullRequest(getenv)
			if err != nil {
				t.Fatal(err)
			}
			if pr.HeadSHA != tt.want {
				t.Errorf("HeadSHA %q, want %q", pr.HeadSHA, tt.want)
			}
		})
	}
}

// TestCI_DeployedCommit: GITHUB_SHA, but the head on a pull_request_target event (the
// base branch's tip is not what the workflow checks out).
func TestCI_DeployedCommit(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name     string
		platform string
		pr       PR
		want     string
	}{
		{"pull_request_target", GitHub, PR{Number: 5, Event: "pull_request_target", HeadSHA: head}, head},
		{"pull_request: the merge commit", GitHub, PR{Number: 5, Event: "pull_request", HeadSHA: head}, sha},
		{"pull_request_target without a head", GitHub, PR{Number: 5, Event: "pull_request_target"}, sha},
		{"push", GitHub, PR{}, sha},
		{"another CI", GitLab, PR{Number: 5, Event: "pull_request_target", HeadSHA: head}, sha},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				return map[string]string{"GITHUB_SHA": sha, "CI_COMMIT_SHA": sha}[k]
			}
			if got := ByPlatform(tt.platform).DeployedCommit(getenv, tt.pr); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
