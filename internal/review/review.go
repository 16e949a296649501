// Package review makes review apps: the step before a deploy that ensures each parent's
// child app exists, configures it once when it is created, and hands it to the deploy
// flow as its target; and the destroy that deletes it when the request is closed. It
// never changes or deletes an app that is not a child of the parent it was named for.
package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// Child is one review app: its name, its parent (a target of the run), the region they
// share and that region's client.
type Child struct {
	Name, Parent, Region string
	Client               *scalingo.Client
	Reporter             *platform.Reporter
}

// Addon is one addon to provision on a new review app; Version, when set, is the
// provider's version option.
type Addon struct{ Provider, Plan, Version string }

func (a Addon) String() string { return a.Provider + ":" + a.Plan }

// Value is one variable set on a new review app. Secret values are masked before
// anything is printed.
type Value struct {
	Name, Value string
	Secret      bool
}

// Setup is how a new review app is configured; an app that exists already is left as it
// is. Variables apply in this order, the later winning: CopyEnv, then Values; the run's
// env is set by the deploy flow afterwards, on every run, and wins over both.
type Setup struct {
	// CopyEnv names the parent's variables to copy; NAME* matches by prefix.
	CopyEnv []string
	// Values gives the variables of the manifest, once the app's URL is known; nil: none.
	Values func(url string) ([]Value, error)
	// Unset names the manifest's variables whose value is null or "": Scalingo's way to
	// remove one, so a copy of that name is dropped.
	Unset []string
	// Addons are provisioned, then waited for until running, before the deployment.
	Addons []Addon
	// FirstDeploy is the first deployment's postdeploy_hook.
	FirstDeploy string
	// Formation is applied after the first successful deployment.
	Formation []scalingo.Container

	// Timeout bounds each wait: the addons until running, the scale operation.
	Timeout time.Duration
	Clock   clock.Clock
	// PollInterval is the time between two checks of addons or of an operation: 3 s.
	PollInterval time.Duration
}

// ForkError refuses a request from another repository: its code would run with the
// parent's token and copies. CI words the message as that CI does.
type ForkError struct{ CI ci.CI }

func (e ForkError) Error() string {
	return fmt.Sprintf("this %s comes from a fork: its code would run with this repository's Scalingo token and the copied variables; set %s to deploy review apps of forks",
		e.CI.RequestWord(), e.CI.Setting("allow-forks", "true"))
}

// CheckFork refuses a fork's request unless allowed. It sends nothing.
func CheckFork(c ci.CI, pr ci.PR, allowForks bool) error {
	if pr.Fork && !allowForks {
		return ForkError{CI: c}
	}
	return nil
}

// NotChildError is an app that exists under the review app's name and is not a child of
// its parent: it is never touched.
type NotChildError struct{ App, Parent, ActualParent string }

func (e *NotChildError) Error() string {
	of := "it is not a child app"
	if e.ActualParent != "" {
		of = "it is a child of " + e.ActualParent
	}
	return fmt.Sprintf("app %s exists and is not a review app of %s (%s): it is left untouched; choose another review-app-name", e.App, e.Parent, of)
}

// lookup GETs the child: nil with no error when it does not exist.
func lookup(ctx context.Context, c Child) (*scalingo.App, error) {
	app, err := c.Client.App(ctx, c.Name)
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up review app %s: %w", c.Name, err)
	}
	if app.ParentAppName != c.Parent {
		return nil, &NotChildError{App: c.Name, Parent: c.Parent, ActualParent: app.ParentAppName}
	}
	return app, nil
}

// Ensure makes sure c exists as a child of its parent, configures it if it was just
// created, and returns it as a deploy target. An existing child is reused as it is;
// an existing app that is not a child of the parent is an error and is left untouched.
func Ensure(ctx context.Context, c Child, s Setup) (deploy.Target, error) {
	s.defaults()
	t := deploy.Target{App: c.Name, Region: c.Region, Client: c.Client, Reporter: c.Reporter}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	app, err := lookup(ctx, c)
	if err != nil {
		return t, err
	}
	if app != nil {
		c.Reporter.Printf("Review app %s of %s exists: deploying to it, its configuration left as it is.", c.Name, c.Parent)
		if s.FirstDeploy == "" && len(s.Formation) == 0 {
			return t, nil
		}
		// What belongs to the first successful deployment waits for one, as Scalingo
		// runs first-deploy until a deployment succeeds.
		deps, err := c.Client.Deployments(ctx, c.Name, 20)
		if err != nil {
			return t, fmt.Errorf("list the deployments of review app %s: %w", c.Name, err)
		}
		if slices.ContainsFunc(deps, func(d scalingo.Deployment) bool { return d.Status == "success" }) {
			return t, nil
		}
		firstDeploy(&t, c, s)
		return t, nil
	}

	// Plans are resolved before the app is created: a wrong plan name leaves nothing
	// behind.
	plans := make([]string, len(s.Addons))
	for i, a := range s.Addons {
		if plans[i], err = planID(ctx, c.Client, a); err != nil {
			return t, err
		}
	}
	app, err = c.Client.CreateChildApp(ctx, c.Parent, c.Name)
	if err != nil {
		var apiErr *scalingo.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
			return t, fmt.Errorf("create review app %s of %s: %w", c.Name, c.Parent, err)
		}
		// A lost answer may have created it: a later run would reuse it unconfigured.
		return t, fmt.Errorf("create review app %s of %s: %w\n  it may have been created all the same, not configured: if it exists, delete it (destroy: true) and run again", c.Name, c.Parent, err)
	}
	url := app.BaseURL
	if url == "" {
		url = app.URL
	}
	c.Reporter.Printf("Created review app %s of %s (%s).", c.Name, c.Parent, url)

	if err := configure(ctx, c, s, url, plans); err != nil {
		// Later runs reuse the app as it is: say how to start again.
		return t, fmt.Errorf("%w\n  review app %s was created but is not fully configured: delete it (destroy: true) and run again", err, c.Name)
	}
	firstDeploy(&t, c, s)
	return t, nil
}

