package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Exit codes, as the README documents them.
const (
	exitOK      = 0
	exitFailed  = 1 // the deployment failed, or an API, upload or archive error
	exitInput   = 2 // invalid input, detected before any request
	exitTimeout = 3 // still running when the wait ran out
)

// ExitCode maps the error Run returned to the process's exit code.
func ExitCode(err error) int {
	var (
		input   interface{ InvalidInput() bool }
		timeout *deploy.TimeoutError
		outputs *outputsError
		sig     *SignalError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sig):
		return 128 + int(sig.Signal)
	case errors.As(err, &input) && input.InvalidInput():
		return exitInput
	case errors.As(err, &outputs):
		// Later steps would read missing outputs: a failure, whatever the wait's end.
		return exitFailed
	case errors.As(err, &timeout):
		return exitTimeout
	}
	return exitFailed
}

// SignalError is the cause of a run cancelled by SIGINT or SIGTERM (a cancelled CI job).
type SignalError struct{ Signal syscall.Signal }

func (e *SignalError) Error() string { return fmt.Sprintf("interrupted by %s", signalName(e.Signal)) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

func (h hooks) versionOr() string {
	if h.version == "" {
		return "dev"
	}
	return h.version
}

// outputsError is a failure to write the outputs, found after the deployment.
type outputsError struct{ err error }

func (e *outputsError) Error() string { return e.err.Error() }
func (e *outputsError) Unwrap() error { return e.err }

// hooks lets tests replace the clocks and the intervals; production sets only version.
type hooks struct {
	version     string      // the build's version; "": dev
	clock       clock.Clock // nil: the real clock
	streamClock clock.Clock // the stream's reconnect backoff; nil: clock
	timing      deploy.Timing
	clientOpts  func(*scalingo.Options)
	// observers watch the deploy's events besides the run's own (tests).
	observers []deploy.Observer
}

func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, h hooks) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		// Load keeps the token out of its messages, so no mask is needed yet.
		fmt.Fprintf(stderr, "scalingo-deploy: invalid input:\n%s\n", indent(platform.EscapeLines(err.Error())))
		if r := platform.New(ci.Detect(getenv), stdout, getenv, nil); r.Annotates() {
			r.Error("invalid input: %s", err)
		}
		return err
	}
	switch {
	case cfg.Help:
		io.WriteString(stdout, config.Usage())
		return nil
	case cfg.Version:
		fmt.Fprintf(stdout, "scalingo-deploy %s\n", h.versionOr())
		return nil
	}

	if h.clock == nil {
		h.clock = clock.Real
	}
	r := platform.New(cfg.CI, stdout, getenv, h.clock.Now)
	// Before anything else is printed: the runner masks from here on.
	for _, secret := range cfg.Secrets() {
		r.Mask(secret)
	}
	errOut := r.Stderr(stderr)
	for _, w := range cfg.Warnings {
		r.Warning("%s", w)
	}
	if !cfg.DryRun || cfg.Fleet.Mode != "" {
		// A destination found broken only after deploying would fail the job, and a
		// retried job would deploy a second time. A fleet mode's dry run writes its
		// outputs and summary too: a FIFO there would hang it. A deploy's or a destroy's
		// dry run writes none.
		if err := r.CheckDestinations(cfg.OutputFile); err != nil {
			report(r, errOut, nil, err)
			return err
		}
	}

	if cfg.Review.Enabled {
		// Before any request: a fork's code would run with this token.
		if err := review.CheckFork(cfg.CI, cfg.Review.PR, cfg.Review.AllowForks, cfg.Review.ForkLabel); err != nil {
			report(r, errOut, nil, err)
			return err
		}
		if !cfg.Review.PR.ForkKnown && !cfg.Review.AllowForks && !destroying(cfg) {
			// The pipeline's own trigger rules must keep forks out (ci.ForkUnknown); a
			// destroy runs none of the request's code.
			r.Warning("%s", cfg.CI.ForkUnknown())
		}
	}
	// The run's mode: a fleet mode on the parents' review apps (sweep.go), a review
	// app's destroy (destroy.go), or a deploy (deploy.go), of apps or their review apps.
	switch {
	case cfg.Fleet.Mode != "":
		return fleetMain(ctx, cfg, getenv, r, errOut, h)
	case destroying(cfg):
		return destroyMain(ctx, cfg, getenv, r, errOut, h)
	default:
		return deployMain(ctx, cfg, getenv, r, errOut, h)
	}
}

