package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func build(t *testing.T, opts Options) *Result {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	res, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { res.Close() })
	return res
}

func TestBuild_Layout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{
		{path: ".gitignore", content: "*.log\n"},
		{path: "b.txt"}, {path: "a/x.txt"}, {path: "a.txt"}, {path: "debug.log"},
		{path: "empty/"},
		{path: ".git/HEAD"}, {path: ".git/objects/x"},
		{path: "vendor/mod/.git", content: "gitdir: ../../.git/modules/mod\n"}, {path: "vendor/mod/m.go"},
		{path: "deep/.git/config"}, {path: "deep/d.go"},
		{path: "run.sh", content: "#!/bin/sh\n"},
		{path: "link -> a.txt"}, {path: "loop -> loop"}, {path: "out -> /etc/passwd"}, {path: "up -> ../.."},
		{path: "dirlink -> a"},
	})
	must(t, os.Chmod(filepath.Join(root, "run.sh"), 0o755))
	must(t, os.Chmod(filepath.Join(root, "b.txt"), 0o600))

	res := build(t, Options{Path: root})
	es, gz := readTarGz(t, res)
	want := []string{
		"app/", "app/.gitignore", "app/a/", "app/a/x.txt", "app/a.txt", "app/b.txt", "app/deep/", "app/deep/d.go",
		"app/dirlink", "app/empty/", "app/link", "app/loop", "app/out", "app/run.sh", "app/up",
		"app/vendor/", "app/vendor/mod/", "app/vendor/mod/m.go",
	}
	if got := names(es); !slices.Equal(got, want) {
		t.Fatalf("entries:\n got %q\nwant %q", got, want)
	}
	if res.Count != len(want) {
		t.Errorf("Count = %d, want %d", res.Count, len(want))
	}
	raw := archiveBytes(t, res)
	if gz.Name != "" || string(raw[4:8]) != "\x00\x00\x00\x00" {
		t.Errorf("gzip header carries name %q / time %x", gz.Name, raw[4:8])
	}
	byName := map[string]*tar.Header{}
	for _, e := range es {
		h := e.hdr
		byName[h.Name] = h
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q, want 0/0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || len(h.PAXRecords) > 0 {
			t.Errorf("%s: atime/ctime/PAX records present: %v %v %v", h.Name, h.AccessTime, h.ChangeTime, h.PAXRecords)
		}
		if strings.HasPrefix(h.Name, "./") || strings.Contains(h.Name, "/.git/") {
			t.Errorf("bad name %q", h.Name)
		}
	}
	checks := []struct {
		name string
		typ  byte
		mode int64
		link string
	}{
		{"app/run.sh", tar.TypeReg, 0o755, ""},
		{"app/b.txt", tar.TypeReg, 0o644, ""}, // 0600 on disk: normalised as git archive does
		{"app/empty/", tar.TypeDir, 0o755, ""},
		{"app/link", tar.TypeSymlink, 0o777, "a.txt"},
		{"app/loop", tar.TypeSymlink, 0o777, "loop"},
		{"app/out", tar.TypeSymlink, 0o777, "/etc/passwd"},
		{"app/up", tar.TypeSymlink, 0o777, "../.."},
		{"app/dirlink", tar.TypeSymlink, 0o777, "a"},
	}
	for _, c := range checks {
		h := byName[c.name]
		if h == nil {
			t.Errorf("%s missing", c.name)
			continue
		}
		if h.Typeflag != c.typ || h.Mode != c.mode || h.Linkname != c.link {
			t.Errorf("%s: type %c mode %o link %q, want %c %o %q", c.name, h.Typeflag, h.Mode, h.Linkname, c.typ, c.mode, c.link)
		}
	}

	// The figures describe the file.
	data := archiveBytes(t, res)
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) {
		t.Errorf("SHA256/Size = %s/%d, file has %x/%d", res.SHA256, res.Size, sum, len(data))
	}
	st, err := res.File.Stat()
	must(t, err)
	if st.Mode().Perm() != 0o600 || st.Sys().(*syscall.Stat_t).Nlink != 0 {
		t.Errorf("archive mode %v, %d links: want 0600 and already unlinked", st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Nlink)
	}
	if res.UncompressedSize%512 != 0 || res.UncompressedSize < int64(len(want))*512 {
		t.Errorf("UncompressedSize = %d, not a plausible tar size", res.UncompressedSize)
	}
	if res.Prebuilt || res.Repacked {
		t.Errorf("Prebuilt/Repacked set for a folder")
	}
	must(t, res.Close())
	must(t, res.Close())
}

