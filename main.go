// Command scalingo-deploy deploys a CI checkout (or an archive) to a Scalingo app and
// follows the deployment to its verdict. See README.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/scalingo-deploy/scalingo-deploy/internal/run"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&run.SignalError{Signal: sig.(syscall.Signal)})
		signal.Stop(sigs) // a second signal kills at once
	}()
	err := runMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(run.ExitCode(err))
}

// runMain is the whole program, its environment passed in; it has reported its own error.
func runMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return run.Run(ctx, version, args, getenv, stdout, stderr)
}
