// Package deploy is the deploy flow: authenticate, find the app, create a source, upload
// the archive, create exactly one deployment, and follow it to a verdict.
package deploy

import (
	"context"
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
	Path string
	Size int64
}

// Result is what a run learned, whatever its outcome: the outputs are written from it.
type Result struct {
	Outputs platform.Outputs
	// LogTail is the end of the build log, for the summary of a failed deployment.
	LogTail string
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
	res := &Result{Outputs: platform.Outputs{ArchiveSize: arc.Size, GitRef: cfg.GitRef}}
	c, r := d.Client, d.Reporter

	if err := c.Authenticate(ctx); err != nil {
		return res, err
	}
	if c.APIURL() == "" {
		if err := c.ResolveRegion(ctx, cfg.Region); err != nil {
			return res, err
		}
	}
	app, err := c.App(ctx, cfg.App)
	if err != nil {
		return res, fmt.Errorf("find app %s: %w", cfg.App, err)
	}
	res.Outputs.AppURL = app.URL

	// The deployments that exist before ours: if the answer to our creation is lost,
	// the new one among the listed is ours (see create).
	before, err := c.Deployments(ctx, cfg.App, 20)
	if err != nil {
		return res, fmt.Errorf("list the deployments of %s: %w", cfg.App, err)
	}

	dep, err := d.create(ctx, cfg, arc, before)
	if err != nil {
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
// all the same, so the app's deployments are listed and a new one with our git_ref is
// adopted before anything is created again. A run never creates two deployments.
func (d *Deps) create(ctx context.Context, cfg *config.Config, arc Archive, before []scalingo.Deployment) (*scalingo.Deployment, error) {
	c, r := d.Client, d.Reporter
	var src *scalingo.Source
	for attempt := 1; ; attempt++ {
		if src == nil || c.Expired(src) {
			var err error
			if src, err = d.upload(ctx, arc); err != nil {
				return nil, err
			}
		}
		dep, err := c.CreateDeployment(ctx, cfg.App, src.DownloadURL, cfg.GitRef)
		if err == nil {
			return dep, nil
		}
		if !ambiguous(err) || attempt >= 4 || ctx.Err() != nil {
			return nil, fmt.Errorf("create the deployment: %w", err)
		}
		r.Printf("Creating the deployment failed (%v); checking whether it was created all the same.", err)
		dep, lerr := d.adopt(ctx, cfg, before)
		if lerr != nil {
			// Creating again without knowing could make a second deployment.
			return nil, fmt.Errorf("create the deployment: %w; then could not list the deployments to tell whether it was created (check the app's deployments before deploying again): %w", err, lerr)
		}
		if dep != nil {
			r.Printf("Deployment %s was created; following it.", dep.ID)
			return dep, nil
		}
		var apiErr *scalingo.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests {
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case <-d.After(max(apiErr.RetryAfter, 5*time.Second)):
			}
		}
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
		err = d.Client.Upload(ctx, src, arc.Path)
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
// and carries our git_ref when we sent one.
// It is nil, with no error, when no such deployment exists.
func (d *Deps) adopt(ctx context.Context, cfg *config.Config, before []scalingo.Deployment) (*scalingo.Deployment, error) {
	now, err := d.Client.Deployments(ctx, cfg.App, 20)
	if err != nil {
		return nil, err
	}
	for i := range now {
		dep := &now[i]
		known := slices.ContainsFunc(before, func(b scalingo.Deployment) bool { return b.ID == dep.ID })
		if !known && (cfg.GitRef == "" || dep.GitRef == cfg.GitRef) {
			return dep, nil
		}
	}
	return nil, nil
}

// ambiguous tells whether a failed creation may have created the deployment all the
// same: the request may have reached the API (a transport error, a server error), or was
// refused in a way that asks to come back later (429).
func ambiguous(err error) bool {
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || isTransport(err)
}

func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// querySecret is the part of a signed URL that authorises: its query string.
func querySecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.RawQuery
}