func TestBuild_UncompressedSizeIsTheTarStream(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	long := strings.Repeat("n", 120) + "/" + strings.Repeat("é", 40)
	makeTree(t, root, []node{{path: "a", content: strings.Repeat("x", 1000)}, {path: long}, {path: "ln -> " + strings.Repeat("t", 150)}})
	res := build(t, Options{Path: root})
	zr, err := gzipReader(io.NewSectionReader(res.File, 0, res.Size))
	must(t, err)
	n, err := io.Copy(io.Discard, zr)
	must(t, err)
	if n != res.UncompressedSize {
		t.Errorf("UncompressedSize = %d, the tar stream is %d bytes", res.UncompressedSize, n)
	}
}

func TestBuild_Reproducible(t *testing.T) {
	t.Parallel()
	tree := []node{{path: "src/main.go"}, {path: "README.md"}, {path: "assets/logo.png", content: strings.Repeat("\x89PNG", 5000)}, {path: "empty/"}}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	newer := time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC)
	mk := func() string {
		root := t.TempDir()
		makeTree(t, root, tree)
		// Fix every mtime, deepest first, so that two trees are alike.
		for _, p := range []string{"src/main.go", "README.md", "assets/logo.png", "src", "assets", "empty", "."} {
			must(t, os.Chtimes(filepath.Join(root, p), newer, newer))
		}
		must(t, os.Chtimes(filepath.Join(root, "README.md"), old, old))
		return root
	}
	a, b := mk(), mk()
	ra, ra2, rb := build(t, Options{Path: a}), build(t, Options{Path: a}), build(t, Options{Path: b})
	if ra.SHA256 != ra2.SHA256 || ra.SHA256 != rb.SHA256 {
		t.Fatalf("sha256 differ: %s %s %s", ra.SHA256, ra2.SHA256, rb.SHA256)
	}
	es, _ := readTarGz(t, ra)
	for _, e := range es {
		want := newer
		if e.hdr.Name == "app/README.md" {
			want = old
		}
		if !e.hdr.ModTime.Equal(want) {
			t.Errorf("%s: mtime %v, want %v (kept)", e.hdr.Name, e.hdr.ModTime, want)
		}
	}

	epoch := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	rc := build(t, Options{Path: a, SourceDateEpoch: &epoch})
	if rc.SHA256 == ra.SHA256 {
		t.Error("SourceDateEpoch did not change the archive")
	}
	es, _ = readTarGz(t, rc)
	for _, e := range es {
		want := epoch
		if e.hdr.Name == "app/README.md" {
			want = old // older than the epoch: kept
		}
		if !e.hdr.ModTime.Equal(want) {
			t.Errorf("with SOURCE_DATE_EPOCH %s: mtime %v, want %v", e.hdr.Name, e.hdr.ModTime, want)
		}
	}
}

func TestBuild_Options(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{{path: "a.txt"}, {path: "secret.env"}, {path: "d/b.txt"}})
	res := build(t, Options{Path: root, Exclude: []string{"*.env"}, List: true})
	es, _ := readTarGz(t, res)
	if got, want := names(es), []string{"app/", "app/a.txt", "app/d/", "app/d/b.txt"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	wantList := []Entry{{Name: "a.txt", Size: 6}, {Name: "d/", Dir: true}, {Name: "d/b.txt", Size: 8}}
	if !slices.Equal(res.Entries, wantList) {
		t.Errorf("Entries = %+v, want %+v", res.Entries, wantList)
	}
}

