package run

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/feedback"
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
	var (
		gh     *feedback.GitHub
		gl     *feedback.GitLab
		runURL string
		closes []func()
	)
	if f.GitHubToken != "" {
		c, repo, why := githubClient(f.GitHubToken, getenv, r, h)
		switch {
		case c == nil:
			r.Warning("%s: no pull-request feedback", why)
		default:
			closes = append(closes, c.Close)
			// Forgejo and Gitea have no deployments API.
			forgejo := getenv("FORGEJO_ACTIONS") == "true" || getenv("GITEA_ACTIONS") == "true"
			gh = &feedback.GitHub{Client: c, Deployments: f.Deployments && !forgejo, Environment: f.Environment, Fork: f.PR.Fork,
				Ref: f.PR.HeadSHA}
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
		c, why := gitlabClient(f.GitLabToken, getenv, r, h)
		switch {
		case c == nil:
			r.Warning("%s: no merge-request note", why)
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

// deployFeedback follows the deploy's events: a target's GitHub deployment is created,
// in_progress, as soon as its Scalingo deployment exists, and gets its final status when
// the target is done. The forge is called off the targets' goroutines (an observer must
// return quickly: a slow forge never slows a deployment), each target's calls in order.
type deployFeedback struct {
	ctx context.Context
	cfg *config.Config
	fb  *feedback.Feedback

	mu      sync.Mutex
	started map[string]chan struct{} // app → closed once its deployment was created at the forge
	wg      sync.WaitGroup
}

// startFeedback returns the feedback of a deploy run, nil when there is none.
func startFeedback(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (*deployFeedback, func()) {
	fb, done := newFeedback(cfg, getenv, r, h)
	if fb == nil {
		return nil, done
	}
	return &deployFeedback{ctx: ctx, cfg: cfg, fb: fb, started: map[string]chan struct{}{}}, done
}

// Event is the deploy.Observer side.
func (d *deployFeedback) Event(ev deploy.Event) {
	switch ev.Kind {
	case deploy.EventCreated:
		ch := make(chan struct{})
		d.mu.Lock()
		d.started[ev.App] = ch
		d.mu.Unlock()
		e := feedback.Entry{App: ev.App, Parent: d.parentOf(ev.App), Region: ev.Region, DeploymentID: ev.DeploymentID, Commit: d.cfg.GitRef}
		d.send(func(ctx context.Context) {
			defer close(ch)
			d.fb.Started(ctx, e)
		})
	case deploy.EventDone:
		d.mu.Lock()
		ch := d.started[ev.App]
		d.mu.Unlock()
		if ch == nil {
			return // never created: no GitHub deployment to finish
		}
		e := d.entryOf(ev.Result)
		d.send(func(ctx context.Context) {
			<-ch
			d.fb.Finished(ctx, e)
		})
	}
}

// send runs f on a goroutine of its own, bounded by the feedback's deadline; nothing is
// sent once the run was interrupted.
func (d *deployFeedback) send(f func(ctx context.Context)) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel, ok := feedbackContext(d.ctx)
		defer cancel()
		if ok {
			f(ctx)
		}
	}()
}

// finish waits for the deployments' statuses, then writes the comment of the run's
// results (in the targets' order).
func (d *deployFeedback) finish(results []*deploy.Result) {
	d.wg.Wait()
	if len(results) == 0 {
		return
	}
	ctx, cancel, ok := feedbackContext(d.ctx)
	defer cancel()
	if !ok {
		return
	}
	entries := make([]feedback.Entry, len(results))
	for i, res := range results {
		entries[i] = d.entryOf(res)
	}
	d.fb.Comment(ctx, entries)
}

// parentOf is the parent app of a review app of the run, "" when app is no review app.
func (d *deployFeedback) parentOf(app string) string {
	if !d.cfg.Review.Enabled {
		return ""
	}
	for _, t := range d.cfg.Targets {
		if d.cfg.ReviewAppName(t.App) == app {
			return t.App
		}
	}
	return ""
}

// entryOf is a target's result as the feedback shows it.
func (d *deployFeedback) entryOf(res *deploy.Result) feedback.Entry {
	e := feedback.Entry{App: res.App, Parent: d.parentOf(res.App), Region: res.Region, URL: res.AppURL,
		Status: string(res.Status), DeploymentID: res.DeploymentID, Commit: res.GitRef, Duration: res.Duration,
		Dashboard: res.DashboardURL()}
	switch res.Outcome() {
	case deploy.OutcomeDeployed:
		e.State = feedback.Deployed
	case deploy.OutcomeStarted:
		e.State = feedback.Started
	case deploy.OutcomeTimedOut:
		e.State = feedback.TimedOut
	case deploy.OutcomeUnhealthy:
		e.State = feedback.Unhealthy
	case deploy.OutcomeFailed:
		e.State = feedback.Failed
		e.LogTail = res.LogTail
		for _, l := range res.Blamed {
			e.Blamed = append(e.Blamed, feedback.Blame{Place: place(l), Message: l.Message})
		}
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
