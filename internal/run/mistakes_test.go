package run

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestMistakes is what a person gets wrong in the first hour: each mistake exits with its
// code and a message that names the fix. None echoes the token.
func TestMistakes(t *testing.T) {
	t.Parallel()
	fake, err := fakescalingo.Start(fakescalingo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddApp("my-app", fakescalingo.Scenario{})
	project := t.TempDir()
	if err := os.WriteFile(project+"/index.html", []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	token := "SCALINGO_API_TOKEN=" + fakescalingo.DefaultAPIToken
	app := "SCALINGO_APP=my-app"
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		want []string
	}{
		// Flags.
		{"a flag typo", []string{"--ap", "my-app"}, []string{token}, 2, []string{"--ap, is not a flag; did you mean --app?"}},
		{"a dash missing in a flag", []string{"--dryrun"}, nil, 2, []string{"did you mean --dry-run?"}},
		{"an underscore in a flag", []string{"--api_token", "x", "--app", "my-app"}, nil, 2, []string{"did you mean --api-token?"}},
		{"a flag in capitals", []string{"--APP", "my-app"}, []string{token}, 2, []string{"did you mean --app?"}},
		{"a flag spelled as its variable", []string{"--scalingo-app", "my-app"}, []string{token}, 2, []string{"did you mean --app?"}},
		{"a word instead of true or false", []string{"--app", "my-app", "--wait", "nope"}, []string{token}, 2, []string{"--wait: takes true or false (--wait, --wait=false or --wait false)"}},
		{"a word instead of true or false, with =", []string{"--app", "my-app", "--wait=nope"}, []string{token}, 2, []string{`wait: "nope" is not true or false`}},
		{"a flag without its value", []string{"--app"}, []string{token}, 2, []string{"--app: needs a value: write --app VALUE or --app=VALUE"}},
		{"a flag followed by another flag", []string{"--app", "--path", "."}, []string{token}, 2, []string{"--app: needs a value, but the next argument is the flag --path"}},
		{"two apps as two arguments", []string{"--app", "my-api", "my-worker"}, []string{token}, 2, []string{"unexpected argument #3", `a list is one value, quoted: --app "my-api, my-worker"`}},
		{"list without dry-run", []string{"--app", "my-app", "--list"}, []string{token}, 2, []string{"list: lists the archive of a dry run only: add --dry-run"}},
		// Values.
		{"a duration without its unit", []string{"--timeout", "10"}, []string{token, app}, 2, []string{`timeout: "10" is not a duration (e.g. 40m, 1h30m)`}},
		{"a negative duration", []string{"--health-check-timeout", "-5m"}, []string{token, app}, 2, []string{"health-check-timeout: must be positive"}},
		{"a size with a unit not read", []string{"--max-size", "300M"}, []string{token, app}, 2, []string{`max-size: "300M" is not a positive size (e.g. 314572800, 500MiB)`}},
		{"a health check path without its slash", []string{"--health-check", "healthz"}, []string{token, app}, 2, []string{"health-check: \"healthz\" is neither a path starting with /"}},
		{"a health check without waiting", []string{"--health-check", "/healthz", "--wait=false"}, []string{token, app}, 2, []string{"health-check: needs wait=true"}},
		{"a variable without its value", []string{"--env", "SENTRY_DSN"}, []string{token, app}, 2, []string{"env: line 1 is not NAME=value"}},
		{"a region in capitals", []string{"--app", "my-app@OSC-FR1"}, []string{token}, 2, []string{`"OSC-FR1" in "my-app@OSC-FR1" is not a region name (e.g. osc-fr1, osc-secnum-fr1)`}},
		{"an API URL without its scheme", []string{"--api-url", "api.osc-fr1.scalingo.com"}, []string{token, app}, 2, []string{"api-url: \"api.osc-fr1.scalingo.com\" is not an absolute http(s) URL"}},
		{"a review-app input without review-app", []string{"--copy-env", "SENTRY_*"}, []string{token, app}, 2, []string{"copy-env: needs review-app: true"}},
		{"no token", []string{"--app", "my-app"}, nil, 2, []string{"api-token: missing: set the action input \"api-token\"", "the SCALINGO_API_TOKEN variable"}},
		// Variables that look like an input but are not one.
		{"GitHub's input spelled with an underscore", nil, []string{"INPUT_API_TOKEN=" + fakescalingo.DefaultAPIToken, "INPUT_APP=my-app"}, 2,
			[]string{"INPUT_API_TOKEN is set but is not read: it looks like the input api-token; set SCALINGO_API_TOKEN (GitHub Actions passes the input api-token as INPUT_API-TOKEN", "api-token: missing"}},
		{"a typo in a variable", nil, []string{token, "SCALINGO_APPP=my-app"}, 2, []string{"SCALINGO_APPP is set but is not read: it looks like the input app; set SCALINGO_APP", "app: missing"}},
		{"a plugin setting with a word too many", nil, []string{token, "PLUGIN_APP_NAME=my-app"}, 2, []string{"PLUGIN_APP_NAME is set but is not read: it looks like the input app; set PLUGIN_APP (the setting app)"}},
		{"a variable in lower case", nil, []string{token, "scalingo_app=my-app"}, 2, []string{"scalingo_app is set but is not read: it looks like the input app; set SCALINGO_APP"}},
		{"the token's variable shortened", nil, []string{"SCALINGO_TOKEN=" + fakescalingo.DefaultAPIToken, app}, 2, []string{"SCALINGO_TOKEN is set but is not read: it looks like the input api-token; set SCALINGO_API_TOKEN"}},
		// At Scalingo.
		{"an app name in capitals", []string{"--app", "My-App", "--path", project}, []string{token, "SCALINGO_AUTH_URL=" + fake.AuthURL}, 1,
			[]string{`Scalingo app names are lower-case; did you mean "my-app"?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := Run(context.Background(), "test", tc.args, append([]string{"HOME=/nonexistent"}, tc.env...), &out, &out)
			if code := ExitCode(err); code != tc.code {
				t.Errorf("exit code %d, want %d; printed:\n%s", code, tc.code, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("printed no %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), fakescalingo.DefaultAPIToken) {
				t.Errorf("the token is printed:\n%s", out.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"a release build's stamp wins", "1.4.0", info("v1.4.0", "vcs.revision", "0123456789abcdef"), "1.4.0"},
		{"go build in a checkout", "", info("v0.0.0-20261205121836-0123456789ab", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"),
			"v0.0.0-20261205121836-0123456789ab (commit 0123456789ab)"},
		{"uncommitted changes", "", info("(devel)", "vcs.revision", "0123456789abcdef", "vcs.modified", "true"), "(devel) (commit 0123456789ab, modified)"},
		{"an image built without a version stamps dev", "dev", info("v0.0.0-20261205121836-0123456789ab", "vcs.revision", "0123456789ab"),
			"v0.0.0-20261205121836-0123456789ab (commit 0123456789ab)"},
		{"go install of a tag", "", info("v1.4.0"), "v1.4.0"},
		{"nothing known", "", info("(devel)"), "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Version(tc.stamped, tc.info, true); got != tc.want {
				t.Errorf("Version = %q, want %q", got, tc.want)
			}
		})
	}
}
