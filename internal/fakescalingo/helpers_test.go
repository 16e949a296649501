package fakescalingo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

var _ fakescalingo.Storage = (*s3test.Server)(nil)

func startFake(t *testing.T, opts fakescalingo.Options) *fakescalingo.Server {
	t.Helper()
	s, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, r.Body)
	}
	return m
}

type req struct {
	method, url string
	header      map[string]string
	body        io.Reader
	length      int64 // set ContentLength when body is a non-standard reader
}

func do(t *testing.T, r req) response {
	t.Helper()
	hr, err := http.NewRequest(r.method, r.url, r.body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.length != 0 {
		hr.ContentLength = r.length
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func bearer(jwt string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + jwt}
}

func jsonHeaders(jwt string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + jwt, "Content-Type": "application/json"}
}

func exchange(t *testing.T, s *fakescalingo.Server) string {
	t.Helper()
	r := do(t, req{method: "POST", url: s.AuthURL + "/v1/tokens/exchange", header: map[string]string{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+s.APIToken)),
		"Content-Type":  "application/json",
	}, body: strings.NewReader("{}")})
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["token"].(string)
}

type sourceURLs struct{ upload, download string }

func createSource(t *testing.T, s *fakescalingo.Server, jwt string) sourceURLs {
	t.Helper()
	r := do(t, req{method: "POST", url: s.APIURL + "/v1/sources", header: jsonHeaders(jwt), body: strings.NewReader("{}")})
	if r.Status != 201 {
		t.Fatalf("create source: %d %s", r.Status, r.Body)
	}
	src := r.JSON(t)["source"].(map[string]any)
	return sourceURLs{src["upload_url"].(string), src["download_url"].(string)}
}

func upload(t *testing.T, url string, data []byte, contentType string) response {
	t.Helper()
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return do(t, req{method: "PUT", url: url, header: h, body: bytes.NewReader(data)})
}

func createDeployment(t *testing.T, s *fakescalingo.Server, jwt, app, sourceURL string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"deployment": map[string]any{"source_url": sourceURL, "git_ref": "0123abcd"}})
	r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/" + app + "/deployments", header: jsonHeaders(jwt), body: bytes.NewReader(body)})
	if r.Status != 201 {
		t.Fatalf("create deployment: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["deployment"].(map[string]any)
}

func getDeployment(t *testing.T, s *fakescalingo.Server, jwt, app, id string) map[string]any {
	t.Helper()
	r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/" + app + "/deployments/" + id, header: bearer(jwt)})
	if r.Status != 200 {
		t.Fatalf("get deployment: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["deployment"].(map[string]any)
}

func output(t *testing.T, jwt, link string) string {
	t.Helper()
	r := do(t, req{method: "GET", url: link, header: bearer(jwt)})
	if r.Status != 200 {
		t.Fatalf("output: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("output Content-Type %q, want text/plain", ct)
	}
	return string(r.Body)
}

// tarEntry describes one entry of a test archive.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
	size             int64 // overrides len(body) for padding-only large files
}

func makeTarGz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if e.size > 0 {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.size > 0 {
			io.CopyN(tw, zeros{}, e.size)
		} else if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, e.body)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func goodArchive(t testing.TB) []byte {
	return makeTarGz(t,
		tarEntry{name: "app/", typ: tar.TypeDir},
		tarEntry{name: "app/Procfile", body: "web: ./bin/server\n"},
		tarEntry{name: "app/bin/", typ: tar.TypeDir},
		tarEntry{name: "app/bin/server", body: "#!/bin/sh\n", mode: 0o755},
		tarEntry{name: "app/current", typ: tar.TypeSymlink, link: "bin/server"},
	)
}

// deployOK runs exchange, source, upload and create against s.
func deployOK(t *testing.T, s *fakescalingo.Server, app string) (jwt, id string) {
	t.Helper()
	jwt = exchange(t, s)
	src := createSource(t, s, jwt)
	if r := upload(t, src.upload, goodArchive(t), "application/x-gzip"); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	d := createDeployment(t, s, jwt, app, src.download)
	return jwt, d["id"].(string)
}

// pollToEnd GETs the deployment until a terminal status (at most 20 times)
// and returns the statuses seen.
func pollToEnd(t *testing.T, s *fakescalingo.Server, jwt, app, id string) []string {
	t.Helper()
	var seen []string
	for range 20 {
		st := getDeployment(t, s, jwt, app, id)["status"].(string)
		seen = append(seen, st)
		switch st {
		case "queued", "building", "pushing", "starting":
			continue
		}
		return seen
	}
	return seen
}