// firstDeploy gives the target what goes with the first successful deployment: the
// first-deploy hook and the formation.
func firstDeploy(t *deploy.Target, c Child, s Setup) {
	t.PostdeployHook = s.FirstDeploy
	if len(s.Formation) > 0 {
		t.AfterSuccess = func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, s.Timeout)
			defer cancel()
			return scale(ctx, c, s)
		}
	}
}

// configure sets a new review app's variables and provisions its addons, then waits
// until they run.
func configure(ctx context.Context, c Child, s Setup, url string, plans []string) error {
	if err := emptyVariables(ctx, c); err != nil {
		return err
	}
	vars, err := values(ctx, c, s, url)
	if err != nil {
		return err
	}
	if len(vars) > 0 {
		// Before the first deployment, which picks them up.
		if err := c.Client.SetVariables(ctx, c.Name, vars); err != nil {
			return fmt.Errorf("set the variables of review app %s: %w", c.Name, err)
		}
		c.Reporter.Printf("Set %d variables on %s.", len(vars), c.Name)
	}
	for i, a := range s.Addons {
		if _, err := c.Client.ProvisionAddon(ctx, c.Name, a.Provider, plans[i], a.Version); err != nil {
			return fmt.Errorf("provision addon %s on review app %s: %w", a, c.Name, err)
		}
		c.Reporter.Printf("Provisioning addon %s on %s.", a, c.Name)
	}
	if len(s.Addons) > 0 {
		return waitAddons(ctx, c, s)
	}
	return nil
}

// emptyVariables removes whatever variables a new review app holds: Scalingo's docs have
// said both that a child gets a copy of its parent's variables and that it gets nothing
// (review-apps.md §1.2), and production's secrets must not reach pull-request code unless
// copy-env names them. Names are printed, never values.
func emptyVariables(ctx context.Context, c Child) error {
	held, err := c.Client.Variables(ctx, c.Name)
	if err != nil {
		return fmt.Errorf("read the variables of new review app %s: %w", c.Name, err)
	}
	var names []string
	for _, v := range held {
		c.Reporter.Mask(v.Value)
		if err := c.Client.DeleteVariable(ctx, c.Name, v.ID); err != nil {
			return fmt.Errorf("remove variable %s that new review app %s held: %w", v.Name, c.Name, err)
		}
		names = append(names, v.Name)
	}
	if len(names) > 0 {
		slices.Sort(names)
		c.Reporter.Printf("Removed %d variables that %s held on creation (%s): a review app gets only what copy-env, scalingo.json and env give it.", len(names), c.Name, strings.Join(names, ", "))
	}
	return nil
}

func (s *Setup) defaults() {
	if s.Clock == nil {
		s.Clock = clock.Real
	}
	if s.PollInterval <= 0 {
		s.PollInterval = 3 * time.Second
	}
	if s.Timeout <= 0 {
		s.Timeout = 15 * time.Minute
	}
}

// planID resolves a plan name to its id (an id is accepted as is).
func planID(ctx context.Context, client *scalingo.Client, a Addon) (string, error) {
	plans, err := client.AddonPlans(ctx, a.Provider)
	if err != nil {
		return "", fmt.Errorf("list the plans of addon %s: %w", a.Provider, err)
	}
	var names []string
	for _, p := range plans {
		if p.Name == a.Plan || p.ID == a.Plan {
			return p.ID, nil
		}
		names = append(names, p.Name)
	}
	return "", fmt.Errorf("addon %s: %s has no plan %q (plans: %s)", a, a.Provider, a.Plan, strings.Join(names, ", "))
}

