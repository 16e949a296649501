package config

import (
	"fmt"

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
