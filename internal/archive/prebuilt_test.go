package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mholt/archives"
)

type fixtureEntry struct {
	name, body, link string
	dir              bool
	hard             bool  // link names a hard link target rather than a symlink's
	mode             int64 // 0: 0644 for files, 0755 for folders
}

var mtime = time.Date(2023, 3, 4, 5, 6, 7, 0, time.UTC)

func tarBytes(t *testing.T, es []fixtureEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, ModTime: mtime, Uid: 1001, Gid: 1001, Uname: "runner", Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		switch {
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case e.hard:
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.link, 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		must(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	return buf.Bytes()
}

func compress(t *testing.T, c archives.Compressor, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := c.OpenWriter(&buf)
	must(t, err)
	_, err = w.Write(data)
	must(t, err)
	must(t, w.Close())
	return buf.Bytes()
}

func zipBytes(t *testing.T, es []fixtureEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		switch {
		case e.dir:
			fh.SetMode(0o755 | os.ModeDir)
		case e.link != "":
			fh.SetMode(0o777 | os.ModeSymlink)
			e.body = e.link // zip stores a symlink's target as its content
		default:
			fh.SetMode(0o644)
		}
		w, err := zw.CreateHeader(fh)
		must(t, err)
		_, err = w.Write([]byte(e.body))
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

var (
	wrapped = []fixtureEntry{{name: "site/", dir: true}, {name: "site/index.html", body: "<h1>hi</h1>"},
		{name: "site/js/", dir: true}, {name: "site/js/app.js", body: "console.log(1)"}, {name: "site/cur", link: "js"}}
	flat = []fixtureEntry{{name: "./", dir: true}, {name: "./index.html", body: "<h1>hi</h1>"},
		{name: "./js/", dir: true}, {name: "./js/app.js", body: "console.log(1)"}}
)

func TestBuild_Prebuilt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, data, 0o644))
		return p
	}
	cases := []struct {
		name     string
		file     string
		data     func() []byte
		repacked bool
		want     []string
	}{
		{"tar.gz with one top folder goes as is", "a.tar.gz", func() []byte { return compress(t, archives.Gz{}, tarBytes(t, wrapped)) }, false,
			[]string{"site/", "site/index.html", "site/js/", "site/js/app.js", "site/cur"}},
		{"tar.gz with files at the root", "flat.tgz", func() []byte { return compress(t, archives.Gz{}, tarBytes(t, flat)) }, true,
			[]string{"app/", "app/index.html", "app/js/", "app/js/app.js"}},
		{"tar.gz with a ./ prefix on one folder", "dot.tar.gz", func() []byte {
			return compress(t, archives.Gz{}, tarBytes(t, []fixtureEntry{{name: "./site/", dir: true}, {name: "./site/a", body: "a"}}))
		}, true, []string{"site/", "site/a"}},
		{"plain tar", "a.tar", func() []byte { return tarBytes(t, wrapped) }, true,
			[]string{"site/", "site/index.html", "site/js/", "site/js/app.js", "site/cur"}},
		{"tar.zst", "a.tar.zst", func() []byte { return compress(t, archives.Zstd{}, tarBytes(t, flat)) }, true,
			[]string{"app/", "app/index.html", "app/js/", "app/js/app.js"}},
		{"tar.xz", "a.tar.xz", func() []byte { return compress(t, archives.Xz{}, tarBytes(t, wrapped)) }, true,
			[]string{"site/", "site/index.html", "site/js/", "site/js/app.js", "site/cur"}},
		{"tar.bz2", "a.tar.bz2", func() []byte { return compress(t, archives.Bz2{}, tarBytes(t, flat)) }, true,
			[]string{"app/", "app/index.html", "app/js/", "app/js/app.js"}},
		{"zip with one top folder", "a.zip", func() []byte { return zipBytes(t, wrapped[:4]) }, true,
			[]string{"site/", "site/index.html", "site/js/", "site/js/app.js"}},
		{"zip with files at the root, misnamed", "upload.bin", func() []byte {
			return zipBytes(t, []fixtureEntry{{name: "index.html", body: "<h1>hi</h1>"}, {name: "js/app.js", body: "x"}})
		}, true, []string{"app/", "app/index.html", "app/js/app.js"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := write(c.file, c.data())
			res := build(t, Options{Path: in})
			if !res.Prebuilt || res.Repacked != c.repacked {
				t.Errorf("Prebuilt/Repacked = %v/%v, want true/%v", res.Prebuilt, res.Repacked, c.repacked)
			}
			if st, err := res.File.Stat(); err != nil || !c.repacked && !sameFile(t, st, in) {
				t.Errorf("File is not the input %s (%v)", in, err)
			}
			es, _ := readTarGz(t, res)
			if got := names(es); !slices.Equal(got, c.want) {
				t.Fatalf("entries %q, want %q", got, c.want)
			}
			if res.Count != len(c.want) {
				t.Errorf("Count = %d, want %d", res.Count, len(c.want))
			}
			data := archiveBytes(t, res)
			sum := sha256.Sum256(data)
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) {
				t.Errorf("SHA256/Size do not describe the file")
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			must(t, err)
			n, err := io.Copy(io.Discard, zr)
			must(t, err)
			if n != res.UncompressedSize {
				t.Errorf("UncompressedSize = %d, tar stream is %d", res.UncompressedSize, n)
			}
			for _, e := range es {
				if c.repacked && (e.hdr.Uid != 0 || e.hdr.Uname != "") {
					t.Errorf("%s: owner %d %q kept", e.hdr.Name, e.hdr.Uid, e.hdr.Uname)
				}
				if strings.HasSuffix(e.hdr.Name, "app.js") && e.content != "console.log(1)" && e.content != "x" {
					t.Errorf("%s: content %q", e.hdr.Name, e.content)
				}
				if e.hdr.Name == "site/cur" && (e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "js") {
					t.Errorf("symlink lost: %+v", e.hdr)
				}
			}
			must(t, res.Close())
			if _, err := os.Stat(in); err != nil {
				t.Errorf("Close touched the input: %v", err)
			}
		})
	}
}

