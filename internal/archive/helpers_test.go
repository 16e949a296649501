package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// node is one path of a test tree: "dir/" is a folder, "ln -> target" a
// symlink, anything else a file holding content (its own name when empty).
type node struct {
	path    string
	content string
}

func files(paths ...string) []node {
	ns := make([]node, len(paths))
	for i, p := range paths {
		ns[i] = node{path: p}
	}
	return ns
}

func makeTree(t testing.TB, root string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		if link, target, ok := strings.Cut(n.path, " -> "); ok {
			p := filepath.Join(root, filepath.FromSlash(link))
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.Symlink(target, p))
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(n.path))
		if strings.HasSuffix(n.path, "/") {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		c := n.content
		if c == "" {
			c = n.path + "\n"
		}
		must(t, os.WriteFile(p, []byte(c), 0o644))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is required to check the ignore rules against git itself")
		}
		t.Skip("git not installed")
	}
}

// gitEnv isolates git from the machine's and the user's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+home,
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(home))
}

// gitKeeps lists the files and symlinks git does not ignore under root:
// `git ls-files --others` in a fresh repository, with .gitignore files per
// folder, or only the root .scalingoignore when there is one, and the
// excludes as command-line patterns (which git checks first). git's --exclude
// takes each pattern raw: excludes holding what only an ignore file's line
// rules would change (see rawPatterns) must be given as git should see them.
func gitKeeps(t testing.TB, root string, excludes []string) []string {
	t.Helper()
	run := func(args ...string) []byte {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = gitEnv(root)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		run("init", "-q", "--template=")
	}
	args := []string{"ls-files", "--others", "-z"}
	if st, err := os.Lstat(filepath.Join(root, scalingoIgnore)); err == nil && st.Mode().IsRegular() {
		args = append(args, "--exclude-from="+scalingoIgnore)
	} else {
		args = append(args, "--exclude-per-directory="+gitignoreFile)
	}
	if !rawPatterns(excludes) {
		t.Fatalf("excludes %q use line rules git's --exclude does not know", excludes)
	}
	for _, p := range excludes {
		args = append(args, "--exclude="+p)
	}
	var got []string
	for _, p := range strings.Split(string(run(args...)), "\x00") {
		if p != "" {
			got = append(got, p)
		}
	}
	slices.Sort(got)
	return got
}

// rawPatterns reports whether each line means the same as an ignore file
// line and as git's raw --exclude pattern: not empty, no comment, nothing
// at the end that a line would lose. The oracle rewrites nothing itself, so
// that it cannot share a mistake with the code under test.
func rawPatterns(lines []string) bool {
	for _, l := range lines {
		if l == "" || l[0] == '#' || strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\r") {
			return false
		}
	}
	return true
}

// planKeeps lists the files and symlinks the archive of root would hold.
func planKeeps(t testing.TB, root string, excludes []string) []string {
	t.Helper()
	pl, err := planTree(context.Background(), root, Options{Path: root, Exclude: excludes, List: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range pl.items {
		if !it.isDir() {
			got = append(got, it.name)
		}
	}
	slices.Sort(got)
	return got
}

// tarEntry is one entry read back from an archive.
type tarEntry struct {
	hdr     *tar.Header
	content string
}

// archiveBytes reads the whole archive of res, as an upload would.
func archiveBytes(t testing.TB, res *Result) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(res.File, 0, res.Size))
	must(t, err)
	return b
}

func sameFile(t testing.TB, st os.FileInfo, path string) bool {
	t.Helper()
	other, err := os.Stat(path)
	must(t, err)
	return os.SameFile(st, other)
}

func readTarGz(t testing.TB, res *Result) ([]tarEntry, *gzip.Header) {
	t.Helper()
	zr, err := gzip.NewReader(io.NewSectionReader(res.File, 0, res.Size))
	must(t, err)
	tr := tar.NewReader(zr)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		out = append(out, tarEntry{hdr: h, content: string(b)})
	}
	return out, &zr.Header
}

func names(es []tarEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.hdr.Name
	}
	return out
}

func gzipReader(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }

func writeGzipOf(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
