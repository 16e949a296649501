// Package feedback tells a pull request what a run did: a GitHub deployment per target
// with its statuses, and one comment (a GitLab merge-request note) kept up to date. It
// never changes the run's verdict: a forge that refuses or fails is one warning per
// kind of feedback, naming the permission it needs, and the rest of the run goes on.
package feedback

import (
	"github.com/scalingo-deploy/scalingo-deploy/internal/markdown"

	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/github"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/gitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// ActionsBot is the user GitHub Actions' own token (github.token) comments as.
const ActionsBot = "github-actions[bot]"

// Reporter is where feedback says what went wrong: the run's reporter.
type Reporter interface {
	Warning(format string, args ...any)
	Notice(format string, args ...any)
	Printf(format string, args ...any)
	// Redact masks the run's secrets in text bound for the forge (the comment is public).
	Redact(text string) string
}

// GitHub is the GitHub (or Forgejo/Gitea) side of the feedback.
type GitHub struct {
	Client *github.Client
	// Deployments creates a GitHub deployment per target (not on Forgejo/Gitea).
	Deployments bool
	// Environment names every target's deployment environment; "" means the app's name.
	Environment string
	// Ref is the commit the deployments are made for: a pull request's head, which the
	// pull request shows; "" means each entry's Commit.
	Ref string
	// PR is the pull request to comment on; 0 for none.
	PR int
	// Fork tells a pull request from a fork: GitHub gives its workflow a read-only token.
	Fork bool
	// Identities are the logins whose marked comment is ours when the token has no user
	// of its own to ask for; nil means GitHub Actions' github-actions[bot] (Forgejo's and
	// Gitea's Actions users are theirs).
	Identities []string
}

// GitLab is the GitLab side: one merge request note.
type GitLab struct {
	Client *gitlab.Client
	MR     int
}

// Feedback sends a run's feedback. Its methods are safe for concurrent use; each kind
// of feedback stops at its first failure, which is reported once.
type Feedback struct {
	gh     *GitHub
	gl     *GitLab
	key    string
	runURL string
	r      Reporter

	mu      sync.Mutex
	deps    map[string]int64 // app → GitHub deployment id
	stopped map[string]bool  // kind of feedback → failed once
}

// New returns the feedback of a run; gh or gl may be nil. key names the run's set of
// parent apps (Key); runURL links the job.
func New(gh *GitHub, gl *GitLab, key, runURL string, r Reporter) *Feedback {
	if gh != nil && gh.Identities == nil {
		gh.Identities = []string{ActionsBot}
	}
	return &Feedback{gh: gh, gl: gl, key: key, runURL: runURL, r: r, deps: map[string]int64{}, stopped: map[string]bool{}}
}

const (
	kindDeployments = "deployments"
	kindComment     = "comment"
)

// fail reports the first failure of a kind of feedback and stops that kind.
func (f *Feedback) fail(kind, what string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped[kind] {
		return
	}
	f.stopped[kind] = true
	var e *httpapi.APIError
	forbidden := errors.As(err, &e) && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusNotFound) && !github.IsSecondaryRateLimit(err)
	if f.gh != nil && f.gh.Fork && forbidden {
		// The token is read-only for every kind: one notice, and nothing more is tried.
		f.stopped[kindDeployments], f.stopped[kindComment] = true, true
		f.r.Notice("no pull-request feedback: this pull request comes from a fork, whose workflow token is read-only (the deployment itself is not affected)")
		return
	}
	f.r.Warning("could not %s (the deployment's result is not affected): %v", what, err)
}

func (f *Feedback) active(kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.stopped[kind]
}

func (f *Feedback) environment(e Entry) string {
	if f.gh.Environment != "" {
		return f.gh.Environment
	}
	return e.App
}

// Started records that a target's Scalingo deployment exists: a GitHub deployment of
// the commit, then its in_progress status linking the job.
func (f *Feedback) Started(ctx context.Context, e Entry) {
	if f.gh == nil || !f.gh.Deployments || e.DeploymentID == "" || !f.active(kindDeployments) {
		return
	}
	ref := f.gh.Ref
	if ref == "" {
		ref = e.Commit
	}
	d, err := f.gh.Client.CreateDeployment(ctx, github.DeploymentRequest{
		Ref:                   ref,
		Environment:           f.environment(e),
		Description:           "Scalingo deployment " + e.DeploymentID,
		AutoMerge:             false,
		RequiredContexts:      []string{},
		TransientEnvironment:  e.Parent != "",
		ProductionEnvironment: false,
		Payload:               map[string]any{"app": e.App, "region": e.Region, "scalingo_deployment_id": e.DeploymentID},
	})
	if err != nil {
		f.fail(kindDeployments, "create the GitHub deployment", err)
		return
	}
	f.mu.Lock()
	f.deps[e.App] = d.ID
	f.mu.Unlock()
	if err := f.gh.Client.CreateStatus(ctx, d.ID, github.StatusRequest{State: "in_progress", LogURL: f.runURL, Description: "Deploying to Scalingo"}); err != nil {
		f.fail(kindDeployments, "set the GitHub deployment's status", err)
	}
}