func TestBuild_TooLarge(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{
		{path: "node_modules/big/blob.bin", content: strings.Repeat("x", 40_000)},
		{path: "node_modules/small.js", content: strings.Repeat("y", 5_000)},
		{path: "public/video.mp4", content: strings.Repeat("z", 20_000)},
		{path: "src/a.go"},
	})
	tmp := t.TempDir()
	_, err := Build(context.Background(), Options{Path: root, MaxSize: 50_000, TempDir: tmp})
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("err = %v, want *TooLargeError", err)
	}
	if tl.Limit != 50_000 || tl.Size <= 65_000 {
		t.Errorf("Size/Limit = %d/%d", tl.Size, tl.Limit)
	}
	var got []string
	for _, e := range tl.Largest {
		got = append(got, e.Name)
	}
	want := []string{"node_modules/", "node_modules/big/", "node_modules/big/blob.bin", "public/", "public/video.mp4",
		"node_modules/small.js", "src/", "src/a.go"}
	if !slices.Equal(got, want) {
		t.Errorf("Largest = %q, want %q", got, want)
	}
	msg := err.Error()
	for _, s := range []string{"node_modules/big/blob.bin", "39.1 KiB", ".scalingoignore", "max-size"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message lacks %q:\n%s", s, msg)
		}
	}
	if isInvalidInput(err) {
		t.Error("too large must not be invalid input (exit 1, not 2)")
	}
	if des, _ := os.ReadDir(tmp); len(des) != 0 {
		t.Errorf("temp dir not empty after a refused build: %v", des)
	}
	// Just under the limit passes.
	res := build(t, Options{Path: root, MaxSize: tl.Size})
	if res.UncompressedSize != tl.Size {
		t.Errorf("UncompressedSize = %d, refused size was %d", res.UncompressedSize, tl.Size)
	}
}

func TestBuild_BadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello, not an archive\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "fake.tar.gz"), []byte("plain text in disguise\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "empty.zip"), nil, 0o644))
	must(t, writeGzipOf(filepath.Join(dir, "text.gz"), []byte("just compressed text\n")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	cases := []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope")},
		{"text file", filepath.Join(dir, "notes.txt")},
		{"text named tar.gz", filepath.Join(dir, "fake.tar.gz")},
		{"empty file", filepath.Join(dir, "empty.zip")},
		{"gzip without a tar", filepath.Join(dir, "text.gz")},
		{"fifo", filepath.Join(dir, "fifo")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := Build(context.Background(), Options{Path: c.path, TempDir: t.TempDir()})
			if err == nil {
				res.Close()
				t.Fatal("Build succeeded")
			}
			if !isInvalidInput(err) {
				t.Errorf("err = %v, want invalid input", err)
			}
			if !strings.Contains(err.Error(), c.path) {
				t.Errorf("error does not name the path: %v", err)
			}
		})
	}
}

func TestBuild_TempDirInsideTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{{path: "a"}, {path: "tmp/"}})
	_, err := Build(context.Background(), Options{Path: root, TempDir: filepath.Join(root, "tmp")})
	if !isInvalidInput(err) || !strings.Contains(err.Error(), "TMPDIR") {
		t.Errorf("err = %v, want invalid input about TMPDIR", err)
	}
}

func TestBuild_Canceled(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{{path: "a"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, Options{Path: root, TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestBuild_UnreadableFile needs a user that permissions apply to: as root it
// re-runs itself as nobody.
func TestBuild_UnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestBuild_UnreadableFile")
		return
	}
	t.Parallel()
	root := t.TempDir()
	makeTree(t, root, []node{{path: "a.txt"}, {path: "private/key.pem"}, {path: "z.txt"}})
	must(t, os.Chmod(filepath.Join(root, "private/key.pem"), 0))
	tmp := t.TempDir()
	_, err := Build(context.Background(), Options{Path: root, TempDir: tmp})
	if err == nil || !strings.Contains(err.Error(), "private/key.pem") {
		t.Fatalf("err = %v, want an error naming private/key.pem", err)
	}
	if isInvalidInput(err) {
		t.Errorf("an unreadable file is not invalid input (exit 1): %v", err)
	}
	if des, _ := os.ReadDir(tmp); len(des) != 0 {
		t.Errorf("temp files left behind: %v", des)
	}
}

// runAsNobody runs the named test in a copy of the test binary as user nobody.
func runAsNobody(t *testing.T, name string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "archive.test")
	src, err := os.ReadFile(os.Args[0])
	must(t, err)
	must(t, os.WriteFile(bin, src, 0o755))
	must(t, os.Chmod(filepath.Dir(bin), 0o755))
	must(t, os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755))
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp", "HOME=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func isInvalidInput(err error) bool {
	var ii interface{ InvalidInput() bool }
	return errors.As(err, &ii) && ii.InvalidInput()
}
