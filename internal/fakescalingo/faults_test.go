package fakescalingo_test

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func TestServer_faultsOnTheAPI(t *testing.T) {
	t.Parallel()
	type call struct {
		wantStatus int
		wantBody   string // substring
	}
	tests := []struct {
		name   string
		fault  fakescalingo.Fault
		method string
		path   string
		calls  []call
		header map[string]string // response headers wanted on the first call
	}{
		{
			name:   "429 once, plain text, Retry-After",
			fault:  fakescalingo.Fault{Method: "POST", Path: "/v1/sources", Status: 429, RetryAfter: "7"},
			method: "POST", path: "/v1/sources",
			calls:  []call{{429, "Retry later"}, {201, "upload_url"}},
			header: map[string]string{"Retry-After": "7", "Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name:   "500 twice, JSON",
			fault:  fakescalingo.Fault{Path: "/v1/apps/my-app", Times: 2, Status: 500},
			method: "GET", path: "/v1/apps/my-app",
			calls:  []call{{500, `{"error":"Internal error occured, we're on it!"}`}, {500, "error"}, {200, `"app"`}},
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
		},
		{
			name:   "503 after one good answer",
			fault:  fakescalingo.Fault{Path: "/v1/apps/my-app", After: 1, Status: 503},
			method: "GET", path: "/v1/apps/my-app",
			calls: []call{{200, `"app"`}, {503, "Service Unavailable"}, {200, `"app"`}},
		},
		{
			name:   "every time",
			fault:  fakescalingo.Fault{Path: "/v1/apps/", Times: -1, Status: 502},
			method: "GET", path: "/v1/apps/my-app",
			calls: []call{{502, "Bad Gateway"}, {502, "Bad Gateway"}, {502, "Bad Gateway"}},
		},
		{
			name:   "other method untouched",
			fault:  fakescalingo.Fault{Method: "POST", Path: "/v1/apps/my-app", Status: 500},
			method: "GET", path: "/v1/apps/my-app",
			calls: []call{{200, `"app"`}},
		},
		{
			name:   "token exchange",
			fault:  fakescalingo.Fault{Path: "/v1/tokens/exchange", Status: 503},
			method: "POST", path: "auth:/v1/tokens/exchange",
			calls: []call{{503, "error"}, {200, "token"}},
		},
		{
			name:   "tiny delay then normal",
			fault:  fakescalingo.Fault{Path: "/v1/apps/my-app", Delay: time.Millisecond},
			method: "GET", path: "/v1/apps/my-app",
			calls: []call{{200, `"app"`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			s.Inject(tc.fault)
			url := s.APIURL + tc.path
			h := jsonHeaders(jwt)
			if p, ok := strings.CutPrefix(tc.path, "auth:"); ok {
				url = s.AuthURL + p
				h = map[string]string{"Authorization": "Basic OnRrLXVzLWZha2VzY2FsaW5nby0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"}
			}
			for i, c := range tc.calls {
				r := do(t, req{method: tc.method, url: url, header: h})
				if r.Status != c.wantStatus || !strings.Contains(string(r.Body), c.wantBody) {
					t.Errorf("call %d: %d %q, want %d with %q", i+1, r.Status, r.Body, c.wantStatus, c.wantBody)
				}
				if r.Header.Get("X-Request-Id") == "" {
					t.Errorf("call %d: no X-Request-Id", i+1)
				}
				if i == 0 {
					for k, v := range tc.header {
						if got := r.Header.Get(k); got != v {
							t.Errorf("header %s = %q, want %q", k, got, v)
						}
					}
				}
			}
		})
	}
}

func TestServer_faultsOnUploads(t *testing.T) {
	t.Parallel()
	storages(t, func(t *testing.T, newFake func(fakescalingo.Options) (*fakescalingo.Server, objectGetter)) {
		tests := []struct {
			name       string
			fault      fakescalingo.Fault
			wantStatus int    // 0: the connection breaks
			wantBody   string // substring
			stored     bool
		}{
			{"503 from the storage", fakescalingo.Fault{Path: "storage", Status: 503}, 503, "<Code>SlowDown</Code>", false},
			{"500 from the storage", fakescalingo.Fault{Path: "storage", Status: 500}, 500, "<Code>InternalError</Code>", false},
			{"expired URL", fakescalingo.Fault{Path: "storage", Expired: true}, 403, "Request has expired", false},
			{"301 wrong region, no Location", fakescalingo.Fault{Path: "storage", Status: 301}, 301, "<Code>PermanentRedirect</Code>", false},
			{"reset mid-body", fakescalingo.Fault{Path: "storage", ResetMidBody: true}, 0, "", false},
			{"response lost after storing", fakescalingo.Fault{Path: "storage", DropResponse: true}, 0, "", true},
			{"API path faults do not hit uploads", fakescalingo.Fault{Path: "/", Method: "PUT", Status: 500}, 500, "InternalError", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s, object := newFake(fakescalingo.Options{})
				src := createSource(t, s, exchange(t, s))
				s.Inject(tc.fault)
				data := bytes.Repeat(goodArchive(t), 20)
				r, _ := http.NewRequest("PUT", src.upload, bytes.NewReader(data))
				r.Header.Set("Content-Type", "application/x-gzip")
				resp, err := http.DefaultClient.Do(r)
				if tc.wantStatus == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("got %d, want a broken connection", resp.StatusCode)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					var b bytes.Buffer
					b.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tc.wantStatus || !strings.Contains(b.String(), tc.wantBody) {
						t.Fatalf("%d %s, want %d with %s", resp.StatusCode, b.String(), tc.wantStatus, tc.wantBody)
					}
				}
				if _, _, ok := object(keyOf(t, src.upload)); ok != tc.stored {
					t.Errorf("stored = %v, want %v", ok, tc.stored)
				}
				// The fault is used up: the same upload now goes through.
				if r := upload(t, src.upload, data, "application/x-gzip"); r.Status != 200 {
					t.Errorf("retry: %d %s", r.Status, r.Body)
				}
			})
		}
	})
}

