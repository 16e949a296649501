package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/manifest"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// deployMain is the run of a deploy: the archive, then each target's deployment (a
// review app's, in a review run), followed to a verdict; then the outputs, the summary
// and the verdict in words.
func deployMain(ctx context.Context, cfg *config.Config, getenv func(string) string, r *platform.Reporter, errOut io.Writer, h hooks) error {
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