func TestBuild_PrebuiltReproducibleAndGuarded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "a.zip")
	big := []fixtureEntry{{name: "dist/big.bin", body: strings.Repeat("b", 30_000)}, {name: "dist/x.js", body: "x"}, {name: "README", body: "r"}}
	must(t, os.WriteFile(in, zipBytes(t, big), 0o644))
	a, b := build(t, Options{Path: in}), build(t, Options{Path: in})
	if a.SHA256 != b.SHA256 {
		t.Errorf("repacking twice gave %s and %s", a.SHA256, b.SHA256)
	}
	_, err := Build(context.Background(), Options{Path: in, MaxSize: 20_000, TempDir: t.TempDir()})
	var tl *TooLargeError
	if !errors.As(err, &tl) || len(tl.Largest) == 0 || tl.Largest[0].Name != "dist/" || tl.Largest[1].Name != "dist/big.bin" {
		t.Fatalf("err = %v, want TooLargeError led by dist/ and dist/big.bin", err)
	}
	gz := filepath.Join(dir, "ok.tar.gz")
	must(t, os.WriteFile(gz, compress(t, archives.Gz{}, tarBytes(t, []fixtureEntry{{name: "w/big", body: strings.Repeat("b", 30_000)}})), 0o644))
	if _, err := Build(context.Background(), Options{Path: gz, MaxSize: 20_000}); !errors.As(err, &tl) {
		t.Errorf("as-is tar.gz over the limit: err = %v", err)
	}
}

func TestBuild_PrebuiltUnsafeNames(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "evil.tar")
	must(t, os.WriteFile(in, tarBytes(t, []fixtureEntry{{name: "../../etc/cron.d/x", body: "boom"}}), 0o644))
	_, err := Build(context.Background(), Options{Path: in, TempDir: t.TempDir()})
	if !isInvalidInput(err) || !strings.Contains(err.Error(), "climbs out") {
		t.Errorf("err = %v, want invalid input about the entry", err)
	}
}
