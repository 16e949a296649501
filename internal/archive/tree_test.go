package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mholt/archives"
)

// No exit path may leave the archive behind: the temp file and its folder are
// gone from TMPDIR as soon as Build returns, while the descriptor still reads
// the whole archive, as many times as an upload retries.
func TestBuild_NothingLeftInTempDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, files("a.txt", "d/b.txt"))
	zipIn := filepath.Join(t.TempDir(), "a.zip")
	must(t, os.WriteFile(zipIn, zipBytes(t, []fixtureEntry{{name: "x.txt", body: "x"}}), 0o644))
	cases := []struct{ name, path string }{
		{"folder", root},
		{"repacked archive", zipIn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			res, err := Build(context.Background(), Options{Path: c.path, TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in the temp dir while the archive is open: %v", left)
			}
			for range 2 {
				data, err := io.ReadAll(io.NewSectionReader(res.File, 0, res.Size))
				must(t, err)
				if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != res.SHA256 {
					t.Fatalf("read back %d bytes that do not match SHA256", len(data))
				}
			}
		})
	}
	t.Run("build failing while writing", func(t *testing.T) {
		t.Parallel()
		tmp := t.TempDir()
		bad := filepath.Join(t.TempDir(), "bad.zip")
		must(t, os.WriteFile(bad, lyingZip(t, 5), 0o644))
		if _, err := Build(context.Background(), Options{Path: bad, TempDir: tmp}); err == nil {
			t.Fatal("the build succeeded")
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("left in the temp dir: %v", left)
		}
	})
}

// The same commit gives the same archive whatever umask the checkout had, and
// the modes are the ones git archive writes.
func TestBuild_ModesNormalised(t *testing.T) {
	t.Parallel()
	type modes struct{ file, exec, dir, odd os.FileMode }
	stamp := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(m modes) string {
		root := t.TempDir()
		makeTree(t, root, files("src/main.go", "run.sh", "suid", "tmp/x"))
		must(t, os.Chmod(filepath.Join(root, "src/main.go"), m.file))
		must(t, os.Chmod(filepath.Join(root, "run.sh"), m.exec))
		must(t, os.Chmod(filepath.Join(root, "suid"), m.odd))
		must(t, os.Chmod(filepath.Join(root, "tmp/x"), m.file))
		must(t, os.Chmod(filepath.Join(root, "src"), m.dir))
		must(t, os.Chmod(filepath.Join(root, "tmp"), m.dir|os.ModeSticky|os.ModeSetgid))
		must(t, os.Chmod(root, m.dir))
		for _, p := range []string{"src/main.go", "run.sh", "suid", "tmp/x", "src", "tmp", "."} {
			must(t, os.Chtimes(filepath.Join(root, p), stamp, stamp))
		}
		return root
	}
	// umask 022 and umask 077 (or 002), with setuid/setgid/sticky bits on top.
	a := build(t, Options{Path: mk(modes{file: 0o644, exec: 0o755, dir: 0o755, odd: 0o644})})
	b := build(t, Options{Path: mk(modes{file: 0o600, exec: 0o700, dir: 0o700, odd: 0o600 | os.ModeSetuid})})
	c := build(t, Options{Path: mk(modes{file: 0o664, exec: 0o775, dir: 0o775, odd: 0o664 | os.ModeSetgid})})
	if a.SHA256 != b.SHA256 || a.SHA256 != c.SHA256 {
		t.Errorf("sha256 differ by umask: %s %s %s", a.SHA256, b.SHA256, c.SHA256)
	}
	es, _ := readTarGz(t, b)
	want := map[string]int64{"app/": 0o755, "app/run.sh": 0o755, "app/src/": 0o755, "app/src/main.go": 0o644,
		"app/suid": 0o644, "app/tmp/": 0o755, "app/tmp/x": 0o644}
	for _, e := range es {
		if e.hdr.Mode != want[e.hdr.Name] {
			t.Errorf("%s: mode %o, want %o", e.hdr.Name, e.hdr.Mode, want[e.hdr.Name])
		}
	}

	// A repacked archive loses setuid, setgid and sticky bits too.
	in := filepath.Join(t.TempDir(), "a.tar.zst")
	must(t, os.WriteFile(in, compress(t, archives.Zstd{}, tarBytes(t, []fixtureEntry{
		{name: "bin/", dir: true, mode: 0o1777}, {name: "bin/su", body: "x", mode: 0o4750}, {name: "bin/ro", body: "y", mode: 0o400},
	})), 0o644))
	es, _ = readTarGz(t, build(t, Options{Path: in}))
	want = map[string]int64{"bin/": 0o755, "bin/su": 0o755, "bin/ro": 0o644}
	for _, e := range es {
		if e.hdr.Mode != want[e.hdr.Name] {
			t.Errorf("repacked %s: mode %o, want %o", e.hdr.Name, e.hdr.Mode, want[e.hdr.Name])
		}
	}
}

