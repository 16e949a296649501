package run

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/manifest"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/review"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Review apps are a step before the deploy: each target of the run is a parent, its
// child is ensured (set up until its first deployment, never deployed before that) and
// becomes the deploy's target.

// children names each parent's review app.
func children(cfg *config.Config, clients map[string]*scalingo.Client, r *platform.Reporter) []review.Child {
	out := make([]review.Child, len(cfg.Targets))
	for i, t := range cfg.Targets {
		name := cfg.ReviewAppName(t.App)
		out[i] = review.Child{Name: name, Parent: t.App, Region: t.Region, Fixed: cfg.Review.Name != "",
			Client: clients[t.Region], Reporter: view(r, cfg, name)}
	}
	return out
}

// capture names the file the archive keeps for a review run: the manifest.
func capture(cfg *config.Config) string {
	if cfg.Review.Enabled {
		return manifest.FileName
	}
	return ""
}

// parseManifest reads the scalingo.json captured from the archive, nil when there is
// none. An invalid one is invalid input, found before any request.
func parseManifest(data []byte) (*manifest.Manifest, error) {
	if data == nil {
		return nil, nil
	}
	return manifest.Parse(data)
}

// reviewSetup is how a new review app of the run is configured: the inputs first, the
// manifest for what they leave out.
func reviewSetup(cfg *config.Config, man *manifest.Manifest, h hooks) (review.Setup, error) {
	s := review.Setup{CopyEnv: cfg.Review.CopyEnv, Timeout: cfg.Timeout, Clock: h.clock, PollInterval: h.timing.PollInterval}
	for _, v := range cfg.Env {
		s.Env = append(s.Env, scalingo.Variable{Name: v.Name, Value: v.Value})
	}
	for _, item := range cfg.Review.Addons {
		a, err := manifest.ParseAddon(item)
		if err != nil {
			return s, fmt.Errorf("addons: %w", err)
		}
		s.Addons = append(s.Addons, review.Addon{Provider: a.Provider, Plan: a.Plan})
	}
	if man == nil {
		return s, nil
	}
	if len(cfg.Review.Addons) == 0 && man.AddonsSet {
		for _, a := range man.Addons {
			s.Addons = append(s.Addons, review.Addon{Provider: a.Provider, Plan: a.Plan, Version: a.Version})
		}
	}
	s.FirstDeploy = man.FirstDeploy
	for _, name := range slices.Sorted(maps.Keys(man.Formation)) {
		f := man.Formation[name]
		s.Formation = append(s.Formation, scalingo.Container{Name: name, Amount: f.Amount, Size: f.Size})
	}
	return s, nil
}

// ensureChildren ensures every review app of the run and returns them as the deploy's
// targets. All of them are found or created first (in parallel); then every value is
// resolved, %URL:api% and %APP:api% included, which name another parent's review app;
// then each is set up. If any cannot be used, nothing is deployed.
func ensureChildren(ctx context.Context, cfg *config.Config, man *manifest.Manifest, clients map[string]*scalingo.Client, r *platform.Reporter, h hooks) ([]deploy.Target, error) {
	setup, err := reviewSetup(cfg, man, h)
	if err != nil {
		return nil, err
	}
	if !cfg.Wait && len(setup.Formation) > 0 {
		r.Warning("wait is false: scalingo.json's formation is not applied (it follows the first successful deployment, which this run does not wait for, and later runs leave a deployed review app alone): scale the review app by hand")
	}
	secret := map[string]bool{}
	if man != nil {
		for _, v := range man.Env {
			secret[v.Name] = v.Generator == "secret"
			if v.Generator == "" && (v.Value == nil || *v.Value == "") {
				setup.Unset = append(setup.Unset, v.Name)
			}
		}
	}
	kids := children(cfg, clients, r)
	tag := func(c review.Child, err error) error {
		if err != nil && len(kids) > 1 {
			return fmt.Errorf("[%s] %w", c.Name, err)
		}
		return err
	}
	stopped := func(err error) error {
		if len(kids) > 1 {
			return fmt.Errorf("nothing was deployed: every review app is made ready before anything is uploaded, and:\n%w", err)
		}
		return err
	}

	// Found or created, every one, before any value is resolved.
	prepared := make([]*review.Prepared, len(kids))
	errs := make([]error, len(kids))
	var wg sync.WaitGroup
	for i, c := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prepared[i], errs[i] = review.Prepare(ctx, c, setup)
			errs[i] = tag(c, errs[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// The others are not set up: those this run made, or never deployed, go.
		for _, p := range prepared {
			if p != nil {
				errs = append(errs, tag(p.Child, p.Abandon(ctx, errors.New("another review app of the run could not be made ready"))))
			}
		}
		return nil, stopped(errors.Join(errs...))
	}
	siblings := map[string]manifest.Sibling{}
	for _, p := range prepared {
		siblings[p.Parent] = manifest.Sibling{App: p.Name, URL: p.URL()}
	}

	targets := make([]deploy.Target, len(kids))
	for i, p := range prepared {
		s := setup
		s.Env = linkEnv(setup.Env, siblings)
		if man != nil && len(man.Env) > 0 {
			c := p.Child
			s.Values = func(url string) ([]review.Value, error) {
				vars, err := man.Values(manifest.Context{App: c.Name, ParentApp: c.Parent, URL: url, PRNumber: cfg.Review.PR.Number, Siblings: siblings}, rand.Reader)
				out := make([]review.Value, len(vars))
				for j, v := range vars {
					out[j] = review.Value{Name: v.Name, Value: v.Value, Secret: secret[v.Name]}
				}
				return out, err
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			targets[i], errs[i] = p.Finish(ctx, s)
			errs[i] = tag(p.Child, errs[i])
			// The deploy flow sets env on every run: resolved for this review app.
			targets[i].Env = s.Env
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, stopped(err)
	}
	return targets, nil
}

// linkEnv resolves the references to the run's review apps in env's values.
func linkEnv(env []scalingo.Variable, siblings map[string]manifest.Sibling) []scalingo.Variable {
	out := make([]scalingo.Variable, len(env))
	for i, v := range env {
		out[i] = scalingo.Variable{Name: v.Name, Value: manifest.Link(v.Value, siblings)}
	}
	return out
}

// checkLinks refuses, before any request, a manifest template that names a review app
// of a parent that is not in the run.
func checkLinks(cfg *config.Config, man *manifest.Manifest) error {
	if man == nil {
		return nil
	}
	var errs []error
	for _, name := range man.LinkNames() {
		if err := config.CheckLink(cfg.Targets, name); err != nil {
			errs = append(errs, &manifest.Error{Field: "env", Msg: err.Error()})
		}
	}
	return errors.Join(errs...)
}
