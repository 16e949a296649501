package run

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/feedback"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/github"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/gitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
)

// Pull-request feedback is told the run's results once they are known: a GitHub
// deployment per target with its statuses, and one comment (GitLab: note). It never
// changes the verdict, and without a forge token it sends nothing.

// feedbackPolicy keeps a failing forge from holding the job: three attempts, short
// backoff; GitHub's secondary rate limit is waited out once, up to a minute.
var feedbackPolicy = httpapi.Policy{MaxAttempts: 3, Base: time.Second, Max: 4 * time.Second, RetryAfterMax: time.Minute}

// feedbackTimeout bounds all the feedback of a run.
const feedbackTimeout = 2 * time.Minute

// forgeActionsUsers are the users Forgejo's and Gitea's Actions tokens comment as.
var forgeActionsUsers = []string{"forgejo-actions", "gitea-actions"}

// newFeedback returns the run's feedback, nil when no forge token is given or the CI
// does not say where to send it (then one warning says why).
func newFeedback(cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (*feedback.Feedback, func()) {
	f := cfg.Forge
	if f.GitHubToken == "" && f.GitLabToken == "" {
		return nil, func() {}
	}
	ua := "scalingo-deploy/" + h.versionOr()
	var (
		gh     *feedback.GitHub
		gl     *feedback.GitLab
		runURL string
		closes []func()
	)
	if f.GitHubToken != "" {
		repo := strings.TrimSpace(getenv("GITHUB_REPOSITORY"))
		api := strings.TrimSpace(getenv("GITHUB_API_URL"))
		if api == "" {
			api = "https://api.github.com"
		}
		c, err := github.New(github.Options{APIURL: api, Repository: repo, Token: f.GitHubToken, UserAgent: ua,
			Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
		switch {
		case repo == "":
			r.Warning("github-token is set but GITHUB_REPOSITORY is not: no pull-request feedback")
		case err != nil:
			r.Warning("github-token is set but the GitHub API is unusable (%v): no pull-request feedback", err)
		default:
			closes = append(closes, c.Close)
			// Forgejo and Gitea have no deployments API.
			forgejo := getenv("FORGEJO_ACTIONS") == "true" || getenv("GITEA_ACTIONS") == "true"
			gh = &feedback.GitHub{Client: c, Deployments: f.Deployments && !forgejo, Environment: f.Environment, Fork: f.PR.Fork,
				Ref: cfg.CI.HeadSHA(getenv)}
			if f.Comment {
				gh.PR = f.PR.Number
			}
			if forgejo {
				gh.Identities = forgeActionsUsers
			}
			if server, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_RUN_ID"); server != "" && id != "" {
				runURL = strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
			}
		}
	}
	if f.GitLabToken != "" {
		api, project := strings.TrimSpace(getenv("CI_API_V4_URL")), strings.TrimSpace(getenv("CI_PROJECT_ID"))
		c, err := gitlab.New(gitlab.Options{APIURL: api, Project: project, Token: f.GitLabToken, UserAgent: ua,
			Getenv: getenv, Clock: h.clock, Logf: r.Printf, Policy: feedbackPolicy})
		switch {
		case api == "" || project == "":
			r.Warning("gitlab-token is set but CI_API_V4_URL or CI_PROJECT_ID is not: no merge-request note")
		case err != nil:
			r.Warning("gitlab-token is set but the GitLab API is unusable (%v): no merge-request note", err)
		case f.Comment && f.PR.Number == 0:
			c.Close()
			r.Printf("gitlab-token: this pipeline is not a merge request pipeline (no CI_MERGE_REQUEST_IID): no note")
		case f.Comment:
			closes = append(closes, c.Close)
			gl = &feedback.GitLab{Client: c, MR: f.PR.Number}
			if runURL == "" {
				runURL = getenv("CI_JOB_URL")
			}
		default:
			c.Close()
		}
	}
	if gh == nil && gl == nil {
		return nil, func() {}
	}
	parents := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		parents[i] = t.String()
	}
	done := func() {
		for _, c := range closes {
			c()
		}
	}
	return feedback.New(gh, gl, feedback.Key(parents), runURL, r), done
}

// feedbackContext is the feedback's own deadline; nothing is sent once the run was
// interrupted.
func feedbackContext(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	if ctx.Err() != nil {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(ctx, feedbackTimeout)
	return ctx, cancel, true
}

// feedbackDeployed tells the forge how each target's deployment ended. results are in
// the targets' order (cfg.Targets), review apps included.
func feedbackDeployed(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks, results []*deploy.Result) {
	if len(results) == 0 {
		return
	}
	fb, done := newFeedback(cfg, getenv, r, h)
	defer done()
	if fb == nil {
		return
	}
	ctx, cancel, ok := feedbackContext(ctx)
	defer cancel()
	if !ok {
		return
	}
	entries := make([]feedback.Entry, len(results))
	for i, res := range results {
		entries[i] = entryOf(cfg, i, res)
		fb.Started(ctx, entries[i])
		fb.Finished(ctx, entries[i])
	}
	fb.Comment(ctx, entries)
}

// entryOf is target i's result as the feedback shows it.
func entryOf(cfg *config.Config, i int, res *deploy.Result) feedback.Entry {
	o := res.Outputs
	e := feedback.Entry{App: res.App, Region: res.Region, URL: o.AppURL, Status: o.Status, DeploymentID: o.DeploymentID,
		Commit: o.GitRef, Duration: res.Duration}
	if cfg.Review.Enabled && i < len(cfg.Targets) {
		e.Parent = cfg.Targets[i].App
	}
	var (
		fe *deploy.FailedError
		te *deploy.TimeoutError
		he *deploy.HealthError
	)
	switch {
	case res.Err == nil && o.Status == "success":
		e.State = feedback.Deployed
	case res.Err == nil:
		e.State = feedback.Started
	case errors.As(res.Err, &te):
		e.State = feedback.TimedOut
	case errors.As(res.Err, &he):
		e.State = feedback.Unhealthy
	case errors.As(res.Err, &fe):
		e.State = feedback.Failed
		e.LogTail = res.LogTail
	default:
		e.State = feedback.Errored
	}
	if res.Err != nil {
		e.Cause, _, _ = strings.Cut(res.Err.Error(), "\n")
	}
	return e
}

// feedbackDestroyed tells the forge which review apps this run deleted: their
// deployments become inactive, and the comment says so.
func feedbackDestroyed(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks, out platform.Outputs) {
	fb, done := newFeedback(cfg, getenv, r, h)
	defer done()
	if fb == nil {
		return
	}
	ctx, cancel, ok := feedbackContext(ctx)
	defer cancel()
	if !ok {
		return
	}
	var entries []feedback.Entry
	for i, t := range cfg.Targets {
		status := out.Status
		if len(cfg.Targets) > 1 && i < len(out.PerApp) {
			status = out.PerApp[i].Status
		}
		e := feedback.Entry{App: cfg.ReviewAppName(t.App), Parent: t.App, Region: t.Region}
		switch status {
		case review.Destroyed:
			e.State = feedback.Deleted
		case review.Absent:
			e.State = feedback.Absent
		default:
			e.State, e.Cause = feedback.Errored, "the review app could not be deleted: see the job's log"
			entries = append(entries, e)
			continue
		}
		fb.Destroyed(ctx, e)
		entries = append(entries, e)
	}
	fb.Comment(ctx, entries)
}
