// Command cmd runs the fake Scalingo API on 127.0.0.1 with its built-in
// storage, so that a whole deploy can be tried without a Scalingo account:
//
//	go run ./internal/fakescalingo/cmd --app my-app
//	go run ./internal/fakescalingo/cmd --other-region osc-secnum-fr1 --app staging-app --app prod-app@osc-secnum-fr1
//
// It prints the environment to paste into another shell, and stops on
// Ctrl-C. Deployments of every app succeed unless --final says otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakescalingo:", err)
		os.Exit(2)
	}
}

type appList []string

func (l *appList) String() string     { return strings.Join(*l, ",") }
func (l *appList) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var apps appList
	fs := flag.NewFlagSet("fakescalingo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&apps, "app", "an app the fake knows, name or name@region (repeatable); default my-app")
	var others appList
	fs.Var(&others, "other-region", "a region served besides osc-fr1, on its own API server (repeatable)")
	final := fs.String("final", "", "final status of deployments: success (default), build-error, crashed-error, timeout-error, hook-error, aborted")
	queued := fs.Int("queued-polls", 0, "status polls a deployment stays queued for")
	token := fs.String("token", fakescalingo.DefaultAPIToken, "the API token the fake accepts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(apps) == 0 {
		apps = appList{"my-app"}
	}
	s, err := fakescalingo.Start(fakescalingo.Options{APIToken: *token, OtherRegions: others})
	if err != nil {
		return fmt.Errorf("start the fake: %w", err)
	}
	defer s.Close()
	for i, a := range apps {
		name, region, _ := strings.Cut(a, "@")
		if region != "" && s.RegionAPIURL(region) == "" {
			return fmt.Errorf("app %s: region %q is not served (add --other-region %s)", name, region, region)
		}
		apps[i] = name
		s.AddApp(name, fakescalingo.Scenario{FinalStatus: *final, QueuedPolls: *queued, Region: region})
	}
	fmt.Fprintf(stdout, "# fake Scalingo running; paste this into another shell:\n")
	fmt.Fprintf(stdout, "export SCALINGO_API_URL=%s\n", s.APIURL)
	fmt.Fprintf(stdout, "export SCALINGO_AUTH_URL=%s\n", s.AuthURL)
	fmt.Fprintf(stdout, "export SCALINGO_API_TOKEN=%s\n", s.APIToken)
	for _, r := range s.Regions() {
		fmt.Fprintf(stdout, "# region %s: %s\n", r, s.RegionAPIURL(r))
	}
	fmt.Fprintf(stdout, "# then: go run . --app %s --path .\n", apps[0])
	fmt.Fprintf(stdout, "# Ctrl-C stops the fake.\n")

	<-ctx.Done()
	for _, a := range apps {
		for _, d := range s.Deployments(a) {
			fmt.Fprintf(stderr, "deployment %s of %s: %s\n", d.ID, a, d.Status)
		}
	}
	return nil
}
