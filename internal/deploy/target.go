package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/annotate"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// deployer deploys the archive to one target: the unit that Deploy runs for each. It
// holds what that target needs and nothing of the others.
type deployer struct {
	Target
	clock.Clock
	Timing
	// streamClock times the stream's reconnect backoff (see Plan.StreamClock).
	streamClock clock.Clock
	// firstPoll is when, after its creation, the deployment's status is first read:
	// between half a PollInterval and one, different for each target of a run.
	firstPoll time.Duration
	arc       Archive
	set       Settings
	gitRef    string
	app       *scalingo.App // found by lookup
	observers []Observer
	// deploymentID names the deployment once created, for the events.
	deploymentID string
}

// lookup finds the target's app, before anything is uploaded anywhere.
func (d *deployer) lookup(ctx context.Context, res *Result) error {
	ctx, cancel := context.WithTimeout(ctx, d.set.Timeout)
	defer cancel()
	app, err := d.Client.App(ctx, d.App)
	if err != nil {
		return fmt.Errorf("find app %s: %w", d.App, err)
	}
	d.app = app
	res.AppURL = app.URL
	return nil
}

// deploy uploads the archive to a source of its own, sets the target's variables,
// creates one deployment and, unless told not to wait, follows it to its verdict and
// checks the app answers. res is filled as far as it went.
func (d *deployer) deploy(ctx context.Context, res *Result) error {
	// Everything before the wait is bounded too, with room for the upload.
	prepCtx, cancel := context.WithTimeout(ctx, d.set.Timeout+scalingo.UploadTimeout(d.arc.Size))
	defer cancel()

	// The deployments that exist before ours: if the answer to our creation is lost,
	// the new one among the listed is ours (see create).
	before, err := d.Client.Deployments(prepCtx, d.App, 20)
	if err != nil {
		return fmt.Errorf("list the deployments of %s: %w", d.App, err)
	}

	dep, maybe, err := d.create(prepCtx, before)
	if err != nil {
		res.MaybeCreated = maybe
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	res.DeploymentID = dep.ID
	res.Status = Status(dep.Status)
	if dep.GitRef != "" {
		res.GitRef = dep.GitRef
	}
	d.deploymentID = dep.ID
	d.Reporter.Printf("Deployment %s created (%s).", dep.ID, dep.Status)
	d.emit(Event{Kind: EventCreated, Status: res.Status})
	if !d.set.Wait {
		d.Reporter.Printf("Not waiting for it (wait=false): it goes on at Scalingo.")
		return nil
	}
	f := &follower{deployer: d, app: d.App, dep: dep, timeout: d.set.Timeout, streamURL: d.app.Links.DeploymentsStream}
	err = f.run(ctx)
	res.Status = Status(f.status)
	res.LogTail = f.tail(50)
	if f.status == "build-error" || f.status == "hook-error" {
		// The places the log blames, kept now: the log goes with the follower.
		res.LogLocations = annotate.Scan(f.lines)
	}
	if err != nil {
		return err
	}
	if d.AfterSuccess != nil {
		if err := d.AfterSuccess(ctx); err != nil {
			return err
		}
	}
	if d.set.HealthCheck == "" {
		return nil
	}
	err = d.checkHealth(ctx)
	var he *HealthError
	switch {
	case err == nil:
		res.Health = HealthOK
	case errors.As(err, &he):
		res.Health = HealthFailed
	}
	return err
}

// setVariables sets env on the app with one bulk PUT, once the archive is uploaded (a
// failed upload leaves the app's variables as they were) and before the deployment is
// created, which picks them up: Scalingo restarts nothing when variables change.
func (d *deployer) setVariables(ctx context.Context) error {
	env := d.set.Env
	if d.Env != nil {
		env = d.Env
	}
	if len(env) == 0 {
		return nil
	}
	if err := d.Client.SetVariables(ctx, d.App, env); err != nil {
		return fmt.Errorf("set the variables of %s: %w", d.App, err)
	}
	d.Reporter.Printf("Set %s on %s.", plural(len(env), "variable"), d.App)
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
func (d *deployer) create(ctx context.Context, before []scalingo.Deployment) (*scalingo.Deployment, bool, error) {
	c, r, app, gitRef := d.Client, d.Reporter, d.App, d.gitRef
	var src *scalingo.Source
	maybe := false
	varsSet := false
	for attempt := 1; ; attempt++ {
		if src == nil || c.Expired(src) {
			var err error
			if src, err = d.upload(ctx); err != nil {
				return nil, maybe, err
			}
		}
		if !varsSet {
			if err := d.setVariables(ctx); err != nil {
				return nil, false, err
			}
			varsSet = true
		}
		dep, err := c.CreateDeployment(ctx, app, src.DownloadURL, gitRef, d.PostdeployHook)
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
			found, lerr := d.adopt(ctx, before)
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

func (d *deployer) sleep(ctx context.Context, wait time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-d.After(wait):
		return nil
	}
}

// upload creates a source and uploads the archive, with a new source if the first
// one's URLs expire.
func (d *deployer) upload(ctx context.Context) (*scalingo.Source, error) {
	for i := 1; ; i++ {
		src, err := d.Client.CreateSource(ctx)
		if err != nil {
			return nil, fmt.Errorf("create a source: %w", err)
		}
		d.Reporter.Mask(querySecret(src.UploadURL))
		d.Reporter.Mask(querySecret(src.DownloadURL))
		d.Reporter.Printf("Uploading %s…", platform.HumanBytes(d.arc.Size))
		err = d.Client.Upload(ctx, src, d.arc.Body, d.arc.Size)
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
func (d *deployer) adopt(ctx context.Context, before []scalingo.Deployment) (*scalingo.Deployment, error) {
	now, err := d.Client.Deployments(ctx, d.App, 20)
	if err != nil {
		return nil, err
	}
	for i := range now {
		dep := &now[i]
		known := slices.ContainsFunc(before, func(b scalingo.Deployment) bool { return b.ID == dep.ID })
		if !known && dep.GitRef == d.gitRef {
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

// querySecret is the part of a signed URL that authorises: its query string.
func querySecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.RawQuery
}