// Finished sets a target's final deployment status: success with the app's URL,
// failure for a failed deployment or health check, error when the run stopped waiting
// or failed on its own. A target not waited for keeps in_progress.
func (f *Feedback) Finished(ctx context.Context, e Entry) {
	if f.gh == nil || !f.gh.Deployments || !f.active(kindDeployments) {
		return
	}
	f.mu.Lock()
	id, ok := f.deps[e.App]
	f.mu.Unlock()
	if !ok {
		return
	}
	st := github.StatusRequest{LogURL: f.runURL, Description: f.r.Redact(oneLine(e.Cause))}
	switch e.State {
	case Deployed:
		st.State, st.EnvironmentURL, st.Description = "success", e.URL, "Deployed to Scalingo"
		if !markdown.SafeURL(e.URL) {
			st.EnvironmentURL = ""
		}
	case Started:
		return
	case Failed, Unhealthy:
		st.State = "failure"
	default:
		st.State = "error"
	}
	if err := f.gh.Client.CreateStatus(ctx, id, st); err != nil {
		f.fail(kindDeployments, "set the GitHub deployment's status", err)
	}
}

// Destroyed marks the newest deployment of each deleted review app's environment
// inactive.
func (f *Feedback) Destroyed(ctx context.Context, e Entry) {
	if f.gh == nil || !f.gh.Deployments || !f.active(kindDeployments) {
		return
	}
	list, err := f.gh.Client.ListDeployments(ctx, f.environment(e))
	if err != nil {
		f.fail(kindDeployments, "list the GitHub deployments", err)
		return
	}
	if len(list) == 0 {
		return
	}
	if err := f.gh.Client.CreateStatus(ctx, list[0].ID, github.StatusRequest{State: "inactive", LogURL: f.runURL, Description: "Review app deleted"}); err != nil {
		f.fail(kindDeployments, "mark the GitHub deployment inactive", err)
	}
}

// Comment writes the run's comment (or note): created once, edited in place after.
func (f *Feedback) Comment(ctx context.Context, entries []Entry) {
	if !f.active(kindComment) {
		return
	}
	body := f.r.Redact(Render(f.key, entries, f.runURL))
	if f.gh != nil && f.gh.PR > 0 {
		if err := f.githubComment(ctx, body); err != nil {
			f.fail(kindComment, "comment on the pull request", err)
		}
	}
	if f.gl != nil && f.gl.MR > 0 {
		if err := f.gitlabNote(ctx, body); err != nil {
			f.fail(kindComment, "write the merge request note", err)
		}
	}
}

// githubComment edits our comment, or creates it. Ours is the first comment with the
// marker written by the token's user; a marker in someone else's comment is ignored,
// so that no one can make the run overwrite (or sign) their text.
func (f *Feedback) githubComment(ctx context.Context, body string) error {
	me, _ := f.gh.Client.Me(ctx) // an error leaves the identity to the author's type
	comments, err := f.gh.Client.Comments(ctx, f.gh.PR)
	if err != nil {
		return err
	}
	marker := Marker(f.key)
	for _, c := range comments {
		if !strings.HasPrefix(c.Body, marker+"\n") || !f.ours(c.User, me) {
			continue
		}
		if c.Body == body {
			return nil
		}
		return f.gh.Client.EditComment(ctx, c.ID, body)
	}
	_, err = f.gh.Client.CreateComment(ctx, f.gh.PR, body)
	return err
}

// ours tells the comments this run may edit: the token's user's (me), else, for a token
// with no user to ask for, those of the identities it comments as (GitHub Actions'
// github-actions[bot], Forgejo's and Gitea's Actions users). Any other author, another
// bot included, may have copied the marker.
func (f *Feedback) ours(u github.User, me string) bool {
	if me != "" {
		return u.Login == me
	}
	for _, id := range f.gh.Identities {
		if u.Login == id {
			return true
		}
	}
	return false
}

// gitlabNote edits our note, or creates it; ours is the token user's, not a system note.
func (f *Feedback) gitlabNote(ctx context.Context, body string) error {
	me, err := f.gl.Client.Me(ctx)
	if err != nil {
		return err
	}
	notes, err := f.gl.Client.Notes(ctx, f.gl.MR)
	if err != nil {
		return err
	}
	marker := Marker(f.key)
	for _, n := range notes {
		if n.System || n.Author.ID != me.ID || !strings.HasPrefix(n.Body, marker+"\n") {
			continue
		}
		if n.Body == body {
			return nil
		}
		return f.gl.Client.EditNote(ctx, f.gl.MR, n.ID, body)
	}
	_, err = f.gl.Client.CreateNote(ctx, f.gl.MR, body)
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
