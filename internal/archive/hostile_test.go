package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mholt/archives"
)

// Archives as an attacker writes them: each must be refused as invalid input
// naming the entry, whether the tar.gz would go as is or be repacked.
func TestBuild_PrebuiltLinksThatEscape(t *testing.T) {
	t.Parallel()
	gz := func(es ...fixtureEntry) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return compress(t, archives.Gz{}, tarBytes(t, es)) }
	}
	zst := func(es ...fixtureEntry) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return compress(t, archives.Zstd{}, tarBytes(t, es)) }
	}
	top := fixtureEntry{name: "site/", dir: true}
	cases := []struct {
		name  string
		file  string
		data  func(t *testing.T) []byte
		entry string // named in the error
	}{
		{"tar.gz as is: hard link to an absolute path", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/a", body: "a"}, fixtureEntry{name: "site/pw", link: "/etc/passwd", hard: true}), "site/pw"},
		{"tar.gz as is: hard link climbing out", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/pw", link: "site/../../etc/passwd", hard: true}), "site/pw"},
		{"tar.gz as is: entry below a symlink to /etc", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/link", link: "/etc"}, fixtureEntry{name: "site/link/passwd", body: "root::0:0::/:/bin/sh\n"}), "site/link/passwd"},
		{"tar.gz as is: entry below a symlink, the link stored last", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/link/passwd", body: "x"}, fixtureEntry{name: "site/link", link: "/etc"}), "site/link/passwd"},
		{"tar.gz as is: entry below a relative symlink climbing out", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/up", link: "../.."}, fixtureEntry{name: "site/up/.bashrc", body: "x"}), "site/up/.bashrc"},
		{"tar.gz as is: hard link through a symlink", "a.tar.gz",
			gz(top, fixtureEntry{name: "site/link", link: "/etc"}, fixtureEntry{name: "site/h", link: "site/link/shadow", hard: true}), "site/h"},
		{"tar.zst repacked: hard link to an absolute path", "a.tar.zst",
			zst(fixtureEntry{name: "pw", link: "/etc/passwd", hard: true}, fixtureEntry{name: "a", body: "a"}), "pw"},
		{"tar.zst repacked: entry below a symlink", "a.tar.zst",
			zst(fixtureEntry{name: "link", link: "/etc"}, fixtureEntry{name: "link/passwd", body: "x"}), "link/passwd"},
		{"plain tar repacked: entry below a symlink with ./", "a.tar",
			func(t *testing.T) []byte {
				return tarBytes(t, []fixtureEntry{{name: "./link", link: "/root"}, {name: "./link/.ssh/authorized_keys", body: "ssh-ed25519 x"}})
			}, "./link/.ssh/authorized_keys"},
		{"zip repacked: entry below a symlink", "a.zip",
			func(t *testing.T) []byte {
				return zipBytes(t, []fixtureEntry{{name: "app/link", link: "/etc"}, {name: "app/link/passwd", body: "x"}})
			}, "app/link/passwd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := filepath.Join(t.TempDir(), c.file)
			must(t, os.WriteFile(in, c.data(t), 0o644))
			res, err := Build(context.Background(), Options{Path: in, TempDir: t.TempDir()})
			if err == nil {
				res.Close()
				t.Fatal("Build accepted the archive")
			}
			if !isInvalidInput(err) || !strings.Contains(err.Error(), `"`+c.entry+`"`) {
				t.Errorf("err = %v, want invalid input naming %q", err, c.entry)
			}
		})
	}
}

// Links that stay inside the archive are kept as they are.
func TestBuild_PrebuiltLinksInside(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "a.tar.gz")
	must(t, os.WriteFile(in, compress(t, archives.Gz{}, tarBytes(t, []fixtureEntry{
		{name: "site/", dir: true}, {name: "site/a", body: "a"}, {name: "site/h", link: "site/a", hard: true},
		{name: "site/etc", link: "/etc"}, {name: "site/linkdir/", dir: true}, {name: "site/linkdir/b", body: "b"},
	})), 0o644))
	res := build(t, Options{Path: in})
	if res.Repacked {
		t.Error("repacked, want sent as is")
	}
	es, _ := readTarGz(t, res)
	types := map[string]byte{}
	for _, e := range es {
		types[e.hdr.Name] = e.hdr.Typeflag
	}
	if types["site/h"] != tar.TypeLink || types["site/etc"] != tar.TypeSymlink {
		t.Errorf("links changed: %v", types)
	}
}

// zeros is n zero bytes, which every compressor squeezes to almost nothing.
func zeros(n int) []byte { return make([]byte, n) }

// Compressed bombs: reading stops at the limit, whatever the archive announces
// or hides; the reported size is what was counted when reading stopped.
func TestBuild_PrebuiltBombs(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	cases := []struct {
		name string
		file string
		data func(t *testing.T) []byte
		// counted: refused by the byte count of the stream (the size reported
		// is what was read); otherwise by the sizes the entries announce.
		counted bool
	}{
		{"tar.zst announcing 100 GiB", "bomb.tar.zst", func(t *testing.T) []byte {
			// The header promises 100 GiB; only 2 MiB follow (a real bomb
			// would hold them all, compressed to a few MB).
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			must(t, tw.WriteHeader(&tar.Header{Name: "app/huge", Mode: 0o644, Size: 100 << 30, Typeflag: tar.TypeReg}))
			_, err := tw.Write(zeros(2 << 20))
			must(t, err)
			return compress(t, archives.Zstd{}, b.Bytes())
		}, false},
		{"tar.zst of empty files, headers only", "many.tar.zst", func(t *testing.T) []byte {
			// Each header announces nothing, yet 8192 of them are 4 MiB of tar.
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			for i := range 8192 {
				must(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/f%05d", i), Mode: 0o644, Typeflag: tar.TypeReg}))
			}
			must(t, tw.Close())
			return compress(t, archives.Zstd{}, b.Bytes())
		}, true},
		{"tar.gz sent as is, 64 MiB of zeros after the end", "tail.tar.gz", func(t *testing.T) []byte {
			data := tarBytes(t, []fixtureEntry{{name: "app/", dir: true}, {name: "app/a", body: "a"}})
			return compress(t, archives.Gz{}, append(data, zeros(64<<20)...))
		}, true},
		{"zip announcing more than the limit", "big.zip", func(t *testing.T) []byte {
			return zipBytes(t, []fixtureEntry{{name: "app/big", body: string(zeros(2 << 20))}})
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := filepath.Join(t.TempDir(), c.file)
			data := c.data(t)
			if len(data) > 1<<20 {
				t.Fatalf("the bomb itself is %d bytes: not a bomb", len(data))
			}
			must(t, os.WriteFile(in, data, 0o644))
			tmp := t.TempDir()
			res, err := Build(context.Background(), Options{Path: in, MaxSize: limit, TempDir: tmp})
			if err == nil {
				res.Close()
				t.Fatal("Build accepted the bomb")
			}
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("err = %v, want *TooLargeError", err)
			}
			if !tl.Partial || tl.Size <= limit {
				t.Errorf("Size = %d, partial %v: want a lower bound over the limit %d", tl.Size, tl.Partial, limit)
			}
			// Bounded: decompression stopped at the limit, not at the end of the stream.
			if c.counted && tl.Size > limit+64<<10 {
				t.Errorf("read %d bytes of the stream, want no more than the limit %d and a buffer", tl.Size, limit)
			}
			if !strings.Contains(err.Error(), "more than") {
				t.Errorf("message does not say the size is a lower bound: %v", err)
			}
		})
	}
}

// A zip entry whose data does not match the size it declares is refused,
// never cut to the declared size and deployed.
func TestBuild_PrebuiltZipSizeLies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		declared uint64
	}{
		{"under-declared", 5},
		{"declared empty", 0},
		{"over-declared", 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := filepath.Join(t.TempDir(), "a.zip")
			must(t, os.WriteFile(in, lyingZip(t, c.declared), 0o644))
			res, err := Build(context.Background(), Options{Path: in, TempDir: t.TempDir()})
			if err == nil {
				es, _ := readTarGz(t, res)
				res.Close()
				t.Fatalf("Build accepted the entry: %d entries, %q", len(es), es[len(es)-1].content)
			}
			if !isInvalidInput(err) || !strings.Contains(err.Error(), `"app/a.txt"`) {
				t.Errorf("err = %v, want invalid input naming the entry", err)
			}
		})
	}
}

// lyingZip is a zip holding app/a.txt, 128 bytes stored as they are, whose
// header declares another size.
func lyingZip(t *testing.T, declared uint64) []byte {
	t.Helper()
	body := []byte(strings.Repeat("payload ", 16))
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "app/a.txt", Method: zip.Store, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(len(body)), UncompressedSize64: declared})
	must(t, err)
	_, err = w.Write(body)
	must(t, err)
	must(t, zw.Close())
	return b.Bytes()
}
