package deploy

import (
	"errors"
	"strings"
)

// Status is a deployment's status, as the API names it.
type Status string

// The statuses a deployment goes through. A status not listed here is unknown: the wait
// goes on, with a warning, until a known one or the timeout.
const (
	StatusQueued   Status = "queued"
	StatusBuilding Status = "building"
	StatusPushing  Status = "pushing"
	StatusStarting Status = "starting"

	StatusSuccess      Status = "success"
	StatusBuildError   Status = "build-error"
	StatusCrashedError Status = "crashed-error"
	StatusTimeoutError Status = "timeout-error"
	StatusHookError    Status = "hook-error"
	StatusAborted      Status = "aborted"
)

// reasons says, for each terminal status, what it means for the user and where to look;
// APP stands for the app's name.
var reasons = map[Status]string{
	StatusSuccess:      "the app runs the new version",
	StatusBuildError:   "the build failed: read its log (buildpack detection, dependencies, compilation)",
	StatusCrashedError: "the app did not start: see its logs with `scalingo --app APP logs` and check the Procfile's commands",
	StatusTimeoutError: "the app did not listen on $PORT within 60 seconds of starting: bind 0.0.0.0:$PORT",
	StatusHookError:    "the postdeploy hook failed; the previous version keeps running: see `scalingo --app APP logs`",
	StatusAborted:      "the deployment was aborted (cancelled, or the builder lost its connection): deploy again",
}

// Terminal tells whether s ends a deployment.
func (s Status) Terminal() bool {
	_, ok := reasons[s]
	return ok
}

// Running tells whether s is a known status of a deployment still under way.
func (s Status) Running() bool {
	switch s {
	case StatusQueued, StatusBuilding, StatusPushing, StatusStarting:
		return true
	}
	return false
}

// Failed tells whether s ends a deployment without the new version running.
func (s Status) Failed() bool { return s.Terminal() && s != StatusSuccess }

// Reason says in one line what a terminal status means and where to look, naming app in
// the commands it suggests.
func (s Status) Reason(app string) string {
	r, ok := reasons[s]
	if !ok {
		return "unknown status"
	}
	return strings.ReplaceAll(r, "APP", app)
}

// Health is the verdict of a target's health check.
type Health string

const (
	HealthUnchecked Health = ""       // no check asked, or the deployment did not succeed
	HealthOK        Health = "ok"     // the app answered 2xx or 3xx
	HealthFailed    Health = "failed" // no good answer in time
)

// Outcome is how one target ended, in the words a person (or a forge's deployment
// status) uses.
type Outcome int

const (
	// OutcomeDeployed: the new version runs, and answered the health check if one ran.
	OutcomeDeployed Outcome = iota
	// OutcomeStarted: the deployment was created and not waited for (wait=false).
	OutcomeStarted
	// OutcomeFailed: the deployment ended with a failing status (FailedError).
	OutcomeFailed
	// OutcomeUnhealthy: the deployment succeeded; the health check did not pass.
	OutcomeUnhealthy
	// OutcomeTimedOut: still running at Scalingo when the wait ran out.
	OutcomeTimedOut
	// OutcomeError: stopped by an error of its own (API, upload, interrupted): there may
	// be no deployment.
	OutcomeError
)

// Outcome tells how the target ended.
func (r *Result) Outcome() Outcome {
	var (
		fe *FailedError
		te *TimeoutError
		he *HealthError
	)
	switch {
	case r.Err == nil && r.Status.Terminal():
		return OutcomeDeployed
	case r.Err == nil && r.DeploymentID != "":
		return OutcomeStarted
	case r.Err == nil:
		return OutcomeError // nothing deployed: another target's look-up failed
	case errors.As(r.Err, &te):
		return OutcomeTimedOut
	case errors.As(r.Err, &he):
		return OutcomeUnhealthy
	case errors.As(r.Err, &fe):
		return OutcomeFailed
	}
	return OutcomeError
}
