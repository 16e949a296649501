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
	// Fixed tells a name given by review-app-name, not the <parent>-pr<N> of the run's
	// own request.
	Fixed    bool
	Client   *scalingo.Client
	Reporter *platform.Reporter
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

// Setup is how a new review app is configured; an app that was deployed before is left
// as it is. Variables apply in this order, the later winning: CopyEnv, Values, Env.
type Setup struct {
	// CopyEnv names the parent's variables to copy; NAME* matches by prefix.
	CopyEnv []string
	// Values gives the variables of the manifest, once the app's URL is known; nil: none.
	Values func(url string) ([]Value, error)
	// Unset names the manifest's variables whose value is null or "": Scalingo's way to
	// remove one, so a copy of that name is dropped.
	Unset []string
	// Env is the run's env, set with the rest before the first deployment so that none
	// starts without it; the deploy flow sets it again on every run.
	Env []scalingo.Variable
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

// LabelError refuses a fork's request on an event that is not a maintainer's approval:
// only the event that adds the label approves, and only the commit it saw.
type LabelError struct{ Label string }

func (e LabelError) Error() string {
	return fmt.Sprintf("this pull request comes from a fork: it is deployed only on the event that adds the label %q, a maintainer's approval of the commit they saw; to deploy its new commits, a maintainer removes the label and adds it again", e.Label)
}

// CheckFork refuses a fork's request unless allowed: by allow-forks, or by forkLabel,
// on the event that adds that label; the closed event of a fork's request destroys its
// review app, which runs none of its code. It sends nothing.
func CheckFork(c ci.CI, pr ci.PR, allowForks bool, forkLabel string) error {
	switch {
	case !pr.Fork || allowForks:
		return nil
	case forkLabel == "":
		return ForkError{CI: c}
	case pr.Closed, pr.Labeled == forkLabel:
		return nil
	}
	return LabelError{Label: forkLabel}
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

// Ensure makes sure c exists as a child of its parent, sets it up unless it was deployed
// before, and returns it as a deploy target: Prepare, then Finish. A run with several
// parents prepares them all before it finishes any, so that each may name the others.
func Ensure(ctx context.Context, c Child, s Setup) (deploy.Target, error) {
	p, err := Prepare(ctx, c, s)
	if err != nil {
		return deploy.Target{App: c.Name, Region: c.Region, Client: c.Client, Reporter: c.Reporter}, err
	}
	return p.Finish(ctx, s)
}

// Prepared is a review app that exists (found or created), not set up yet.
type Prepared struct {
	Child
	// App is the app as the API gave it: its URL.
	App *scalingo.App
	// reuse: deployed before, its configuration left as it is; success: one of its
	// deployments succeeded; created: this run created it.
	reuse, success, created bool
	plans                   []string
}

// URL is the review app's Scalingo address (base_url), else its url.
func (p *Prepared) URL() string { return orURL(p.App) }

// Prepare finds or creates c as a child of its parent. A child that was deployed before
// is reused as it is; an app that is not a child of the parent is an error and is left
// untouched.
//
// A child never deployed is not trusted to be configured, whatever made it: a set-up that
// failed half-way, or a creation whose answer was lost, may have left the parent's
// variables or addons in it. Its set-up is done again from the start by Finish, and only
// a complete set-up hands it to the deploy flow, which creates its first deployment.
func Prepare(ctx context.Context, c Child, s Setup) (*Prepared, error) {
	s.defaults()
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	app, err := lookup(ctx, c)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Child: c, App: app}
	if app != nil {
		deps, err := c.Client.Deployments(ctx, c.Name, 20)
		if err != nil {
			return nil, fmt.Errorf("list the deployments of review app %s: %w", c.Name, err)
		}
		if len(deps) > 0 {
			p.reuse = true
			p.success = slices.ContainsFunc(deps, func(d scalingo.Deployment) bool { return d.Status == "success" })
			return p, nil
		}
		c.Reporter.Printf("Review app %s of %s exists but was never deployed: its set-up may not have completed; setting it up again from the start.", c.Name, c.Parent)
	}

	// Plans are resolved before anything is created or removed: a wrong plan name
	// leaves nothing behind.
	p.plans = make([]string, len(s.Addons))
	for i, a := range s.Addons {
		if p.plans[i], err = planID(ctx, c.Client, a); err != nil {
			return nil, err
		}
	}
	if app == nil {
		if p.App, err = create(ctx, c); err != nil {
			return nil, err
		}
		p.created = true
	}
	return p, nil
}

// Abandon is the end of a prepared review app whose run deploys nothing (another parent
// could not be prepared): one this run created, or never deployed, is deleted as a
// failed set-up's is (see abandon), and the error says what became of it; one deployed
// before is left as it is (nil).
func (p *Prepared) Abandon(ctx context.Context, cause error) error {
	if p.reuse {
		return nil
	}
	return abandon(ctx, p.Child, cause, p.created)
}

// Finish sets a prepared review app up unless it was deployed before, and returns it as
// a deploy target.
func (p *Prepared) Finish(ctx context.Context, s Setup) (deploy.Target, error) {
	s.defaults()
	c := p.Child
	t := deploy.Target{App: c.Name, Region: c.Region, Client: c.Client, Reporter: c.Reporter}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if p.reuse {
		c.Reporter.Printf("Review app %s of %s exists: deploying to it, its configuration left as it is.", c.Name, c.Parent)
		// What belongs to the first successful deployment waits for one, as
		// Scalingo runs first-deploy until a deployment succeeds.
		if !p.success {
			firstDeploy(&t, c, s)
		}
		return t, nil
	}
	if err := configure(ctx, c, s, orURL(p.App), p.plans); err != nil {
		return t, abandon(ctx, c, err, p.created)
	}
	firstDeploy(&t, c, s)
	return t, nil
}

// create creates c. When the answer is lost (a server error, a dropped connection),
// the app may exist all the same: it is looked up, and set up if it does.
func create(ctx context.Context, c Child) (*scalingo.App, error) {
	app, err := c.Client.CreateChildApp(ctx, c.Parent, c.Name)
	if err == nil {
		c.Reporter.Printf("Created review app %s of %s (%s).", c.Name, c.Parent, orURL(app))
		return app, nil
	}
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
		return nil, fmt.Errorf("create review app %s of %s: %w", c.Name, c.Parent, err)
	}
	app, lerr := lookup(ctx, c)
	switch {
	case lerr != nil:
		return nil, fmt.Errorf("create review app %s of %s: %w; then could not tell whether it was created: %w\n  if it was, it is never deployed as it is: the next run sets it up from the start", c.Name, c.Parent, err, lerr)
	case app == nil:
		return nil, fmt.Errorf("create review app %s of %s: %w (it was not created)", c.Name, c.Parent, err)
	}
	c.Reporter.Printf("Creating review app %s of %s failed (%v), but it was created (%s): setting it up.", c.Name, c.Parent, err, orURL(app))
	return app, nil
}

