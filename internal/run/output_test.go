package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ghrunner"
)

// hostileNames are file names an attacker commits to make the runner read a command in
// a listing: a \r splits the line for the runner, U+3000 and \v are trimmed before it
// looks for "::", and "##[" is the legacy form it honours anywhere in a line.
var hostileNames = []string{"a\r::warning::X", "\u3000::warning::X", "\v::error::X", "x##[warning]y"}

// TestRun_HostileNamesOnGitHub: names from the tree, listed or quoted in an error, run no
// workflow command and print no line separator.
func TestRun_HostileNamesOnGitHub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		code    int
		allowed string // the commands the runner may run, in order
	}{
		{name: "dry run listing", args: []string{"--dry-run", "--list"}, code: 0, allowed: "stop-commands stop-commands"},
		{name: "size limit error naming the largest", args: []string{"--dry-run", "--max-size", "100"}, code: 1, allowed: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			files := map[string]string{}
			for _, n := range hostileNames {
				files[n] = strings.Repeat("x", 200)
			}
			writeTree(t, w.ws, files)
			e := env{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": w.ws, "TMPDIR": t.TempDir()}
			res := w.run(t, context.Background(), e, tt.args...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			cmds, open := ghrunner.Commands(res.stdout)
			var names []string
			for _, c := range cmds {
				name, _, _ := strings.Cut(c, " ")
				names = append(names, name)
			}
			if got := strings.Join(names, " "); got != tt.allowed || open {
				t.Errorf("the runner would run %q (block left open: %v), want %q\n%s", cmds, open, tt.allowed, res.stdout)
			}
			for _, r := range res.stdout + res.stderr {
				if r != '\n' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
					t.Errorf("output holds %U:\n%q", r, res.stdout)
				}
			}
			if tt.code == 0 {
				for _, want := range []string{`  a\r::warning::X`, `  \v::error::X`, `  x##\x5bwarning]y`, "  \u3000\\x3a:warning::X"} {
					if !strings.Contains(res.stdout, want+"\n") {
						t.Errorf("the listing lacks %q:\n%s", want, res.stdout)
					}
				}
			}
			if len(w.fake.Requests()) != 0 {
				t.Errorf("%d requests", len(w.fake.Requests()))
			}
		})
	}
}

