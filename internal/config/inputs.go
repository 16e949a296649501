package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
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
	{name: "app", help: "Scalingo app name or ID (required)", parse: parseApp, check: checkApp},
	{name: "path", help: "folder or archive to deploy, relative to the workspace (default: the workspace)", parse: parsePath},
	{name: "region", help: "Scalingo region (default osc-fr1)", parse: parseRegion},
	{name: "api-url", help: "API URL (default: the region's)", parse: parseAPIURL, check: checkAPIURL},
	{name: "auth-url", help: "authentication URL (default " + DefaultAuthURL + ")", parse: parseAuthURL},
	{name: "git-ref", help: "git_ref recorded on the deployment (default: the CI commit SHA)", parse: parseGitRef},
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
	{name: "dry-run", kind: boolean, help: "build the archive and describe it; no token, no network",
		parse: func(c *Config, v string, _ *loader) (err error) { c.DryRun, err = parseBool(v, false); return err }},
	{name: "list", kind: boolean, help: "with dry-run, list every path in the archive",
		parse: func(c *Config, v string, _ *loader) (err error) { c.List, err = parseBool(v, false); return err }},
	{name: "max-size", help: "uncompressed archive limit in bytes, or with a unit (KiB, MiB, GiB, KB, MB, GB); default 300MiB", parse: parseMaxSize},
}

var (
	appName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
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
	case c.DryRun:
		return nil
	case v == "":
		return fmt.Errorf("missing: %s", whereToSet(tokenInput))
	case strings.ContainsAny(v, " \t\r\n"):
		return errors.New("contains white space; check the secret's value")
	}
	return nil
}

func parseApp(c *Config, v string, _ *loader) error {
	c.App = v
	if v != "" && !appName.MatchString(v) {
		return fmt.Errorf("%q is not an app name or ID (letters, digits, '-' and '_' only)", v)
	}
	return nil
}

func checkApp(c *Config, v string, _ *loader) error {
	if v == "" && !c.DryRun {
		return fmt.Errorf("missing: %s", whereToSet("app"))
	}
	return nil
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

// checkAPIURL defaults the API URL to the region's, once the region is known.
func checkAPIURL(c *Config, v string, _ *loader) error {
	if v == "" {
		c.APIURL = Regions[c.Region]
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
		v = firstNonEmpty(ld.getenv, "GITHUB_SHA", "CI_COMMIT_SHA", "DRONE_COMMIT_SHA")
	}
	c.GitRef = v
	if v != "" && !gitRef.MatchString(v) {
		return fmt.Errorf("%q cannot be a git_ref: use letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters (Scalingo uses it as an image tag)", v)
	}
	return nil
}

func parseOutputFile(c *Config, v string, ld *loader) error {
	switch {
	case v != "":
		c.OutputFile = resolve(ld.ws, v)
	case c.Platform == GitLab || c.Platform == Drone || c.Platform == Woodpecker:
		c.OutputFile = filepath.Join(ld.ws, "scalingo-deploy.env")
	default:
		c.OutputFile = ""
	}
	return nil
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
		return fmt.Errorf("%q is not an absolute http(s) URL without credentials or query", raw)
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