// orURL is the app's Scalingo address (base_url), else its url.
func orURL(app *scalingo.App) string {
	if app.BaseURL != "" {
		return app.BaseURL
	}
	return app.URL
}

// abandon is the end of a set-up that could not complete: no app that holds what the
// run did not set may be left for a deployment. The child is deleted when this run
// created it, or when it bears the name this tool gives a review app of this request
// (<parent>-pr<N>): either way it is the tool's own, never deployed. A child named by
// review-app-name that existed before the run is not deleted here (only destroy: true
// deletes such a one): it is left, never deployed, and the next run sets it up again.
// Deleting rather than marking: a mark is one more write that can fail as the set-up
// did, while an app that does not exist cannot be deployed, by this tool or by hand.
func abandon(ctx context.Context, c Child, cause error, created bool) error {
	// The set-up's own deadline or the run's interruption may be what ended it: the
	// clean-up has a little time of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	why := "review-app-name names it and this run did not create it"
	if created || !c.Fixed {
		err := c.Client.DeleteApp(ctx, c.Name)
		var apiErr *scalingo.APIError
		if err == nil || errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w\n  review app %s could not be set up and was deleted: nothing of it is left; run again", cause, c.Name)
		}
		why = "deleting it failed: " + err.Error()
	}
	return fmt.Errorf("%w\n  review app %s could not be set up and is left, never deployed (%s); %s\n  it is never deployed as it is: the next run sets it up again from the start; or delete it (destroy: true, with the owner's token)",
		cause, c.Name, why, holdings(ctx, c))
}

