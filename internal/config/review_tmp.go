package config

import (
	"fmt"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// TEMPORARY: a minimal copy of what h-rev-aux provides, dropped at the merge.

type Review struct {
	Enabled    bool
	Name       string
	CopyEnv    []string
	Addons     []string
	Destroy    bool
	AllowForks bool
	PR         ci.PR
}

func (c *Config) ReviewAppName(parent string) string {
	if c.Review.Name != "" {
		return c.Review.Name
	}
	return fmt.Sprintf("%s-pr%d", parent, c.Review.PR.Number)
}

func reviewTmp(found ci.CI, getenv func(string) string) (Review, error) {
	get := func(name string) string {
		up := strings.ToUpper(name)
		for _, k := range []string{"INPUT_" + up, "PLUGIN_" + strings.ReplaceAll(up, "-", "_"), "SCALINGO_" + strings.ReplaceAll(up, "-", "_")} {
			if v := getenv(k); v != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	r := Review{Enabled: get("review-app") == "true", Name: get("review-app-name"), Destroy: get("destroy") == "true", AllowForks: get("allow-forks") == "true"}
	for _, s := range strings.FieldsFunc(get("copy-env"), func(r rune) bool { return r == ',' || r == '\n' }) {
		r.CopyEnv = append(r.CopyEnv, strings.TrimSpace(s))
	}
	for _, s := range strings.FieldsFunc(get("addons"), func(r rune) bool { return r == ',' || r == '\n' }) {
		r.Addons = append(r.Addons, strings.TrimSpace(s))
	}
	var err error
	if r.Enabled {
		r.PR, err = found.PullRequest(getenv)
	}
	return r, err
}

func (c *Config) checkReviewTmp() error {
	r := c.Review
	switch {
	case r.Destroy && !r.Enabled:
		return &InputError{Input: "destroy", Msg: "needs review-app: true"}
	case !r.Enabled:
		return nil
	case r.Name != "" && len(c.Targets) > 1:
		return &InputError{Input: "review-app-name", Msg: "names one review app: give one app"}
	case r.Name == "" && r.PR.Number == 0:
		return &InputError{Input: "review-app-name", Msg: "no pull request number found: set review-app-name"}
	}
	for _, t := range c.Targets {
		if n := c.ReviewAppName(t.App); len(n) > 48 || len(n) < 6 {
			return &InputError{Input: "review-app-name", Msg: n + " breaks Scalingo's name rules: set review-app-name"}
		}
	}
	return nil
}
