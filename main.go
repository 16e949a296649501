// Command scalingo-deploy deploys a CI checkout (or an archive) to a Scalingo app and
// follows the deployment to its verdict. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&signalError{sig: sig.(syscall.Signal)})
		signal.Stop(sigs) // a second signal kills at once
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(exitCode(err))
}

// signalError is the cause of a run cancelled by SIGINT or SIGTERM (a cancelled CI job).
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string { return fmt.Sprintf("interrupted by %s", signalName(e.sig)) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
