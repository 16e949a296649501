package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// TestLoad_EveryCI: each CI is detected from its own variables and gives its workspace and
// commit without configuration; the CIs of issue 11 get plain logs and no default output
// file; Forgejo and Gitea are GitHub in every respect. Each row also sets another CI's
// workspace and commit variables, which must not be read.
func TestLoad_EveryCI(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	strays := []string{"CI_PROJECT_DIR", "/stray", "CI_COMMIT_SHA", "stray"}
	tests := []struct {
		name         string
		env          []string
		platform     string
		dialect      ci.Dialect
		ws           string
		outputFile   string
		noStrayCheck bool // the CI's own variables are the stray ones
	}{
		{"GitHub Actions", []string{"GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", "/gh", "GITHUB_SHA", sha}, ci.GitHub, ci.GitHubCommands, "/gh", "", false},
		{"Forgejo Actions", []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true", "GITHUB_WORKSPACE", "/fj", "GITHUB_SHA", sha}, ci.GitHub, ci.GitHubCommands, "/fj", "", false},
		{"Gitea Actions", []string{"GITHUB_ACTIONS", "true", "GITEA_ACTIONS", "true", "GITHUB_WORKSPACE", "/gt", "GITHUB_SHA", sha}, ci.GitHub, ci.GitHubCommands, "/gt", "", false},
		{"GitLab CI", []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", "/gl", "CI_COMMIT_SHA", sha}, ci.GitLab, ci.GitLabSections, "/gl", "/gl/scalingo-deploy.env", true},
		{"Woodpecker", []string{"CI", "woodpecker", "CI_WORKSPACE", "/wp", "CI_COMMIT_SHA", sha}, ci.Woodpecker, ci.Plain, "/wp", "/wp/scalingo-deploy.env", true},
		{"Drone", []string{"DRONE", "true", "DRONE_WORKSPACE", "/dr", "DRONE_COMMIT_SHA", sha}, ci.Drone, ci.Plain, "/dr", "/dr/scalingo-deploy.env", false},
		{"Bitbucket Pipelines", []string{"BITBUCKET_BUILD_NUMBER", "7", "BITBUCKET_CLONE_DIR", "/bb", "BITBUCKET_COMMIT", sha}, ci.Bitbucket, ci.Plain, "/bb", "", false},
		{"CircleCI", []string{"CIRCLECI", "true", "CIRCLE_WORKING_DIRECTORY", "/cc", "CIRCLE_SHA1", sha}, ci.CircleCI, ci.Plain, "/cc", "", false},
		{"Jenkins", []string{"JENKINS_URL", "https://jenkins.example/", "WORKSPACE", "/jk", "GIT_COMMIT", sha}, ci.Jenkins, ci.Plain, "/jk", "", false},
		{"Azure Pipelines", []string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", "/az", "BUILD_SOURCEVERSION", sha}, ci.Azure, ci.AzureLogging, "/az", "", false},
		{"Buildkite", []string{"BUILDKITE", "true", "BUILDKITE_BUILD_CHECKOUT_PATH", "/bk", "BUILDKITE_COMMIT", sha}, ci.Buildkite, ci.Plain, "/bk", "", false},
		{"Travis CI", []string{"TRAVIS", "true", "TRAVIS_BUILD_DIR", "/tr", "TRAVIS_COMMIT", sha}, ci.Travis, ci.Plain, "/tr", "", false},
		{"Semaphore", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_DIR", "/sm", "SEMAPHORE_GIT_SHA", sha}, ci.Semaphore, ci.Plain, "/sm", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := append([]string{"SCALINGO_API_TOKEN", "tk-us-x", "SCALINGO_APP", "my-app"}, tt.env...)
			if !tt.noStrayCheck {
				e = append(strays, e...) // later pairs win in env: the CI's own come last
			}
			c, err := Load(nil, env(e...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.CI.Platform != tt.platform {
				t.Errorf("platform %q, want %q", c.CI.Platform, tt.platform)
			}
			if c.CI.Name != tt.name {
				t.Errorf("CI %q, want %q", c.CI.Name, tt.name)
			}
			if c.CI.Dialect != tt.dialect {
				t.Errorf("dialect %s, want %s", c.CI.Dialect, tt.dialect)
			}
			if c.Workspace != tt.ws || c.Path != tt.ws {
				t.Errorf("workspace %q, path %q, want %q", c.Workspace, c.Path, tt.ws)
			}
			if c.GitRef != sha {
				t.Errorf("git ref %q, want the CI's commit", c.GitRef)
			}
			if c.OutputFile != tt.outputFile {
				t.Errorf("output file %q, want %q", c.OutputFile, tt.outputFile)
			}
			if len(c.Warnings) > 0 {
				t.Errorf("warnings %q", c.Warnings)
			}
		})
	}
}

// TestLoad_CIWorkspaceHoldsThePath: containment is against the CI's own workspace, on
// the new CIs too, and another CI's workspace variable left in the environment widens
// nothing.
func TestLoad_CIWorkspaceHoldsThePath(t *testing.T) {
	t.Parallel()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws, outside := filepath.Join(root, "ws"), filepath.Join(root, "outside")
	mkdir(t, ws)
	mkdir(t, outside)
	symlink(t, outside, filepath.Join(ws, "dist"))
	tests := []struct {
		name string
		env  []string
	}{
		{"Bitbucket, a link out of the clone", []string{"BITBUCKET_BUILD_NUMBER", "1", "BITBUCKET_CLONE_DIR", ws, "SCALINGO_PATH", "dist"}},
		{"Jenkins, an absolute path outside", []string{"JENKINS_URL", "http://j", "WORKSPACE", ws, "SCALINGO_PATH", outside}},
		{"Jenkins with a stray GITHUB_WORKSPACE that would hold it", []string{"JENKINS_URL", "http://j", "WORKSPACE", ws, "GITHUB_WORKSPACE", root, "SCALINGO_PATH", outside}},
		{"Forgejo, a link out of the workspace", []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true", "GITHUB_WORKSPACE", ws, "INPUT_PATH", "dist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load([]string{"--dry-run"}, env(tt.env...))
			if err == nil {
				t.Fatalf("Load accepted it: path %q, workspace %q", c.Path, c.Workspace)
			}
			if !strings.Contains(err.Error(), "outside the workspace \""+ws+"\"") {
				t.Errorf("error %q does not name the workspace %q", err, ws)
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

// repo makes a git repository with one commit under a fresh folder and returns its work
// tree and HEAD's id, as git itself reports it.
func repo(t *testing.T) (dir, head string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary to make a repository with")
	}
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "repo")
	mkdir(t, filepath.Join(dir, "web"))
	if err := os.WriteFile(filepath.Join(dir, "web", "index.html"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "first")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

// TestLoad_GitHeadDefault: outside a CI the default git ref is the HEAD commit of the work
// tree holding path; a given ref, a CI's commit or no readable repository leave it alone.
func TestLoad_GitHeadDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup returns the arguments and environment, given a repository and its HEAD.
		setup func(t *testing.T, dir, head string) ([]string, []string)
		want  string // "HEAD" for the repository's HEAD
		warns bool
	}{
		{
			name:  "a shell in the work tree",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) { return []string{"--path", dir}, nil },
			want:  "HEAD",
		},
		{
			name: "path a folder below the root",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return []string{"--path", filepath.Join(dir, "web")}, nil
			},
			want: "HEAD",
		},
		{
			name: "path a prebuilt archive in the tree",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return []string{"--path", filepath.Join(dir, "web", "index.html")}, nil
			},
			want: "HEAD",
		},
		{
			name: "on a new branch with a second commit",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				git(t, dir, "checkout", "-q", "-b", "feature")
				git(t, dir, "commit", "-q", "--allow-empty", "-m", "second")
				return []string{"--path", dir}, nil
			},
			want: "HEAD",
		},
		{
			name: "packed refs and a detached HEAD",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				git(t, dir, "pack-refs", "--all")
				git(t, dir, "checkout", "-q", "--detach")
				return []string{"--path", dir}, nil
			},
			want: "HEAD",
		},
		{
			name: "a linked worktree",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				wt := filepath.Join(filepath.Dir(dir), "linked")
				git(t, dir, "worktree", "add", "-q", "-b", "other", wt)
				git(t, wt, "commit", "-q", "--allow-empty", "-m", "in the worktree")
				return []string{"--path", wt}, nil
			},
			want: "", // checked against the worktree's own HEAD below
		},
		{
			name: "a given git ref wins",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return []string{"--path", dir, "--git-ref", "v1.2.3"}, nil
			},
			want: "v1.2.3",
		},
		{
			name: "a commit exported by hand wins, as it always did",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return []string{"--path", dir}, []string{"GITHUB_SHA", "feedface"}
			},
			want: "feedface",
		},
		{
			name: "inside a CI, its commit only: none given is none",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return nil, []string{"JENKINS_URL", "http://j", "WORKSPACE", dir}
			},
			want: "",
		},
		{
			name: "outside any repository",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				return []string{"--path", filepath.Dir(filepath.Dir(dir))}, nil
			},
			want: "",
		},
		{
			name: "a fresh git init, no commit yet",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				fresh := filepath.Join(filepath.Dir(dir), "fresh")
				mkdir(t, fresh)
				git(t, fresh, "init", "-q")
				return []string{"--path", fresh}, nil
			},
			want: "",
		},
		{
			name: "a HEAD that leads out of the git directory: warned, not read, not quoted",
			setup: func(t *testing.T, dir, _ string) ([]string, []string) {
				out := filepath.Join(filepath.Dir(dir), "HEAD-outside")
				if err := os.WriteFile(out, []byte("fedcba9876543210fedcba9876543210fedcba98\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Remove(filepath.Join(dir, ".git", "HEAD"))
				symlink(t, out, filepath.Join(dir, ".git", "HEAD"))
				return []string{"--path", dir}, nil
			},
			want:  "",
			warns: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, head := repo(t)
			args, e := tt.setup(t, dir, head)
			e = append([]string{"SCALINGO_API_TOKEN", "tk-us-x", "SCALINGO_APP", "my-app"}, e...)
			c, err := Load(args, env(e...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := tt.want
			switch {
			case want == "HEAD":
				want = git(t, dir, "rev-parse", "HEAD")
				if tt.name == "a shell in the work tree" && want != head {
					t.Fatalf("git says HEAD is %s, made %s", want, head)
				}
			case tt.name == "a linked worktree":
				want = git(t, c.Path, "rev-parse", "HEAD")
				if want == head {
					t.Fatal("the worktree's HEAD is the main tree's: the case proves nothing")
				}
			}
			if c.GitRef != want {
				t.Errorf("git ref %q, want %q", c.GitRef, want)
			}
			if warned := len(c.Warnings) > 0; warned != tt.warns {
				t.Errorf("warnings %q, want some: %v", c.Warnings, tt.warns)
			}
			for _, w := range c.Warnings {
				if strings.Contains(w, "fedcba98") {
					t.Errorf("warning %q quotes the file it refused", w)
				}
			}
		})
	}
}

// TestLoad_CodeQualityReport: the report's default is GitLab's, a relative name lies in the
// workspace, and a folder that a symlink leads out of the checkout is refused, as for the
// output file (a pull request could commit that link).
func TestLoad_CodeQualityReport(t *testing.T) {
	t.Parallel()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws, outside := filepath.Join(root, "ws"), filepath.Join(root, "outside")
	for _, d := range []string{ws, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(ws, "reports")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		want    string
		wantErr string
	}{
		{name: "gitlab default", env: []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", ws}, want: filepath.Join(ws, "gl-code-quality-report.json")},
		{name: "none on github", env: []string{"GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", ws}, want: ""},
		{name: "none on azure", env: []string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", ws}, want: ""},
		{name: "named, relative to the workspace", env: []string{"GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", ws, "INPUT_CODE-QUALITY-REPORT", "out/cq.json"},
			want: filepath.Join(ws, "out", "cq.json")},
		{name: "a folder linked out of the checkout", env: []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", ws, "SCALINGO_CODE_QUALITY_REPORT", "reports/cq.json"},
			wantErr: "outside the workspace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env(append(tt.env, "SCALINGO_API_TOKEN", "tk-us-x", "SCALINGO_APP", "my-app")...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.CodeQualityReport != tt.want {
				t.Errorf("CodeQualityReport = %q, want %q", c.CodeQualityReport, tt.want)
			}
		})
	}
}
