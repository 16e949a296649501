package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/gitref"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

type kind int

const (
	text kind = iota
	boolean
)

// input is one input: the names it goes by (action.yml name, kebab-case; the flag is --name;
// the variables follow from it) and how it is read. Adding an input means adding one entry
// to inputs.
type input struct {
	name string
	kind kind
	help string
	// raw inputs are passed untrimmed, so that line numbers match what the user wrote.
	raw bool
	// parse reads the input's value ("" when unset) into c. Inputs are parsed in table order.
	parse func(c *Config, v string, ld *loader) error
	// check, when set, runs once every input is parsed (and its own parse succeeded), for
	// rules and defaults that involve another input. Checks run in table order.
	check func(c *Config, v string, ld *loader) error
}

const tokenInput = "api-token"

var inputs = []input{
	{name: tokenInput, help: "Scalingo API token (required)", parse: parseToken, check: checkToken},
	{name: "app", help: "Scalingo app(s) to deploy (required): name or name@region, several separated by newlines or commas (at most 20)", parse: parseApp, check: checkApp},
	{name: "path", help: "folder or archive to deploy, relative to the workspace (default: the workspace)", parse: parsePath},
	{name: "region", help: "Scalingo region (default osc-fr1)", parse: parseRegion},
	{name: "api-url", help: "API URL (default: the region's)", parse: parseAPIURL, check: checkAPIURL},
	{name: "auth-url", help: "authentication URL (default " + DefaultAuthURL + "); with another one, every region's API URL is looked up there", parse: parseAuthURL},
	{name: "git-ref", help: "git_ref recorded on the deployment (default: the CI's commit SHA, on a GitHub pull_request_target event the pull request's head; outside a CI, the HEAD commit of the git work tree holding path)", parse: parseGitRef, check: checkGitRef},
	{name: "wait", kind: boolean, help: "follow the deployment to its end (default true)",
		parse: func(c *Config, v string, _ *loader) (err error) { c.Wait, err = parseBool(v, true); return err }},
	{name: "timeout", help: "how long to wait for the deployment, a Go duration (default 40m)",
		parse: func(c *Config, v string, _ *loader) (err error) {
			c.Timeout, err = parseDuration(v, 40*time.Minute)
			return err
		}},
	{name: "exclude", help: "extra gitignore patterns, comma- or newline-separated",
		parse: func(c *Config, v string, _ *loader) error { c.Exclude = SplitPatterns(v); return nil }},
	{name: "output-file", help: "dotenv file for outputs (default on GitLab, Drone, Woodpecker: scalingo-deploy.env in the workspace)", parse: parseOutputFile},
	{name: "code-quality-report", help: "GitLab Code Quality report of a failed build's errors (default on GitLab: gl-code-quality-report.json in the workspace)", parse: parseCodeQualityReport},
	{name: "dry-run", kind: boolean, help: "build the archive and describe it; no token, no network (with review-app-sweep, -sleep or -wake: read with the token, list what would change, change nothing)",
		parse: func(c *Config, v string, _ *loader) (err error) { c.DryRun, err = parseBool(v, false); return err }},
	{name: "list", kind: boolean, help: "with dry-run, list every path in the archive",
		parse: func(c *Config, v string, _ *loader) (err error) { c.List, err = parseBool(v, false); return err }, check: checkList},
	{name: "max-size", help: "uncompressed archive limit in bytes, or with a unit (KiB, MiB, GiB, KB, MB, GB); default 300MiB", parse: parseMaxSize},
	{name: "env", raw: true, help: "variables set on every app before its deployment: NAME=value lines (# comments and blank lines skipped); with review-app, %URL:parent% and %APP:parent% name another parent's review app", parse: parseEnv, check: checkEnvLinks},
	{name: "health-check", help: "after success, GET this path of the app's URL (e.g. /healthz) or this http(s) URL until it answers 2xx or 3xx", parse: parseHealthCheck, check: checkHealthCheck},
	{name: "health-check-timeout", help: "how long the health check may take, a Go duration (default 2m)",
		parse: func(c *Config, v string, _ *loader) (err error) {
			c.HealthCheckTimeout, err = parseDuration(v, 2*time.Minute)
			return err
		}},
	{name: "review-app", kind: boolean, help: "deploy to a review app of each app (its child <app>-pr<N>, N the pull/merge request) instead of the app itself (default false)", parse: parseReviewApp, check: checkReviewApp},
	{name: "review-app-name", help: "with review-app, the review app's name (default <app>-pr<N>); one parent only", parse: parseReviewName, check: checkReviewName},
	{name: "copy-env", help: "with review-app, the parent's variables copied to a new review app, comma- or newline-separated; PREFIX* matches by prefix (default none)", parse: parseCopyEnv, check: checkCopyEnv},
	{name: "addons", help: "with review-app, addons provisioned on a new review app: provider:plan items, comma- or newline-separated (default: scalingo.json's, else none)", parse: parseAddons, check: checkAddons},
	{name: "destroy", kind: boolean, help: "with review-app, delete the review app instead of deploying (default false; true on a GitHub pull_request closed event)", parse: parseDestroy, check: checkDestroy},
	{name: "allow-forks", kind: boolean, help: "with review-app, deploy pull requests from forks too (default false: refused)", parse: parseAllowForks, check: checkAllowForks},
	{name: "fork-label", help: "with review-app on GitHub, Forgejo or Gitea, deploy a fork's pull request on the pull_request_target event that adds this label (a maintainer's approval of that commit); copy-env is refused for it", parse: parseForkLabel, check: checkForkLabel},
	{name: "review-app-sweep", kind: boolean, help: "delete the review apps (<app>-pr<N>) of each app whose last deployment is older than review-app-max-age; with dry-run, list them (default false)", parse: parseFleetMode("review-app-sweep"), check: checkFleetMode("review-app-sweep")},
	{name: "review-app-max-age", help: "with review-app-sweep, the age past which a review app is deleted: days (7d) or a Go duration (36h)", parse: parseMaxAge, check: checkMaxAge},
	{name: "review-app-sleep", kind: boolean, help: "scale the review apps (<app>-pr<N>) of each app to zero, remembering their formation (default false)", parse: parseFleetMode("review-app-sleep"), check: checkFleetMode("review-app-sleep")},
	{name: "review-app-wake", kind: boolean, help: "restore the formation review-app-sleep stopped on the review apps of each app (default false)", parse: parseFleetMode("review-app-wake"), check: checkFleetMode("review-app-wake")},
	{name: "github-token", help: "GitHub (or Forgejo/Gitea) token for pull-request feedback, e.g. ${{ github.token }}: a deployment per app and one comment (default none: nothing is sent to the forge)", parse: parseGitHubToken},
	{name: "gitlab-token", help: "GitLab project or group access token with the api scope, for one merge-request note (default none: nothing is sent to GitLab)", parse: parseGitLabToken},
	{name: "pr-comment", kind: boolean, help: "with a forge token, keep one comment (GitLab: note) on the pull/merge request with each app's state and URL (default true)", parse: parsePRComment},
	{name: "github-deployments", kind: boolean, help: "with github-token, record each deploy as a GitHub deployment with its statuses (default true)", parse: parseGitHubDeployments},
	{name: "environment", help: "with github-token, the GitHub deployments' environment (default: each app's name)", parse: parseEnvironment, check: checkForge},
}

