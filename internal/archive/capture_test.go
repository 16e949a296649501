package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mholt/archives"
)

func TestCapture_Tree(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxCapture)
	cases := []struct {
		name    string
		nodes   []node
		exclude []string
		want    []byte // nil: absent
		errPart string // an invalid-input error saying this
	}{
		{name: "at the root", nodes: []node{{"scalingo.json", `{"env":{}}`}, {"index.html", "hi"}}, want: []byte(`{"env":{}}`)},
		{name: "absent", nodes: files("index.html")},
		{name: "only in a subfolder", nodes: files("sub/scalingo.json", "index.html")},
		{name: "left out by exclude", nodes: files("scalingo.json", "index.html"), exclude: []string{"scalingo.json"}},
		{name: "left out by .scalingoignore", nodes: []node{{".scalingoignore", "scalingo.json\n"}, {"scalingo.json", "{}"}, {"index.html", "hi"}}},
		{name: "empty file", nodes: []node{{"index.html", "hi"}, {"scalingo.json", ""}}, want: []byte{}},
		{name: "exactly the limit", nodes: []node{{"scalingo.json", big}}, want: []byte(big)},
		{name: "one byte over the limit", nodes: []node{{"scalingo.json", big + "x"}}, errPart: "scalingo.json at the root of the deployed tree is larger than"},
		{name: "symlink to a file outside", nodes: []node{{"index.html", "hi"}, {"scalingo.json -> /etc/passwd", ""}}, errPart: "symbolic link"},
		{name: "symlink inside the tree", nodes: []node{{"real.json", "{}"}, {"scalingo.json -> real.json", ""}}, errPart: "symbolic link"},
		{name: "a folder", nodes: files("scalingo.json/x"), errPart: "not a regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for i := range tc.nodes {
				if tc.nodes[i].path == "scalingo.json" && tc.nodes[i].content == "" && tc.want != nil {
					// makeTree writes the path for an empty content: write it empty by hand.
					must(t, os.WriteFile(filepath.Join(root, "scalingo.json"), nil, 0o644))
					tc.nodes = append(tc.nodes[:i:i], tc.nodes[i+1:]...)
					break
				}
			}
			makeTree(t, root, tc.nodes)
			res, err := Build(context.Background(), Options{Path: root, Exclude: tc.exclude, Capture: "scalingo.json", TempDir: t.TempDir()})
			if tc.errPart != "" {
				if err == nil || !isInvalidInput(err) || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("Build = %v, want invalid input saying %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if (res.Captured == nil) != (tc.want == nil) || !bytes.Equal(res.Captured, tc.want) {
				t.Errorf("Captured = %.40q (nil %v), want %.40q (nil %v)", res.Captured, res.Captured == nil, tc.want, tc.want == nil)
			}
		})
	}
}

// TestCapture_SameArchive: capturing changes nothing in what is uploaded.
func TestCapture_SameArchive(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{{"scalingo.json", `{"formation":{}}`}, {"a/b", "b"}})
	build := func(capture string) []byte {
		res, err := Build(context.Background(), Options{Path: root, Capture: capture, TempDir: t.TempDir()})
		must(t, err)
		defer res.Close()
		return archiveBytes(t, res)
	}
	if !bytes.Equal(build(""), build("scalingo.json")) {
		t.Error("the archive differs when a file is captured")
	}
}

func TestCapture_Prebuilt(t *testing.T) {
	t.Parallel()
	manifest := `{"name":"x"}`
	big := strings.Repeat("y", MaxCapture+1)
	tgz := func(es []fixtureEntry) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return compress(t, archives.Gz{}, tarBytes(t, es)) }
	}
	cases := []struct {
		name     string
		file     string
		data     func(t *testing.T) []byte
		repacked bool
		want     []byte
		errPart  string
	}{
		{name: "tar.gz sent as is", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "site/", dir: true}, {name: "site/scalingo.json", body: manifest}, {name: "site/i", body: "i"}}), want: []byte(manifest)},
		{name: "tar.gz at the root, repacked", file: "a.tgz", data: tgz([]fixtureEntry{{name: "./", dir: true}, {name: "./scalingo.json", body: manifest}, {name: "./i", body: "i"}}), repacked: true, want: []byte(manifest)},
		{name: "zip in one folder, repacked", file: "a.zip", data: func(t *testing.T) []byte {
			return zipBytes(t, []fixtureEntry{{name: "site/", dir: true}, {name: "site/scalingo.json", body: manifest}})
		}, repacked: true, want: []byte(manifest)},
		{name: "absent", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "site/", dir: true}, {name: "site/i", body: "i"}})},
		{name: "deeper than the root", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "site/", dir: true}, {name: "site/sub/scalingo.json", body: manifest}})},
		// Two top folders: the archive's own root is the deployed root, and it has none.
		{name: "in one of two top folders", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "a/scalingo.json", body: manifest}, {name: "b/i", body: "i"}}), repacked: true},
		{name: "at the root beside a folder", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "scalingo.json", body: manifest}, {name: "b/scalingo.json", body: "other"}}), repacked: true, want: []byte(manifest)},
		{name: "given twice, the last wins", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "s/scalingo.json", body: "first"}, {name: "s/scalingo.json", body: manifest}}), want: []byte(manifest)},
		{name: "symlink", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "s/i", body: "i"}, {name: "s/scalingo.json", link: "/proc/self/environ"}}), errPart: "symbolic link"},
		{name: "hard link", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "s/i", body: manifest}, {name: "s/scalingo.json", hard: true, link: "s/i"}}), errPart: "not a regular file"},
		{name: "too large", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "s/scalingo.json", body: big}}), errPart: "larger than"},
		{name: "too large in a zip", file: "a.zip", data: func(t *testing.T) []byte { return zipBytes(t, []fixtureEntry{{name: "scalingo.json", body: big}}) }, errPart: "larger than"},
		// A bad candidate that is not at the deployed root does not matter.
		{name: "symlink in one of two top folders", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "a/scalingo.json", link: "/etc/passwd"}, {name: "b/i", body: "i"}}), repacked: true},
		{name: "symlink at the root beside a folder's manifest", file: "a.tar.gz", data: tgz([]fixtureEntry{{name: "scalingo.json", link: "/etc/passwd"}, {name: "s/i", body: "i"}, {name: "s/scalingo.json", body: manifest}}), repacked: true, errPart: "symbolic link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tc.file)
			must(t, os.WriteFile(p, tc.data(t), 0o644))
			res, err := Build(context.Background(), Options{Path: p, Capture: "scalingo.json", TempDir: t.TempDir()})
			if tc.errPart != "" {
				if err == nil || !isInvalidInput(err) || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("Build = %v, want invalid input saying %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if res.Repacked != tc.repacked {
				t.Errorf("Repacked = %v, want %v", res.Repacked, tc.repacked)
			}
			if (res.Captured == nil) != (tc.want == nil) || !bytes.Equal(res.Captured, tc.want) {
				t.Errorf("Captured = %.40q, want %.40q", res.Captured, tc.want)
			}
		})
	}
}

func TestCapture_BadName(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, files("a"))
	for _, name := range []string{"../scalingo.json", "sub/scalingo.json", ".", ".."} {
		if _, err := Build(context.Background(), Options{Path: root, Capture: name, TempDir: t.TempDir()}); err == nil {
			t.Errorf("Capture %q accepted", name)
		}
	}
}
