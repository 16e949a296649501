package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// base is the smallest valid environment: a workspace, a token and an app.
var base = []string{"SCALINGO_API_TOKEN", "tk-us-plain", "SCALINGO_APP", "my-app", "CI_PROJECT_DIR", "/ws"}

func TestLoad_Sources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "plain variables",
			env:  base,
			check: func(t *testing.T, c *Config) {
				if c.APIToken != "tk-us-plain" || c.App != "my-app" {
					t.Errorf("token/app = %q/%q", c.APIToken, c.App)
				}
			},
		},
		{
			name: "flag beats GitHub input beats plugin setting beats variable",
			args: []string{"--app", "from-flag"},
			env:  append([]string{"INPUT_APP", "from-input", "PLUGIN_APP", "from-plugin"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.App != "from-flag" {
					t.Errorf("app = %q, want from-flag", c.App)
				}
			},
		},
		{
			name: "GitHub input keeps hyphens",
			env:  append([]string{"INPUT_API-TOKEN", "tk-us-input", "PLUGIN_API_TOKEN", "tk-us-plugin"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.APIToken != "tk-us-input" {
					t.Errorf("token = %q", c.APIToken)
				}
			},
		},
		{
			name: "empty GitHub input counts as unset",
			env:  append([]string{"INPUT_API-TOKEN", "", "INPUT_APP", "  ", "PLUGIN_API_TOKEN", "tk-us-plugin"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.APIToken != "tk-us-plugin" || c.App != "my-app" {
					t.Errorf("token/app = %q/%q", c.APIToken, c.App)
				}
			},
		},
		{
			name: "Drone kebab-case setting",
			env:  []string{"PLUGIN_API-TOKEN", "tk-us-drone", "PLUGIN_APP", "x-app1", "DRONE", "true", "DRONE_WORKSPACE", "/drone/src"},
			check: func(t *testing.T, c *Config) {
				if c.APIToken != "tk-us-drone" || c.CI.Platform != ci.Drone {
					t.Errorf("token/platform = %q/%q", c.APIToken, c.CI.Platform)
				}
				if c.OutputFile != "/drone/src/scalingo-deploy.env" {
					t.Errorf("output file = %q", c.OutputFile)
				}
			},
		},
		{
			name: "flag with equals and boolean forms",
			args: []string{"--app=eq-app", "--wait", "false", "--dry-run"},
			env:  base,
			check: func(t *testing.T, c *Config) {
				if c.App != "eq-app" || c.Wait || !c.DryRun {
					t.Errorf("app=%q wait=%v dry=%v", c.App, c.Wait, c.DryRun)
				}
			},
		},
		{
			name: "defaults",
			env:  base,
			check: func(t *testing.T, c *Config) {
				want := Config{Region: "osc-fr1", APIURL: "https://api.osc-fr1.scalingo.com", AuthURL: DefaultAuthURL,
					Wait: true, Timeout: 40 * time.Minute, MaxSize: DefaultMaxSize, Path: "/ws"}
				if c.Region != want.Region || c.APIURL != want.APIURL || c.AuthURL != want.AuthURL || c.Wait != want.Wait ||
					c.Timeout != want.Timeout || c.MaxSize != want.MaxSize || c.Path != want.Path || c.CI.Platform != ci.Local {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "secnum region",
			env:  append([]string{"SCALINGO_REGION", "osc-secnum-fr1"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.APIURL != "https://api.osc-secnum-fr1.scalingo.com" {
					t.Errorf("api url = %q", c.APIURL)
				}
			},
		},
		{
			name: "unknown region is looked up later",
			env:  append([]string{"SCALINGO_REGION", "osc-new1"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.APIURL != "" {
					t.Errorf("api url = %q, want empty", c.APIURL)
				}
			},
		},
		{
			name: "api-url wins over region, http allowed, trailing slash dropped",
			env:  append([]string{"SCALINGO_API_URL", "http://127.0.0.1:8080/", "SCALINGO_AUTH_URL", "http://127.0.0.1:8081"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.APIURL != "http://127.0.0.1:8080" || c.AuthURL != "http://127.0.0.1:8081" {
					t.Errorf("urls = %q %q", c.APIURL, c.AuthURL)
				}
			},
		},
		{
			name: "relative path resolves against the workspace",
			env:  append([]string{"SCALINGO_PATH", "sub/dir"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.Path != filepath.FromSlash("/ws/sub/dir") {
					t.Errorf("path = %q", c.Path)
				}
			},
		},
		{
			name: "git ref from each platform",
			env:  append([]string{"GITHUB_SHA", "", "CI_COMMIT_SHA", "abc123"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.GitRef != "abc123" {
					t.Errorf("git ref = %q", c.GitRef)
				}
			},
		},
		{
			name: "GitHub: workspace, sha, no output file",
			env: []string{"GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", "/github/workspace", "GITHUB_SHA", "deadbeef",
				"INPUT_API-TOKEN", "tk", "INPUT_APP", "gh-app", "INPUT_PATH", "dist"},
			check: func(t *testing.T, c *Config) {
				if c.CI.Platform != ci.GitHub || c.Path != "/github/workspace/dist" || c.GitRef != "deadbeef" || c.OutputFile != "" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "Woodpecker before Drone; output file in the workspace even with another path",
			env: []string{"CI", "woodpecker", "DRONE", "true", "CI_WORKSPACE", "/woodpecker/src/repo",
				"PLUGIN_API_TOKEN", "tk", "PLUGIN_APP", "wp-app", "PLUGIN_PATH", "/woodpecker/src/repo/web"},
			check: func(t *testing.T, c *Config) {
				if c.CI.Platform != ci.Woodpecker || c.OutputFile != "/woodpecker/src/repo/scalingo-deploy.env" || c.Path != "/woodpecker/src/repo/web" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "exclude lists split on commas and newlines",
			env:  append([]string{"SCALINGO_EXCLUDE", "node_modules/, *.log\n/tmp\n\n"}, base...),
			check: func(t *testing.T, c *Config) {
				if got := strings.Join(c.Exclude, "|"); got != "node_modules/|*.log|/tmp" {
					t.Errorf("exclude = %q", got)
				}
			},
		},
		{
			name: "timeout, max-size with unit, SOURCE_DATE_EPOCH",
			env:  append([]string{"SCALINGO_TIMEOUT", "1h30m", "SCALINGO_MAX_SIZE", "500MiB", "SOURCE_DATE_EPOCH", "1700000000"}, base...),
			check: func(t *testing.T, c *Config) {
				if c.Timeout != 90*time.Minute || c.MaxSize != 500<<20 || c.SourceDateEpoch == nil || c.SourceDateEpoch.Unix() != 1700000000 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "dry run needs no token or app",
			env:  []string{"SCALINGO_DRY_RUN", "true", "CI_PROJECT_DIR", "/ws"},
			check: func(t *testing.T, c *Config) {
				if !c.DryRun {
					t.Error("dry run not set")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(tt.env...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoad_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
		want []string // every one must appear in the error
	}{
		{"nothing set", nil, []string{"CI_PROJECT_DIR", "/ws"}, []string{
			`api-token: missing: set the action input "api-token", the plugin setting "api_token", the SCALINGO_API_TOKEN variable, or the --api-token flag`,
			"app: missing",
		}},
		{"bad timeout", nil, append([]string{"SCALINGO_TIMEOUT", "forever"}, base...), []string{`timeout: "forever" is not a duration`}},
		{"negative timeout", nil, append([]string{"SCALINGO_TIMEOUT", "-5m"}, base...), []string{"timeout: must be positive"}},
		{"bad wait", nil, append([]string{"SCALINGO_WAIT", "sometimes"}, base...), []string{`wait: "sometimes" is not true or false`}},
		{"bad api url", nil, append([]string{"SCALINGO_API_URL", "api.example.com"}, base...), []string{"api-url:"}},
		{"api url with credentials", nil, append([]string{"SCALINGO_API_URL", "https://u:p@api.example.com"}, base...), []string{"api-url:"}},
		{"bad auth url", nil, append([]string{"SCALINGO_AUTH_URL", "ftp://x"}, base...), []string{"auth-url:"}},
		{"bad git ref", nil, append([]string{"SCALINGO_GIT_REF", "-rf"}, base...), []string{"git-ref:"}},
		{"bad app", []string{"--app", "../other"}, base, []string{"app:"}},
		{"bad region", nil, append([]string{"SCALINGO_REGION", "Paris!"}, base...), []string{"region:"}},
		{"bad max size", nil, append([]string{"SCALINGO_MAX_SIZE", "big"}, base...), []string{"max-size:"}},
		{"bad SOURCE_DATE_EPOCH", nil, append([]string{"SOURCE_DATE_EPOCH", "yesterday"}, base...), []string{"SOURCE_DATE_EPOCH:"}},
		{"token with a newline", nil, []string{"SCALINGO_API_TOKEN", "tk-us\nx", "SCALINGO_APP", "my-app"}, []string{"api-token: contains white space"}},
		{"unknown flag", []string{"--app", "a", "--nope"}, base, []string{"arguments: argument #3 is an unknown flag"}},
		{"token pasted as a flag name is not echoed", []string{"--tk-us-pasted-secret"}, base, []string{"argument #1 is an unknown flag"}},
		{"token pasted as a flag name with a value", []string{"--tk-us-pasted-secret=x"}, base, []string{"argument #1 is an unknown flag"}},
		{"api url port out of range", nil, append([]string{"SCALINGO_API_URL", "http://127.0.0.1:99999"}, base...), []string{"api-url: ", "port 99999 is not between 1 and 65535"}},
		{"api url port zero", nil, append([]string{"SCALINGO_API_URL", "http://127.0.0.1:0"}, base...), []string{"api-url: ", "port 0"}},
		{"auth url port out of range", []string{"--auth-url", "https://auth.example.com:65536/"}, base, []string{"auth-url: ", "port 65536"}},
		{"api url without a host", nil, append([]string{"SCALINGO_API_URL", "http://:8080"}, base...), []string{"api-url: ", "not an absolute http(s) URL"}},
		{"auth url without a host", nil, append([]string{"SCALINGO_AUTH_URL", "https:///v1"}, base...), []string{"auth-url: "}},
		{"api url with another scheme", nil, append([]string{"SCALINGO_API_URL", "file:///etc/passwd"}, base...), []string{"api-url: "}},
		{"flag without value", []string{"--app"}, base, []string{"--app: needs a value"}},
		{"positional argument", []string{"deploy"}, base, []string{"unexpected argument #1"}},
		{"token pasted as an argument is not echoed", []string{"--wait", "tk-us-pasted-secret"}, base, []string{"--wait: takes true or false", "argument #2 after it is neither"}},
		{"token pasted into another input is refused, not echoed", []string{"--timeout", "tk-us-plain"}, base, []string{"timeout: holds the API token's value (not shown)"}},
		{"token as the app name", nil, append([]string{"INPUT_APP", "tk-us-plain"}, base...), []string{"app: holds the API token's value"}},
		{"token as the path", []string{"--path", " tk-us-plain "}, base, []string{"path: holds the API token's value"}},
		{"token as a git ref", nil, append([]string{"PLUGIN_GIT_REF", "tk-us-plain"}, base...), []string{"git-ref: holds the API token's value"}},
		{"token as an exclude pattern", nil, append([]string{"SCALINGO_EXCLUDE", "tk-us-plain"}, base...), []string{"exclude: holds the API token's value"}},
		{"token as the auth url, with a dry run", []string{"--dry-run", "--auth-url", "tk-us-plain"}, base, []string{"auth-url: holds the API token's value"}},
		{"token redacted inside a longer value", []string{"--timeout", "xtk-us-plainx"}, base, []string{`timeout: "x***x" is not a duration`}},
		{"several problems at once", nil, []string{"SCALINGO_TIMEOUT", "x", "CI_PROJECT_DIR", "/ws"}, []string{"api-token: missing", "app: missing", "timeout:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.args, env(tt.env...))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			var ie interface{ InvalidInput() bool }
			if !errors.As(err, &ie) || !ie.InvalidInput() {
				t.Errorf("error %v is not marked as invalid input", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "tk-us") {
				t.Errorf("error shows the token: %q", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"314572800", 314572800, true}, {"300MiB", 300 << 20, true}, {"1 GiB", 1 << 30, true},
		{"500MB", 500_000_000, true}, {"10kb", 10_000, true}, {"0", 0, false}, {"-1", 0, false},
		{"MiB", 0, false}, {"9999999999GiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestLoad_PathContainment is issue 12's reproduction: a pull request commits symlinks that
// lead out of the checkout, and a workflow names them as `path`.
func TestLoad_PathContainment(t *testing.T) {
	t.Parallel()
	type tree struct{ ws, outside string }
	tests := []struct {
		name  string
		setup func(t *testing.T, d tree) (args, env []string)
		// want is the resolved path (relative to the tree's root) when Load succeeds; wantErr
		// the fragments of its error otherwise.
		want    string
		wantErr []string
	}{
		{
			name: "dist is a link to a folder outside",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, d.outside, filepath.Join(d.ws, "dist"))
				return []string{"--dry-run", "--list", "--path", "dist"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			wantErr: []string{"path: ", "/ws/dist", "/outside", "outside the workspace", "/ws\""},
		},
		{
			name: "a link in a middle component leads to a prebuilt archive outside",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, d.outside, filepath.Join(d.ws, "build"))
				return nil, []string{"CI_PROJECT_DIR", d.ws, "SCALINGO_DRY_RUN", "true", "SCALINGO_PATH", "build/app.tar.gz"}
			},
			wantErr: []string{"path: ", "/ws/build/app.tar.gz", "/outside/app.tar.gz", "outside the workspace"},
		},
		{
			name: "the archive itself is a link to a file outside",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, filepath.Join(d.outside, "app.tar.gz"), filepath.Join(d.ws, "app.tar.gz"))
				return nil, []string{"CI_WORKSPACE", d.ws, "PLUGIN_DRY_RUN", "true", "PLUGIN_PATH", "app.tar.gz"}
			},
			wantErr: []string{"path: ", "outside the workspace"},
		},
		{
			name: "a missing file below a link that leads out",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, d.outside, filepath.Join(d.ws, "build"))
				return []string{"--dry-run", "--path", "build/missing/app.tar.gz"}, []string{"DRONE_WORKSPACE", d.ws}
			},
			wantErr: []string{"path: ", "outside the workspace"},
		},
		{
			name: "an absolute path outside the workspace",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				return []string{"--dry-run", "--path", d.outside}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			wantErr: []string{"path: ", "/outside\" is outside the workspace"},
		},
		{
			name: "a relative path that climbs out",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				return []string{"--dry-run", "--path", "../outside"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			wantErr: []string{"path: ", "outside the workspace"},
		},
		{
			name: "a link whose target is missing",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, filepath.Join(d.outside, "gone"), filepath.Join(d.ws, "dist"))
				return []string{"--dry-run", "--path", "dist"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			wantErr: []string{"path: cannot resolve", "/ws/dist"},
		},
		{
			name: "a link that stays inside the workspace",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				mkdir(t, filepath.Join(d.ws, "releases", "v1"))
				symlink(t, "releases/v1", filepath.Join(d.ws, "current"))
				return []string{"--dry-run", "--path", "current"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			want: "ws/releases/v1",
		},
		{
			name: "the workspace itself is a link",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				mkdir(t, filepath.Join(d.ws, "web"))
				link := filepath.Join(filepath.Dir(d.ws), "ws-link")
				symlink(t, d.ws, link)
				return []string{"--dry-run", "--path", "web"}, []string{"CI_PROJECT_DIR", link}
			},
			want: "ws/web",
		},
		{
			name: "the workspace itself, by default",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				return []string{"--dry-run"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			want: "ws",
		},
		{
			name: "a missing path is archive.Build's to report",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				return []string{"--dry-run", "--path", "nope/app.tar.gz"}, []string{"GITHUB_WORKSPACE", d.ws}
			},
			want: "ws/nope/app.tar.gz",
		},
		{
			name: "a plain shell has no workspace to hold the path to",
			setup: func(t *testing.T, d tree) ([]string, []string) {
				symlink(t, d.outside, filepath.Join(d.ws, "dist"))
				return []string{"--dry-run", "--path", filepath.Join(d.ws, "dist")}, nil
			},
			want: "outside",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			d := tree{ws: filepath.Join(root, "ws"), outside: filepath.Join(root, "outside")}
			mkdir(t, d.ws)
			mkdir(t, d.outside)
			if err := os.WriteFile(filepath.Join(d.outside, "app.tar.gz"), []byte("secret"), 0o600); err != nil {
				t.Fatal(err)
			}
			args, e := tt.setup(t, d)
			c, err := Load(args, env(e...))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if want := filepath.Join(root, tt.want); c.Path != want {
					t.Errorf("Path = %q, want %q", c.Path, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load accepted it: Path = %q", c.Path)
			}
			var ie interface{ InvalidInput() bool }
			if !errors.As(err, &ie) || !ie.InvalidInput() {
				t.Errorf("error %v is not marked as invalid input", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