// A redirect answer points at the storage's own signed URL; re-PUTting the
// same body there (as the product must) stores it.
func TestServer_faultRedirect(t *testing.T) {
	t.Parallel()
	storages(t, func(t *testing.T, newFake func(fakescalingo.Options) (*fakescalingo.Server, objectGetter)) {
		for _, code := range []string{"301", "302", "307", "308"} {
			t.Run(code, func(t *testing.T) {
				t.Parallel()
				s, object := newFake(fakescalingo.Options{})
				s.AddApp("my-app", fakescalingo.Scenario{})
				jwt := exchange(t, s)
				src := createSource(t, s, jwt)
				s.Inject(fakescalingo.Fault{Path: "storage", Redirect: code})
				data := goodArchive(t)
				r := upload(t, src.upload, data, "application/x-gzip")
				if strconv.Itoa(r.Status) != code {
					t.Fatalf("status %d, want %s", r.Status, code)
				}
				loc := r.Header.Get("Location")
				if loc == "" || strings.HasPrefix(loc, s.StorageURL) {
					t.Fatalf("Location %q should be the storage's own URL", loc)
				}
				if _, _, ok := object(keyOf(t, src.upload)); ok {
					t.Fatal("stored before the re-PUT")
				}
				if r := upload(t, loc, data, "application/x-gzip"); r.Status != 200 {
					t.Fatalf("re-PUT to Location: %d %s", r.Status, r.Body)
				}
				got, ct, ok := object(keyOf(t, src.upload))
				if !ok || !bytes.Equal(got, data) || ct != "application/x-gzip" {
					t.Fatalf("after re-PUT: ok %v, %d bytes, %q", ok, len(got), ct)
				}
				id := createDeployment(t, s, jwt, "my-app", src.download)["id"].(string)
				if st := pollToEnd(t, s, jwt, "my-app", id); st[len(st)-1] != "success" {
					t.Errorf("statuses %v", st)
				}
			})
		}
	})
}

