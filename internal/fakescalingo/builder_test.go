package fakescalingo_test

import (
	"archive/tar"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func TestServer_builderChecksArchive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        fakescalingo.Options
		archive     func(t *testing.T) []byte
		contentType string
		wantErr     string // substring of the log line; "" means accepted
	}{
		{
			name:        "good archive",
			archive:     func(t *testing.T) []byte { return goodArchive(t) },
			contentType: "application/x-gzip",
		},
		{
			name:        "no Content-Type on upload",
			archive:     func(t *testing.T) []byte { return goodArchive(t) },
			contentType: "",
			wantErr:     "Fail to fetch source code: The provided url does not point at a supported Content-Type (binary/octet-stream)",
		},
		{
			name:        "application/gzip",
			archive:     func(t *testing.T) []byte { return goodArchive(t) },
			contentType: "application/gzip",
			wantErr:     "supported Content-Type (application/gzip)",
		},
		{
			name:        "not gzip",
			archive:     func(t *testing.T) []byte { return []byte("PK\x03\x04 a zip file") },
			contentType: "application/x-gzip",
			wantErr:     "Fail to fetch source code: fail to handle tgz: gzip: invalid header",
		},
		{
			name: "two top-level folders",
			archive: func(t *testing.T) []byte {
				return makeTarGz(t, tarEntry{name: "a/x", body: "1"}, tarEntry{name: "b/y", body: "2"})
			},
			contentType: "application/x-gzip",
			wantErr:     "single folder at its root, found 2: a, b",
		},
		{
			name:        "file at the root",
			archive:     func(t *testing.T) []byte { return makeTarGz(t, tarEntry{name: "Procfile", body: "web: x"}) },
			contentType: "application/x-gzip",
			wantErr:     `found the file "Procfile" at the root`,
		},
		{
			name: "tar -C dir . layout",
			archive: func(t *testing.T) []byte {
				return makeTarGz(t, tarEntry{name: "./", typ: tar.TypeDir}, tarEntry{name: "./Procfile", body: "web: x"})
			},
			contentType: "application/x-gzip",
			wantErr:     `single named folder at its root, found "."`,
		},
		{
			name: "path escaping the folder",
			archive: func(t *testing.T) []byte {
				return makeTarGz(t, tarEntry{name: "app/../../etc/passwd", body: "x"})
			},
			contentType: "application/x-gzip",
			wantErr:     "invalid path in the archive",
		},
		{
			name:        "empty archive",
			archive:     func(t *testing.T) []byte { return makeTarGz(t) },
			contentType: "application/x-gzip",
			wantErr:     "the archive is empty",
		},
		{
			name: "too heavy once uncompressed",
			opts: fakescalingo.Options{MaxArchiveSize: 64 << 10},
			archive: func(t *testing.T) []byte {
				return makeTarGz(t, tarEntry{name: "app/", typ: tar.TypeDir}, tarEntry{name: "app/big", size: 100 << 10})
			},
			contentType: "application/x-gzip",
			wantErr:     "Fail to fetch source code: fail to handle tgz: The archive is too heavy (more than 65536 bytes)",
		},
		{
			name: "just under the limit",
			opts: fakescalingo.Options{MaxArchiveSize: 64 << 10},
			archive: func(t *testing.T) []byte {
				// 512 (dir header) + 512 (file header) + 40 KiB + 1024 (end blocks) < 64 KiB.
				return makeTarGz(t, tarEntry{name: "app/", typ: tar.TypeDir}, tarEntry{name: "app/big", size: 40 << 10})
			},
			contentType: "application/x-gzip",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, tc.opts)
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			src := createSource(t, s, jwt)
			if r := upload(t, src.upload, tc.archive(t), tc.contentType); r.Status != 200 {
				t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
			id := createDeployment(t, s, jwt, "my-app", src.download)["id"].(string)
			statuses := pollToEnd(t, s, jwt, "my-app", id)
			d := s.Deployments("my-app")[0]
			if d.Archive == nil {
				t.Fatal("no archive recorded")
			}
			if tc.wantErr == "" {
				if d.Archive.Err != "" || d.Status != "success" {
					t.Fatalf("archive refused: %s (status %s)", d.Archive.Err, d.Status)
				}
				return
			}
			if !strings.Contains(d.Archive.Err, tc.wantErr) {
				t.Errorf("Archive.Err = %q, want it to contain %q", d.Archive.Err, tc.wantErr)
			}
			if want := []string{"build-error"}; !reflect.DeepEqual(statuses, want) {
				t.Errorf("statuses %v, want %v", statuses, want)
			}
			if d.Log != d.Archive.Err+"\n" {
				t.Errorf("log %q, want just the fetch error", d.Log)
			}
		})
	}
}

func TestServer_builderRecordsEntries(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	deployOK(t, s, "my-app")
	a := s.Deployments("my-app")[0].Archive
	if got, want := a.Names(), []string{"app/", "app/Procfile", "app/bin/", "app/bin/server", "app/current"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if e, _ := a.Entry("app/bin/server"); e.Mode.Perm() != 0o755 || e.Typeflag != tar.TypeReg || string(e.Content) != "#!/bin/sh\n" {
		t.Errorf("app/bin/server: %+v", e)
	}
	if e, _ := a.Entry("app/current"); e.Typeflag != tar.TypeSymlink || e.Linkname != "bin/server" || e.Mode&fs.ModeSymlink == 0 {
		t.Errorf("app/current: %+v", e)
	}
	if e, _ := a.Entry("app/"); !e.Mode.IsDir() {
		t.Errorf("app/: %+v", e)
	}
	if a.ContentType != "application/x-gzip" || a.CompressedSize == 0 || a.UncompressedSize < 5*512 {
		t.Errorf("archive sizes/type: %+v", a)
	}
}

// A deployment queued past the source URL's life fails to fetch it, as the
// docs warn may happen.
func TestServer_builderFetchesWhenBuildingStarts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now, SourceTTL: 10 * time.Minute})
	s.AddApp("my-app", fakescalingo.Scenario{QueuedPolls: 2})
	jwt, id := deployOK(t, s, "my-app")
	if d := s.Deployments("my-app")[0]; d.Archive != nil {
		t.Fatalf("fetched while queued: %+v", d.Archive)
	}
	getDeployment(t, s, jwt, "my-app", id)
	getDeployment(t, s, jwt, "my-app", id)
	clk.Advance(11 * time.Minute)
	if st := getDeployment(t, s, jwt, "my-app", id)["status"]; st != "building" {
		t.Fatalf("status %v, want building", st)
	}
	d := s.Deployments("my-app")[0]
	if want := "Fail to fetch source code: the provided url answered 403 Forbidden"; d.Archive == nil || d.Archive.Err != want {
		t.Fatalf("archive %+v, want Err %q", d.Archive, want)
	}
	if st := getDeployment(t, s, jwt, "my-app", id)["status"]; st != "build-error" {
		t.Errorf("status %v, want build-error", st)
	}
}

func TestServer_builderStaysOnLoopback(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	// 192.0.2.0/24 is TEST-NET-1: never routed, and the fake must not even try.
	createDeployment(t, s, jwt, "my-app", "http://192.0.2.1/source.tar.gz")
	d := s.Deployments("my-app")[0]
	if d.Archive == nil || d.Archive.Err != "Fail to fetch source code: the provided url could not be reached" {
		t.Errorf("archive %+v", d.Archive)
	}
}
