// Package deploy is the deploy flow: look every target up, then for each one create a
// source, upload the archive, set its variables, create exactly one deployment, follow
// it to a verdict and check the app answers. One target is the unit (deployer); Deploy
// runs it for every target of a run, in parallel, and joins the verdicts. What the flow
// learns of each target, as it learns it, goes to the Plan's Observers (observer.go); what
// it learned in the end is each target's Result, a domain value that the run maps to
// outputs, the summary and the verdict.
package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/annotate"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Target is one app to deploy to: its name and region, the client of that region (all
// of a run's clients share one session and one request budget) and its view of the
// reporter (its lines prefixed when there are several targets).
type Target struct {
	App, Region string
	Client      *scalingo.Client
	Reporter    *platform.Reporter
	// PostdeployHook, when set, is sent with the deployment, to run after its build
	// (a new review app's scripts.first-deploy).
	PostdeployHook string
	// AfterSuccess, when set, runs once the deployment succeeded, before the health
	// check (a new review app's formation); its error fails the target. It does not
	// run when the run does not wait.
	AfterSuccess func(ctx context.Context) error
	// Env, when not nil, is set on this target instead of Settings.Env (a review app's
	// env, its references to the run's other review apps resolved).
	Env []scalingo.Variable
}

// Settings are what every target of a run shares.
type Settings struct {
	// GitRef is sent with each deployment; empty, one is made up for the run.
	GitRef  string
	Wait    bool
	Timeout time.Duration
	// Env is set on each target before its deployment is created.
	Env []scalingo.Variable
	// HealthCheck, a path or an absolute URL, is fetched after a successful deployment
	// until it answers 2xx or 3xx, for at most HealthCheckTimeout. Empty: no check.
	HealthCheck        string
	HealthCheckTimeout time.Duration
}

// Timing holds the intervals of a run; zero values mean the production ones.
type Timing struct {
	// PollInterval is the time between two status checks of one deployment with up to
	// three targets: 5 s. Beyond, it grows with the number of targets so that the polls
	// of a whole run take at most pollsPerMinute of the API's 60 requests a minute.
	PollInterval time.Duration
	// QueuedNotice is how long a deployment may stay queued before the user is told
	// why: one minute.
	QueuedNotice time.Duration
	// HealthInterval is the time between two health check requests: 2 s.
	HealthInterval time.Duration
}

// Archive is what the flow needs to know of the archive it uploads.
type Archive struct {
	// Body is read from offset 0 by each upload attempt (the temp file is unlinked:
	// only this descriptor reaches it).
	Body io.ReaderAt
	Size int64
}

// Plan is one run: one archive to every target.
type Plan struct {
	Targets  []Target
	Archive  Archive
	Settings Settings
	Clock    clock.Clock
	// StreamClock times the log stream's reconnect backoff; nil means Clock. Tests give
	// it a clock of its own, so that a reconnect wait does not move the poller's time.
	StreamClock clock.Clock
	Timing      Timing
	// Reporter prints what concerns the run as a whole.
	Reporter *platform.Reporter
	// Observers receive the events of every target (see Observer).
	Observers []Observer
}

// Result is what a run learned of one target, whatever its outcome, filled as far as the
// target went: the outputs and the report are made from it, above this package.
type Result struct {
	App, Region string
	// AppURL is the app's URL, known once the app was looked up.
	AppURL       string
	DeploymentID string
	// Status is the deployment's last known status; empty if none was created.
	Status Status
	// GitRef is the ref the deployment was sent with (as the API echoed it).
	GitRef string
	Health Health
	// LogTail is the end of the build log, for the summary of a failed deployment.
	LogTail string
	// LogLocations are the places the build log printed when the build or the postdeploy
	// hook failed (build-error, hook-error), as the log printed them.
	LogLocations []annotate.Candidate
	// Blamed are the repository's lines that LogLocations map to (at most
	// annotate.MaxPerTarget, first first). The flow does not know the archive's files:
	// the caller that does sets them (internal/run).
	Blamed []annotate.Location
	// MaybeCreated is set when the target failed after sending a deployment creation
	// whose outcome it could not learn: a deployment may exist that the outputs do not
	// name.
	MaybeCreated bool
	Duration     time.Duration
	// Err is the target's own failure, nil when it succeeded.
	Err error
}

// FailedError is a deployment that ended with a failing status (exit code 1).
type FailedError struct {
	ID, App string
	Status  Status
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("deployment %s failed: %s: %s", e.ID, e.Status, e.Status.Reason(e.App))
}

// TimeoutError is a deployment still running when the wait ran out (exit code 3).
type TimeoutError struct {
	ID, App, Region, LastStatus string
	After                       time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("stopped waiting after %s with deployment %s still %s; it goes on at Scalingo: follow it with `scalingo --app %s deployment-follow` or on the dashboard: %s",
		e.After, e.ID, e.LastStatus, e.App, DeploymentsURL(e.Region, e.App))
}

// TargetsError is the verdict of a run with several targets when at least one did not
// succeed. It unwraps to the failures when there are any, else to the timeouts, so that
// the exit code is 1 if any target failed, else 3.
type TargetsError struct {
	Results []*Result
}

func (e *TargetsError) Error() string {
	var b strings.Builder
	n := 0
	for _, r := range e.Results {
		if r.Err != nil {
			n++
		}
	}
	fmt.Fprintf(&b, "%d of %d apps did not deploy:", n, len(e.Results))
	for _, r := range e.Results {
		if r.Err != nil {
			fmt.Fprintf(&b, "\n[%s] %v", r.App, r.Err)
		}
	}
	return b.String()
}

