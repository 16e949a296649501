package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/manifest"
)

// Fleet is a mode that works on a parent's review apps as a whole, from a scheduled
// pipeline: no pull request, no archive. Each target is a parent.
type Fleet struct {
	// Mode is "" (none), Sweep, Sleep or Wake.
	Mode string
	// MaxAge is the sweep's review-app-max-age: a review app whose last deployment (or
	// creation, if never deployed) is older is deleted.
	MaxAge time.Duration
}

// The fleet modes.
const (
	Sweep = "sweep"
	Sleep = "sleep"
	Wake  = "wake"
)

// fleetInputs maps each mode's input to its mode.
var fleetInputs = map[string]string{"review-app-sweep": Sweep, "review-app-sleep": Sleep, "review-app-wake": Wake}

// parseFleetMode reads review-app-sweep, -sleep or -wake; two of them is an error.
func parseFleetMode(name string) func(c *Config, v string, _ *loader) error {
	return func(c *Config, v string, _ *loader) error {
		on, err := parseBool(v, false)
		if err != nil || !on {
			return err
		}
		mode := fleetInputs[name]
		if c.Fleet.Mode != "" && c.Fleet.Mode != mode {
			return fmt.Errorf("review-app-%s is given too: one mode a run", c.Fleet.Mode)
		}
		c.Fleet.Mode = mode
		return nil
	}
}

// checkFleetMode: a fleet mode works on a parent's review apps, never deploys, and is
// not a review-app run (which deploys or destroys one pull request's).
func checkFleetMode(name string) func(c *Config, v string, _ *loader) error {
	return func(c *Config, _ string, _ *loader) error {
		if c.Fleet.Mode != fleetInputs[name] {
			return nil
		}
		var errs []error
		if c.Review.Enabled {
			errs = append(errs, fmt.Errorf("is a mode of its own, run from a schedule: drop review-app (which deploys one pull request's review app)"))
		}
		if len(c.Targets) == 0 {
			errs = append(errs, fmt.Errorf("needs app: the parent app(s) whose review apps it %ss", c.Fleet.Mode))
		}
		if c.Fleet.Mode == Sweep && c.Fleet.MaxAge == 0 {
			errs = append(errs, errors.New("needs review-app-max-age (e.g. 7d): how old a review app's last deployment may be"))
		}
		return errors.Join(errs...)
	}
}

func parseMaxAge(c *Config, v string, _ *loader) (err error) {
	c.Fleet.MaxAge = 0
	if v == "" {
		return nil
	}
	c.Fleet.MaxAge, err = ParseAge(v)
	return err
}

func checkMaxAge(c *Config, v string, _ *loader) error {
	if v != "" && c.Fleet.Mode != Sweep {
		return errors.New("needs review-app-sweep: true")
	}
	return nil
}

// ParseAge reads an age: whole days (7d) or a Go duration (36h, 90m), positive.
func ParseAge(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not an age: a number of days (7d) or a duration (36h)", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not an age: a number of days (7d) or a duration (36h)", v)
	}
	return d, nil
}

// checkEnvLinks: in a review-app run, an env value may name another parent's review
// app (%URL:api%, %APP:api%); a name that is not a parent of the run is found here,
// before any request. Values are secrets: a line is named by its number, and the name
// only when it is an app name.
func checkEnvLinks(c *Config, v string, _ *loader) error {
	if !c.Review.Enabled {
		return nil
	}
	var errs []error
	for i, line := range strings.Split(v, "\n") {
		for _, name := range manifest.LinkNames(line) {
			if err := CheckLink(c.Targets, name); err != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckLink says whether name, in %URL:name% or %APP:name%, is a parent of the run.
func CheckLink(targets []Target, name string) error {
	var parents []string
	for _, t := range targets {
		if t.App == name {
			return nil
		}
		parents = append(parents, t.App)
	}
	shown := "a name"
	if appName.MatchString(name) {
		shown = strconv.Quote(name)
	}
	return fmt.Errorf("%%URL:…%% or %%APP:…%% names %s that is not a parent app of this run (%s)", shown, strings.Join(parents, ", "))
}

func parseForkLabel(c *Config, v string, _ *loader) error {
	c.Review.ForkLabel = v
	if v != "" && (len(v) > 50 || strings.ContainsAny(v, "\r\n")) {
		return errors.New("is not a label name (one line, at most 50 characters)")
	}
	return nil
}

// checkForkLabel: the label is read from a GitHub-style event payload (GitHub, Forgejo,
// Gitea); a CI that gives no maintainer's approval in its event has allow-forks only.
// A fork admitted by the label gets no copy of the parent's values: its code would read
// them.
func checkForkLabel(c *Config, v string, _ *loader) error {
	if v == "" {
		return nil
	}
	switch {
	case !c.Review.Enabled:
		return errors.New("needs review-app: true")
	case c.CI.Platform != ci.GitHub:
		return fmt.Errorf("is read from a GitHub, Forgejo or Gitea pull_request_target event; %s gives no maintainer's approval in its event: keep forks out, or set allow-forks: true", c.CI.Name)
	}
	pr := c.Review.PR
	if pr.Fork && !c.Review.AllowForks && !pr.Closed && len(c.Review.CopyEnv) > 0 {
		return &InputError{Input: "copy-env", Msg: "refused for a fork's pull request: a fork's code would read the parent's values; drop copy-env, or give the review app its values with env"}
	}
	return nil
}
