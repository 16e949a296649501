package run

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mholt/archives"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

// TestRun_PrebuiltArchives deploys an archive file of each format: the builder must find
// the files under exactly one top-level folder whatever the input's layout.
func TestRun_PrebuiltArchives(t *testing.T) {
	t.Parallel()
	files := map[string]string{"Procfile": "web: ./server\n", "public/index.html": "<h1>hi</h1>\n"}
	tarOf := func(prefix string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, name := range slices.Sorted(maps.Keys(files)) {
			tw.WriteHeader(&tar.Header{Name: prefix + name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
			io.WriteString(tw, files[name])
		}
		tw.Close()
		return b.Bytes()
	}
	compress := func(c archives.Compressor, data []byte) []byte {
		var b bytes.Buffer
		w, err := c.OpenWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	zipOf := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for name, body := range files {
			w, _ := zw.Create(name)
			io.WriteString(w, body)
		}
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		file string
		data func() []byte
	}{
		{"site.tar.gz", func() []byte { return compress(archives.Gz{}, tarOf("site/")) }},
		{"flat.tar.gz", func() []byte { return compress(archives.Gz{}, tarOf("")) }},
		{"site.tar", func() []byte { return tarOf("") }},
		{"site.zip", zipOf},
		{"site.tar.zst", func() []byte { return compress(archives.Zstd{}, tarOf("")) }},
		{"site.tar.xz", func() []byte { return compress(archives.Xz{}, tarOf("site/")) }},
		{"site.tar.bz2", func() []byte { return compress(archives.Bz2{}, tarOf("")) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			if err := os.WriteFile(filepath.Join(w.ws, tt.file), tt.data(), 0o644); err != nil {
				t.Fatal(err)
			}
			res := w.run(t, context.Background(), w.env("gitlab", "SCALINGO_PATH", tt.file))
			if res.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 || deps[0].Archive == nil {
				t.Fatalf("deployments %+v", deps)
			}
			var got []string
			for _, n := range deps[0].Archive.Names() {
				if _, rest, _ := strings.Cut(n, "/"); rest != "" && !strings.HasSuffix(rest, "/") {
					got = append(got, rest)
				}
			}
			slices.Sort(got)
			if want := []string{"Procfile", "public/index.html"}; !slices.Equal(got, want) {
				t.Errorf("the builder found %q, want %q", got, want)
			}
		})
	}
}

// presignWatch is the real S3 storage, looking into TMPDIR each time a source is
// created: by then the archive is built and about to be uploaded.
type presignWatch struct {
	fakescalingo.Storage
	tmp  string
	left chan []string
}

func (p *presignWatch) Presign(ctx context.Context, key string, ttl time.Duration) (string, string, error) {
	var names []string
	if des, err := os.ReadDir(p.tmp); err == nil {
		for _, de := range des {
			names = append(names, de.Name())
		}
	}
	select {
	case p.left <- names:
	default:
	}
	return p.Storage.Presign(ctx, key, ttl)
}

// TestRun_TempArchiveUnlinked: while the archive is uploaded, nothing of it is left in
// TMPDIR (a SIGKILL then leaves nothing behind), and the upload reads it all the same.
// The output file the first run wrote in the workspace is not in the third's archive.
func TestRun_TempArchiveUnlinked(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	watch := &presignWatch{Storage: s3test.Start(t), tmp: tmp, left: make(chan []string, 1)}
	w := newWorld(t, fakescalingo.Options{Storage: watch})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	if err := os.WriteFile(filepath.Join(w.ws, "site.zip"), zipOf(t, map[string]string{"Procfile": "web: ./server\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "site.zip", ""} { // a folder archived, an archive repacked
		e := w.env("gitlab", "SCALINGO_PATH", path)
		e["TMPDIR"] = tmp
		res := w.run(t, context.Background(), e)
		if res.code != 0 {
			t.Fatalf("path %q: exit %d\n%s\n%s", path, res.code, res.stdout, res.stderr)
		}
		if left := <-watch.left; len(left) > 0 {
			t.Errorf("path %q: in TMPDIR during the upload: %q", path, left)
		}
	}
	deps := w.fake.Deployments("my-app")
	if len(deps) != 3 {
		t.Fatalf("deployments %+v", deps)
	}
	for _, d := range deps {
		if d.Archive == nil {
			t.Fatalf("deployment without an archive: %+v", d)
		}
		for _, n := range d.Archive.Names() {
			if strings.HasSuffix(n, "/scalingo-deploy.env") {
				t.Errorf("the tool's output file shipped: %s", n)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(w.ws, "scalingo-deploy.env")); err != nil {
		t.Errorf("no output file in the workspace, the test proves nothing: %v", err)
	}
}

// TestRun_PrebuiltEscapingLinks: an archive whose links would write outside its folder
// is invalid input (exit 2) and nothing is sent.
func TestRun_PrebuiltEscapingLinks(t *testing.T) {
	t.Parallel()
	tarGz := func(hs ...*tar.Header) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		for _, h := range hs {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			io.WriteString(tw, strings.Repeat("x", int(h.Size)))
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		return b.Bytes()
	}
	dir := &tar.Header{Name: "site/", Typeflag: tar.TypeDir, Mode: 0o755}
	tests := []struct {
		name  string
		data  []byte
		entry string
	}{
		{"hard link to /etc/passwd", tarGz(dir, &tar.Header{Name: "site/pw", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}), "site/pw"},
		{"file below a symlink to /etc", tarGz(dir, &tar.Header{Name: "site/link", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
			&tar.Header{Name: "site/link/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}), "site/link/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			if err := os.WriteFile(filepath.Join(w.ws, "evil.tar.gz"), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			res := w.run(t, context.Background(), w.env("gitlab", "SCALINGO_PATH", "evil.tar.gz"))
			if res.code != 2 || !strings.Contains(res.stderr, `"`+tt.entry+`"`) {
				t.Errorf("exit %d, want 2 naming %q\n%s", res.code, tt.entry, res.stderr)
			}
			if n := len(w.fake.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
