// Command cmd runs the fake Scalingo on 127.0.0.1, so that every feature of scalingo-deploy
// can be tried without a Scalingo account (README.md, "Try it without an account"):
//
//	go build -o fakescalingo ./internal/fakescalingo/cmd
//	fakescalingo --app my-app --app my-worker@osc-secnum-fr1 --final my-worker=build-error
//
// It serves both built-in regions (osc-fr1, osc-secnum-fr1) with their real names, and
// prints the environment to paste into another shell: the token and the auth URL only.
// scalingo-deploy, given another auth-url than Scalingo's, looks up every region's API URL
// there (GET /v1/regions), so targets in both regions work in one run, as on Scalingo.
// Every app answers on its own 127.0.0.1 server (for health-check), deployments take
// --duration each (the log streams as it goes), and it stops on Ctrl-C. Review apps may
// exist already (--child), last deployed some time ago on the wall clock (for
// review-app-sweep), with running containers (--formation, for review-app-sleep and -wake).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "fakescalingo:", err)
		os.Exit(2)
	}
}

// builtinRegions are served always, with the names scalingo-deploy knows.
var builtinRegions = []string{"osc-fr1", "osc-secnum-fr1"}

// defaultDuration is how long a deployment takes unless --duration says otherwise.
const defaultDuration = 3 * time.Second

// finals are the deployment outcomes --final accepts.
var finals = []string{"success", "build-error", "crashed-error", "timeout-error", "hook-error", "aborted"}

// sizes are Scalingo's container sizes.
var sizes = []string{"XS", "S", "M", "L", "XL", "2XL", "3XL", "4XL"}

// list is a repeatable flag; each use may also hold several items separated by commas.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }
func (l *list) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// rawList is a repeatable flag whose values are split by their reader (--formation's
// items after APP= belong to that app).
type rawList []string

func (l *rawList) String() string     { return strings.Join(*l, " ") }
func (l *rawList) Set(v string) error { *l = append(*l, v); return nil }

// options is the command line, read.
type options struct {
	apps      []appSpec
	regions   []string // besides the built-in ones
	token     string
	tickEvery time.Duration
}

// appSpec is one app the fake knows, with its scenario.
type appSpec struct {
	name string
	sc   fakescalingo.Scenario
}

const usage = `Usage: fakescalingo [flags]

Runs a fake Scalingo on 127.0.0.1 (auth, the API of each region, the log stream, the
upload storage, and one web server per app) until Ctrl-C, and prints the variables to
export in the shell that runs scalingo-deploy. The regions osc-fr1 and osc-secnum-fr1 are
served under their real names; scalingo-deploy finds their API URLs at SCALINGO_AUTH_URL.

Flags (each repeatable; a value may list several items separated by commas; APP= applies
an item to one app, without it to every app):
`

