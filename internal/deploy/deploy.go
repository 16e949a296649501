// Package deploy is the deploy flow: authenticate, find the app, create a source, upload
// the archive, create exactly one deployment, and follow it to a verdict.
package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Deps are the flow's collaborators and its clock.
type Deps struct {
	Client   *scalingo.Client
	Reporter *platform.Reporter
	// Now and After are the clock: time.Now and time.After in production; tests pass a
	// fake clock so that no test waits for real time to pass.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// PollInterval is the time between two status checks; 0 means 5s, which keeps a run
	// far below the API's 60 requests a minute.
	PollInterval time.Duration
	// QueuedNotice is how long a deployment may stay queued before the user is told
	// why; 0 means one minute.
	QueuedNotice time.Duration
}

// Archive is what the flow needs to know of the archive it uploads.
type Archive struct {
	Body io.ReaderAt // Size bytes from offset 0, read afresh by every upload attempt
	Size int64
}

// Result is what a run learned, whatever its outcome: the outputs are written from it.
type Result struct {
	Outputs platform.Outputs
	// LogTail is the end of the build log, for the summary of a failed deployment.
	LogTail string
	// MaybeCreated is set when the run failed after sending a deployment creation whose
	// outcome it could not learn: a deployment may exist that the outputs do not name.
	MaybeCreated bool
}

// FailedError is a deployment that ended with a failing status (exit code 1).
type FailedError struct {
	ID, Status string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("deployment %s failed: %s: %s", e.ID, e.Status, Reason(e.Status))
}

// TimeoutError is a deployment still running when the wait ran out (exit code 3).
type TimeoutError struct {
	ID, App, LastStatus string
	After               time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("stopped waiting after %s with deployment %s still %s; it goes on at Scalingo: follow it with `scalingo --app %s deployment-follow` or in the dashboard",
		e.After, e.ID, e.LastStatus, e.App)
}

// Run deploys the archive to cfg.App. The Result is filled as far as the run went, also
// when it returns an error.
func Run(ctx context.Context, cfg *config.Config, arc Archive, d Deps) (*Result, error) {
	d.defaults()
	c, r := d.Client, d.Reporter
	gitRef := cfg.GitRef
	if gitRef == "" {
		// A ref of our own names this run's deployment: Scalingo shows it as the version,
		// and it tells our deployment apart should the answer to its creation be lost.
		gitRef = newGitRef(d.Now())
		r.Printf("No git ref given nor found in the CI environment: using %s.", gitRef)
	}
	res := &Result{Outputs: platform.Outputs{ArchiveSize: arc.Size, GitRef: gitRef}}

	// Everything before the wait is bounded too, with room for the upload.
	prepCtx, cancel := context.WithTimeout(ctx, cfg.Timeout+scalingo.UploadTimeout(arc.Size))
	defer cancel()
	if err := c.Authenticate(prepCtx); err != nil {
		return res, err
	}
	if c.APIURL() == "" {
		if err := c.ResolveRegion(prepCtx, cfg.Region); err != nil {
			return res, err
		}
	}
	app, err := c.App(prepCtx, cfg.App)
	if err != nil {
		return res, fmt.Errorf("find app %s: %w", cfg.App, err)
	}
	res.Outputs.AppURL = app.URL

	// The deployments that exist before ours: if the answer to our creation is lost,
	// the new one among the listed is ours (see create).
	before, err := c.Deployments(prepCtx, cfg.App, 20)
	if err != nil {
		return res, fmt.Errorf("list the deployments of %s: %w", cfg.App, err)
	}

	dep, maybe, err := d.create(prepCtx, cfg.App, gitRef, arc, before)
	if err != nil {
		res.MaybeCreated = maybe
		if ctx.Err() != nil {
			return res, context.Cause(ctx)
		}
		return res, err
	}
	res.Outputs.DeploymentID = dep.ID
	res.Outputs.Status = dep.Status
	if dep.GitRef != "" {
		res.Outputs.GitRef = dep.GitRef
	}
	r.Printf("Deployment %s created (%s).", dep.ID, dep.Status)
	if !cfg.Wait {
		r.Printf("Not waiting for it (wait=false): it goes on at Scalingo.")
		return res, nil
	}
	f := &follower{Deps: d, app: cfg.App, dep: dep, timeout: cfg.Timeout, streamURL: app.Links.DeploymentsStream}
	err = f.run(ctx)
	res.Outputs.Status = f.status
	res.LogTail = f.tail(50)
	return res, err
}

func (d *Deps) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.After == nil {
		d.After = time.After
	}
	if d.PollInterval <= 0 {
		d.PollInterval = 5 * time.Second
	}
	if d.QueuedNotice <= 0 {
		d.QueuedNotice = time.Minute
	}
}

// maxSources bounds how many times a source is created, should its URLs expire before
// the upload and the deployment are done.
const maxSources = 3

