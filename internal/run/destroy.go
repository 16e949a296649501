package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
)

// destroying tells a review run that deletes rather than deploys: destroy: true, or a
// GitHub pull request event whose action is closed.
func destroying(cfg *config.Config) bool {
	return cfg.Review.Enabled && (cfg.Review.Destroy || cfg.Review.PR.Closed)
}

// destroyMain is the run of a review app's destroy: no archive; the outputs name the
// review app and its status: destroyed, absent, or kept (review.CheckDestroy).
func destroyMain(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, errOut io.Writer, h hooks) error {
	out, err := destroyRun(ctx, cfg, getenv, r, h)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		err = cause
	}
	if out.App != "" {
		if werr := r.WriteOutputs(out, cfg.OutputFile); werr != nil {
			err = errors.Join(err, &outputsError{werr})
		}
		r.Printf("scalingo-deploy: review-app=%s status=%s", platform.Escape(out.App), platform.Escape(orUnknown(out.Status)))
		feedbackDestroyed(ctx, cfg, getenv, r, h, out) // feedback.go
	}
	if err != nil {
		report(r, errOut, nil, err)
	}
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// destroyRun deletes the review app of every parent of the run; no archive is built.
// The outputs name the review app and say whether it was destroyed or absent.
func destroyRun(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (platform.Outputs, error) {
	// Before any request: what may be deleted depends on the inputs alone.
	targets := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		targets[i] = t.App
	}
	kids := children(cfg, nil, r)
	keep, err := review.CheckDestroy(kids, targets, cfg.Review.Destroy)
	if err != nil {
		return platform.Outputs{}, err
	}
	if keep {
		r.Notice("%s", review.KeptNotice)
		if cfg.DryRun {
			return platform.Outputs{}, nil
		}
		return platform.Outputs{App: kids[0].Name, Status: review.Kept}, nil
	}
	if cfg.DryRun {
		for _, c := range kids {
			r.Printf("Dry run: nothing is sent. Review app %s of %s would be deleted, if it is one.", c.Name, c.Parent)
		}
		return platform.Outputs{}, nil
	}
	clients, done, err := newClients(ctx, cfg, getenv, r, h)
	if err != nil {
		return platform.Outputs{}, err
	}
	defer done()
	kids = children(cfg, clients, r)
	statuses := make([]string, len(kids))
	errs := make([]error, len(kids))
	var wg sync.WaitGroup
	for i, c := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], errs[i] = review.Destroy(ctx, c, cfg.Timeout)
			if errs[i] != nil && len(kids) > 1 {
				errs[i] = fmt.Errorf("[%s] %w", c.Name, errs[i])
			}
		}()
	}
	wg.Wait()
	if len(kids) == 1 {
		return platform.Outputs{App: kids[0].Name, Status: statuses[0]}, errs[0]
	}
	// Several: each review app's own status; the run's is destroyed once every one is
	// gone and at least one was deleted.
	var out platform.Outputs
	var names []string
	out.Status = review.Absent
	for i, c := range kids {
		names = append(names, c.Name)
		out.PerApp = append(out.PerApp, platform.AppOutputs{Suffix: config.OutputSuffix(c.Name), Status: statuses[i]})
		if statuses[i] == review.Destroyed {
			out.Status = review.Destroyed
		}
	}
	out.App = strings.Join(names, ",")
	if err := errors.Join(errs...); err != nil {
		out.Status = ""
		return out, err
	}
	return out, nil
}