// newClients gives each region of the run its client; done releases them.
func newClients(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (map[string]*scalingo.Client, func(), error) {
	opts := scalingo.Options{
		AuthURL:   cfg.AuthURL,
		APIToken:  cfg.APIToken,
		UserAgent: "scalingo-deploy/" + h.versionOr(),
		Getenv:    getenv,
		Logf:      r.Printf,
		OnJWT:     r.Mask,
		Clock:     h.clock,
	}
	if h.clientOpts != nil {
		h.clientOpts(&opts)
	}
	client, err := scalingo.New(opts)
	if err != nil {
		return nil, nil, err
	}
	clients, err := regionClients(ctx, cfg, client)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return clients, client.Close, nil
}

// regionClients gives each region of the run a client of its API, all sharing base's
// session (one token exchange, one request budget). A region's API URL is the api-url
// input or a built-in one; the others are looked up, with one request for all.
func regionClients(ctx context.Context, cfg *config.Config, base *scalingo.Client) (map[string]*scalingo.Client, error) {
	urls := map[string]string{}
	var unknown []string
	for _, t := range cfg.Targets {
		if _, seen := urls[t.Region]; seen {
			continue
		}
		urls[t.Region] = cfg.APIURLFor(t.Region)
		if urls[t.Region] == "" {
			unknown = append(unknown, t.Region)
		}
	}
	if len(unknown) > 0 {
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		regions, err := base.Regions(ctx)
		if err != nil {
			return nil, fmt.Errorf("look up region %s: %w", strings.Join(unknown, ", "), err)
		}
		var known []string
		for _, reg := range regions {
			known = append(known, reg.Name)
			if u, ok := urls[reg.Name]; ok && u == "" {
				urls[reg.Name] = reg.API
			}
		}
		for _, name := range unknown {
			if urls[name] == "" {
				return nil, fmt.Errorf("region %q is not one of this token's regions (%s); set api-url to use another API", name, strings.Join(known, ", "))
			}
		}
	}
	clients := map[string]*scalingo.Client{}
	for region, u := range urls {
		c, err := base.ForRegion(u)
		if err != nil {
			return nil, fmt.Errorf("region %s: %w", region, err)
		}
		clients[region] = c.WithInput(apiURLInput(cfg, region, u))
	}
	return clients, nil
}

// apiURLInput names the input that sets a region's API URL, for the message when its
// host does not exist: api-url when given (it differs from the built-in one), else region.
func apiURLInput(cfg *config.Config, region, apiURL string) string {
	if region == cfg.Region && apiURL == cfg.APIURL && apiURL != config.Regions[region] {
		return "api-url"
	}
	return "region"
}

// report prints the run's error once, with what was done so far when that matters.
func report(r *platform.Reporter, errOut io.Writer, results []*deploy.Result, err error) {
	if msg := runMessage(results, err); len(msg) > 0 {
		say(r, errOut, strings.Join(msg, "\n"))
	}
}

// runMessage is err in words, first line first, with what the run leaves behind at
// Scalingo: a deployment that goes on after a signal, or one that may have been created.
// It is empty when err is nil and there is nothing to note.
func runMessage(results []*deploy.Result, err error) []string {
	var sig *SignalError
	interrupted := errors.As(err, &sig)
	var notes []string
	for _, res := range results {
		of := ""
		if len(results) > 1 {
			of = " of " + res.App
		}
		switch {
		case interrupted && res.DeploymentID != "":
			notes = append(notes, fmt.Sprintf("deployment %s%s was created and goes on at Scalingo (follow it with `scalingo --app %s deployment-follow`)", res.DeploymentID, of, res.App))
		case res.MaybeCreated:
			notes = append(notes, fmt.Sprintf("a deployment%s may have been created all the same: check the app's deployments (`scalingo --app %s deployments`) before deploying again", of, res.App))
		}
	}
	switch {
	case err == nil:
		return notes
	case len(results) == 1 && interrupted && len(notes) == 1:
		err = fmt.Errorf("%w: %s", err, notes[0])
	case len(notes) > 0:
		err = fmt.Errorf("%w\n  %s", err, strings.Join(notes, "\n  "))
	case interrupted:
		err = fmt.Errorf("%w: no deployment was created", err)
	}
	return []string{err.Error()}
}

// say prints the run's error: on GitHub as the step's annotation, elsewhere on stderr.
func say(r *platform.Reporter, errOut io.Writer, msg string) {
	if r.Annotates() {
		r.Error("%s", msg)
		return
	}
	// An error may quote a file name or an API answer: escaped, as the reporter does.
	fmt.Fprintf(errOut, "scalingo-deploy: %s\n", platform.EscapeLines(msg))
}

func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}
