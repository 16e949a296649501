package gitref

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	sha1 = "0123456789abcdef0123456789abcdef01234567"
	// outside is what a file outside the git directory holds: a valid id, so that a
	// read that escaped would succeed and the test would see it.
	outside = "fedcba9876543210fedcba9876543210fedcba98"
	canary  = "CANARY"
)

// layout writes files under root (name → content); a content starting with "->" makes a
// symlink to the rest, with "OUT" replaced by the folder outside the repository.
func layout(t *testing.T, files map[string]string) (root, out string) {
	t.Helper()
	base := t.TempDir()
	root, out = filepath.Join(base, "repo"), filepath.Join(base, "outside")
	for _, d := range []string{root, filepath.Join(out, "refs", "heads")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"HEAD", "main", "refs/heads/main", "packed-refs", "gitdir/HEAD"} {
		body := outside + "\n"
		if name == "packed-refs" {
			body = outside + " refs/heads/main\n"
		}
		os.MkdirAll(filepath.Dir(filepath.Join(out, name)), 0o755)
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(body, "->"); ok {
			err = os.Symlink(strings.ReplaceAll(target, "OUT", out), p)
		} else {
			err = os.WriteFile(p, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root, out
}

func TestHeadAttacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		want    string // the id, when it must succeed
		wantErr string // a substring of the error
	}{
		{"plain loose ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": sha1 + "\n"}, sha1, ""},
		{"ref: with no space", map[string]string{".git/HEAD": "ref:refs/heads/main", ".git/refs/heads/main": sha1}, sha1, ""},
		{"CRLF endings", map[string]string{".git/HEAD": "ref: refs/heads/main\r\n", ".git/refs/heads/main": sha1 + "\r\n"}, sha1, ""},
		{"climbing ref name", map[string]string{".git/HEAD": "ref: refs/heads/../../../outside/main"}, "", "HEAD names an invalid ref"},
		{"climbing ref name in a chain", map[string]string{".git/HEAD": "ref: refs/heads/a", ".git/refs/heads/a": "ref: refs/../../x"}, "", "refs/heads/a names an invalid ref"},
		{"absolute ref name", map[string]string{".git/HEAD": "ref: /etc/passwd"}, "", "invalid ref"},
		{"ref outside refs/", map[string]string{".git/HEAD": "ref: config"}, "", "invalid ref"},
		{"ref to HEAD itself", map[string]string{".git/HEAD": "ref: HEAD"}, "", "invalid ref"},
		{"dot-led component", map[string]string{".git/HEAD": "ref: refs/heads/.hidden"}, "", "invalid ref"},
		{"lock file", map[string]string{".git/HEAD": "ref: refs/heads/main.lock"}, "", "invalid ref"},
		{"control character, not echoed", map[string]string{".git/HEAD": "ref: refs/heads/" + canary + "\x1b[31m"}, "", "invalid ref"},
		{"reflog syntax", map[string]string{".git/HEAD": "ref: refs/heads/main@{1}"}, "", "invalid ref"},
		{"backslash", map[string]string{".git/HEAD": `ref: refs\heads\main`}, "", "invalid ref"},
		{"empty component", map[string]string{".git/HEAD": "ref: refs//heads"}, "", "invalid ref"},
		{"reftable", map[string]string{".git/HEAD": "ref: refs/heads/.invalid\n", ".git/reftable/tables.list": ""}, "", "reftable"},
		{"symlinked ref leaving the git dir", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/refs/heads/main": "->OUT/main"}, "", "escapes"},
		{"symlinked refs folder leaving the git dir", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/refs": "->OUT/refs"}, "", "escapes"},
		{"symlinked HEAD leaving the git dir", map[string]string{".git/HEAD": "->OUT/HEAD"}, "", "escapes"},
		{"symlinked packed-refs leaving the git dir", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/packed-refs": "->OUT/packed-refs"}, "", "escapes"},
		{"symlinked .git", map[string]string{".git": "->OUT"}, "", "not followed"},
		{"symlink cycle", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/refs/heads/main": "->main"}, "", "refs/heads/main"},
		{"symref loop", map[string]string{".git/HEAD": "ref: refs/heads/a", ".git/refs/heads/a": "ref: refs/heads/b", ".git/refs/heads/b": "ref: refs/heads/a"}, "", "more than 5 symbolic refs"},
		{"huge HEAD", map[string]string{".git/HEAD": "ref: refs/heads/" + strings.Repeat("a", maxSmall)}, "", "larger than 16384 bytes"},
		{"HEAD a folder", map[string]string{".git/HEAD/x": ""}, "", "no HEAD file"},
		{"short id", map[string]string{".git/HEAD": sha1[:39]}, "", "neither an object id nor a ref"},
		{"upper-case id", map[string]string{".git/HEAD": strings.ToUpper(sha1)}, "", "neither an object id nor a ref"},
		{"all-zero id", map[string]string{".git/HEAD": strings.Repeat("0", 40)}, "", "neither an object id nor a ref"},
		{"id with junk after it", map[string]string{".git/HEAD": sha1 + " " + canary}, "", "neither an object id nor a ref"},
		{"detached sha256", map[string]string{".git/HEAD": sha1 + sha1[:24]}, sha1 + sha1[:24], ""},
		{"packed: peeled line of another ref skipped", map[string]string{".git/HEAD": "ref: refs/heads/main",
			".git/packed-refs": "# pack-refs with: peeled fully-peeled sorted \n" + outside + " refs/tags/v1\n^" + outside + "\n" + sha1 + " refs/heads/main\n"}, sha1, ""},
		{"packed: a prefix is not a match", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/packed-refs": outside + " refs/heads/main2\n"}, "", "no commit yet"},
		{"packed: bad id", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/packed-refs": canary + " refs/heads/main\n"}, "", "packed-refs holds no object id"},
		{"packed: over-long line", map[string]string{".git/HEAD": "ref: refs/heads/main", ".git/packed-refs": strings.Repeat("x", maxLine+1) + "\n"}, "", "token too long"},
		{"loose folder falls back to packed", map[string]string{".git/HEAD": "ref: refs/heads/a", ".git/refs/heads/a/b": sha1, ".git/packed-refs": sha1 + " refs/heads/a\n"}, sha1, ""},
		{"gitdir file", map[string]string{".git": "gitdir: store\n", "store/HEAD": sha1}, sha1, ""},
		{"gitdir file, absolute outside path", map[string]string{".git": "gitdir: OUTPLACEHOLDER"}, outside, ""},
		{"gitdir file without the key", map[string]string{".git": "store\n"}, "", `not a "gitdir: <path>" line`},
		{"gitdir file, empty path", map[string]string{".git": "gitdir: \n"}, "", `not a "gitdir: <path>" line`},
		{"gitdir file, two lines", map[string]string{".git": "gitdir: a\nb\n"}, "", `not a "gitdir: <path>" line`},
		{"gitdir file, huge", map[string]string{".git": "gitdir: " + strings.Repeat("a", maxSmall)}, "", "larger than"},
		{"gitdir names nothing", map[string]string{".git": "gitdir: missing"}, "", "open the git directory"},
		{"gitdir without HEAD", map[string]string{".git": "gitdir: store", "store/config": ""}, "", "no HEAD file"},
		{"commondir", map[string]string{".git": "gitdir: main/.git/worktrees/wt", "main/.git/worktrees/wt/HEAD": "ref: refs/heads/wt",
			"main/.git/worktrees/wt/commondir": "../..\n", "main/.git/refs/heads/wt": sha1, "main/.git/worktrees/wt/refs/heads/wt": outside}, sha1, ""},
		{"per-worktree ref stays in the worktree", map[string]string{".git": "gitdir: main/.git/worktrees/wt", "main/.git/worktrees/wt/HEAD": "ref: refs/bisect/bad",
			"main/.git/worktrees/wt/commondir": "../..", "main/.git/worktrees/wt/refs/bisect/bad": sha1, "main/.git/refs/bisect/bad": outside}, sha1, ""},
		{"commondir empty", map[string]string{".git/HEAD": sha1, ".git/commondir": "\n"}, "", "commondir"},
		{"commondir names nothing", map[string]string{".git/HEAD": sha1, ".git/commondir": "nowhere"}, "", "open the common git directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, out := layout(t, tt.files)
			if tt.name == "gitdir file, absolute outside path" {
				// Submodules point outside their tree on purpose: allowed, and read
				// from there only.
				os.WriteFile(filepath.Join(root, ".git"), []byte("gitdir: "+filepath.Join(out, "gitdir")), 0o644)
			}
			got, err := Head(root)
			switch {
			case tt.want != "":
				if err != nil || got != tt.want {
					t.Fatalf("Head = %q, %v; want %s", got, err, tt.want)
				}
				return
			case err == nil:
				t.Fatalf("Head = %q, want an error", got)
			case !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q, want one with %q", err, tt.wantErr)
			}
			if got != "" {
				t.Errorf("Head returned %q with its error", got)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), outside) {
				t.Errorf("error %q repeats the repository's content", err)
			}
		})
	}
}

func TestValidRef(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"refs/heads/main", "refs/heads/feature/x-1", "refs/tags/v1.2.3", "refs/remotes/origin/HEAD", "refs/heads/é"} {
		if !validRef(name) {
			t.Errorf("validRef(%q) = false", name)
		}
	}
	for _, name := range []string{"", "HEAD", "refs/", "refs/heads/", "/refs/heads/x", "refs/heads/x/", "refs/heads/x.", "refs/heads/a..b",
		"refs/heads/.x", "refs/heads/x.lock", "refs/heads/x y", "refs/heads/x~1", "refs/heads/x^", "refs/heads/x:y", "refs/heads/x?",
		"refs/heads/x*", "refs/heads/x[", `refs/heads/x\y`, "refs/heads/x\x00", "refs/heads/x\x7f", "refs/heads/@{u}", "refs/" + strings.Repeat("a", 1020)} {
		if validRef(name) {
			t.Errorf("validRef(%q) = true", name)
		}
	}
}

func TestHeadNotRepoIsErrNotRepo(t *testing.T) {
	t.Parallel()
	_, err := Head(t.TempDir())
	if !errors.Is(err, ErrNotRepo) {
		t.Fatalf("error %v, want ErrNotRepo", err)
	}
}