func TestServer_faultDropResponseStillCreates(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	src := createSource(t, s, jwt)
	upload(t, src.upload, goodArchive(t), "application/x-gzip")
	s.Inject(fakescalingo.Fault{Method: "POST", Path: "/v1/apps/my-app/deployments", DropResponse: true})
	hr, _ := http.NewRequest("POST", s.APIURL+"/v1/apps/my-app/deployments",
		strings.NewReader(`{"deployment":{"source_url":"`+src.download+`","git_ref":"abc"}}`))
	hr.Header.Set("Authorization", "Bearer "+jwt)
	hr.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(hr); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the connection dropped", resp.StatusCode)
	}
	deps := s.Deployments("my-app")
	if len(deps) != 1 || *deps[0].GitRef != "abc" || deps[0].SourceURL != src.download {
		t.Fatalf("deployments after a dropped response: %+v", deps)
	}
	// The client can find it by listing.
	r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/deployments", header: bearer(jwt)})
	if list := r.JSON(t)["deployments"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != deps[0].ID {
		t.Errorf("list %s", r.Body)
	}
	var got []string
	for _, rq := range s.Requests() {
		if rq.Fault != "" {
			got = append(got, fmt.Sprintf("%s %s %s %d", rq.Method, rq.Path, rq.Fault, rq.Status))
		}
	}
	if want := []string{"POST /v1/apps/my-app/deployments drop-response 0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("faulted requests %v, want %v", got, want)
	}
}

func TestServer_faultBlock(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	block := make(chan struct{})
	s.Inject(fakescalingo.Fault{Path: "/v1/apps/my-app", Block: block})
	done := make(chan int)
	go func() {
		hr, _ := http.NewRequest("GET", s.APIURL+"/v1/apps/my-app", nil)
		hr.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// Wait (bounded) until the fake holds the request: an event, not time.
	for i := 0; ; i++ {
		reqs := s.Requests()
		if n := len(reqs); n > 0 && reqs[n-1].Fault == "block" {
			break
		}
		if i > 10000 {
			t.Fatal("the request never reached the fake")
		}
		select {
		case st := <-done:
			t.Fatalf("request finished with %d before the block was released", st)
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case st := <-done:
		t.Fatalf("request finished with %d while blocked", st)
	default:
	}
	close(block)
	if st := <-done; st != 200 {
		t.Errorf("status after release %d, want 200", st)
	}
}

// Close releases requests blocked by a fault instead of hanging.
func TestServer_closeReleasesBlocked(t *testing.T) {
	t.Parallel()
	s, err := fakescalingo.Start(fakescalingo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	s.Inject(fakescalingo.Fault{Path: "/v1/apps/my-app", Block: make(chan struct{})})
	done := make(chan struct{})
	go func() {
		defer close(done)
		hr, _ := http.NewRequest("GET", s.APIURL+"/v1/apps/my-app", nil)
		hr.Header.Set("Authorization", "Bearer "+jwt)
		if resp, err := http.DefaultClient.Do(hr); err == nil {
			resp.Body.Close()
		}
	}()
	for len(s.Requests()) < 2 {
		select {
		case <-done:
			t.Fatal("request ended early")
		case <-time.After(time.Millisecond):
		}
	}
	s.Close()
	<-done
}

func TestServer_rateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now, RateLimit: 3})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s) // the auth host is not limited
	var got []int
	get := func() {
		got = append(got, do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: bearer(jwt)}).Status)
	}
	get()
	clk.Advance(30 * time.Second)
	get()
	get()
	get() // 4th within a minute
	clk.Advance(30 * time.Second)
	get() // the first call left the window
	get()
	if want := []int{200, 200, 200, 429, 200, 429}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}
