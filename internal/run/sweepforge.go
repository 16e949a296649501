package run

import (
	"context"
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
	ua := "scalingo-deploy/" + h.versionOr()
	switch {
	case f.GitHubToken != "":
		repo := strings.TrimSpace(getenv("GITHUB_REPOSITORY"))
		api := strings.TrimSpace(getenv("GITHUB_API_URL"))
		if api == "" {
			api = "https://api.github.com"
		}
		if repo == "" {
			r.Warning("github-token is set but GITHUB_REPOSITORY is not: the sweep goes by age only")
			return nil, func() {}
		}
		c, err := github.New(github.Options{APIURL: api, Repository: repo, Token: f.GitHubToken, UserAgent: ua,
			Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
		if err != nil {
			r.Warning("github-token is set but the GitHub API is unusable (%v): the sweep goes by age only", err)
			return nil, func() {}
		}
		return c.PullRequestClosed, c.Close
	case f.GitLabToken != "":
		api, project := strings.TrimSpace(getenv("CI_API_V4_URL")), strings.TrimSpace(getenv("CI_PROJECT_ID"))
		if api == "" || project == "" {
			r.Warning("gitlab-token is set but CI_API_V4_URL or CI_PROJECT_ID is not: the sweep goes by age only")
			return nil, func() {}
		}
		c, err := gitlab.New(gitlab.Options{APIURL: api, Project: project, Token: f.GitLabToken, UserAgent: ua,
			Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
		if err != nil {
			r.Warning("gitlab-token is set but the GitLab API is unusable (%v): the sweep goes by age only", err)
			return nil, func() {}
		}
		return c.MergeRequestClosed, c.Close
	}
	return nil, func() {}
}
