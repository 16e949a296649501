package archive

import (
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
	f.Add("*.txt\n!dir/b.txt\n", "", "", "new/file.txt")
	f.Add("dir/**\n!dir/sub/\n", "*.md\n", "", "dir/sub/n.md")
	f.Add("/foo\n**/a\n", "!a\n", "b*", "x/a")
	f.Add("[!a]1\n[[:upper:]]*\n\\#h\n\\!b\ns\\ \n", "", "", "Q")
	f.Add("node_modules/\n!node_modules/x\n", "sub/**/z.txt\n", ".bin", "a/b/c")
	f.Fuzz(func(t *testing.T, rootIgnore, dirIgnore, exclude, extra string) {
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
		excludes := strings.Split(exclude, ",")
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