// parse reads the command line. Per-app settings may come before or after their --app.
func parse(args []string, stdout io.Writer) (*options, error) {
	fs := flag.NewFlagSet("fakescalingo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, the usage printed on --help only
	fs.Usage = func() {}
	var apps, regions, finalL, durations, queued, unhealthy, vars, children list
	var formations rawList
	fs.Var(&apps, "app", "an app the fake knows: `name` or name@region (default my-app)")
	fs.Var(&regions, "region", "another `region` name to serve besides osc-fr1 and osc-secnum-fr1")
	fs.Var(&finalL, "final", "how deployments end: [APP=]`status`, one of "+strings.Join(finals, ", ")+" (default success)")
	fs.Var(&durations, "duration", "how long a deployment takes: [APP=]`duration` (default 3s)")
	fs.Var(&queued, "queued-polls", "status checks a deployment stays queued for: [APP=]`n` (default 0)")
	fs.Var(&unhealthy, "unhealthy", "an `app` whose web server answers 503 to every request, so that health-check fails")
	fs.Var(&vars, "var", "a variable already set on an app: `APP:NAME=value` (for review-app's copy-env)")
	fs.Var(&children, "child", "a review app that already exists: `PARENT:CHILD[:AGE]`, with AGE (7d, 36h) last deployed that long ago (for review-app's destroy and review-app-sweep)")
	fs.Var(&formations, "formation", "an app's running containers: [APP=]`TYPE:AMOUNT[:SIZE]` (size M by default; the items after APP= are that app's), deployed once with a Procfile of those types (for review-app-sleep and -wake)")
	token := fs.String("token", fakescalingo.DefaultAPIToken, "the API token the fake accepts")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; every setting is a flag (see --help)", fs.Arg(0))
	}
	if len(apps) == 0 {
		apps = list{"my-app"}
	}
	o := &options{token: *token, tickEvery: 100 * time.Millisecond}
	served := append(slices.Clone(builtinRegions), regions...)
	for _, r := range regions {
		if slices.Contains(builtinRegions, r) {
			return nil, fmt.Errorf("--region %s: served already", r)
		}
	}
	var errs []error
	byName := map[string]int{}
	for _, a := range apps {
		name, region, _ := strings.Cut(a, "@")
		if region != "" && !slices.Contains(served, region) {
			errs = append(errs, fmt.Errorf("--app %s: region %q is not served (add --region %s)", a, region, region))
		}
		if _, dup := byName[name]; dup {
			errs = append(errs, fmt.Errorf("--app %s: given twice", name))
		}
		byName[name] = len(o.apps)
		o.apps = append(o.apps, appSpec{name: name, sc: fakescalingo.Scenario{
			Region: region, BuildTime: defaultDuration, Serve: &fakescalingo.AppServer{}}})
	}
	// Review apps come before the per-app knobs, which may name them.
	for _, item := range children {
		parent, rest, ok := strings.Cut(item, ":")
		child, ageText, aged := strings.Cut(rest, ":")
		if _, known := byName[parent]; !ok || !known || child == "" {
			errs = append(errs, fmt.Errorf("--child %s: want PARENT:CHILD[:AGE], PARENT one of the --app names", item))
			continue
		}
		if _, dup := byName[child]; dup {
			errs = append(errs, fmt.Errorf("--child %s: %s given twice", item, child))
			continue
		}
		sc := fakescalingo.Scenario{Parent: parent, BuildTime: defaultDuration, Serve: &fakescalingo.AppServer{}}
		if aged {
			age, err := config.ParseAge(ageText)
			if err != nil {
				errs = append(errs, fmt.Errorf("--child %s: %w", item, err))
				continue
			}
			sc.Age, sc.Deployed = age, true
		}
		byName[child] = len(o.apps)
		o.apps = append(o.apps, appSpec{name: child, sc: sc})
	}
	// each applies fn to the apps an item names: APP=value, or every app for a bare value.
	each := func(flagName string, items list, fn func(sc *fakescalingo.Scenario, v string) error) {
		for _, item := range items {
			target, v, scoped := strings.Cut(item, "=")
			if !scoped {
				target, v = "", item
			}
			for i := range o.apps {
				if target != "" && o.apps[i].name != target {
					continue
				}
				if err := fn(&o.apps[i].sc, v); err != nil {
					errs = append(errs, fmt.Errorf("--%s %s: %w", flagName, item, err))
					return
				}
			}
			if _, known := byName[target]; target != "" && !known {
				errs = append(errs, fmt.Errorf("--%s %s: no app %q (add --app %s)", flagName, item, target, target))
			}
		}
	}
	each("final", finalL, func(sc *fakescalingo.Scenario, v string) error {
		if !slices.Contains(finals, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(finals, ", "))
		}
		sc.FinalStatus = v
		return nil
	})
	each("duration", durations, func(sc *fakescalingo.Scenario, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration (e.g. 3s, 1m)", v)
		}
		sc.BuildTime = d
		return nil
	})
	each("queued-polls", queued, func(sc *fakescalingo.Scenario, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a count", v)
		}
		sc.QueuedPolls = n
		return nil
	})
	for _, name := range unhealthy {
		i, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("--unhealthy %s: no app %q (add --app %s)", name, name, name))
			continue
		}
		o.apps[i].sc.Serve.NeverHealthy = true
	}
	for _, item := range vars {
		appName, kv, _ := strings.Cut(item, ":")
		k, v, ok := strings.Cut(kv, "=")
		i, known := byName[appName]
		switch {
		case !ok || k == "":
			errs = append(errs, fmt.Errorf("--var %s: want APP:NAME=value", appName+":…"))
		case !known:
			errs = append(errs, fmt.Errorf("--var %s:%s=…: no app %q (add --app %s)", appName, k, appName, appName))
		default:
			if o.apps[i].sc.Variables == nil {
				o.apps[i].sc.Variables = map[string]string{}
			}
			o.apps[i].sc.Variables[k] = v
		}
	}
	for _, v := range formations {
		if err := formation(v, o.apps, byName); err != nil {
			errs = append(errs, fmt.Errorf("--formation %s: %w", v, err))
		}
	}
	o.regions = regions
	return o, errors.Join(errs...)
}