// values gathers the variables of a new review app: the copies, then the manifest's,
// the later winning. Every copied value and every secret is masked first.
func values(ctx context.Context, c Child, s Setup, url string) ([]scalingo.Variable, error) {
	var out []scalingo.Variable
	set := func(name, value string) {
		i := slices.IndexFunc(out, func(v scalingo.Variable) bool { return v.Name == name })
		if i >= 0 {
			out[i].Value = value
			return
		}
		out = append(out, scalingo.Variable{Name: name, Value: value})
	}
	if len(s.CopyEnv) > 0 {
		parent, err := c.Client.Variables(ctx, c.Parent)
		if err != nil {
			return nil, fmt.Errorf("read the variables of %s to copy: %w", c.Parent, err)
		}
		for _, pattern := range s.CopyEnv {
			found := false
			for _, v := range parent {
				if match(pattern, v.Name) {
					c.Reporter.Mask(v.Value)
					set(v.Name, v.Value)
					found = true
				}
			}
			if !found {
				c.Reporter.Printf("copy-env: %s matches no variable of %s.", pattern, c.Parent)
			}
		}
	}
	out = slices.DeleteFunc(out, func(v scalingo.Variable) bool { return slices.Contains(s.Unset, v.Name) })
	if s.Values != nil {
		vals, err := s.Values(url)
		if err != nil {
			return nil, fmt.Errorf("the variables of scalingo.json for %s: %w", c.Name, err)
		}
		for _, v := range vals {
			if v.Secret {
				c.Reporter.Mask(v.Value)
			}
			set(v.Name, v.Value)
		}
	}
	return out, nil
}

// match tells whether name is pattern, or starts with pattern's prefix when it ends
// in *.
func match(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

// waitAddons polls the app's addons until every one is running, for at most
// s.Timeout on the run's clock.
func waitAddons(ctx context.Context, c Child, s Setup) error {
	deadline := s.Clock.Now().Add(s.Timeout)
	for {
		addons, err := c.Client.Addons(ctx, c.Name)
		if err != nil {
			return fmt.Errorf("check the addons of review app %s: %w", c.Name, err)
		}
		var waiting []string
		for _, want := range s.Addons {
			if !slices.ContainsFunc(addons, func(a scalingo.Addon) bool { return a.Provider.ID == want.Provider }) {
				waiting = append(waiting, want.Provider+" (not listed yet)")
			}
		}
		for _, a := range addons {
			if a.Status != "running" {
				waiting = append(waiting, a.Provider.ID+" ("+a.Status+")")
			}
		}
		if len(waiting) == 0 {
			c.Reporter.Printf("Addons of %s are running.", c.Name)
			return nil
		}
		if !s.Clock.Now().Before(deadline) {
			return fmt.Errorf("addons of review app %s still not running after %s: %s", c.Name, s.Timeout, strings.Join(waiting, ", "))
		}
		if err := sleep(ctx, s.Clock, s.PollInterval); err != nil {
			return err
		}
	}
}

// scale applies the formation after the first successful deployment and follows the
// operation to its end.
func scale(ctx context.Context, c Child, s Setup) error {
	opURL, err := c.Client.Scale(ctx, c.Name, s.Formation)
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity && strings.Contains(apiErr.Message, "no change in containers formation") {
		c.Reporter.Printf("The formation of %s is already the manifest's.", c.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("scale review app %s to scalingo.json's formation: %w (later runs will not try again: scale it by hand)", c.Name, err)
	}
	deadline := s.Clock.Now().Add(s.Timeout)
	for opURL != "" {
		op, err := c.Client.Operation(ctx, opURL)
		if err != nil {
			return fmt.Errorf("follow the scale of review app %s: %w", c.Name, err)
		}
		switch op.Status {
		case "done":
			opURL = ""
			continue
		case "error":
			return fmt.Errorf("scale review app %s: the operation failed: %s", c.Name, op.Error)
		}
		if !s.Clock.Now().Before(deadline) {
			return fmt.Errorf("scale review app %s: still %s after %s", c.Name, op.Status, s.Timeout)
		}
		if err := sleep(ctx, s.Clock, s.PollInterval); err != nil {
			return err
		}
	}
	var parts []string
	for _, k := range s.Formation {
		parts = append(parts, fmt.Sprintf("%s=%d", k.Name, k.Amount))
	}
	c.Reporter.Printf("Scaled %s: %s.", c.Name, strings.Join(parts, " "))
	return nil
}

func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-clk.After(d):
		return nil
	}
}

// Destroyed and Absent are the status outputs of a destroy.
const (
	Destroyed = "destroyed"
	Absent    = "absent"
)

// Destroy deletes c if it is a child of its parent: Absent when there is nothing to
// delete, Destroyed once deleted. An app that is not a child of the parent is an error,
// and nothing is deleted.
func Destroy(ctx context.Context, c Child, timeout time.Duration) (string, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	app, err := lookup(ctx, c)
	if err != nil {
		return "", err
	}
	if app == nil {
		c.Reporter.Printf("Review app %s of %s does not exist: nothing to delete.", c.Name, c.Parent)
		return Absent, nil
	}
	err = c.Client.DeleteApp(ctx, c.Name)
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		// Deleted meanwhile, by a concurrent run or by hand.
		c.Reporter.Printf("Review app %s of %s is gone already: nothing to delete.", c.Name, c.Parent)
		return Absent, nil
	}
	if err != nil {
		return "", fmt.Errorf("delete review app %s: %w", c.Name, err)
	}
	c.Reporter.Printf("Deleted review app %s of %s.", c.Name, c.Parent)
	return Destroyed, nil
}
