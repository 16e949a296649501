package run

import (
	"context"
	"io"
	"runtime/debug"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
)

// Run is the whole program, with its environment ("NAME=value" items) passed in. It
// reports its own error (once, through the platform's reporter so that secrets are
// masked) and returns it for ExitCode.
func Run(ctx context.Context, version string, args []string, environ []string, stdout, stderr io.Writer) error {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	// A variable that looks like an input but is not read would otherwise go unnoticed
	// until "app: missing". Only names are shown, never values.
	if warnings := config.Lookalikes(environ); len(warnings) > 0 {
		r := platform.New(ci.Detect(getenv), stdout, getenv, nil)
		for _, w := range warnings {
			r.Warning("%s", w)
		}
	}
	return runWith(ctx, args, getenv, stdout, stderr, hooks{version: version})
}

// Version is the stamped version, else the module's version and commit from the build
// info (go build in a git checkout: "v0.0.0-20260105…-abcdef (commit abcdef123456)"),
// else "dev". Images built without a version stamp "dev", which counts as none.
func Version(stamped string, info *debug.BuildInfo, ok bool) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	if !ok || info == nil {
		return "dev"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		if v == "(devel)" {
			return "dev"
		}
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += ", modified"
	}
	return v + " (commit " + rev + ")"
}
