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
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// DefaultAuthURL is Scalingo's global authentication service.
const DefaultAuthURL = "https://auth.scalingo.com"

// DefaultMaxSize is Scalingo's limit on the uncompressed archive (300 MiB).
const DefaultMaxSize int64 = archive.DefaultMaxSize

// Regions maps the built-in region names to their API URLs, used with Scalingo's own
// auth-url. Other names, and every name with another auth-url, are looked up through the
// regions API at run time.
var Regions = map[string]string{
	"osc-fr1":        "https://api.osc-fr1.scalingo.com",
	"osc-secnum-fr1": "https://api.osc-secnum-fr1.scalingo.com",
}

// Config is every input, parsed and validated.
type Config struct {
	// CI is the CI system detected.
	CI ci.CI

	APIToken string
	// Targets are the apps to deploy, in input order, at least one unless DryRun; each has
	// its Region (the region input's value when the target names none).
	Targets []Target
	// App and Region are those of the first target (Region is the region input's value when
	// there is no target); APIURL goes with Region (see APIURLFor).
	App string
	// Path is absolute, with its symlinks evaluated: the folder (or archive file) to deploy.
	// When a CI named the workspace, Path lies inside it.
	Path string
	// Workspace is the CI workspace (absolute, symlinks evaluated), else the current
	// directory; relative paths resolve against it.
	Workspace string
	Region    string
	// APIURL is empty when the region is not built in and no api-url was given: the
	// client then looks the region up.
	APIURL  string
	AuthURL string
	// GitRef is the git-ref input, else the CI's commit, else (outside a CI) the HEAD
	// commit of the git work tree holding Path; "" when none is known.
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
	// Env is set on every target before its deployment. Its values are never printed, but
	// they are not masks either: a value such as "production" or the commit's SHA is also
	// an app's name or a git ref, and outputs are data (the CI masks the secrets it gives).
	Env []Var
	// HealthCheck is "" (none), a path starting with / (joined to the app's URL) or an
	// absolute http(s) URL, asked after a successful deployment for HealthCheckTimeout.
	HealthCheck        string
	HealthCheckTimeout time.Duration
	// Review holds the review-app inputs (review.go).
	Review Review
	// Fleet is a mode on a parent's review apps as a whole: sweep, sleep, wake (fleet.go).
	Fleet Fleet
	// Forge holds the pull-request feedback inputs (forge.go).
	Forge Forge

	// Warnings are facts worth a warning that did not stop the load, such as a git
	// repository whose HEAD could not be read. They never quote the repository's content.
	Warnings []string

	// CodeQualityReport is the GitLab Code Quality report to write (absolute), or "" for
	// none.
	CodeQualityReport string

	// Help and Version ask for usage text or the version instead of a deploy.
	Help, Version bool
}

// Target is one app to deploy and the region it lives in.
type Target struct {
	App, Region string
}

func (t Target) String() string { return t.App + "@" + t.Region }

// Var is one variable set on the apps with the deployment.
type Var struct {
	Name, Value string
}

// Limits on the inputs.
const (
	MaxTargets       = 20
	MaxEnvValueBytes = 8192
)

