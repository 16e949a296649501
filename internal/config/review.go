package config

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/manifest"
)

// Review is the review-app inputs: with Enabled, each target is a parent and the run
// deploys to (or destroys) its child app.
type Review struct {
	Enabled bool
	// Name is review-app-name; "" means <parent>-pr<PR.Number> (see ReviewAppName).
	Name string
	// CopyEnv names the parent's variables copied to a new child; an item ending in '*'
	// matches by prefix. None by default: pull-request code would read production secrets.
	CopyEnv []string
	// Addons are "provider:plan" items provisioned on a new child.
	Addons []string
	// Destroy is the destroy input as given. A GitHub pull_request(_target) event whose
	// action is closed (PR.Closed) destroys too, but is kept apart: it alone never deletes
	// a fixed review-app-name.
	Destroy    bool
	AllowForks bool
	// ForkLabel admits a fork's pull request on the event that adds this label (a
	// maintainer's approval of the commit it saw); "" for none.
	ForkLabel string
	// PR is the CI's pull-request context, read only when Enabled. Forks are not refused
	// here: the flow refuses them (exit 1) unless AllowForks.
	PR ci.PR
}

// ReviewAppName returns the review app of parent: review-app-name, else <parent>-pr<N>.
// Load has checked that the result is a valid Scalingo app name.
func (c *Config) ReviewAppName(parent string) string {
	if c.Review.Name != "" {
		return c.Review.Name
	}
	return fmt.Sprintf("%s-pr%d", parent, c.Review.PR.Number)
}

// Scalingo's rule for new app names: 6 to 48 characters, lower-case letters, digits and
// single hyphens, no hyphen first or last.
var childName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

const minAppName, maxAppName = 6, 48

func validAppName(s string) bool {
	return len(s) >= minAppName && len(s) <= maxAppName && childName.MatchString(s)
}

// copyEnvItem is a variable name, or a prefix followed by '*'.
var copyEnvItem = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}\*?$`)

func parseReviewApp(c *Config, v string, _ *loader) (err error) {
	c.Review.Enabled, err = parseBool(v, false)
	return err
}

func parseReviewName(c *Config, v string, _ *loader) error {
	c.Review.Name = v
	return nil
}

func parseCopyEnv(c *Config, v string, _ *loader) error {
	c.Review.CopyEnv = nil
	var errs []error
	for i, item := range SplitPatterns(v) {
		switch {
		case item == "*":
			errs = append(errs, fmt.Errorf("item #%d copies every variable of the parent, production secrets included; name the variables, or a prefix such as MAILER_*", i+1))
		case !copyEnvItem.MatchString(item):
			// The item could be a value pasted by mistake: it is named by position.
			errs = append(errs, fmt.Errorf("item #%d is not a variable name (letters, digits, '_' or '-', at most 64) or a prefix ending in '*'", i+1))
		case !contains(c.Review.CopyEnv, item):
			c.Review.CopyEnv = append(c.Review.CopyEnv, item)
		}
	}
	return errors.Join(errs...)
}

func parseAddons(c *Config, v string, _ *loader) error {
	c.Review.Addons = nil
	var errs []error
	seen := map[string]bool{}
	for i, item := range SplitPatterns(v) {
		a, err := manifest.ParseAddon(item)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("item #%d %v", i+1, err))
		case seen[a.Provider]:
			errs = append(errs, fmt.Errorf("item #%d: provider %s is given twice; an app has one addon per provider", i+1, a.Provider))
		default:
			seen[a.Provider] = true
			c.Review.Addons = append(c.Review.Addons, a.Provider+":"+a.Plan)
		}
	}
	return errors.Join(errs...)
}

func parseDestroy(c *Config, v string, _ *loader) (err error) {
	c.Review.Destroy, err = parseBool(v, false)
	return err
}

func parseAllowForks(c *Config, v string, _ *loader) (err error) {
	c.Review.AllowForks, err = parseBool(v, false)
	return err
}

// needsReviewApp refuses a review-app input given without review-app: true. For destroy
// it is a safety rule: the tool deletes only an app it named as a review app.
func needsReviewApp(set func(c *Config, v string) bool) func(c *Config, v string, _ *loader) error {
	return func(c *Config, v string, _ *loader) error {
		if set(c, v) && !c.Review.Enabled {
			return errors.New("needs review-app: true")
		}
		return nil
	}
}

var (
	checkReviewName = needsReviewApp(func(_ *Config, v string) bool { return v != "" })
	checkCopyEnv    = needsReviewApp(func(_ *Config, v string) bool { return v != "" })
	checkAddons     = needsReviewApp(func(_ *Config, v string) bool { return v != "" })
	checkDestroy    = needsReviewApp(func(c *Config, _ string) bool { return c.Review.Destroy })
	checkAllowForks = needsReviewApp(func(c *Config, _ string) bool { return c.Review.AllowForks })
)

// checkReviewApp reads the pull-request context and resolves every child name, so that a
// bad one stops the run before any request.
func checkReviewApp(c *Config, _ string, ld *loader) error {
	if !c.Review.Enabled {
		return nil
	}
	pr, err := ld.pullRequest(c.CI)
	if err != nil {
		return err
	}
	c.Review.PR = pr
	var errs []error
	if c.Review.Name != "" && len(c.Targets) > 1 {
		errs = append(errs, &InputError{Input: "review-app-name", Msg: fmt.Sprintf(
			"names one review app, but app lists %d parents; drop review-app-name (each parent gets <parent>-pr<N>) or run one step per parent", len(c.Targets))})
	}
	if c.Review.Name == "" && pr.Number == 0 {
		errs = append(errs, errors.New("found no pull or merge request number in the CI's environment; run on a pull/merge request event, or set review-app-name"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if c.Review.Name != "" {
		if !validAppName(c.Review.Name) {
			return &InputError{Input: "review-app-name", Msg: fmt.Sprintf("%q is not a Scalingo app name: %s", c.Review.Name, nameRule)}
		}
		return nil
	}
	for _, t := range c.Targets {
		if name := c.ReviewAppName(t.App); !validAppName(name) {
			errs = append(errs, fmt.Errorf("the review app of %s would be %q, which is not a Scalingo app name (%s); set review-app-name", t.App, name, nameRule))
		}
	}
	return errors.Join(errs...)
}

const nameRule = "6 to 48 characters, lower-case letters, digits and single hyphens, no hyphen first or last"

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
