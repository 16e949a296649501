package run

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/gitref"
)

// TestRun_DeploysFromEveryCI runs the binary's flow on the CIs of issue 11 against the
// fake: each gives its workspace (no path is set: the archive must be the world's tree)
// and its commit (the git_ref sent) without configuration. Forgejo and Gitea speak GitHub
// in every respect; the others print plain lines and write no output file by default.
func TestRun_DeploysFromEveryCI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		github bool
		vars   func(ws, sha string) []string
	}{
		{"forgejo", true, func(ws, sha string) []string {
			return []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true", "GITHUB_WORKSPACE", ws, "GITHUB_SHA", sha}
		}},
		{"gitea", true, func(ws, sha string) []string {
			return []string{"GITHUB_ACTIONS", "true", "GITEA_ACTIONS", "true", "GITHUB_WORKSPACE", ws, "GITHUB_SHA", sha}
		}},
		{"bitbucket", false, func(ws, sha string) []string {
			return []string{"BITBUCKET_BUILD_NUMBER", "42", "BITBUCKET_CLONE_DIR", ws, "BITBUCKET_COMMIT", sha}
		}},
		{"circleci", false, func(ws, sha string) []string {
			return []string{"CIRCLECI", "true", "CI", "true", "CIRCLE_WORKING_DIRECTORY", ws, "CIRCLE_SHA1", sha}
		}},
		{"jenkins", false, func(ws, sha string) []string {
			return []string{"JENKINS_URL", "http://127.0.0.1:1/", "WORKSPACE", ws, "GIT_COMMIT", sha}
		}},
		{"azure", false, func(ws, sha string) []string {
			return []string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", ws, "BUILD_SOURCEVERSION", sha}
		}},
		{"buildkite", false, func(ws, sha string) []string {
			return []string{"BUILDKITE", "true", "BUILDKITE_BUILD_CHECKOUT_PATH", ws, "BUILDKITE_COMMIT", sha}
		}},
		{"travis", false, func(ws, sha string) []string {
			return []string{"TRAVIS", "true", "TRAVIS_BUILD_DIR", ws, "TRAVIS_COMMIT", sha}
		}},
		{"semaphore", false, func(ws, sha string) []string {
			return []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_DIR", ws, "SEMAPHORE_GIT_SHA", sha}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			sha := strings.Repeat(string("abcdef0123"[i%10]), 40)
			// No platform's variables: the CI's own come from the row.
			e := w.env("", tt.vars(w.ws, sha)...)
			ghOutput := filepath.Join(t.TempDir(), "github_output")
			summary := filepath.Join(t.TempDir(), "step_summary")
			if tt.github {
				os.WriteFile(ghOutput, nil, 0o644)
				e["INPUT_API-TOKEN"], e["INPUT_APP"], e["INPUT_PATH"] = w.fake.APIToken, "my-app", ""
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = ghOutput, summary
			} else {
				e["SCALINGO_API_TOKEN"], e["SCALINGO_APP"] = w.fake.APIToken, "my-app"
			}

			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 {
				t.Fatalf("%d deployments, want exactly 1", len(deps))
			}
			if deps[0].GitRef == nil || *deps[0].GitRef != sha {
				t.Errorf("git_ref %v, want the CI's commit %s", deps[0].GitRef, sha)
			}
			if deps[0].Archive == nil {
				t.Fatal("the builder fetched no archive")
			}
			var names []string
			for _, n := range deps[0].Archive.Names() {
				if _, rest, _ := strings.Cut(n, "/"); rest != "" {
					names = append(names, strings.TrimSuffix(rest, "/"))
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, wantArchive) {
				t.Errorf("archive holds\n  %q\nwant the CI's workspace\n  %q", names, wantArchive)
			}
			if _, err := os.Stat(filepath.Join(w.ws, "scalingo-deploy.env")); !os.IsNotExist(err) {
				t.Errorf("an output file was written by default (%v)", err)
			}
			if tt.github {
				got := readGitHubOutputs(t, ghOutput)
				if got["git-ref"] != sha || got["deployment-id"] != deps[0].ID {
					t.Errorf("outputs %v", got)
				}
				if first, _, _ := strings.Cut(res.stdout, "\n"); first != "::add-mask::"+w.fake.APIToken {
					t.Errorf("first line %q, want the token's add-mask", first)
				}
				if md, err := os.ReadFile(summary); err != nil || !strings.Contains(string(md), "| Deployment | "+deps[0].ID+" |") {
					t.Errorf("step summary %q (%v) lacks the deployment row", md, err)
				}
				if !strings.Contains(res.stdout, "::group::") {
					t.Errorf("no group in GitHub's dialect:\n%s", res.stdout)
				}
			} else if strings.Contains(res.stdout+res.stderr, "::") {
				t.Errorf("workflow commands in a plain log:\n%s", res.stdout)
			}
			assertNoSecrets(t, w, res, tt.github, ghOutput, summary)
		})
	}
}

