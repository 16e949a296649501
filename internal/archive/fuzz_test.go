package archive

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// fuzzTree is the fixed part of the tree FuzzIgnore checks; names carry the
// characters that glob syntax cares about.
var fuzzTree = files(
	"a", "b.txt", "c.TXT", "-d", "#h", "!b", " s", "s ", "x[1]", "q?", "st*r", "back\\sl", "a1", "Z9", "]",
	"dir/a", "dir/b.txt", "dir/sub/a", "dir/sub/c.md", "dir/sub/deep/z.txt", "dir/x[1]",
	"a.d/a", "a.d/b/a", "foo/bar/baz", "foo/bar.txt", "foo/foo/foo", "foo/a/b/c/foo",
	"node_modules/x/index.js", "node_modules/.bin/x", "build/out.o", "dist/keep", "dist/app.js",
	"ln -> a", "dir/up -> ../dir", "dir/abs -> /etc",
)

// FuzzIgnore compares the files the archive keeps with the files git does not
// ignore (`git ls-files --others`), for generated root and nested ignore
// files, exclude patterns, and one extra generated path. Seeds are in
// testdata/fuzz/FuzzIgnore; run longer with
// go test ./internal/archive -run '^$' -fuzz FuzzIgnore -fuzztime 2m
func FuzzIgnore(f *testing.F) {
	f.Add("*.txt\n!dir/b.txt\n", "", "", "new/file.txt", []byte{})
	f.Add("dir/**\n!dir/sub/\n", "*.md\n", "", "dir/sub/n.md", []byte{3, 1, 2, 0, 9, 4, 4, 5})
	f.Add("/foo\n**/a\n", "!a\n", "b*", "x/a", []byte{7, 8, 6, 0, 11, 12, 13})
	f.Add("[!a]1\n[[:upper:]]*\n\\#h\n\\!b\ns\\ \n", "", "", "Q", []byte{14, 15, 16, 17})
	f.Add("node_modules/\n!node_modules/x\n", "sub/**/z.txt\n", ".bin", "a/b/c", []byte{20, 21, 22, 23, 24, 25})
	f.Fuzz(func(t *testing.T, rootIgnore, dirIgnore, exclude, extra string, gen []byte) {
		rootIgnore += genPatterns(gen)
		if len(rootIgnore)+len(dirIgnore)+len(exclude)+len(extra) > 400 ||
			strings.ContainsRune(rootIgnore+dirIgnore+exclude+extra, 0) {
			t.Skip()
		}
		tree := append([]node(nil), fuzzTree...)
		if p, ok := fuzzPath(extra); ok {
			tree = append(tree, node{path: p})
		}
		tree = append(tree, node{".gitignore", rootIgnore}, node{"dir/.gitignore", dirIgnore})
		root := t.TempDir()
		makeTree(t, root, tree)
		var excludes []string
		if exclude != "" {
			excludes = strings.Split(exclude, ",")
		}
		if !rawPatterns(excludes) {
			t.Skip() // line rules: TestIgnoreMatchesGit has them
		}
		got := planKeeps(t, root, excludes)
		if want := gitKeeps(t, root, excludes); !slices.Equal(got, want) {
			t.Errorf("root .gitignore %q, dir/.gitignore %q, excludes %q:\narchive keeps %q\ngit keeps     %q",
				rootIgnore, dirIgnore, excludes, got, want)
		}
	})
}

// fuzzPath turns s into a relative file path that does not collide with the
// fixed tree's files, or reports that it cannot.
func fuzzPath(s string) (string, bool) {
	var els []string
	for _, el := range strings.Split(s, "/") {
		if el == "" || el == "." || el == ".." || el == ".git" || strings.Contains(el, " -> ") ||
			el == ".gitignore" || el == ".scalingoignore" {
			continue
		}
		els = append(els, el)
	}
	if len(els) == 0 || len(els) > 5 {
		return "", false
	}
	p := strings.Join(els, "/")
	for _, n := range fuzzTree {
		name, _, _ := strings.Cut(n.path, " -> ")
		if name == p || strings.HasPrefix(p, name+"/") || strings.HasPrefix(name, p+"/") {
			return "", false
		}
	}
	return p, true
}

// patternTokens are the pieces genPatterns strings together, so that most
// generated lines are patterns that mean something to git.
var patternTokens = []string{
	"\n", "*", "**", "/", "!", "a", "b", "dir", "sub", ".txt", "foo", "?", "[", "]", "-", "[!a]",
	"[[:alpha:]]", "[a-z]", "\\", " ", "#", "x", "1", "bar", "node_modules", ".d", "deep", "*.md", "/**/", "**/", "/**", "[^", "x**/",
}

func genPatterns(gen []byte) string {
	var b strings.Builder
	for _, c := range gen {
		b.WriteString(patternTokens[int(c)%len(patternTokens)])
	}
	return b.String()
}

// TestIgnoreRandomAgainstGit runs the FuzzIgnore comparison on a fixed set of
// generated cases, so every plain `go test` checks a few hundred rule sets
// against git, not only the seeds.
func TestIgnoreRandomAgainstGit(t *testing.T) {
	t.Parallel()
	requireGit(t)
	n := 120
	if testing.Short() {
		n = 20
	}
	rng := rand.New(rand.NewPCG(3, 14))
	for i := range n {
		lines := make([]byte, 4+rng.IntN(24))
		for j := range lines {
			lines[j] = byte(rng.IntN(256))
		}
		dir := make([]byte, rng.IntN(10))
		for j := range dir {
			dir[j] = byte(rng.IntN(256))
		}
		exclude := ""
		if rng.IntN(3) == 0 {
			exclude = patternTokens[1+rng.IntN(len(patternTokens)-1)] + patternTokens[1+rng.IntN(len(patternTokens)-1)]
		}
		rootIgnore, dirIgnore := genPatterns(lines), genPatterns(dir)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			makeTree(t, root, append(append([]node(nil), fuzzTree...),
				node{".gitignore", rootIgnore}, node{"dir/.gitignore", dirIgnore}))
			var excludes []string
			if exclude != "" && rawPatterns([]string{exclude}) {
				excludes = []string{exclude} // line rules are TestIgnoreMatchesGit's
			}
			got := planKeeps(t, root, excludes)
			if want := gitKeeps(t, root, excludes); !slices.Equal(got, want) {
				t.Errorf("root .gitignore %q, dir/.gitignore %q, excludes %q:\narchive keeps %q\ngit keeps     %q",
					rootIgnore, dirIgnore, excludes, got, want)
			}
		})
	}
}
