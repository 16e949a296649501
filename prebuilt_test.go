package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mholt/archives"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
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
