// Package config turns flags and CI environment variables into one validated Config.
//
// Every input can be given four ways; the first non-empty value wins, in this order:
// a flag (--api-token), a GitHub Actions input (INPUT_API-TOKEN), a Drone or Woodpecker
// setting (PLUGIN_API_TOKEN, or PLUGIN_API-TOKEN as Drone passes kebab-case names), and a
// plain variable (SCALINGO_API_TOKEN). An empty value counts as unset, because GitHub passes
// omitted inputs as empty variables.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
)

// Platform is the CI system the binary runs under.
type Platform string

// The platforms, detected from the environment in this order.
const (
	GitHub     Platform = "github"
	GitLab     Platform = "gitlab"
	Woodpecker Platform = "woodpecker"
	Drone      Platform = "drone"
	Local      Platform = "local"
)

// DefaultAuthURL is Scalingo's global authentication service.
const DefaultAuthURL = "https://auth.scalingo.com"

// DefaultMaxSize is Scalingo's limit on the uncompressed archive (300 MiB).
const DefaultMaxSize int64 = archive.DefaultMaxSize

// Regions maps the built-in region names to their API URLs. Other names are looked up
// through the regions API at run time.
var Regions = map[string]string{
	"osc-fr1":        "https://api.osc-fr1.scalingo.com",
	"osc-secnum-fr1": "https://api.osc-secnum-fr1.scalingo.com",
}

// Config is every input, parsed and validated.
type Config struct {
	Platform Platform

	APIToken string
	App      string
	// Path is absolute: the folder (or archive file) to deploy.
	Path string
	// Workspace is the CI workspace (absolute); relative paths resolve against it.
	Workspace string
	Region    string
	// APIURL is empty when the region is not built in and no api-url was given: the
	// client then looks the region up.
	APIURL  string
	AuthURL string
	GitRef  string
	Wait    bool
	Timeout time.Duration
	Exclude []string
	// OutputFile is the dotenv file for outputs (absolute), or "" for none.
	OutputFile string
	DryRun     bool
	List       bool
	MaxSize    int64
	// SourceDateEpoch, when set, clamps file mtimes in the archive (reproducible builds).
	SourceDateEpoch *time.Time

	// Help and Version ask for usage text or the version instead of a deploy.
	Help, Version bool
}

// InputError is a problem with one input. It is the user's to fix, so it maps to exit code 2.
type InputError struct {
	Input string
	Msg   string
}

func (e *InputError) Error() string { return e.Input + ": " + e.Msg }

// InvalidInput marks the error as bad input (exit code 2).
func (e *InputError) InvalidInput() bool { return true }

type kind int

const (
	text kind = iota
	boolean
)

// input describes one input and the names it goes by on each platform.
type input struct {
	name string // action.yml name, kebab-case; the flag is --name
	kind kind
	help string
}

var inputs = []input{
	{"api-token", text, "Scalingo API token (required)"},
	{"app", text, "Scalingo app name or ID (required)"},
	{"path", text, "folder or archive to deploy, relative to the workspace (default: the workspace)"},
	{"region", text, "Scalingo region (default osc-fr1)"},
	{"api-url", text, "API URL (default: the region's)"},
	{"auth-url", text, "authentication URL (default " + DefaultAuthURL + ")"},
	{"git-ref", text, "git_ref recorded on the deployment (default: the CI commit SHA)"},
	{"wait", boolean, "follow the deployment to its end (default true)"},
	{"timeout", text, "how long to wait for the deployment, a Go duration (default 40m)"},
	{"exclude", text, "extra gitignore patterns, comma- or newline-separated"},
	{"output-file", text, "dotenv file for outputs (default on GitLab, Drone, Woodpecker: scalingo-deploy.env in the workspace)"},
	{"dry-run", boolean, "build the archive and describe it; no token, no network"},
	{"list", boolean, "with dry-run, list every path in the archive"},
	{"max-size", text, "uncompressed archive limit in bytes, or with a unit (KiB, MiB, GiB, KB, MB, GB); default 300MiB"},
}

// Usage returns the help text.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: scalingo-deploy [flags]\n\nDeploys a folder or an archive to a Scalingo app.\n\nFlags (each also readable as INPUT_<NAME>, PLUGIN_<NAME> or SCALINGO_<NAME>):\n")
	for _, in := range inputs {
		fmt.Fprintf(&b, "  --%-12s %s\n", in.name, in.help)
	}
	b.WriteString("  --help         show this help\n  --version      print the version\n")
	return b.String()
}

