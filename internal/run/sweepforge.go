package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/github"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/gitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
)

// forgeClosed is the sweep's question to the forge, with a forge token: is request N
// closed or merged? nil when no token is given (the sweep goes by age only), or when
// the CI does not say where the forge is (a warning says so); done releases the client.
func forgeClosed(cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (closed func(ctx context.Context, n int) (bool, error), done func()) {
	f := cfg.Forge
	switch {
	case f.GitHubToken != "":
		c, _, why := githubClient(f.GitHubToken, getenv, r, h)
		if c == nil {
			r.Warning("%s: the sweep goes by age only", why)
			return nil, func() {}
		}
		return c.PullRequestClosed, c.Close
	case f.GitLabToken != "":
		c, why := gitlabClient(f.GitLabToken, getenv, r, h)
		if c == nil {
			r.Warning("%s: the sweep goes by age only", why)
			return nil, func() {}
		}
		return c.MergeRequestClosed, c.Close
	}
	return nil, func() {}
}

// githubClient is the client a github-token asks for (feedback, the sweep), and the
// repository it works on: the one the CI names. nil when the CI does not name one or
// the client cannot be made; why then starts the warning the caller ends.
func githubClient(token string, getenv func(string) string, r *platform.Reporter, h hooks) (c *github.Client, repo, why string) {
	repo = strings.TrimSpace(getenv("GITHUB_REPOSITORY"))
	if repo == "" {
		return nil, "", "github-token is set but GITHUB_REPOSITORY is not"
	}
	api := strings.TrimSpace(getenv("GITHUB_API_URL"))
	if api == "" {
		api = "https://api.github.com"
	}
	c, err := github.New(github.Options{APIURL: api, Repository: repo, Token: token, UserAgent: "scalingo-deploy/" + h.versionOr(),
		Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
	if err != nil {
		return nil, "", fmt.Sprintf("github-token is set but the GitHub API is unusable (%v)", err)
	}
	return c, repo, ""
}

// gitlabClient is the client a gitlab-token asks for, on the project the CI names; nil
// and why not as githubClient.
func gitlabClient(token string, getenv func(string) string, r *platform.Reporter, h hooks) (c *gitlab.Client, why string) {
	api, project := strings.TrimSpace(getenv("CI_API_V4_URL")), strings.TrimSpace(getenv("CI_PROJECT_ID"))
	if api == "" || project == "" {
		return nil, "gitlab-token is set but CI_API_V4_URL or CI_PROJECT_ID is not"
	}
	c, err := gitlab.New(gitlab.Options{APIURL: api, Project: project, Token: token, UserAgent: "scalingo-deploy/" + h.versionOr(),
		Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
	if err != nil {
		return nil, fmt.Sprintf("gitlab-token is set but the GitLab API is unusable (%v)", err)
	}
	return c, ""
}
