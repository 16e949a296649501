// Command scalingo-deploy deploys a CI checkout (or an archive) to a Scalingo app and
// follows the deployment to its verdict. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

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
	err := run.Run(ctx, run.Version(version, info, ok), os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(run.ExitCode(err))
}