// formation applies one --formation value, [APP=]TYPE:AMOUNT[:SIZE] items separated by
// commas: an item with APP= names the app of the items after it; before any, items apply to
// every app. An app given a formation is deployed once (a Procfile naming its types), as
// only the types of a deployed Procfile can be scaled.
func formation(v string, apps []appSpec, byName map[string]int) error {
	target := ""
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if name, rest, scoped := strings.Cut(item, "="); scoped {
			if _, known := byName[name]; !known {
				return fmt.Errorf("no app %q (add --app %s)", name, name)
			}
			target, item = name, rest
		}
		typ, rest, _ := strings.Cut(item, ":")
		amountText, size, sized := strings.Cut(rest, ":")
		amount, err := strconv.Atoi(amountText)
		switch {
		case typ == "" || err != nil:
			return fmt.Errorf("%q: want TYPE:AMOUNT[:SIZE], e.g. web:2:M", item)
		case amount < 0 || amount > 10:
			return fmt.Errorf("%q: an amount is 0 to 10", item)
		case sized && !slices.Contains(sizes, size):
			return fmt.Errorf("%q: size %q is not one of %s", item, size, strings.Join(sizes, ", "))
		case !sized:
			size = "M"
		}
		for i := range apps {
			if target != "" && apps[i].name != target {
				continue
			}
			sc := &apps[i].sc
			if sc.Formation == nil {
				sc.Formation = map[string]fakescalingo.Container{}
			}
			sc.Formation[typ] = fakescalingo.Container{Amount: amount, Size: size}
			sc.Deployed = true
		}
	}
	return nil
}

// run serves until ctx ends. --help returns flag.ErrHelp once the usage is printed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stdout)
	if err != nil {
		return err
	}
	s, err := fakescalingo.Start(fakescalingo.Options{APIToken: o.token, Region: builtinRegions[0],
		OtherRegions: append(builtinRegions[1:], o.regions...)})
	if err != nil {
		return fmt.Errorf("start the fake: %w", err)
	}
	defer s.Close()
	for _, a := range o.apps {
		s.AddApp(a.name, a.sc)
	}
	// A review app the deployer creates gets what an app gets by default.
	s.PlanApp("", fakescalingo.Scenario{BuildTime: defaultDuration, Serve: &fakescalingo.AppServer{}})

	fmt.Fprintf(stdout, "# fake Scalingo running on 127.0.0.1; paste these lines into the shell that runs scalingo-deploy:\n")
	fmt.Fprintf(stdout, "export SCALINGO_AUTH_URL=%s\n", s.AuthURL)
	fmt.Fprintf(stdout, "export SCALINGO_API_TOKEN=%s\n", s.APIToken)
	fmt.Fprintf(stdout, "# each region's API URL is looked up at SCALINGO_AUTH_URL (GET /v1/regions):\n")
	for _, r := range s.Regions() {
		fmt.Fprintf(stdout, "#   %s: %s\n", r, s.RegionAPIURL(r))
	}
	for _, a := range o.apps {
		info, _ := s.App(a.name)
		fmt.Fprintf(stdout, "# app %s in %s: %s\n", a.name, info.Region, describe(a.sc, info.URL))
	}
	// The hint names the region of an app outside the default one, or it would be a 404.
	first := o.apps[0].name
	if r := o.apps[0].sc.Region; r != "" && r != builtinRegions[0] {
		first += "@" + r
	}
	fmt.Fprintf(stdout, "# then: scalingo-deploy --app %s --path .\n", first)
	fmt.Fprintf(stdout, "# Ctrl-C stops the fake.\n")

	// Deployments end by the clock (Scenario.Duration), streaming as they go.
	tick := time.NewTicker(o.tickEvery)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			s.Tick()
		}
	}
	for _, a := range o.apps {
		for _, d := range s.Deployments(a.name) {
			fmt.Fprintf(stderr, "deployment %s of %s: %s\n", d.ID, a.name, d.Status)
		}
	}
	return nil
}

// describe says in a few words what an app does.
func describe(sc fakescalingo.Scenario, url string) string {
	final := sc.FinalStatus
	if final == "" {
		final = "success"
	}
	web := "healthy"
	if sc.Serve != nil && sc.Serve.NeverHealthy {
		web = "unhealthy (503)"
	}
	parts := []string{fmt.Sprintf("deployments end %s after %s", final, sc.BuildTime), "web " + web + " at " + url}
	if sc.Parent != "" {
		parts = append(parts, "review app of "+sc.Parent)
	}
	if sc.Age > 0 {
		parts = append(parts, "last deployed "+ago(sc.Age)+" ago")
	}
	if len(sc.Formation) > 0 {
		var cs []string
		for _, t := range slices.Sorted(maps.Keys(sc.Formation)) {
			c := sc.Formation[t]
			cs = append(cs, fmt.Sprintf("%s:%d:%s", t, c.Amount, c.Size))
		}
		parts = append(parts, "containers "+strings.Join(cs, ","))
	}
	if len(sc.Variables) > 0 {
		names := make([]string, 0, len(sc.Variables))
		for k := range sc.Variables {
			names = append(names, k)
		}
		slices.Sort(names)
		parts = append(parts, "variables "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// ago says an age as --child takes it: whole days as 30d.
func ago(d time.Duration) string {
	if day := 24 * time.Hour; d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
