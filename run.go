package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Exit codes, as the README documents them.
const (
	exitOK      = 0
	exitFailed  = 1 // the deployment failed, or an API, upload or archive error
	exitInput   = 2 // invalid input, detected before any request
	exitTimeout = 3 // still running when the wait ran out
)

// exitCode maps the error run returned to the process's exit code.
func exitCode(err error) int {
	var (
		input   interface{ InvalidInput() bool }
		timeout *deploy.TimeoutError
		sig     *signalError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sig):
		return 128 + int(sig.sig)
	case errors.As(err, &input) && input.InvalidInput():
		return exitInput
	case errors.As(err, &timeout):
		return exitTimeout
	}
	return exitFailed
}

// hooks lets tests replace the clock and the poll interval; production uses the zero
// value.
type hooks struct {
	deps       deploy.Deps
	clientOpts func(*scalingo.Options)
}

// run is the whole program, with its environment passed in. It reports its own error
// (once, through the platform's reporter so that secrets are masked) and returns it for
// the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, getenv, stdout, stderr, hooks{})
}

func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, h hooks) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		// Load keeps the token out of its messages, so no mask is needed yet.
		fmt.Fprintf(stderr, "scalingo-deploy: invalid input:\n%s\n", indent(platform.EscapeLines(err.Error())))
		if p := config.Detect(getenv); p == config.GitHub {
			platform.New(p, stdout, getenv, nil).Error("invalid input: %s", err)
		}
		return err
	}
	switch {
	case cfg.Help:
		io.WriteString(stdout, config.Usage())
		return nil
	case cfg.Version:
		fmt.Fprintf(stdout, "scalingo-deploy %s\n", version)
		return nil
	}

	now := time.Now
	if h.deps.Now != nil {
		now = h.deps.Now
	}
	r := platform.New(cfg.Platform, stdout, getenv, now)
	// Before anything else is printed: the runner masks from here on.
	r.Mask(cfg.APIToken)
	errOut := r.Stderr(stderr)
	if !cfg.DryRun {
		// A destination found broken only after deploying would fail the job, and a
		// retried job would deploy a second time.
		if err := r.CheckDestinations(cfg.OutputFile); err != nil {
			report(r, errOut, cfg, nil, err)
			return err
		}
	}

	start := now()
	res, err := deployRun(ctx, cfg, getenv, r, h)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		// Interrupted: whatever failed then failed because of the signal.
		err = cause
	}
	if res != nil {
		if werr := r.WriteOutputs(res.Outputs, cfg.OutputFile); werr != nil {
			err = errors.Join(err, werr)
		}
		o := res.Outputs
		sum := platform.Summary{App: cfg.App, Region: cfg.Region, DeploymentID: o.DeploymentID, GitRef: o.GitRef,
			Status: o.Status, Duration: now().Sub(start), ArchiveSize: o.ArchiveSize, AppURL: o.AppURL}
		if err != nil {
			sum.LogTail = res.LogTail
		}
		if o.DeploymentID != "" || err != nil {
			if serr := r.WriteSummary(sum); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		r.Printf("%s", sum.Line())
	}
	if err != nil {
		report(r, errOut, cfg, res, err)
	}
	return err
}

// deployRun builds the archive and, unless this is a dry run, deploys it. A nil result
// means that nothing reached Scalingo, so there are no outputs to write.
func deployRun(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, h hooks) (*deploy.Result, error) {
	arc, err := archive.Build(ctx, archive.Options{
		Path:            cfg.Path,
		Exclude:         cfg.Exclude,
		MaxSize:         cfg.MaxSize,
		TempDir:         getenv("TMPDIR"),
		Skip:            skipOutput(cfg.OutputFile),
		SourceDateEpoch: cfg.SourceDateEpoch,
		List:            cfg.List,
	})
	if err != nil {
		return nil, fmt.Errorf("build the archive: %w", err)
	}
	defer arc.Close()
	describe(r, cfg, arc)
	if cfg.DryRun {
		return nil, nil
	}

	opts := scalingo.Options{
		APIURL:    cfg.APIURL,
		AuthURL:   cfg.AuthURL,
		APIToken:  cfg.APIToken,
		UserAgent: "scalingo-deploy/" + version,
		Getenv:    getenv,
		Logf:      r.Printf,
		OnJWT:     r.Mask,
	}
	if h.deps.Now != nil {
		opts.Now = h.deps.Now
	}
	if h.clientOpts != nil {
		h.clientOpts(&opts)
	}
	client, err := scalingo.New(opts)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	deps := h.deps
	deps.Client, deps.Reporter = client, r
	return deploy.Run(ctx, cfg, deploy.Archive{Body: arc.File, Size: arc.Size}, deps)
}

// skipOutput keeps the tool's own output file out of the archive.
func skipOutput(file string) []string {
	if file == "" {
		return nil
	}
	return []string{file}
}

// describe prints what the archive holds; with dry-run, in detail.
func describe(r *platform.Reporter, cfg *config.Config, arc *archive.Result) {
	how := "built from " + cfg.Path
	switch {
	case arc.Repacked:
		how = "repacked from " + cfg.Path
	case arc.Prebuilt:
		how = "prebuilt: " + cfg.Path
	}
	r.Printf("Archive %s: %d entries, %s compressed, %s uncompressed, sha256 %s",
		how, arc.Count, platform.HumanBytes(arc.Size), platform.HumanBytes(arc.UncompressedSize), arc.SHA256)
	if !cfg.DryRun {
		return
	}
	// Entry names come from the tree or the archive: escaped, and on GitHub inside a
	// stop-commands block.
	r.Printf("Dry run: nothing is sent. Largest entries:")
	var b strings.Builder
	for _, e := range arc.Largest {
		fmt.Fprintf(&b, "  %10s  %s\n", platform.HumanBytes(e.Size), platform.Escape(e.Name))
	}
	r.Untrusted(b.String())
	if cfg.List {
		r.Printf("Every entry (folders end in /):")
		b.Reset()
		for _, e := range arc.Entries {
			fmt.Fprintf(&b, "  %s\n", platform.Escape(e.Name))
		}
		r.Untrusted(b.String())
	}
}

// report prints the run's error once, with what was done so far when that matters.
func report(r *platform.Reporter, errOut io.Writer, cfg *config.Config, res *deploy.Result, err error) {
	var sig *signalError
	switch {
	case errors.As(err, &sig) && res != nil && res.Outputs.DeploymentID != "":
		err = fmt.Errorf("%w: deployment %s was created and goes on at Scalingo (follow it with `scalingo --app %s deployment-follow`)", err, res.Outputs.DeploymentID, cfg.App)
	case res != nil && res.MaybeCreated:
		err = fmt.Errorf("%w\n  a deployment may have been created all the same: check the app's deployments (`scalingo --app %s deployments`) before deploying again", err, cfg.App)
	case errors.As(err, &sig):
		err = fmt.Errorf("%w: no deployment was created", err)
	}
	if r.Kind() == config.GitHub {
		r.Error("%s", err.Error())
		return
	}
	// An error may quote a file name or an API answer: escaped, as the reporter does.
	fmt.Fprintf(errOut, "scalingo-deploy: %s\n", platform.EscapeLines(err.Error()))
}

func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}
