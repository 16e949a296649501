package archive

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gogitignore "github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// ignoreCases are trees on which the archive must hold exactly the files
// git does not ignore.
var ignoreCases = []struct {
	name     string
	tree     []node
	excludes []string
	// gitExcludes are the excludes as git's --exclude must be given them,
	// when excludes use line rules (comments, trailing spaces) it lacks.
	gitExcludes []string
	want        []string // files and symlinks kept; checked against git too
}{
	{
		name: "basename at any depth and anchoring",
		tree: append(files("a.log", "sub/a.log", "sub/deep/b.log", "keep.txt", "build/x", "sub/build/y", "src/build.go"),
			node{".gitignore", "*.log\n/build\n"}),
		want: []string{".gitignore", "keep.txt", "src/build.go", "sub/build/y"},
	},
	{
		name: "negation and a folder that cannot be re-included into",
		tree: append(files("a.txt", "b.txt", "docs/c.txt", "logs/keep.log", "logs/x.log"),
			node{".gitignore", "*.txt\n!b.txt\n!docs\nlogs/\n!logs/keep.log\n"}),
		want: []string{".gitignore", "b.txt"},
	},
	{
		name: "contents-only double star lets a file back in",
		tree: append(files("dist/app.js", "dist/.keep", "dist/sub/x.js"),
			node{".gitignore", "dist/**\n!dist/.keep\n"}),
		want: []string{".gitignore", "dist/.keep"},
	},
	{
		name: "double star in the middle and leading",
		tree: append(files("a/b", "a/x/b", "a/x/y/b", "a/c", "q/node_modules/m", "node_modules/n"),
			node{".gitignore", "a/**/b\n**/node_modules\n"}),
		want: []string{".gitignore", "a/c"},
	},
	{
		name: "dir-only patterns do not match files or symlinks",
		tree: append(files("tmp", "x/tmp/f", "cache/f", "ln -> cache"),
			node{".gitignore", "tmp/\ncache/\nln/\n"}),
		want: []string{".gitignore", "ln", "tmp"},
	},
	{
		name: "nested gitignore applies below its folder only",
		tree: append(files("a.gen", "pkg/a.gen", "pkg/sub/b.gen", "pkg/keep.gen", "other/c.gen"),
			node{"pkg/.gitignore", "*.gen\n!keep.gen\n"}),
		want: []string{"a.gen", "other/c.gen", "pkg/.gitignore", "pkg/keep.gen"},
	},
	{
		name: "nested gitignore overrides the root one",
		tree: append(files("pkg/a.gen", "b.gen"),
			node{".gitignore", "*.gen\n"}, node{"pkg/.gitignore", "!a.gen\n"}),
		want: []string{".gitignore", "pkg/.gitignore", "pkg/a.gen"},
	},
	{
		name: "escapes, comments, trailing spaces, CRLF",
		tree: append(files("#hash", "!bang", "sp ", "plain", "crlf", "tab\t"),
			node{".gitignore", "# comment\n\\#hash\n\\!bang\nsp\\ \nplain   \r\ncrlf\r\ntab\t\n"}),
		want: []string{".gitignore"},
	},
	{
		name: "bracket expressions",
		tree: append(files("a1", "b1", "c1", "x-", "y]", "Z9"),
			node{".gitignore", "[!a]1\n[]x]-\n[[:upper:]][[:digit:]]\ny[]]\n"}),
		want: []string{".gitignore", "a1"},
	},
	{
		name: "scalingoignore replaces every gitignore",
		tree: append(files("dist/app.js", "node_modules/m.js", "src/a.go", "src/gen.go"),
			node{".gitignore", "dist/\n"}, node{"src/.gitignore", "gen.go\n"}, node{".scalingoignore", "node_modules/\n"}),
		want: []string{".gitignore", ".scalingoignore", "dist/app.js", "src/.gitignore", "src/a.go", "src/gen.go"},
	},
	{
		name: "excludes add to the gitignore and come first",
		tree: append(files("a.log", ".env", "secret/k", "keep.md", "b.md"),
			node{".gitignore", "*.md\n"}),
		excludes:    []string{".env", "secret/", "!keep.md", "# not a pattern", "*.log   "},
		gitExcludes: []string{".env", "secret/", "!keep.md", "*.log"},
		want:        []string{".gitignore", "keep.md"},
	},
	{
		name:     "excludes add to the scalingoignore",
		tree:     append(files("dist/a.js", "dist/a.map", "tests/t"), node{".scalingoignore", "tests\n"}),
		excludes: []string{"*.map"},
		want:     []string{".scalingoignore", "dist/a.js"},
	},
}

func TestIgnoreMatchesGit(t *testing.T) {
	t.Parallel()
	requireGit(t)
	for _, tc := range ignoreCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			makeTree(t, root, tc.tree)
			got := planKeeps(t, root, tc.excludes)
			if !slices.Equal(got, tc.want) {
				t.Errorf("archive keeps %q, want %q", got, tc.want)
			}
			gitExcludes := tc.excludes
			if tc.gitExcludes != nil {
				gitExcludes = tc.gitExcludes
			}
			if g := gitKeeps(t, root, gitExcludes); !slices.Equal(got, g) {
				t.Errorf("archive keeps %q, git keeps %q", got, g)
			}
		})
	}
}

