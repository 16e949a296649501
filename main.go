// Command scalingo-deploy deploys a CI checkout (or an archive) to a Scalingo app and
// follows the deployment to its verdict. See README.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/run"
)

// version is stamped by release builds (.github/workflows/release.yml, Dockerfile):
// -ldflags "-X main.version=1.2.3". Unstamped, the build info tells the version.
var version string

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&run.SignalError{Signal: sig.(syscall.Signal)})
		signal.Stop(sigs) // a second signal kills at once
	}()
	info, ok := debug.ReadBuildInfo()
	err := runMain(ctx, buildVersion(version, info, ok), os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(run.ExitCode(err))
}

// runMain is the whole program, its environment ("NAME=value" items) passed in; it has
// reported its own error.
func runMain(ctx context.Context, version string, args []string, environ []string, stdout, stderr io.Writer) error {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	// A variable that looks like an input but is not read would otherwise go unnoticed
	// until "app: missing". Only names are shown, never values.
	if warnings := config.Lookalikes(environ); len(warnings) > 0 {
		r := platform.New(config.Detect(getenv), stdout, getenv, nil)
		for _, w := range warnings {
			r.Warning("%s", w)
		}
	}
	return run.Run(ctx, version, args, getenv, stdout, stderr)
}

// buildVersion is the stamped version, else the module's version and commit from the build
// info (go build in a git checkout: "v0.0.0-20260105…-abcdef (commit abcdef123456)"),
// else "dev". Images built without a version stamp "dev", which counts as none.
func buildVersion(stamped string, info *debug.BuildInfo, ok bool) string {
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
