package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/manifest"
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
	if !cfg.DryRun {
		// A destination found broken only after deploying would fail the job, and a
		// retried job would deploy a second time.
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
		if !cfg.Review.PR.ForkKnown && !cfg.Review.AllowForks {
			// The pipeline's own trigger rules must keep forks out (ci.ForkUnknown).
			r.Warning("%s", cfg.CI.ForkUnknown())
		}
	}
	// The run's mode: a fleet mode on the parents' review apps, a review app's destroy,
	// or a deploy.
	switch {
	case cfg.Fleet.Mode != "":
		return fleetMain(ctx, cfg, getenv, r, errOut, h)
	case destroying(cfg):
		return destroyMain(ctx, cfg, getenv, r, errOut, h)
	}

	rep := newRunReport(r)
	var fb *deployFeedback // pull-request feedback, feedback.go
	if !cfg.DryRun {
		var done func()
		fb, done = startFeedback(ctx, cfg, getenv, r, h)
		defer done()
		if fb != nil {
			h.observers = append(slices.Clip(h.observers), fb)
		}
	}
	results, size, err := deployRun(ctx, cfg, getenv, r, rep, h)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		// Interrupted: whatever failed then failed because of the signal.
		err = cause
	}
	if fb != nil {
		fb.finish(results) // before the verdict, which stays the last line
	}
	if results != nil {
		return rep.finish(errOut, cfg.OutputFile, results, size, err)
	}
	if err != nil {
		report(r, errOut, results, err)
	}
	return err
}