// cleanupTimeout bounds what abandon sends after a failed set-up.
const cleanupTimeout = 30 * time.Second

// holdings names (never values) what c holds, for the message of a set-up left undone.
func holdings(ctx context.Context, c Child) string {
	vars, err := c.Client.Variables(ctx, c.Name)
	if err != nil {
		return "what it holds could not be read: it may hold variables of " + c.Parent
	}
	addons, err := c.Client.Addons(ctx, c.Name)
	if err != nil {
		return "what it holds could not be read: it may hold addons of " + c.Parent
	}
	var names, provs []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	for _, a := range addons {
		provs = append(provs, a.Provider.ID)
	}
	slices.Sort(names)
	slices.Sort(provs)
	return fmt.Sprintf("it holds variables: %s; addons: %s", orNone(names), orNone(provs))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
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

// configure sets a review app up, in this order: whatever it holds is removed; the
// copies, the manifest's values and env are set; the addons are provisioned and waited
// for until they run. Only then may its first deployment be created.
func configure(ctx context.Context, c Child, s Setup, url string, plans []string) error {
	if err := empty(ctx, c, s); err != nil {
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
		c.Reporter.Printf("Set %d variable%s on %s.", len(vars), plural(len(vars)), c.Name)
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

// empty removes whatever addons and variables a review app holds, then checks that none
// is left. Scalingo's docs have said both that a child gets a copy of its parent's
// variables and addons and that it gets nothing (review-apps.md §1.2), and production's
// secrets must not reach pull-request code unless copy-env names them. Every addon goes,
// one of a provider the run asks for included: whether it is the child's own resource
// or shares the parent's cannot be told from the API, while one this run provisions is
// the child's own. Addons go first, as their variables go with them. Names are printed,
// never values.
func empty(ctx context.Context, c Child, s Setup) error {
	addons, err := c.Client.Addons(ctx, c.Name)
	if err != nil {
		return fmt.Errorf("read the addons of review app %s: %w", c.Name, err)
	}
	var provs []string
	for _, a := range addons {
		if err := c.Client.DeleteAddon(ctx, c.Name, a.ID); err != nil && !notFound(err) {
			return fmt.Errorf("remove addon %s that review app %s held: %w", a.Provider.ID, c.Name, err)
		}
		provs = append(provs, a.Provider.ID)
	}
	if len(provs) > 0 {
		slices.Sort(provs)
		c.Reporter.Printf("Removed %d addons that %s held (%s): a review app gets only the addons the run provisions.", len(provs), c.Name, strings.Join(provs, ", "))
		// Deprovisioning may outlast the answer: one of the same provider cannot be
		// provisioned, nor its variable be known gone, before it is.
		if err := waitNoAddons(ctx, c, s); err != nil {
			return err
		}
	}
	held, err := c.Client.Variables(ctx, c.Name)
	if err != nil {
		return fmt.Errorf("read the variables of review app %s: %w", c.Name, err)
	}
	if len(held) == 0 {
		return nil
	}
	var names []string
	// Values are never printed by this tool; they are not masks either, so that outputs
	// stay true (an inherited NODE_ENV=production would star "production" in the app URL).
	for _, v := range held {
		if err := c.Client.DeleteVariable(ctx, c.Name, v.ID); err != nil && !notFound(err) {
			return fmt.Errorf("remove variable %s that review app %s held: %w", v.Name, c.Name, err)
		}
		names = append(names, v.Name)
	}
	slices.Sort(names)
	c.Reporter.Printf("Removed %d variables that %s held (%s): a review app gets only what copy-env, scalingo.json and env give it.", len(names), c.Name, strings.Join(names, ", "))
	// A removal answered but not done would leave a value nobody asked for.
	left, err := c.Client.Variables(ctx, c.Name)
	if err != nil {
		return fmt.Errorf("check the variables of review app %s: %w", c.Name, err)
	}
	if len(left) > 0 {
		names = names[:0]
		for _, v := range left {
			names = append(names, v.Name)
		}
		slices.Sort(names)
		return fmt.Errorf("review app %s still holds %s after their removal", c.Name, strings.Join(names, ", "))
	}
	return nil
}

// waitNoAddons polls the app's addons until none is listed, for at most s.Timeout.
func waitNoAddons(ctx context.Context, c Child, s Setup) error {
	deadline := s.Clock.Now().Add(s.Timeout)
	for {
		addons, err := c.Client.Addons(ctx, c.Name)
		if err != nil {
			return fmt.Errorf("check the addons of review app %s: %w", c.Name, err)
		}
		if len(addons) == 0 {
			return nil
		}
		if !s.Clock.Now().Before(deadline) {
			var provs []string
			for _, a := range addons {
				provs = append(provs, a.Provider.ID+" ("+a.Status+")")
			}
			return fmt.Errorf("review app %s still holds addons %s %s after their removal", c.Name, strings.Join(provs, ", "), s.Timeout)
		}
		if err := sleep(ctx, s.Clock, s.PollInterval); err != nil {
			return err
		}
	}
}

func notFound(err error) bool {
	var apiErr *scalingo.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
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

// values gathers the variables of a new review app: the copies, the manifest's, then
// env, the later winning. Every copied value and every secret is masked first.
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
					set(v.Name, v.Value) // never printed, and not a mask: outputs are data

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
	for _, v := range s.Env {
		set(v.Name, v.Value)
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

// Destroyed, Absent and Kept are the status outputs of a destroy; Kept: a closed event
// left a fixed review-app-name alone. Kept and Absent are also a fleet mode's verdicts
// (fleet.go): a child left as it is, one gone already.
const (
	Destroyed = "destroyed"
	Absent    = "absent"
	Kept      = "kept"
)

// RefusedError is a destroy this tool does not do: nothing is deleted, and the reason
// is named.
type RefusedError struct{ App, Reason string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("review app %s is not deleted: %s", e.App, e.Reason)
}

// KeptNotice is what a closed event says when it leaves a fixed review-app-name alone.
const KeptNotice = "not deleted: review-app-name is fixed; delete it with destroy: true"

// CheckDestroy says, before any request, whether a destroy of kids may go on. It deletes
// only a review app this tool would have made for this request: <parent>-pr<N> for the
// run's own N, or a review-app-name given with destroy: true given too (explicit). A
// closed event alone leaves a review-app-name alone (keep, no error): a workflow that
// deploys every request to one fixed app would lose it whenever any request closes.
// Never the parent, never a target of the same run (targets): those are refused, and a
// refusal of one deletes none.
func CheckDestroy(kids []Child, targets []string, explicit bool) (keep bool, err error) {
	var errs []error
	for _, c := range kids {
		switch {
		case c.Name == c.Parent:
			errs = append(errs, &RefusedError{App: c.Name, Reason: "it is the parent app itself, not a review app of it"})
		case slices.Contains(targets, c.Name):
			errs = append(errs, &RefusedError{App: c.Name, Reason: "it is a target of this same run (app names it): a run never deletes what it deploys to"})
		case c.Fixed && !explicit:
			keep = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	return keep, nil
}

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

// plural is the s of a count's noun.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