// The tool's own output file never ships, however its path is spelled.
func TestBuild_SkipsOutputFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, files("a.txt", "scalingo-deploy.env", "sub/scalingo-deploy.env"))
	alias := filepath.Join(t.TempDir(), "alias")
	must(t, os.Symlink(root, alias))
	cases := []struct {
		name string
		skip string
	}{
		{"absolute path", filepath.Join(root, "scalingo-deploy.env")},
		{"through a symlinked folder", filepath.Join(alias, "scalingo-deploy.env")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := build(t, Options{Path: root, Skip: []string{c.skip}})
			es, _ := readTarGz(t, res)
			want := []string{"app/", "app/a.txt", "app/sub/", "app/sub/scalingo-deploy.env"}
			if got := names(es); !slices.Equal(got, want) {
				t.Errorf("entries %q, want %q", got, want)
			}
		})
	}
}

// An archive with no file in it is refused before anything is sent, naming
// the rule that left everything out when one did.
func TestBuild_NothingToDeploy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tree    []node
		exclude []string
		skip    string
		want    []string // in the message
		notWant string
	}{
		{name: "empty folder", want: []string{"holds no file"}},
		{name: "folders only", tree: files("a/", "b/c/"), want: []string{"holds no file"}},
		{name: "gitignore ignoring everything", tree: append(files("a.txt", "d/x"), node{".gitignore", "# all of it\n*\n"}),
			want: []string{"every file is ignored", `"*"`, filepath.Join("ROOT", ".gitignore") + " line 2"}},
		{name: "scalingoignore ignoring the root", tree: append(files("a.txt", ".gitignore"), node{".scalingoignore", "/*\n"}),
			want: []string{"every file is ignored", `"/*"`, filepath.Join("ROOT", ".scalingoignore") + " line 1"}},
		{name: "exclude input", tree: files("a.txt", "d/x"), exclude: []string{"# x", "*"},
			want: []string{"every file is ignored", "the exclude input, pattern 2"}},
		{name: "several rules", tree: append(files("a.txt", "d/x"), node{".gitignore", "*.txt\nd/\n.gitignore\n"}),
			want: []string{"every file is ignored"}, notWant: "the rule"},
		{name: "everything ignored below the root", tree: append(files("d/x"), node{"d/.gitignore", "*\n"}),
			want: []string{"every file is ignored"}, notWant: "the rule"},
		{name: "only the output file", tree: files("scalingo-deploy.env"), skip: "scalingo-deploy.env",
			want: []string{"every file is ignored"}, notWant: "the rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			makeTree(t, root, c.tree)
			opts := Options{Path: root, Exclude: c.exclude, TempDir: t.TempDir()}
			if c.skip != "" {
				opts.Skip = []string{filepath.Join(root, c.skip)}
			}
			res, err := Build(context.Background(), opts)
			if err == nil {
				res.Close()
				t.Fatal("Build succeeded")
			}
			if !isInvalidInput(err) {
				t.Errorf("err = %v, want invalid input", err)
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "ROOT", root); !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
			if c.notWant != "" && strings.Contains(err.Error(), c.notWant) {
				t.Errorf("message has %q: %v", c.notWant, err)
			}
		})
	}

	t.Run("archive with folders only", func(t *testing.T) {
		t.Parallel()
		in := filepath.Join(t.TempDir(), "a.tar.gz")
		must(t, os.WriteFile(in, compress(t, archives.Gz{}, tarBytes(t, []fixtureEntry{{name: "site/", dir: true}, {name: "site/d/", dir: true}})), 0o644))
		_, err := Build(context.Background(), Options{Path: in, TempDir: t.TempDir()})
		if !isInvalidInput(err) || !strings.Contains(err.Error(), "holds no file") {
			t.Errorf("err = %v, want invalid input: no file", err)
		}
	})
}