var (
	appName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	envVarName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// gitRef follows the Docker tag grammar: Scalingo tags the image with it.
	gitRef = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func parseToken(c *Config, v string, _ *loader) error {
	c.APIToken = v
	return nil
}

// checkToken: a dry run sends nothing, so it needs no token.
func checkToken(c *Config, v string, _ *loader) error {
	switch {
	case c.DryRun && c.Fleet.Mode == "":
		return nil
	case v == "":
		return fmt.Errorf("missing: %s", whereToSet(tokenInput))
	case strings.ContainsAny(v, " \t\r\n"):
		return errors.New("contains white space; check the secret's value")
	}
	return nil
}

// parseApp reads the targets: `name` or `name@region`, separated by newlines or commas.
// Their default region is filled in by checkApp, once the region input is read.
func parseApp(c *Config, v string, ld *loader) error {
	c.Targets, c.App = nil, ""
	if v == "" {
		return nil
	}
	items := SplitPatterns(v)
	if len(items) == 0 {
		return errors.New("lists no app; give one name, or several separated by newlines or commas")
	}
	var errs []error
	for i, item := range items {
		name, region, hasRegion := strings.Cut(item, "@")
		switch {
		case ld.token != "" && (item == ld.token || name == ld.token || region == ld.token):
			errs = append(errs, fmt.Errorf("target #%d holds the API token's value (not shown): the token goes in api-token only", i+1))
		case !appName.MatchString(name):
			errs = append(errs, fmt.Errorf("%q is not an app name or ID (letters, digits, '-' and '_' only)", name))
		case hasRegion && !regionName.MatchString(region):
			errs = append(errs, fmt.Errorf("%q in %q is not a region name (e.g. osc-fr1, osc-secnum-fr1)", region, item))
		}
		c.Targets = append(c.Targets, Target{App: name, Region: region})
	}
	if len(items) > MaxTargets {
		errs = append(errs, fmt.Errorf("%d targets; at most %d in one run", len(items), MaxTargets))
	}
	if err := errors.Join(errs...); err != nil {
		c.Targets = nil
		return err
	}
	c.App = c.Targets[0].App
	return nil
}

// OutputSuffix turns an app or region name into the end of an output variable's name:
// my-api → MY_API.
func OutputSuffix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// checkApp gives the targets without a region the region input's, then refuses a target
// given twice: two deployments of one app in one run would race.
func checkApp(c *Config, v string, _ *loader) error {
	if v == "" && !c.DryRun {
		return fmt.Errorf("missing: %s", whereToSet("app"))
	}
	var errs []error
	seen := map[Target]bool{}
	for i := range c.Targets {
		t := &c.Targets[i]
		if t.Region == "" {
			t.Region = c.Region
		}
		if seen[*t] {
			errs = append(errs, fmt.Errorf("target %s is given twice", t))
		}
		seen[*t] = true
	}
	// Each target's dotenv names end with its name upper-cased, '-' as '_': two names
	// that read alike there (my-api, my_api) would overwrite each other's outputs.
	owner := map[string]Target{}
	for _, t := range c.Targets {
		key := OutputSuffix(t.App) + "@" + OutputSuffix(t.Region)
		if o, ok := owner[key]; ok && o != t {
			errs = append(errs, fmt.Errorf("targets %s and %s would share their output names (%s); rename one", o, t, OutputSuffix(t.App)))
		}
		owner[key] = t
	}
	if len(c.Targets) > 0 {
		// The fields a single-target caller reads describe the first target.
		c.Region = c.Targets[0].Region
	}
	return errors.Join(errs...)
}

func parsePath(c *Config, v string, ld *loader) error {
	p, err := containedPath(ld.ws, ld.fromCI, v)
	c.Path = p
	return err
}

func parseRegion(c *Config, v string, _ *loader) error {
	c.Region = v
	if v == "" {
		c.Region = "osc-fr1"
	}
	if !regionName.MatchString(c.Region) {
		return fmt.Errorf("%q is not a region name (e.g. osc-fr1, osc-secnum-fr1)", c.Region)
	}
	return nil
}

func parseAPIURL(c *Config, v string, _ *loader) error {
	c.APIURL = strings.TrimRight(v, "/")
	if v == "" {
		return nil
	}
	return checkURL(v)
}

// checkAPIURL defaults the API URL to the region's, once the region and the targets are
// known. One given URL cannot serve several regions.
func checkAPIURL(c *Config, v string, _ *loader) error {
	if v == "" {
		c.APIURL = c.builtinAPIURL(c.Region)
		return nil
	}
	var regions []string
	for _, t := range c.Targets {
		if !slices.Contains(regions, t.Region) {
			regions = append(regions, t.Region)
		}
	}
	if len(regions) > 1 {
		return fmt.Errorf("one API URL cannot serve targets in several regions (%s); drop api-url, or deploy each region in its own step", strings.Join(regions, ", "))
	}
	return nil
}

func parseAuthURL(c *Config, v string, _ *loader) error {
	if v == "" {
		c.AuthURL = DefaultAuthURL
		return nil
	}
	c.AuthURL = strings.TrimRight(v, "/")
	return checkURL(v)
}

func parseGitRef(c *Config, v string, ld *loader) error {
	if v == "" {
		// An unreadable event payload leaves the CI's commit variable; review-app stops on
		// it, and the feedback warns.
		pr, _ := ld.pullRequest(c.CI)
		v = c.CI.DeployedCommit(ld.getenv, pr)
	}
	c.GitRef = v
	if v != "" && !gitRef.MatchString(v) {
		return fmt.Errorf("%q cannot be a git_ref: use letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters (Scalingo uses it as an image tag)", v)
	}
	return nil
}

// checkGitRef defaults the git ref, outside a CI, to the HEAD commit of the git work tree
// holding path, once path is known. No repository (or one with no commit, or in a format
// not read) is the usual case of a shell: nothing to say. Another failure (a damaged or
// hostile .git) is only a warning: the deployment gets a made-up ref, as before.
func checkGitRef(c *Config, _ string, _ *loader) error {
	if c.GitRef != "" || c.CI.Platform != ci.Local || c.Path == "" {
		return nil
	}
	sha, err := gitref.Head(c.Path)
	switch {
	case err == nil:
		c.GitRef = sha
	case errors.Is(err, gitref.ErrNotRepo), errors.Is(err, gitref.ErrNoCommit), errors.Is(err, gitref.ErrUnsupported):
	default:
		c.Warnings = append(c.Warnings, fmt.Sprintf("git-ref: the HEAD commit is unknown (%v); the deployment gets a made-up git ref", err))
	}
	return nil
}

// parseOutputFile: the default output file lies in the workspace even when path points
// elsewhere, where the CI's pipeline looks for it.
//
// The checkout is the attacker's in a pull request: a folder of the output file's path
// inside the workspace must not lead out of it through a symlink (the file itself is
// opened without following one, see platform).
func parseOutputFile(c *Config, v string, ld *loader) (err error) {
	c.OutputFile, err = outputPath(v, c.CI.DefaultOutputFile, ld)
	return err
}

func parseCodeQualityReport(c *Config, v string, ld *loader) (err error) {
	c.CodeQualityReport, err = outputPath(v, c.CI.DefaultCodeQualityReport, ld)
	return err
}

// outputPath is the absolute path of a file the run writes: v, or else def in the
// workspace ("" when both are empty). In a CI, a file in the workspace must stay there
// once its folder's symlinks are followed.
func outputPath(v, def string, ld *loader) (string, error) {
	var p string
	switch {
	case v != "":
		p = resolve(ld.ws, v)
	case def != "":
		p = filepath.Join(ld.ws, def)
	default:
		return "", nil
	}
	if !ld.fromCI || !within(ld.ws, p) {
		return p, nil
	}
	dir, err := evalExisting(filepath.Dir(p))
	if err != nil {
		return p, err
	}
	if !within(ld.ws, dir) {
		return p, fmt.Errorf("the folder of %q resolves to %q, outside the workspace %q (a symlink leads out of the checkout)", p, dir, ld.ws)
	}
	return filepath.Join(dir, filepath.Base(p)), nil
}

func parseMaxSize(c *Config, v string, _ *loader) error {
	c.MaxSize = DefaultMaxSize
	if v == "" {
		return nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	c.MaxSize = n
	return nil
}

func parseBool(v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return def, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

func parseDuration(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return def, fmt.Errorf("%q is not a duration (e.g. 40m, 1h30m)", v)
	case d <= 0:
		return def, fmt.Errorf("must be positive, got %s", v)
	}
	return d, nil
}

func whereToSet(name string) string {
	plugin := strings.ReplaceAll(name, "-", "_")
	return fmt.Sprintf("set the action input %q, the plugin setting %q, the %s variable, or the --%s flag", name, plugin, envName(name), name)
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL without credentials or query", httpapi.MaskUserinfo(raw))
	}
	return checkPort(u)
}

// checkPort refuses a port out of range before any request: net/http would only fail when
// dialling, after retries.
func checkPort(u *url.URL) error {
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %s is not between 1 and 65535", u.Redacted(), p)
		}
	}
	return nil
}