// envName returns the SCALINGO_* variable for an input.
func envName(name string) string {
	return "SCALINGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load reads args (without the program name) and the environment into a Config. All
// problems are reported together; each is an *InputError.
func Load(args []string, getenv func(string) string) (*Config, error) {
	flags, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	if flags["help"] == "true" {
		return &Config{Help: true}, nil
	}
	if flags["version"] == "true" {
		return &Config{Version: true}, nil
	}

	get := func(name string) string {
		if v, ok := flags[name]; ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		upper := strings.ToUpper(name)
		for _, key := range []string{
			"INPUT_" + upper,
			"PLUGIN_" + strings.ReplaceAll(upper, "-", "_"),
			"PLUGIN_" + upper,
			envName(name),
		} {
			if v := strings.TrimSpace(getenv(key)); v != "" {
				return v
			}
		}
		return ""
	}

	var problems []error
	bad := func(input, format string, a ...any) {
		problems = append(problems, &InputError{Input: input, Msg: fmt.Sprintf(format, a...)})
	}
	parseBool := func(name string, def bool) bool {
		v := get(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			bad(name, "%q is not true or false", v)
			return def
		}
		return b
	}

	c := &Config{
		Platform: Detect(getenv),
		APIToken: get("api-token"),
		App:      get("app"),
		Region:   get("region"),
		APIURL:   get("api-url"),
		AuthURL:  get("auth-url"),
		GitRef:   get("git-ref"),
		Wait:     parseBool("wait", true),
		DryRun:   parseBool("dry-run", false),
		List:     parseBool("list", false),
		Timeout:  40 * time.Minute,
		MaxSize:  DefaultMaxSize,
	}

	ws, fromCI, err := workspace(getenv)
	if err != nil {
		return nil, err
	}
	c.Workspace = ws
	if p, err := containedPath(ws, fromCI, get("path")); err != nil {
		bad("path", "%v", err)
	} else {
		c.Path = p
	}

	if !c.DryRun {
		if c.APIToken == "" {
			bad("api-token", "missing: %s", whereToSet("api-token"))
		} else if strings.ContainsAny(c.APIToken, " \t\r\n") {
			bad("api-token", "contains white space; check the secret's value")
		}
		if c.App == "" {
			bad("app", "missing: %s", whereToSet("app"))
		}
	}
	if c.App != "" && !appName.MatchString(c.App) {
		bad("app", "%q is not an app name or ID (letters, digits, '-' and '_' only)", c.App)
	}

	if c.Region == "" {
		c.Region = "osc-fr1"
	}
	if !regionName.MatchString(c.Region) {
		bad("region", "%q is not a region name (e.g. osc-fr1, osc-secnum-fr1)", c.Region)
	}
	if c.APIURL == "" {
		c.APIURL = Regions[c.Region]
	} else if err := checkURL(c.APIURL); err != nil {
		bad("api-url", "%v", err)
	}
	if c.AuthURL == "" {
		c.AuthURL = DefaultAuthURL
	} else if err := checkURL(c.AuthURL); err != nil {
		bad("auth-url", "%v", err)
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	c.AuthURL = strings.TrimRight(c.AuthURL, "/")

	if c.GitRef == "" {
		c.GitRef = firstNonEmpty(getenv, "GITHUB_SHA", "CI_COMMIT_SHA", "DRONE_COMMIT_SHA")
	}
	if c.GitRef != "" && !gitRef.MatchString(c.GitRef) {
		bad("git-ref", "%q cannot be a git_ref: use letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters (Scalingo uses it as an image tag)", c.GitRef)
	}

	if v := get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad("timeout", "%q is not a duration (e.g. 40m, 1h30m)", v)
		case d <= 0:
			bad("timeout", "must be positive, got %s", v)
		default:
			c.Timeout = d
		}
	}
	if v := get("max-size"); v != "" {
		n, err := ParseSize(v)
		if err != nil {
			bad("max-size", "%v", err)
		} else {
			c.MaxSize = n
		}
	}
	c.Exclude = SplitPatterns(get("exclude"))

	switch out := get("output-file"); {
	case out != "":
		c.OutputFile = resolve(ws, out)
	case c.Platform == GitLab || c.Platform == Drone || c.Platform == Woodpecker:
		c.OutputFile = filepath.Join(ws, "scalingo-deploy.env")
	}

	if v := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH")); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 {
			bad("SOURCE_DATE_EPOCH", "%q is not a Unix time in seconds", v)
		} else {
			t := time.Unix(secs, 0).UTC()
			c.SourceDateEpoch = &t
		}
	}

	if len(problems) > 0 {
		// A value echoed in a message could be the token, pasted into another input.
		if len(c.APIToken) >= 6 {
			for _, p := range problems {
				ie := p.(*InputError)
				ie.Msg = strings.ReplaceAll(ie.Msg, c.APIToken, "***")
			}
		}
		return nil, errors.Join(problems...)
	}
	return c, nil
}