// TestRun_ShellGitRef: a shell inside a git checkout deploys with HEAD's commit as its
// git_ref (read without git); outside any repository, the run still makes one up.
func TestRun_ShellGitRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		gitInit bool // a real repository with one commit, made by git
	}{
		{"inside a git checkout", true},
		{"outside any repository", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			// The world's .git has no commit; sub/.git points into it.
			for _, p := range []string{".git", "sub/.git"} {
				if err := os.RemoveAll(filepath.Join(w.ws, p)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := gitref.Head(w.ws); !errors.Is(err, gitref.ErrNotRepo) {
				t.Skipf("the temporary folder lies in a git work tree (%v): no place outside one", err)
			}
			want := ""
			if tt.gitInit {
				if _, err := exec.LookPath("git"); err != nil {
					t.Skip("no git binary to make a repository with")
				}
				git(t, w.ws, "init", "-q")
				git(t, w.ws, "add", ".")
				git(t, w.ws, "commit", "-q", "-m", "first")
				want = git(t, w.ws, "rev-parse", "HEAD")
			}
			e := w.env("shell")
			delete(e, "SCALINGO_GIT_REF")
			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 || deps[0].GitRef == nil {
				t.Fatalf("deployments %+v", deps)
			}
			got := *deps[0].GitRef
			switch {
			case want != "" && got != want:
				t.Errorf("git_ref %q, want HEAD %s", got, want)
			case want == "" && !strings.HasPrefix(got, "deploy-"):
				t.Errorf("git_ref %q, want a made-up deploy-…", got)
			}
			if !strings.Contains(res.stdout, "git-ref="+got) {
				t.Errorf("the summary line does not name git-ref %s:\n%s", got, res.stdout)
			}
		})
	}
}

// git runs git in dir, isolated from the machine's and the user's configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestRun_InvalidInputAnnotation: invalid input is a GitHub annotation on Forgejo and Gitea
// too, and only a plain line on the other CIs.
func TestRun_InvalidInputAnnotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vars     []string
		annotate bool
	}{
		{"forgejo", []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true"}, true},
		{"gitea", []string{"GITHUB_ACTIONS", "true", "GITEA_ACTIONS", "true"}, true},
		{"jenkins", []string{"JENKINS_URL", "http://127.0.0.1:1/"}, false},
		{"bitbucket", []string{"BITBUCKET_BUILD_NUMBER", "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			e := w.env("", append(tt.vars, "SCALINGO_API_TOKEN", w.fake.APIToken, "SCALINGO_TIMEOUT", "forever")...)
			res := w.run(t, context.Background(), e, "--app", "my-app", "--path", w.ws)
			if res.code != exitInput {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, exitInput, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, "invalid input") {
				t.Errorf("stderr %q does not tell the invalid input", res.stderr)
			}
			if got := strings.Contains(res.stdout, "::error title=scalingo-deploy::invalid input"); got != tt.annotate {
				t.Errorf("annotation %v, want %v:\n%s", got, tt.annotate, res.stdout)
			}
			if !tt.annotate && strings.Contains(res.stdout+res.stderr, "::") {
				t.Errorf("workflow commands in a plain log:\n%s%s", res.stdout, res.stderr)
			}
		})
	}
}