// deployRun builds the archive and, unless this is a dry run, deploys it to every
// target; size is the archive's. Nil results mean that nothing reached Scalingo, so
// there are no outputs to write.
func deployRun(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, obs deploy.Observer, h hooks) (results []*deploy.Result, size int64, err error) {
	arc, err := archive.Build(ctx, archive.Options{
		Path:            cfg.Path,
		Exclude:         cfg.Exclude,
		MaxSize:         cfg.MaxSize,
		TempDir:         getenv("TMPDIR"),
		Skip:            skipOutput(cfg.OutputFile, cfg.CodeQualityReport),
		SourceDateEpoch: cfg.SourceDateEpoch,
		// Every entry, whatever cfg.List: a failed build's log is mapped back to them.
		List:    true,
		Capture: capture(cfg),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("build the archive: %w", err)
	}
	defer arc.Close()
	describe(r, cfg, arc)
	var man *manifest.Manifest
	if cfg.Review.Enabled {
		if man, err = parseManifest(arc.Captured); err != nil {
			return nil, 0, err
		}
		if err := checkLinks(cfg, man); err != nil {
			return nil, 0, err
		}
	}
	if cfg.DryRun {
		return nil, 0, nil
	}

	clients, done, err := newClients(ctx, cfg, getenv, r, h)
	if err != nil {
		return nil, 0, err
	}
	defer done()

	plan := deploy.Plan{
		Archive: deploy.Archive{Body: arc.File, Size: arc.Size},
		Settings: deploy.Settings{
			GitRef:             cfg.GitRef,
			Wait:               cfg.Wait,
			Timeout:            cfg.Timeout,
			HealthCheck:        cfg.HealthCheck,
			HealthCheckTimeout: cfg.HealthCheckTimeout,
		},
		Clock:       h.clock,
		StreamClock: h.streamClock,
		Timing:      h.timing,
		Reporter:    r,
		Observers:   append([]deploy.Observer{obs}, h.observers...),
	}
	for _, v := range cfg.Env {
		plan.Settings.Env = append(plan.Settings.Env, scalingo.Variable{Name: v.Name, Value: v.Value})
	}
	if cfg.Review.Enabled {
		if plan.Targets, err = ensureChildren(ctx, cfg, man, clients, r, h); err != nil {
			return nil, 0, err
		}
	} else {
		for _, t := range cfg.Targets {
			plan.Targets = append(plan.Targets, deploy.Target{App: t.App, Region: t.Region, Client: clients[t.Region], Reporter: view(r, cfg, t.App)})
		}
	}
	results, err = deploy.Deploy(ctx, plan)
	if results != nil {
		pointAtFailures(r, cfg, arc, results)
	}
	return results, arc.Size, err
}

// view is the reporter of one target: r itself when it is the only one, else r's view
// that prefixes its lines with the app's name.
func view(r *platform.Reporter, cfg *config.Config, app string) *platform.Reporter {
	if len(cfg.Targets) > 1 {
		return r.For(app)
	}
	return r
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

// destroyMain is the run of a review app's destroy: no archive; the outputs name the
// review app and its status: destroyed, absent, or kept (review.CheckDestroy).
func destroyMain(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, errOut io.Writer, h hooks) error {
	out, err := destroyRun(ctx, cfg, getenv, r, h)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		err = cause
	}
	if out.App != "" {
		if werr := r.WriteOutputs(out, cfg.OutputFile); werr != nil {
			err = errors.Join(err, werr)
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

// outputsOf gathers the outputs of a run from its targets' results (the spec's rules:
// one target, as always; several, the set's status and each target's own variables).
// size is the archive's.
func outputsOf(results []*deploy.Result, size int64) platform.Outputs {
	type entry struct {
		App          string `json:"app"`
		Region       string `json:"region"`
		DeploymentID string `json:"deployment_id"`
		Status       string `json:"status"`
		AppURL       string `json:"app_url"`
		GitRef       string `json:"git_ref"`
		DashboardURL string `json:"dashboard_url"`
	}
	entries := make([]entry, len(results))
	for i, res := range results {
		entries[i] = entry{res.App, res.Region, res.DeploymentID, string(res.Status), res.AppURL, res.GitRef, res.DashboardURL()}
	}
	js, _ := json.Marshal(entries) // strings only: cannot fail
	if len(results) == 1 {
		res := results[0]
		return platform.Outputs{DeploymentID: res.DeploymentID, Status: string(res.Status), AppURL: res.AppURL,
			GitRef: res.GitRef, ArchiveSize: size, App: res.App, Health: string(res.Health), Deployments: string(js),
			DashboardURL: res.DashboardURL()}
	}
	out := platform.Outputs{GitRef: results[0].GitRef, ArchiveSize: size, Deployments: string(js), Status: "success"}
	names := map[string]int{}
	for _, res := range results {
		names[res.App]++
	}
	health := deploy.HealthUnchecked
	for _, res := range results {
		if out.Status == "success" && res.Status != deploy.StatusSuccess {
			out.Status = string(res.Status)
		}
		switch {
		case res.Health == deploy.HealthFailed || health == deploy.HealthFailed:
			health = deploy.HealthFailed
		case res.Health == deploy.HealthOK:
			health = deploy.HealthOK
		}
		suffix := config.OutputSuffix(res.App)
		if names[res.App] > 1 {
			suffix += "_" + config.OutputSuffix(res.Region)
		}
		out.PerApp = append(out.PerApp, platform.AppOutputs{Suffix: suffix,
			DeploymentID: res.DeploymentID, Status: string(res.Status), AppURL: res.AppURL})
	}
	out.Health = string(health)
	return out
}

// skipOutput keeps the tool's own output files out of the archive.
func skipOutput(files ...string) []string {
	var skip []string
	for _, f := range files {
		if f != "" {
			skip = append(skip, f)
		}
	}
	return skip
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
func report(r *platform.Reporter, errOut io.Writer, results []*deploy.Result, err error) {
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
	case len(results) == 1 && interrupted && len(notes) == 1:
		err = fmt.Errorf("%w: %s", err, notes[0])
	case len(notes) > 0:
		err = fmt.Errorf("%w\n  %s", err, strings.Join(notes, "\n  "))
	case interrupted:
		err = fmt.Errorf("%w: no deployment was created", err)
	}
	if r.Annotates() {
		r.Error("%s", err.Error())
		return
	}
	// An error may quote a file name or an API answer: escaped, as the reporter does.
	fmt.Fprintf(errOut, "scalingo-deploy: %s\n", platform.EscapeLines(err.Error()))
}

func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}