// parseEnv reads NAME=value lines. A value may hold commas and '=', so lines are the only
// separator. Values are secrets: no message shows one, and a bad line is named by its
// number only (what looks like a name could be a value written without one).
func parseEnv(c *Config, v string, _ *loader) error {
	c.Env = nil
	if v == "" {
		return nil
	}
	var errs []error
	first := map[string]int{}
	for i, line := range strings.Split(v, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("line %d is not NAME=value", n))
		case !envVarName.MatchString(name):
			errs = append(errs, fmt.Errorf("line %d: the name is not a variable name (1 to 64 letters, digits, '_' or '-')", n))
		case len(value) > MaxEnvValueBytes:
			errs = append(errs, fmt.Errorf("line %d: the value of %s is longer than %d bytes", n, name, MaxEnvValueBytes))
		case first[name] != 0:
			errs = append(errs, fmt.Errorf("line %d: %s is already set on line %d", n, name, first[name]))
		default:
			first[name] = n
			c.Env = append(c.Env, Var{Name: name, Value: value})
		}
	}
	// On error the good lines stay in c.Env: Load keeps their values out of other messages.
	return errors.Join(errs...)
}

func parseHealthCheck(c *Config, v string, _ *loader) error {
	c.HealthCheck = v
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
	case strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//"):
		return nil
	case (u.Scheme == "https" || u.Scheme == "http") && u.Hostname() != "" && u.User == nil:
		return checkPort(u)
	}
	return fmt.Errorf("%q is neither a path starting with / nor an absolute http(s) URL without credentials", httpapi.MaskUserinfo(v))
}

// checkList: the list describes a dry run's archive; a deploy would silently ignore it.
func checkList(c *Config, _ string, _ *loader) error {
	if c.List && !c.DryRun {
		return errors.New("lists the archive of a dry run only: add --dry-run (nothing is deployed then), or drop --list")
	}
	return nil
}

// checkHealthCheck: the check runs after the deployment's verdict, which wait=false skips.
func checkHealthCheck(c *Config, v string, _ *loader) error {
	if v != "" && !c.Wait {
		return errors.New("needs wait=true: the check runs once the deployment succeeded, which wait=false does not wait for")
	}
	return nil
}
