package run

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestRun_EnvValuesAreData runs the docs' own examples (docs/github.md: RELEASE=${{
// github.sha }}; docs/gitlab.md: RELEASE=$CI_COMMIT_SHORT_SHA) with NODE_ENV=production on
// an app named shop-production: every output keeps its true value (env values are not
// masks), and no env value is printed by the tool itself.
func TestRun_EnvValuesAreData(t *testing.T) {
	t.Parallel()
	const app, appURL = "shop-production", "https://shop-production.osc-fr1.scalingo.io"
	const dsn = "https://k3y-s3cr3t@sentry.example/42" // a secret the CI would mask: never printed by the tool
	tests := []struct {
		platform string
		sha      string
		env      func(sha string) string
	}{
		{"github", "0123456789abcdef0123456789abcdef01234567", func(sha string) string {
			return "RELEASE=" + sha + "\nSENTRY_DSN=" + dsn + "\nNODE_ENV=production\n"
		}},
		{"gitlab", "1111111111111111111111111111111111111111", func(sha string) string {
			return "RELEASE=" + sha[:8] + "\nSENTRY_DSN=" + dsn + "\nNODE_ENV=production\n"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp(app, fakescalingo.Scenario{})
			e := w.env(tt.platform)
			dir := t.TempDir()
			var got map[string]string // output name → value
			switch tt.platform {
			case "github":
				e["INPUT_APP"], e["INPUT_ENV"] = app, tt.env(tt.sha)
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "out"), filepath.Join(dir, "summary")
			case "gitlab":
				e["SCALINGO_APP"], e["SCALINGO_ENV"], e["CI_COMMIT_SHORT_SHA"] = app, tt.env(tt.sha), tt.sha[:8]
			}
			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			deps := w.fake.Deployments(app)
			if len(deps) != 1 || deps[0].Env["NODE_ENV"] != "production" || deps[0].Env["SENTRY_DSN"] != dsn {
				t.Fatalf("the deployment did not get the variables: %+v", deps)
			}
			written := res.stdout + res.stderr
			switch tt.platform {
			case "github":
				gh := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
				got = map[string]string{"git-ref": gh["git-ref"], "app-url": gh["app-url"], "deployments": gh["deployments"]}
				summary, err := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"| Git ref | " + tt.sha + " |", "| App URL | <" + appURL + "> |", "| App | " + app + " |"} {
					if !strings.Contains(string(summary), want) {
						t.Errorf("the summary lacks %q:\n%s", want, summary)
					}
				}
				written += string(summary)
				// The runner masks what it is told to for the rest of the job: only the
				// token, the JWT and the signed URLs' queries.
				for _, line := range strings.Split(res.stdout, "\n") {
					if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
						if v == "production" || strings.Contains(tt.sha, v) || v == dsn || v == tt.sha[:8] {
							t.Errorf("the runner is told to mask an env value: %q", line)
						}
					}
				}
			case "gitlab":
				d := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
				got = map[string]string{"git-ref": d["SCALINGO_GIT_REF"], "app-url": d["SCALINGO_APP_URL"], "deployments": d["SCALINGO_DEPLOYMENTS"]}
				written += d["SCALINGO_GIT_REF"] + d["SCALINGO_APP_URL"] + d["SCALINGO_DEPLOYMENTS"]
			}
			if got["git-ref"] != tt.sha || got["app-url"] != appURL {
				t.Errorf("git-ref %q, app-url %q; want %q, %q", got["git-ref"], got["app-url"], tt.sha, appURL)
			}
			var list []struct {
				App    string `json:"app"`
				AppURL string `json:"app_url"`
				GitRef string `json:"git_ref"`
			}
			if err := json.Unmarshal([]byte(got["deployments"]), &list); err != nil || len(list) != 1 ||
				list[0].App != app || list[0].AppURL != appURL || list[0].GitRef != tt.sha {
				t.Errorf("deployments = %s (%v)", got["deployments"], err)
			}
			if strings.Contains(written, "***") {
				t.Errorf("something was masked:\n%s", written)
			}
			if strings.Contains(written, dsn) || strings.Contains(written, "k3y-s3cr3t") {
				t.Errorf("an env value was printed:\n%s", written)
			}
		})
	}
}

// TestRun_DestinationNotRegular: an output destination that is a FIFO or a socket is
// invalid input (exit 2) found before any request, without blocking the run.
func TestRun_DestinationNotRegular(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, platform string
		setup          func(t *testing.T, w *world, e env) []string
		out            string
	}{
		{"GITHUB_OUTPUT a FIFO nobody reads", "github", func(t *testing.T, w *world, e env) []string {
			e["GITHUB_OUTPUT"] = fifo(t)
			return nil
		}, "GITHUB_OUTPUT"},
		{"step summary a FIFO", "github", func(t *testing.T, w *world, e env) []string {
			e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "out"), fifo(t)
			return nil
		}, "a FIFO"},
		{"attacker: the default output file committed as a FIFO", "gitlab", func(t *testing.T, w *world, e env) []string {
			if err := syscall.Mkfifo(filepath.Join(w.ws, "scalingo-deploy.env"), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return nil
		}, "a FIFO"},
		{"output file a unix socket", "woodpecker", func(t *testing.T, w *world, e env) []string {
			p := filepath.Join(t.TempDir(), "o.sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return []string{"--output-file", p}
		}, "a socket"},
		{"output file /dev/zero", "drone", func(t *testing.T, w *world, e env) []string {
			return []string{"--output-file", "/dev/zero"}
		}, "a character device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := w.env(tt.platform)
			args := tt.setup(t, w, e)
			res := w.run(t, context.Background(), e, args...)
			if res.code != 2 || !strings.Contains(res.stdout+res.stderr, tt.out) {
				t.Fatalf("exit %d, want 2 saying %q\nstdout:\n%s\nstderr:\n%s", res.code, tt.out, res.stdout, res.stderr)
			}
			if n := len(w.fake.Requests()); n != 0 {
				t.Errorf("%d requests before the refusal", n)
			}
		})
	}
}

func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}