// Secrets returns the values known at load time to mask in output: the tokens. The JWTs
// and the signed URLs' queries are masked when they arrive. Env values are not masks:
// masking "production" would turn the output app-url of shop-production into
// https://shop-***…, and on GitHub star the word in every later step of the job.
func (c *Config) Secrets() []string {
	var out []string
	for _, tok := range []string{c.APIToken, c.Forge.GitHubToken, c.Forge.GitLabToken} {
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// unquotable returns the values that no input error may quote: the token, and each env
// value (one pasted into another input by mistake would be echoed by that input's error).
func (c *Config) unquotable() []string {
	out := c.Secrets()
	for _, v := range c.Env {
		if v.Value != "" {
			out = append(out, v.Value)
		}
	}
	return out
}

// APIURLFor returns the API URL of a target's region, or "" when the region is not built in
// and must be looked up. An api-url input serves every target: Load refuses it with targets
// in more than one region.
func (c *Config) APIURLFor(region string) string {
	if region == c.Region {
		return c.APIURL
	}
	return c.builtinAPIURL(region)
}

// builtinAPIURL is the built-in API URL of a region, "" when it must be looked up. With
// another auth-url than Scalingo's, every region is looked up there (GET /v1/regions):
// that service (another installation, the bundled fake) knows its own regions' URLs, and
// the token already goes to it.
func (c *Config) builtinAPIURL(region string) string {
	if c.AuthURL != DefaultAuthURL {
		return ""
	}
	return Regions[region]
}

// InputError is a problem with one input. It is the user's to fix, so it maps to exit code 2.
type InputError struct {
	Input string
	Msg   string
}

func (e *InputError) Error() string { return e.Input + ": " + e.Msg }

// InvalidInput marks the error as bad input (exit code 2).
func (e *InputError) InvalidInput() bool { return true }

// Usage returns the help text.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Usage: scalingo-deploy [flags]

Deploys a folder or an archive to a Scalingo app.

Each input is a flag, --NAME VALUE or --NAME=VALUE (a switch such as --dry-run also
stands alone). It is also read from these variables, the first non-empty one winning,
for --api-token for instance:
  INPUT_API-TOKEN     the name upper-cased, dashes kept (GitHub Actions inputs)
  PLUGIN_API_TOKEN    dashes as underscores (Drone and Woodpecker settings: api_token);
                      PLUGIN_API-TOKEN too
  SCALINGO_API_TOKEN  dashes as underscores (any CI, a shell)
No other spelling is read: INPUT_API_TOKEN or SCALINGO_APPP are not; they get a warning.

Flags:
`)
	width := len("version")
	for _, in := range inputs {
		width = max(width, len(in.name))
	}
	line := func(name, help string) { fmt.Fprintf(&b, "  --%-*s  %s\n", width, name, help) }
	for _, in := range inputs {
		line(in.name, in.help)
	}
	line("help", "show this help")
	line("version", "print the version")
	return b.String()
}

// envName returns the SCALINGO_* variable for an input.
func envName(name string) string {
	return "SCALINGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// loader is what the inputs' functions share while Load runs.
type loader struct {
	getenv func(string) string
	flags  map[string]string
	// ws is the workspace with its symlinks evaluated; fromCI tells whether a CI named it.
	ws     string
	fromCI bool
	token  string
	// pr memoizes the CI's pull-request context: git-ref, review-app and the forge
	// feedback all need it, and the event payload is read once.
	pr *prResult
}

type prResult struct {
	pr  ci.PR
	err error
}

// pullRequest returns the CI's pull-request context, read on first use.
func (ld *loader) pullRequest(c ci.CI) (ci.PR, error) {
	if ld.pr == nil {
		pr, err := c.PullRequest(ld.getenv)
		ld.pr = &prResult{pr, err}
	}
	return ld.pr.pr, ld.pr.err
}

// value returns an input's value from the first source that has a non-empty one: the flag,
// then INPUT_, PLUGIN_ (snake and kebab case), SCALINGO_. The value is trimmed unless the
// input is raw (its line numbers must match what the user wrote).
func (ld *loader) value(in input) string {
	pick := func(v string) (string, bool) {
		if strings.TrimSpace(v) == "" {
			return "", false
		}
		if in.raw {
			return v, true
		}
		return strings.TrimSpace(v), true
	}
	if v, ok := pick(ld.flags[in.name]); ok {
		return v
	}
	upper := strings.ToUpper(in.name)
	for _, key := range []string{
		"INPUT_" + upper,
		"PLUGIN_" + strings.ReplaceAll(upper, "-", "_"),
		"PLUGIN_" + upper,
		envName(in.name),
	} {
		if v, ok := pick(ld.getenv(key)); ok {
			return v
		}
	}
	return ""
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

	found := ci.Detect(getenv)
	ld := &loader{getenv: getenv, flags: flags}
	if ld.ws, ld.fromCI, err = workspace(found, getenv); err != nil {
		return nil, err
	}
	c := &Config{CI: found, Workspace: ld.ws}

	var problems []error
	values := make([]string, len(inputs))
	failed := make([]bool, len(inputs))
	for i, in := range inputs {
		v := ld.value(in)
		if in.name == tokenInput {
			ld.token = v
		}
		var err error
		if in.name != tokenInput && ld.token != "" && strings.TrimSpace(v) == ld.token {
			// Sent as an app name, the token would land in URL paths and outputs. The input is
			// parsed as unset, so that the rules of other inputs see its default.
			_ = in.parse(c, "", ld)
			err = errors.New("holds the API token's value (not shown): the token goes in api-token only")
		} else {
			err = in.parse(c, v, ld)
		}
		if err != nil {
			problems = append(problems, inputErrors(in.name, err)...)
		}
		values[i], failed[i] = v, err != nil
	}
	for i, in := range inputs {
		if in.check == nil || failed[i] {
			continue
		}
		if err := in.check(c, values[i], ld); err != nil {
			problems = append(problems, inputErrors(in.name, err)...)
		}
	}

	if v := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH")); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 {
			problems = append(problems, &InputError{Input: "SOURCE_DATE_EPOCH", Msg: fmt.Sprintf("%q is not a Unix time in seconds", v)})
		} else {
			t := time.Unix(secs, 0).UTC()
			c.SourceDateEpoch = &t
		}
	}

	if len(problems) > 0 {
		// A value echoed in a message could be a secret (the token, an env value) pasted
		// into another input. Short values would blank out ordinary words, so they are left.
		for _, secret := range c.unquotable() {
			if len(secret) < 6 {
				continue
			}
			for _, p := range problems {
				ie := p.(*InputError)
				ie.Msg = strings.ReplaceAll(ie.Msg, secret, "***")
			}
		}
		return nil, errors.Join(problems...)
	}
	return c, nil
}

// inputErrors turns what an input's function returned into *InputErrors named for it.
func inputErrors(name string, err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, inputErrors(name, e)...)
		}
		return out
	}
	if ie, ok := err.(*InputError); ok {
		return []error{ie}
	}
	return []error{&InputError{Input: name, Msg: err.Error()}}
}

// SplitPatterns splits a list (exclude, app) on newlines and commas, dropping blanks.
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
