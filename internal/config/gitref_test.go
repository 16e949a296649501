package config

import "testing"

// TestLoad_GitRefOnPullRequestEvents: the default git ref is the commit deployed. On
// pull_request_target GITHUB_SHA is the base branch's tip, not what the documented
// workflow checks out (pull_request.head.sha); on pull_request it is the merge commit the
// default checkout deploys.
func TestLoad_GitRefOnPullRequestEvents(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"pull_request_target: the head", githubEvent("pull_request_target", "github-pull_request_target-labeled.json"), head},
		{"pull_request_target from a fork, labeled, as a review app: the head",
			append([]string{"INPUT_REVIEW-APP", "true", "INPUT_FORK-LABEL", "safe-to-deploy"},
				githubEvent("pull_request_target", "github-pull_request_target-fork-labeled.json")...), head},
		{"pull_request_target with a token: the head", append([]string{"INPUT_GITHUB-TOKEN", "ghs_x"},
			githubEvent("pull_request_target", "github-pull_request_target-labeled.json")...), head},
		{"pull_request: GITHUB_SHA", githubEvent("pull_request", "github-pull_request-opened.json"), sha},
		{"push: GITHUB_SHA", githubEvent("push", "push.json"), sha},
		{"git-ref given wins", append([]string{"INPUT_GIT-REF", "v2.0.0"},
			githubEvent("pull_request_target", "github-pull_request_target-labeled.json")...), "v2.0.0"},
		{"an unreadable payload leaves GITHUB_SHA", githubEvent("pull_request_target", "missing.json"), sha},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env(append(append([]string{"GITHUB_SHA", sha}, tt.env...), base...)...))
			if err != nil {
				t.Fatal(err)
			}
			if c.GitRef != tt.want {
				t.Errorf("git ref %q, want %q", c.GitRef, tt.want)
			}
		})
	}
}