// TestGoGitDisagrees records why the matcher is not go-git's: on these
// trees go-git's gitignore package answers differently from git itself.
// If a go-git upgrade makes this test fail, its matcher may now be usable.
func TestGoGitDisagrees(t *testing.T) {
	t.Parallel()
	requireGit(t)
	cases := []struct {
		name  string
		rules string
		tree  []string
	}{
		{"negated parent folder re-includes its files", "*.txt\n!docs\n", []string{"docs/a.txt"}},
		{"contents-only double star hides the folder", "dist/**\n!dist/keep\n", []string{"dist/keep", "dist/app.js"}},
		{"[!a] is a negated class", "[!a]1\n", []string{"a1", "b1", "!1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			makeTree(t, root, append(files(tc.tree...), node{".gitignore", tc.rules}))
			var ps []gogitignore.Pattern
			for _, l := range strings.Split(strings.TrimSpace(tc.rules), "\n") {
				ps = append(ps, gogitignore.ParsePattern(l, nil))
			}
			m := gogitignore.NewMatcher(ps)
			var goGit []string
			must(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				must(t, err)
				rel, _ := filepath.Rel(root, p)
				if rel == "." {
					return nil
				}
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				if m.Match(strings.Split(filepath.ToSlash(rel), "/"), d.IsDir()) {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !d.IsDir() {
					goGit = append(goGit, filepath.ToSlash(rel))
				}
				return nil
			}))
			slices.Sort(goGit)
			git := gitKeeps(t, root, nil)
			if slices.Equal(goGit, git) {
				t.Errorf("go-git now agrees with git (%q)", git)
			}
			if ours := planKeeps(t, root, nil); !slices.Equal(ours, git) {
				t.Errorf("archive keeps %q, git keeps %q", ours, git)
			}
		})
	}
}

func TestWildmatch(t *testing.T) {
	t.Parallel()
	// Cases from gitignore(5) and git's own wildmatch behaviour.
	cases := []struct {
		pat, text string
		pathname  bool
		want      bool
	}{
		{"foo", "foo", true, true},
		{"*", "foo/bar", true, false},
		{"*", "foo/bar", false, true},
		{"foo/*", "foo/bar", true, true},
		{"foo/*", "foo/bar/baz", true, false},
		{"**/foo", "a/b/foo", true, true},
		{"**/foo", "foo", true, true},
		{"foo/**", "foo/a/b", true, true},
		{"foo/**", "foo", true, false},
		{"a/**/b", "a/b", true, true},
		{"a/**/b", "a/x/y/b", true, true},
		{"a**b", "a/b", true, false},
		{"a**b", "axxb", true, true},
		{"a**/b", "axx/b", true, true},
		{"a**/b", "a/x/b", true, false},
		{"**/b", "x/y/b", true, true},
		{"?", "/", true, false},
		{"[a-c]x", "bx", true, true},
		{"[!a-c]x", "bx", true, false},
		{"[^a-c]x", "dx", true, true},
		{"[]]", "]", true, true},
		{"[a-]", "-", true, true},
		{"[[:alpha:]]", "k", true, true},
		{"[[:nope:]]", "k", true, false},
		{"[a", "a", true, false},
		{"\\*", "*", true, true},
		{"\\*", "x", true, false},
		{"foo\\", "foo\\", true, false},
		{"*.c", "a.c", true, true},
		{"*/b", "a/b", true, true},
		{"*/b", "a/x/b", true, false},
	}
	for _, c := range cases {
		if got := wildmatch(c.pat, c.text, c.pathname); got != c.want {
			t.Errorf("wildmatch(%q, %q, %v) = %v, want %v", c.pat, c.text, c.pathname, got, c.want)
		}
	}
}

// TestIgnoreSubfolderOfCheckout deploys one folder of a monorepo: the
// .gitignore files above it apply as they do for git, unless the folder has
// a .scalingoignore.
func TestIgnoreSubfolderOfCheckout(t *testing.T) {
	t.Parallel()
	requireGit(t)
	repo := t.TempDir()
	makeTree(t, repo, []node{
		{path: ".gitignore", content: "*.log\n/apps/api/tmp/\nsecret*\n!apps/api/secret.example\n"},
		{path: "apps/.gitignore", content: "dist/\n"},
		{path: "apps/api/main.go"}, {path: "apps/api/x.log"}, {path: "apps/api/tmp/cache"},
		{path: "apps/api/dist/app"}, {path: "apps/api/secret.env"}, {path: "apps/api/secret.example"},
		{path: "apps/api/.gitignore", content: "!keep.log\n"}, {path: "apps/api/keep.log"},
		{path: "apps/web/index.html"},
	})
	cmd := exec.Command("git", "init", "-q", "--template=")
	cmd.Dir, cmd.Env = repo, gitEnv(repo)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	root := filepath.Join(repo, "apps", "api")
	got := planKeeps(t, root, nil)
	want := []string{".gitignore", "keep.log", "main.go", "secret.example"}
	if !slices.Equal(got, want) {
		t.Errorf("archive keeps %q, want %q", got, want)
	}
	cmd = exec.Command("git", "ls-files", "--others", "-z", "--exclude-per-directory=.gitignore")
	cmd.Dir, cmd.Env = root, gitEnv(repo)
	out, err := cmd.Output()
	must(t, err)
	var git []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			git = append(git, p)
		}
	}
	slices.Sort(git)
	if !slices.Equal(got, git) {
		t.Errorf("archive keeps %q, git keeps %q", got, git)
	}

	must(t, os.WriteFile(filepath.Join(root, scalingoIgnore), []byte("tmp/\n"), 0o644))
	got = planKeeps(t, root, nil)
	want = []string{".gitignore", ".scalingoignore", "dist/app", "keep.log", "main.go", "secret.env", "secret.example", "x.log"}
	if !slices.Equal(got, want) {
		t.Errorf("with .scalingoignore: archive keeps %q, want %q", got, want)
	}
}