// create uploads the archive and creates one deployment of it. Creating a deployment is
// not idempotent: when its answer is lost or is a server error, the deployment may exist
// all the same, so the app's deployments are listed (a few times, as the API may still be
// at work on it) and a new one with our git_ref is adopted before anything is created
// again. maybe reports, with an error, that a deployment may have been created all the
// same.
func (d *Deps) create(ctx context.Context, app, gitRef string, arc Archive, before []scalingo.Deployment) (*scalingo.Deployment, bool, error) {
	c, r := d.Client, d.Reporter
	var src *scalingo.Source
	maybe := false
	for attempt := 1; ; attempt++ {
		if src == nil || c.Expired(src) {
			var err error
			if src, err = d.upload(ctx, arc); err != nil {
				return nil, maybe, err
			}
		}
		dep, err := c.CreateDeployment(ctx, app, src.DownloadURL, gitRef)
		if err == nil {
			return dep, false, nil
		}
		if ctx.Err() != nil {
			return nil, true, fmt.Errorf("create the deployment: %w", err)
		}
		// The client's policy says what may be tried again and how long to wait; what
		// is decided here is whether the failed POST may have created the deployment.
		pol := c.Policy()
		var apiErr *scalingo.APIError
		var urlErr *url.Error
		isAPI := errors.As(err, &apiErr)
		switch {
		case !isAPI && errors.As(err, &urlErr) && !pol.Retryable(err):
			// An untrusted certificate, a bad URL or port: the request never reached the
			// API, and sending it again cannot mend that.
			return nil, maybe, fmt.Errorf("create the deployment: %w", err)
		case isAPI && apiErr.StatusCode == http.StatusTooManyRequests, notSent(err):
			// Refused before any work: safe to send again, after a pause.
			if attempt >= maxCreates {
				return nil, maybe, fmt.Errorf("create the deployment: %w", err)
			}
			wait := pol.Wait(attempt, err)
			r.Printf("Creating the deployment failed (%v); trying again in %s.", err, wait.Round(time.Millisecond))
			if err := d.sleep(ctx, wait); err != nil {
				return nil, maybe, err
			}
			continue
		case isAPI && !pol.Retryable(err):
			// A 4xx (or 501): refused, nothing created.
			return nil, maybe, fmt.Errorf("create the deployment: %w", err)
		}
		// A lost answer or a server error: the deployment may exist.
		maybe = true
		r.Printf("Creating the deployment failed (%v); checking whether it was created all the same.", err)
		for look := 1; ; look++ {
			found, lerr := d.adopt(ctx, app, gitRef, before)
			if lerr != nil {
				// Creating again without knowing could make a second deployment.
				return nil, true, fmt.Errorf("create the deployment: %w; then could not list the deployments to tell whether it was created (check the app's deployments before deploying again): %w", err, lerr)
			}
			if found != nil {
				r.Printf("Deployment %s was created; following it.", found.ID)
				return found, false, nil
			}
			if look >= adoptLooks {
				break
			}
			if err := d.sleep(ctx, d.PollInterval); err != nil {
				return nil, true, err
			}
		}
		if attempt >= maxCreates || timedOut(err) {
			// After a timeout the API may still be at work on our request: sending another
			// could make a second deployment.
			return nil, true, fmt.Errorf("create the deployment: %w", err)
		}
		r.Printf("No deployment was created; creating it again.")
	}
}

// maxCreates bounds the deployment POSTs of a run; adoptLooks, how many times the
// deployments are listed, PollInterval apart, before a lost creation is taken as not done.
const (
	maxCreates = 4
	adoptLooks = 3
)

func (d *Deps) sleep(ctx context.Context, wait time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-d.After(wait):
		return nil
	}
}

// upload creates a source and uploads the archive, with a new source if the first
// one's URLs expire.
func (d *Deps) upload(ctx context.Context, arc Archive) (*scalingo.Source, error) {
	for i := 1; ; i++ {
		src, err := d.Client.CreateSource(ctx)
		if err != nil {
			return nil, fmt.Errorf("create a source: %w", err)
		}
		d.Reporter.Mask(querySecret(src.UploadURL))
		d.Reporter.Mask(querySecret(src.DownloadURL))
		d.Reporter.Printf("Uploading %s…", platform.HumanBytes(arc.Size))
		err = d.Client.Upload(ctx, src, arc.Body, arc.Size)
		if err == nil {
			return src, nil
		}
		if !errors.Is(err, scalingo.ErrSourceExpired) || i >= maxSources {
			return nil, fmt.Errorf("upload the archive: %w", err)
		}
		d.Reporter.Printf("The upload URL expired; asking for a new one.")
	}
}

// adopt finds the deployment our lost request created: one that was not there before,
// with our git_ref (unique to the run when we made it up). It is nil, with no error, when
// there is none.
func (d *Deps) adopt(ctx context.Context, app, gitRef string, before []scalingo.Deployment) (*scalingo.Deployment, error) {
	now, err := d.Client.Deployments(ctx, app, 20)
	if err != nil {
		return nil, err
	}
	for i := range now {
		dep := &now[i]
		known := slices.ContainsFunc(before, func(b scalingo.Deployment) bool { return b.ID == dep.ID })
		if !known && dep.GitRef == gitRef {
			return dep, nil
		}
	}
	return nil, nil
}

// notSent tells whether a request failed before it could reach the API: then it
// certainly created nothing.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// timedOut tells whether a request was given up on while the API may still be at work.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// newGitRef makes a git_ref for a run that has none: a timestamp, for people, and a
// random suffix, so that two runs in the same second differ.
func newGitRef(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("deploy-%s-%x", now.UTC().Format("20060102T150405Z"), b)
}

// querySecret is the part of a signed URL that authorises: its query string.
func querySecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.RawQuery
}