var (
	appName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	// gitRef follows the Docker tag grammar: Scalingo tags the image with it.
	gitRef = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

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

// workspace is where the CI checked out the code: the first of the platforms' variables,
// else the current directory (fromCI false), with its symlinks evaluated.
func workspace(getenv func(string) string) (ws string, fromCI bool, err error) {
	for _, key := range []string{"GITHUB_WORKSPACE", "CI_PROJECT_DIR", "CI_WORKSPACE", "DRONE_WORKSPACE"} {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			continue
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return "", false, &InputError{Input: key, Msg: err.Error()}
		}
		ws, err := evalExisting(abs)
		if err != nil {
			return "", false, &InputError{Input: key, Msg: err.Error()}
		}
		return ws, true, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false, fmt.Errorf("find the current directory: %w", err)
	}
	if ws, err = evalExisting(wd); err != nil {
		return "", false, fmt.Errorf("find the current directory: %w", err)
	}
	return ws, false, nil
}

// containedPath resolves p against the workspace and evaluates its symlinks, so that what
// is checked is what gets archived. A path the CI's workspace does not contain is refused:
// a pull request can commit `dist` as a link to a folder outside the checkout. A plain
// shell has no workspace to hold the path to.
func containedPath(ws string, fromCI bool, p string) (string, error) {
	lexical := resolve(ws, p)
	real, err := evalExisting(lexical)
	if err != nil {
		return "", err
	}
	if fromCI && !within(ws, real) {
		if real == lexical {
			return "", fmt.Errorf("%q is outside the workspace %q; a CI deploys from its checkout", real, ws)
		}
		return "", fmt.Errorf("%q resolves to %q, outside the workspace %q (a symlink leads out of the checkout)", lexical, real, ws)
	}
	return real, nil
}

// evalExisting evaluates the symlinks of the longest part of p that exists and keeps the
// missing rest as written: a missing path is archive.Build's to report ("does not exist"),
// but a link in front of it must not escape unseen. A link whose target is missing cannot
// be told apart from an escape, so it is an error.
func evalExisting(p string) (string, error) {
	cur, rest := p, ""
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if _, lerr := os.Lstat(cur); !errors.Is(err, fs.ErrNotExist) || !errors.Is(lerr, fs.ErrNotExist) {
			return "", fmt.Errorf("cannot resolve %q: %w", p, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within tells whether p is ws or below it; both are absolute and clean.
func within(ws, p string) bool {
	rel, err := filepath.Rel(ws, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func resolve(base, p string) string {
	if p == "" {
		return base
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

func firstNonEmpty(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	return ""
}

// Detect tells which CI platform the environment belongs to. Woodpecker also sets DRONE_*
// variables and Drone sets some CI_* ones, hence the order.
func Detect(getenv func(string) string) Platform {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return GitHub
	case getenv("GITLAB_CI") == "true":
		return GitLab
	case getenv("CI") == "woodpecker" || getenv("CI_SYSTEM_NAME") == "woodpecker":
		return Woodpecker
	case getenv("DRONE") == "true":
		return Drone
	}
	return Local
}

// SplitPatterns splits an exclude list on newlines and commas, dropping blanks.
func SplitPatterns(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if p := strings.TrimSpace(line); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var units = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"b", 1},
}

// ParseSize reads a byte count, plain or with a unit (KiB, MiB, GiB, KB, MB, GB).
func ParseSize(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size (e.g. 314572800, 500MiB)", s)
	}
	return n * mult, nil
}
