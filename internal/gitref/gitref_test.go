package gitref

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs the real git in dir, isolated from the machine's configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; these tests compare with it")
	}
}

// newRepo makes a repository with two commits on main and an annotated tag, whose
// peeled line packed-refs must skip.
func newRepo(t *testing.T, dir string, initArgs ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, append([]string{"init", "-q"}, initArgs...)...)
	commit(t, dir, "one")
	git(t, dir, "tag", "-a", "-m", "v1", "v1")
	commit(t, dir, "two")
	return dir
}

func commit(t *testing.T, dir, msg string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, msg+".txt"), []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", msg)
}

func TestHeadMatchesGit(t *testing.T) {
	t.Parallel()
	needGit(t)
	tests := []struct {
		name string
		// setup builds a layout under root and returns the path to ask about.
		setup func(t *testing.T, root string) string
	}{
		{"loose branch", func(t *testing.T, root string) string { return newRepo(t, root) }},
		{"from a subfolder", func(t *testing.T, root string) string {
			newRepo(t, root)
			sub := filepath.Join(root, "a", "b")
			os.MkdirAll(sub, 0o755)
			return sub
		}},
		{"from a file", func(t *testing.T, root string) string {
			return filepath.Join(newRepo(t, root), "two.txt")
		}},
		{"packed refs", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "pack-refs", "--all")
			if _, err := os.Stat(filepath.Join(root, ".git", "refs", "heads", "main")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("main still loose: %v", err)
			}
			return root
		}},
		{"packed, branch with a slash", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "checkout", "-q", "-b", "feature/x", "HEAD~1")
			git(t, root, "pack-refs", "--all")
			return root
		}},
		{"loose ref newer than its packed copy", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "pack-refs", "--all")
			commit(t, root, "three")
			return root
		}},
		{"detached HEAD", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "checkout", "-q", "--detach", "HEAD~1")
			return root
		}},
		{"symbolic ref chain", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
			git(t, root, "symbolic-ref", "HEAD", "refs/heads/alias")
			return root
		}},
		{"linked worktree", func(t *testing.T, root string) string {
			main := newRepo(t, filepath.Join(root, "main"))
			wt := filepath.Join(root, "wt")
			git(t, main, "worktree", "add", "-q", "-b", "feature", wt, "HEAD~1")
			commit(t, wt, "in-worktree")
			return wt
		}},
		{"linked worktree, packed", func(t *testing.T, root string) string {
			main := newRepo(t, filepath.Join(root, "main"))
			wt := filepath.Join(root, "wt")
			git(t, main, "worktree", "add", "-q", "-b", "feature", wt, "HEAD~1")
			git(t, main, "pack-refs", "--all")
			return wt
		}},
		{"linked worktree, detached", func(t *testing.T, root string) string {
			main := newRepo(t, filepath.Join(root, "main"))
			wt := filepath.Join(root, "wt")
			git(t, main, "worktree", "add", "-q", "--detach", wt, "v1")
			return wt
		}},
		{"main work tree beside a linked one", func(t *testing.T, root string) string {
			main := newRepo(t, filepath.Join(root, "main"))
			git(t, main, "worktree", "add", "-q", "-b", "feature", filepath.Join(root, "wt"), "HEAD~1")
			return main
		}},
		{"submodule", func(t *testing.T, root string) string {
			lib := newRepo(t, filepath.Join(root, "lib"))
			app := newRepo(t, filepath.Join(root, "app"))
			git(t, app, "submodule", "add", "-q", lib, "vendor/lib")
			sub := filepath.Join(app, "vendor", "lib")
			git(t, sub, "checkout", "-q", "--detach", "HEAD~1")
			if fi, err := os.Lstat(filepath.Join(sub, ".git")); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("the submodule's .git is not a file: %v", err)
			}
			return sub
		}},
		{"separate git dir", func(t *testing.T, root string) string {
			return newRepo(t, filepath.Join(root, "tree"), "--separate-git-dir", filepath.Join(root, "store.git"))
		}},
		{"nested repository", func(t *testing.T, root string) string {
			newRepo(t, root)
			inner := newRepo(t, filepath.Join(root, "inner"))
			return inner
		}},
		{"sha256", func(t *testing.T, root string) string {
			newRepo(t, root, "--object-format=sha256")
			git(t, root, "pack-refs", "--all")
			return root
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.setup(t, t.TempDir())
			dir := path
			if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
				dir = filepath.Dir(path)
			}
			want := git(t, dir, "rev-parse", "HEAD")
			got, err := Head(path)
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if got != want {
				t.Errorf("Head = %s, git rev-parse HEAD = %s", got, want)
			}
		})
	}
}

func TestHeadWithoutCommit(t *testing.T) {
	t.Parallel()
	needGit(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) string
		want  error
	}{
		{"fresh repository", func(t *testing.T, root string) string {
			git(t, root, "init", "-q")
			return root
		}, ErrNoCommit},
		{"orphan branch", func(t *testing.T, root string) string {
			newRepo(t, root)
			git(t, root, "pack-refs", "--all")
			git(t, root, "checkout", "-q", "--orphan", "empty")
			return root
		}, ErrNoCommit},
		{"no repository", func(t *testing.T, root string) string { return root }, ErrNotRepo},
		{"a path that does not exist", func(t *testing.T, root string) string { return filepath.Join(root, "nope", "x") }, ErrNotRepo},
		{"a .git folder that is no repository", func(t *testing.T, root string) string {
			os.MkdirAll(filepath.Join(root, ".git", "refs"), 0o755)
			return root
		}, ErrNotRepo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Head(tt.setup(t, t.TempDir()))
			if !errors.Is(err, tt.want) {
				t.Errorf("Head error %v, want %v", err, tt.want)
			}
		})
	}
}
