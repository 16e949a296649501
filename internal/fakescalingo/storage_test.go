package fakescalingo_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

// storages runs a test against the built-in storage and against versitygw.
func storages(t *testing.T, f func(t *testing.T, newFake func(fakescalingo.Options) (*fakescalingo.Server, objectGetter))) {
	t.Run("builtin", func(t *testing.T) {
		t.Parallel()
		f(t, func(o fakescalingo.Options) (*fakescalingo.Server, objectGetter) {
			s := startFake(t, o)
			return s, func(key string) ([]byte, string, bool) { return s.Object(key) }
		})
	})
	t.Run("versitygw", func(t *testing.T) {
		t.Parallel()
		f(t, func(o fakescalingo.Options) (*fakescalingo.Server, objectGetter) {
			s3 := s3test.Start(t)
			o.Storage = s3
			s := startFake(t, o)
			return s, func(key string) ([]byte, string, bool) {
				data, ct, err := s3.Object(strings.TrimPrefix(key, s3.Bucket+"/"))
				return data, ct, err == nil
			}
		})
	})
}

// objectGetter reads what the storage holds for a key given as the upload
// URL's path after its first segment (the bucket).
type objectGetter func(key string) (data []byte, contentType string, ok bool)

func keyOf(t *testing.T, uploadURL string) string {
	t.Helper()
	u, err := url.Parse(uploadURL)
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return key
}

func TestServer_storageRules(t *testing.T) {
	t.Parallel()
	storages(t, func(t *testing.T, newFake func(fakescalingo.Options) (*fakescalingo.Server, objectGetter)) {
		data := goodArchive(t)
		tests := []struct {
			name       string
			direct     bool // upload_url from the storage itself
			mutate     func(t *testing.T, r *http.Request)
			wantStatus int
			wantBody   string
		}{
			{"PUT through the upload host", false, nil, 200, ""},
			{"PUT straight to the storage", true, nil, 200, ""},
			{"chunked body", false, chunked, 411, "MissingContentLength"},
			{"chunked body, straight", true, chunked, 411, "MissingContentLength"},
			{"signature changed", false, func(_ *testing.T, r *http.Request) {
				q := r.URL.Query()
				q.Set("X-Amz-Expires", "601")
				r.URL.RawQuery = q.Encode()
			}, 403, "SignatureDoesNotMatch"},
			{"host is localhost", true, func(_ *testing.T, r *http.Request) {
				r.URL.Host = strings.Replace(r.URL.Host, "127.0.0.1", "localhost", 1)
				r.Host = r.URL.Host
			}, 403, "SignatureDoesNotMatch"},
			{"GET with the PUT URL", false, func(_ *testing.T, r *http.Request) { r.Method = "GET"; r.Body = nil; r.ContentLength = 0 }, 403, "SignatureDoesNotMatch"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s, object := newFake(fakescalingo.Options{DirectUpload: tc.direct})
				src := createSource(t, s, exchange(t, s))
				if tc.direct == strings.HasPrefix(src.upload, s.StorageURL) {
					t.Fatalf("DirectUpload=%v but upload_url is %s (upload host %s)", tc.direct, src.upload, s.StorageURL)
				}
				r, _ := http.NewRequest("PUT", src.upload, bytes.NewReader(data))
				r.Header.Set("Content-Type", "application/x-gzip")
				if tc.mutate != nil {
					tc.mutate(t, r)
				}
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
					t.Fatalf("status %d %s, want %d %s", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
				}
				got, ct, ok := object(keyOf(t, src.upload))
				if tc.wantStatus != 200 {
					if ok {
						t.Errorf("object stored after a %d", tc.wantStatus)
					}
					return
				}
				if !ok || !bytes.Equal(got, data) || ct != "application/x-gzip" {
					t.Errorf("stored %d bytes (ok %v) with type %q", len(got), ok, ct)
				}
			})
		}
	})
}

// chunked makes a request's body of unknown length (sent chunked), held
// back until the test ends (before the fake closes): a storage answers 411
// on the headers and closes, and a body still being written would turn that
// answer into a broken pipe.
func chunked(t *testing.T, r *http.Request) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	r.ContentLength = -1
	r.Body = pr
}

func TestServer_builtinStorageExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now, SourceTTL: 10 * time.Minute, JWTLifetime: time.Hour})
	jwt := exchange(t, s)
	src := createSource(t, s, jwt)
	clk.Advance(10*time.Minute + time.Second)
	r := upload(t, src.upload, goodArchive(t), "application/x-gzip")
	if r.Status != 403 || !strings.Contains(string(r.Body), "Request has expired") {
		t.Errorf("upload after expiry: %d %s", r.Status, r.Body)
	}
	src = createSource(t, s, jwt)
	clk.Advance(10 * time.Minute)
	if r := upload(t, src.upload, goodArchive(t), "application/x-gzip"); r.Status != 200 {
		t.Errorf("upload at the last second: %d %s", r.Status, r.Body)
	}
}

func TestServer_builtinStorageRefusesTwoAuths(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	jwt := exchange(t, s)
	src := createSource(t, s, jwt)
	r := do(t, req{method: "PUT", url: src.upload, header: map[string]string{"Authorization": "Bearer " + jwt, "Content-Type": "application/x-gzip"}, body: bytes.NewReader(goodArchive(t))})
	if r.Status != 400 || !strings.Contains(string(r.Body), "Only one auth mechanism allowed") {
		t.Errorf("upload with Authorization: %d %s", r.Status, r.Body)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if last.Server != "storage" || !last.HadAuthorization || last.Status != 400 {
		t.Errorf("request log: %+v", last)
	}
}

// TestServer_happyPathThroughS3 is a whole deploy with the upload going to
// versitygw, as the product's end-to-end tests do.
func TestServer_happyPathThroughS3(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t)
	s := startFake(t, fakescalingo.Options{Storage: s3})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt, id := deployOK(t, s, "my-app")
	if got := pollToEnd(t, s, jwt, "my-app", id); got[len(got)-1] != "success" {
		t.Fatalf("statuses %v", got)
	}
	d := s.Deployments("my-app")
	if len(d) != 1 || d[0].Archive == nil || d[0].Archive.Err != "" || len(d[0].Archive.Entries) != 5 {
		t.Fatalf("deployments %+v", d)
	}
	keys, err := s3.Keys()
	if err != nil || len(keys) != 1 {
		t.Fatalf("bucket keys %v, %v", keys, err)
	}
	if _, ct, err := s3.Object(keys[0]); err != nil || ct != "application/x-gzip" {
		t.Errorf("stored Content-Type %q, %v", ct, err)
	}
	for _, r := range s.Requests() {
		if r.Server == "storage" && r.HadAuthorization {
			t.Errorf("Authorization sent to the storage: %+v", r)
		}
	}
}