func (e *TargetsError) Unwrap() []error {
	var failed, timedOut []error
	for _, r := range e.Results {
		var te *TimeoutError
		switch {
		case r.Err == nil:
		case errors.As(r.Err, &te):
			timedOut = append(timedOut, r.Err)
		default:
			failed = append(failed, r.Err)
		}
	}
	if len(failed) > 0 {
		return failed
	}
	return timedOut
}

// LookupError is a run stopped before anything was uploaded because some targets
// cannot be deployed to (missing, refused): each is named.
type LookupError struct {
	Results []*Result
}

func (e *LookupError) Error() string {
	var b strings.Builder
	b.WriteString("nothing was deployed: every app is looked up before anything is uploaded, and ")
	var bad []*Result
	for _, r := range e.Results {
		if r.Err != nil {
			bad = append(bad, r)
		}
	}
	if len(bad) == 1 {
		b.WriteString("this one cannot be used:")
	} else {
		fmt.Fprintf(&b, "these %d cannot be used:", len(bad))
	}
	for _, r := range bad {
		fmt.Fprintf(&b, "\n[%s] %v", r.App, r.Err)
	}
	return b.String()
}

func (e *LookupError) Unwrap() []error {
	var errs []error
	for _, r := range e.Results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errs
}

// Deploy deploys the archive to every target of p: each is looked up first, and if any
// cannot be used nothing is uploaded anywhere; then every target gets its own source and
// deployment, in parallel, each followed to its own end. The results are in the order of
// p.Targets and filled as far as each target went, also with an error.
func Deploy(ctx context.Context, p Plan) ([]*Result, error) {
	if len(p.Targets) == 0 {
		return nil, errors.New("no target to deploy to")
	}
	p.defaults()
	gitRef := p.Settings.GitRef
	if gitRef == "" {
		// A ref of our own names this run's deployments: Scalingo shows it as the
		// version, and it tells ours apart should the answer to a creation be lost.
		gitRef = newGitRef(p.Clock.Now())
		p.Reporter.Printf("No git ref given nor found in the CI environment: using %s.", gitRef)
	}
	ds := make([]*deployer, len(p.Targets))
	results := make([]*Result, len(p.Targets))
	for i, t := range p.Targets {
		// The targets' first polls spread over the second half of the first interval,
		// so that their polls do not all fall at once.
		n := time.Duration(len(p.Targets))
		first := p.Timing.PollInterval * (2*n - time.Duration(i)) / (2 * n)
		ds[i] = &deployer{Target: t, Clock: p.Clock, streamClock: p.StreamClock, Timing: p.Timing, firstPoll: first,
			arc: p.Archive, set: p.Settings, gitRef: gitRef, observers: p.Observers}
		results[i] = &Result{App: t.App, Region: t.Region, GitRef: gitRef}
	}

	// One token exchange serves every region; a refused token is said once.
	if err := p.Targets[0].Client.Authenticate(ctx); err != nil {
		return results, err
	}
	each(ds, func(i int, d *deployer) { results[i].Err = d.lookup(ctx, results[i]) })
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		if len(results) == 1 {
			return results, r.Err
		}
		return results, &LookupError{Results: results}
	}

	each(ds, func(i int, d *deployer) {
		start := p.Clock.Now()
		results[i].Err = d.deploy(ctx, results[i])
		results[i].Duration = p.Clock.Now().Sub(start)
		d.emit(Event{Kind: EventDone, Status: results[i].Status, Result: results[i]})
	})
	if len(results) == 1 {
		return results, results[0].Err
	}
	for _, r := range results {
		if r.Err != nil {
			return results, &TargetsError{Results: results}
		}
	}
	return results, nil
}

// each runs f for every deployer, in parallel, and returns when all are done.
func each(ds []*deployer, f func(int, *deployer)) {
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, d)
		}()
	}
	wg.Wait()
}

// Production intervals.
const (
	defaultPollInterval   = 5 * time.Second
	defaultQueuedNotice   = time.Minute
	defaultHealthInterval = 2 * time.Second
	defaultHealthTimeout  = 2 * time.Minute
	// pollsPerMinute is the share of the API's 60 requests a minute (less the
	// limiter's margin) that a run's status polls may take.
	pollsPerMinute = 36
)

func (p *Plan) defaults() {
	if p.Clock == nil {
		p.Clock = clock.Real
	}
	if p.StreamClock == nil {
		p.StreamClock = p.Clock
	}
	if p.Reporter == nil {
		p.Reporter = p.Targets[0].Reporter
	}
	if p.Timing.PollInterval <= 0 {
		p.Timing.PollInterval = defaultPollInterval
	}
	// Up to three targets poll every 5 s; beyond, each polls less often so that the
	// run's polls stay within pollsPerMinute and leave the rest of the budget to
	// sources, creations, log catch-ups and retries: 8 targets every 13.3 s, 20 every
	// 33 s. The stream keeps the log live meanwhile.
	p.Timing.PollInterval = max(p.Timing.PollInterval, time.Duration(len(p.Targets))*time.Minute/pollsPerMinute)
	if p.Timing.QueuedNotice <= 0 {
		p.Timing.QueuedNotice = defaultQueuedNotice
	}
	if p.Timing.HealthInterval <= 0 {
		p.Timing.HealthInterval = defaultHealthInterval
	}
	if p.Settings.HealthCheckTimeout <= 0 {
		p.Settings.HealthCheckTimeout = defaultHealthTimeout
	}
}

// newGitRef makes a git_ref for a run that has none: a timestamp, for people, and a
// random suffix, so that two runs in the same second differ.
func newGitRef(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("deploy-%s-%x", now.UTC().Format("20060102T150405Z"), b)
}
