package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
)

// The fleet modes (review-app-sweep, -sleep, -wake) work on each parent's review apps
// as a whole, from a scheduled pipeline: no pull request, no archive. Their outputs
// are the deployments JSON of every child (what was done with it and why), the parents
// as app, and the mode's status.

// fleetStatus is the status output of a fleet mode that completed.
var fleetStatus = map[string]string{config.Sweep: "swept", config.Sleep: "asleep", config.Wake: "awake"}

var fleetTitle = map[string]string{config.Sweep: "Review apps swept", config.Sleep: "Review apps put to sleep", config.Wake: "Review apps woken"}

// fleetMain runs a fleet mode and reports it: a plain line and a summary row per child.
func fleetMain(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, errOut io.Writer, h hooks) error {
	verdicts, err := fleetRun(ctx, cfg, getenv, r, h)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		err = cause
	}
	if verdicts != nil {
		out := platform.Outputs{App: parentsOf(cfg), Status: fleetStatus[cfg.Fleet.Mode]}
		if cfg.DryRun {
			out.Status = "dry-run"
		}
		if err != nil {
			out.Status = "failed"
		}
		js, _ := json.Marshal(verdicts) // strings only: cannot fail
		out.Deployments = string(js)
		if werr := r.WriteOutputs(out, cfg.OutputFile); werr != nil {
			err = errors.Join(err, &outputsError{werr})
		}
		rows := make([]platform.FleetRow, len(verdicts))
		for i, v := range verdicts {
			rows[i] = platform.FleetRow{App: v.App, Parent: v.Parent, Status: v.Status, Reason: v.Reason}
			r.Printf("%s", rows[i].Line())
		}
		title := fleetTitle[cfg.Fleet.Mode]
		if cfg.DryRun {
			title += " (dry run: nothing changed)"
		}
		if serr := r.AppendSummary(platform.FleetTable(title, rows)); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if err != nil {
		report(r, errOut, nil, err)
	}
	return err
}

// fleetRun runs the mode on each parent in turn. The verdicts are nil when nothing
// could be listed.
func fleetRun(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) ([]review.Verdict, error) {
	clients, done, err := newClients(ctx, cfg, getenv, r, h)
	if err != nil {
		return nil, err
	}
	defer done()
	if cfg.DryRun {
		r.Printf("Dry run: the review apps are read; nothing is changed.")
	}
	targets := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		targets[i] = t.App
	}
	var closed func(ctx context.Context, n int) (bool, error)
	if cfg.Fleet.Mode == config.Sweep {
		var closeForge func()
		closed, closeForge = forgeClosed(cfg, getenv, r, h)
		defer closeForge()
	}
	var all []review.Verdict
	var errs []error
	listed := false
	for _, t := range cfg.Targets {
		f := &review.Fleet{Parent: t.App, Region: t.Region, Client: clients[t.Region], Reporter: view(r, cfg, t.App),
			Targets: targets, DryRun: cfg.DryRun, Clock: h.clock, PollInterval: h.timing.PollInterval, Timeout: cfg.Timeout, Closed: closed}
		if f.PollInterval <= 0 {
			f.PollInterval = fleetPoll
		}
		tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		var vs []review.Verdict
		switch cfg.Fleet.Mode {
		case config.Sweep:
			vs, err = f.Sweep(tctx, cfg.Fleet.MaxAge)
		case config.Sleep:
			vs, err = f.Sleep(tctx)
		case config.Wake:
			vs, err = f.Wake(tctx)
		}
		cancel()
		listed = listed || vs != nil
		all = append(all, vs...)
		if err != nil {
			if len(cfg.Targets) > 1 {
				err = fmt.Errorf("[%s] %w", t.App, err)
			}
			errs = append(errs, err)
		}
	}
	if !listed && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if all == nil {
		all = []review.Verdict{}
	}
	return all, errors.Join(errs...)
}

// fleetPoll is the time between two checks of a scale operation.
const fleetPoll = 3 * time.Second

func parentsOf(cfg *config.Config) string {
	names := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		names[i] = t.App
	}
	return strings.Join(names, ",")
}
