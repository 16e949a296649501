package config

import (
	"slices"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

func TestLoad_Forge(t *testing.T) {
	t.Parallel()
	opened := githubEvent("pull_request", "github-pull_request-opened.json")
	push := []string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "push", "GITHUB_EVENT_PATH", event("push.json")}
	tests := []struct {
		name string
		env  []string
		want Forge
	}{
		{"off without a token, the event is not read", append([]string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", "/nonexistent"}, base...), Forge{}},
		{"a GitHub token on a pull request: deployments and comment", append([]string{"INPUT_GITHUB-TOKEN", "ghs_x"}, append(opened, base...)...),
			Forge{GitHubToken: "ghs_x", Comment: true, Deployments: true, PR: ci.PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}}},
		{"on a push: no pull request", append([]string{"INPUT_GITHUB-TOKEN", "ghs_x"}, append(push, base...)...),
			Forge{GitHubToken: "ghs_x", Comment: true, Deployments: true}},
		{"each one off", append([]string{"INPUT_GITHUB-TOKEN", "ghs_x", "INPUT_PR-COMMENT", "false", "INPUT_GITHUB-DEPLOYMENTS", "false", "INPUT_ENVIRONMENT", "staging"}, append(opened, base...)...),
			Forge{GitHubToken: "ghs_x", Environment: "staging", PR: ci.PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}}},
		{"pr-comment without a token does nothing", append([]string{"SCALINGO_PR_COMMENT", "true"}, base...), Forge{}},
		{"GitLab: a note, no deployments", append([]string{"SCALINGO_GITLAB_TOKEN", "glpat-x", "GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7"}, base...),
			Forge{GitLabToken: "glpat-x", Comment: true, PR: ci.PR{Number: 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env(tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			got := c.Forge
			got.deploymentsSet = false
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			for _, tok := range []string{tt.want.GitHubToken, tt.want.GitLabToken} {
				if tok != "" && !slices.Contains(c.Secrets(), tok) {
					t.Errorf("%s is not masked", tok)
				}
			}
		})
	}
}

func TestLoad_ForgeInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want []string
		hide []string
	}{
		{"github-deployments without github-token", []string{"INPUT_GITHUB-DEPLOYMENTS", "true"}, []string{"github-deployments: needs github-token"}, nil},
		{"environment without github-token", []string{"INPUT_ENVIRONMENT", "prod"}, []string{"environment: names the GitHub deployments' environment"}, nil},
		{"environment with several apps", []string{"INPUT_GITHUB-TOKEN", "ghs_x", "INPUT_ENVIRONMENT", "prod", "INPUT_APP", "a,b"}, []string{"environment: names one environment, but app lists 2"}, nil},
		{"token with white space", []string{"INPUT_GITHUB-TOKEN", "ghs_x y"}, []string{"github-token: contains white space"}, []string{"ghs_x"}},
		{"the Scalingo token as github-token", []string{"INPUT_GITHUB-TOKEN", "tk-us-plain"}, []string{"github-token: holds the API token's value"}, nil},
		{"one token for both forges", []string{"INPUT_GITHUB-TOKEN", "tok-shared-1", "INPUT_GITLAB-TOKEN", "tok-shared-1"}, []string{"gitlab-token: holds github-token's value"}, []string{"tok-shared-1"}},
		{"environment with a control character", []string{"INPUT_GITHUB-TOKEN", "ghs_x", "INPUT_ENVIRONMENT", "a\x1bb"}, []string{"environment: is not a GitHub environment name"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, nil, append(tt.env, base...), tt.want, tt.hide)
		})
	}
}