// TestRun_BrokenDestinations: an output destination that cannot be written is invalid
// input found before any request; GitHub without GITHUB_OUTPUT deploys with a warning.
func TestRun_BrokenDestinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform string
		setup    func(t *testing.T, w *world, e env) []string // returns args
		nonRoot  bool
		code     int
		out      string // shows in stdout or stderr
	}{
		{name: "output file in a missing folder", platform: "gitlab", code: 2, out: "the output file",
			setup: func(t *testing.T, w *world, e env) []string {
				return []string{"--output-file", filepath.Join(t.TempDir(), "nope", "o.env")}
			}},
		{name: "output file in a read-only folder", platform: "woodpecker", code: 2, out: "permission denied", nonRoot: true,
			setup: func(t *testing.T, w *world, e env) []string {
				ro := filepath.Join(t.TempDir(), "ro")
				os.Mkdir(ro, 0o555)
				return []string{"--output-file", filepath.Join(ro, "o.env")}
			}},
		{name: "output file is a folder", platform: "drone", code: 2, out: "is a directory",
			setup: func(t *testing.T, w *world, e env) []string { return []string{"--output-file", t.TempDir()} }},
		{name: "GITHUB_OUTPUT is a folder", platform: "github", code: 2, out: "GITHUB_OUTPUT",
			setup: func(t *testing.T, w *world, e env) []string { e["GITHUB_OUTPUT"] = t.TempDir(); return nil }},
		{name: "step summary is a folder", platform: "github", code: 2, out: "GITHUB_STEP_SUMMARY",
			setup: func(t *testing.T, w *world, e env) []string {
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "out"), t.TempDir()
				return nil
			}},
		{name: "step summary read-only", platform: "github", code: 2, out: "GITHUB_STEP_SUMMARY", nonRoot: true,
			setup: func(t *testing.T, w *world, e env) []string {
				sum := filepath.Join(t.TempDir(), "sum")
				os.WriteFile(sum, nil, 0o444)
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "out"), sum
				return nil
			}},
		{name: "GITHUB_OUTPUT unset: a warning, and the deploy goes on", platform: "github", code: 0, out: "GITHUB_OUTPUT is not set",
			setup: func(t *testing.T, w *world, e env) []string { return nil }},
		{name: "/dev/full: found when writing, named", platform: "gitlab", code: 1, out: "/dev/full: no space left on device",
			setup: func(t *testing.T, w *world, e env) []string {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
				return []string{"--output-file", "/dev/full"}
			}},
		{name: "timeout, then /dev/full: the failure to write wins", platform: "gitlab", code: 1, out: "/dev/full: no space left on device",
			setup: func(t *testing.T, w *world, e env) []string {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
				w.fake.AddApp("my-app", fakescalingo.Scenario{NeverFinish: true})
				e["SCALINGO_TIMEOUT"] = "1m"
				return []string{"--output-file", "/dev/full"}
			}},
		// The checkout is the attacker's in a pull request: the default output file, or a
		// folder on the way to it, committed as a symlink must not lead the run to write
		// outside the workspace.
		{name: "attacker: the default output file links to a file outside", platform: "gitlab", code: 2, out: "symbolic link",
			setup: func(t *testing.T, w *world, e env) []string {
				victim := filepath.Join(t.TempDir(), "victim")
				os.WriteFile(victim, []byte("precious\n"), 0o644)
				os.Symlink(victim, filepath.Join(w.ws, "scalingo-deploy.env"))
				t.Cleanup(func() {
					if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
						t.Errorf("the file outside the workspace was written: %q", data)
					}
				})
				return nil
			}},
		{name: "attacker: a dangling link as the default output file", platform: "woodpecker", code: 2, out: "symbolic link",
			setup: func(t *testing.T, w *world, e env) []string {
				victim := filepath.Join(t.TempDir(), "created")
				os.Symlink(victim, filepath.Join(w.ws, "scalingo-deploy.env"))
				t.Cleanup(func() {
					if _, err := os.Lstat(victim); err == nil {
						t.Errorf("a file was created outside the workspace")
					}
				})
				return nil
			}},
		{name: "attacker: the output file's folder links outside", platform: "gitlab", code: 2, out: "outside the workspace",
			setup: func(t *testing.T, w *world, e env) []string {
				outside := t.TempDir()
				os.Symlink(outside, filepath.Join(w.ws, "out"))
				t.Cleanup(func() {
					if left, _ := os.ReadDir(outside); len(left) > 0 {
						t.Errorf("files written outside the workspace: %v", left)
					}
				})
				return []string{"--output-file", "out/o.env"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.nonRoot && os.Geteuid() == 0 {
				t.Skip("root writes through permissions")
			}
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := w.env(tt.platform)
			args := tt.setup(t, w, e)
			res := w.run(t, context.Background(), e, args...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stdout+res.stderr, tt.out) {
				t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", tt.out, res.stdout, res.stderr)
			}
			deployments := len(w.fake.Deployments("my-app"))
			if tt.code == 2 {
				if n := len(w.fake.Requests()); n != 0 || deployments != 0 {
					t.Errorf("%d requests and %d deployments before the refusal", n, deployments)
				}
			} else if deployments != 1 {
				t.Errorf("%d deployments, want 1", deployments)
			}
		})
	}
}

// TestRun_HostileOutputValue: an app URL from the API holding newlines and
// go-githubactions' heredoc delimiter adds no output.
func TestRun_HostileOutputValue(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	url := "https://my-app.example\n_GitHubActionsFileCommandDelimeter_\nstatus=hacked\ninjected<<EOF\nyes\nEOF"
	w.fake.AddApp("my-app", fakescalingo.Scenario{URL: url})
	e := w.env("github")
	e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	got := readGitHubOutputs(t, e["GITHUB_OUTPUT"])
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	// deployment-id, status, app-url, git-ref, archive-size, app, deployments,
	// dashboard-url: no more.
	if len(got) != 8 || got["status"] != "success" || got["app-url"] != strings.ReplaceAll(url, "\n", `\n`) {
		t.Errorf("GITHUB_OUTPUT holds %q: %v", keys, got)
	}
	if cmds, _ := ghrunner.Commands(res.stdout); strings.Contains(strings.Join(cmds, " "), "injected") {
		t.Errorf("the runner would run %q", cmds)
	}
}
