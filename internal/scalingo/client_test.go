package scalingo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

var epoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// setup starts an httptest server that is both the auth service and the regional API,
// and a client of it driven by a fake clock. Tests register their handlers on mux; the
// token exchange is registered by handleExchange.
func setup(t *testing.T, opts ...func(*Options)) (client *Client, mux *http.ServeMux, clk *clock.Fake, teardown func()) {
	t.Helper()
	mux = http.NewServeMux()
	srv := httptest.NewServer(mux)
	clk = clock.NewFake(epoch)
	o := Options{APIURL: srv.URL, AuthURL: srv.URL, APIToken: "tk-us-test", Clock: clk}
	for _, f := range opts {
		f(&o)
	}
	client, err := New(o)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	return client, mux, clk, func() {
		client.Close()
		srv.Close()
	}
}

// instant is a fake clock whose waits end at once, moving the time on: for tests that
// count attempts rather than watch the waits.
type instant struct{ *clock.Fake }

func (i instant) After(d time.Duration) <-chan time.Time {
	i.Advance(d)
	return i.Fake.After(0)
}

// parked returns once n waits are pending on clk, and fails the test if the call under
// test returns first (it did not wait).
func parked(t *testing.T, clk *clock.Fake, n int, done <-chan error) {
	t.Helper()
	for clk.Waiters() < n {
		select {
		case err := <-done:
			t.Fatalf("returned without waiting: %v", err)
		default:
			runtime.Gosched()
		}
	}
}

// makeJWT returns an unsigned JWT expiring at exp (the client never checks signatures).
func makeJWT(exp time.Time, n int) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "jti": fmt.Sprint(n)})
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(payload) + ".c2ln"
}

// handleExchange answers the token exchange with JWTs valid for life from clk's time,
// and counts the exchanges.
func handleExchange(t *testing.T, mux *http.ServeMux, clk clock.Clock, life time.Duration) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc("POST /v1/tokens/exchange", func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "" || pass != "tk-us-test" {
			t.Errorf("exchange sent with %q", r.Header.Get("Authorization"))
		}
		jwt := makeJWT(clk.Now().Add(life), int(n.Add(1)))
		fmt.Fprintf(w, `{"token":%q}`, jwt)
	})
	return &n
}

func handleApp(mux *http.ServeMux, status func(n int32) int) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc("GET /v1/apps/my-app", func(w http.ResponseWriter, r *http.Request) {
		if s := status(n.Add(1)); s != http.StatusOK {
			w.WriteHeader(s)
			fmt.Fprint(w, `{"error":"no"}`)
			return
		}
		fmt.Fprint(w, `{"app":{"id":"1","name":"my-app"}}`)
	})
	return &n
}

func TestDo_401RenewsTheJWTOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        func(n int32) int
		wantErr       int // the final status, 0 for success
		wantExchanges int32
		wantCalls     int32
	}{
		{"one 401: renewed, then served", func(n int32) int { return map[bool]int{true: 401, false: 200}[n == 1] }, 0, 2, 2},
		{"a second 401 is final", func(int32) int { return 401 }, 401, 2, 2},
		{"403 is not a reason to renew", func(int32) int { return 403 }, 403, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk, teardown := setup(t)
			defer teardown()
			exchanges := handleExchange(t, mux, clk, time.Hour)
			calls := handleApp(mux, tt.status)
			_, err := c.App(context.Background(), "my-app")
			var apiErr *APIError
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Fatalf("App: %v", err)
			case tt.wantErr != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantErr):
				t.Fatalf("App: %v, want HTTP %d", err, tt.wantErr)
			}
			if got := exchanges.Load(); got != tt.wantExchanges {
				t.Errorf("%d exchanges, want %d", got, tt.wantExchanges)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestBearer_RenewedFiveMinutesBeforeExpiry(t *testing.T) {
	t.Parallel()
	c, mux, clk, teardown := setup(t)
	defer teardown()
	exchanges := handleExchange(t, mux, clk, time.Hour)
	handleApp(mux, func(int32) int { return 200 })
	steps := []struct {
		advance time.Duration
		want    int32
	}{
		{0, 1},
		{54*time.Minute + 59*time.Second, 1}, // 5 min 1 s left: kept
		{time.Second, 2},                     // 5 min left: renewed
		{30 * time.Minute, 2},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if _, err := c.App(context.Background(), "my-app"); err != nil {
			t.Fatal(err)
		}
		if got := exchanges.Load(); got != s.want {
			t.Errorf("at +%s: %d exchanges, want %d", clk.Now().Sub(epoch), got, s.want)
		}
	}
}

func TestDo_RetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"capped", "3600", time.Minute},
		{"HTTP date", epoch.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{"HTTP date beyond the cap", epoch.Add(time.Hour).Format(http.TimeFormat), time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk, teardown := setup(t)
			defer teardown()
			handleExchange(t, mux, clk, time.Hour)
			var calls atomic.Int32
			mux.HandleFunc("GET /v1/apps/my-app", func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.header)
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, "Retry later")
					return
				}
				fmt.Fprint(w, `{"app":{"name":"my-app"}}`)
			})
			done := make(chan error, 1)
			go func() { _, err := c.App(context.Background(), "my-app"); done <- err }()
			parked(t, clk, 1, done)
			clk.Advance(tt.want - time.Millisecond)
			if clk.Waiters() != 1 || calls.Load() != 1 {
				t.Fatalf("retried before %s", tt.want)
			}
			clk.Advance(time.Millisecond)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 {
				t.Errorf("%d calls, want 2", calls.Load())
			}
		})
	}
}

func TestDo_GivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	var inst instant
	c, mux, _, teardown := setup(t, func(o *Options) {
		inst = instant{clock.NewFake(epoch)}
		o.Clock = inst
	})
	defer teardown()
	handleExchange(t, mux, inst, time.Hour)
	calls := handleApp(mux, func(int32) int { return 503 })
	_, err := c.App(context.Background(), "my-app")
	if err == nil || !strings.Contains(err.Error(), "gave up after 6 attempts") {
		t.Errorf("err = %v", err)
	}
	if calls.Load() != 6 {
		t.Errorf("%d calls, want 6", calls.Load())
	}
}

func TestAPIError_Shapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		status                  int
		header                  map[string]string
		msg, resource           string
	}{
		{"401 error", "application/json", `{"error":"invalid token"}`, 401, nil, "invalid token", ""},
		{"404 resource", "application/json", `{"resource":"app","error":"not found"}`, 404, nil, "not found", "app"},
		{"422 errors", "application/json", `{"errors":{"git_ref":["is invalid"],"source_url":["is required"]}}`, 422, nil, "git_ref is invalid; source_url is required", ""},
		{"402 with url", "application/json", `{"error":"free trial ended","url":"https://x/billing"}`, 402, nil, "free trial ended", ""},
		{"403 code", "application/json", `{"error":"region disabled","code":"region_disabled"}`, 403, nil, "region disabled", ""},
		{"429 plain text", "text/plain", "Retry later\n", 429, map[string]string{"Retry-After": "3"}, "Retry later", ""},
		{"502 HTML", "text/html", "<html><title>502 Bad Gateway</title></html>", 502, nil, "502 Bad Gateway", ""},
		{"500 JSON", "application/json", `{"error":"Internal error occured, we're on it!"}`, 500, map[string]string{"X-Request-Id": "req-1"}, "Internal error occured, we're on it!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk, teardown := setup(t, func(o *Options) { o.Policy = &Policy{MaxAttempts: 1} })
			defer teardown()
			handleExchange(t, mux, clk, time.Hour)
			mux.HandleFunc("GET /v1/apps/my-app", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			_, err := c.App(context.Background(), "my-app")
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if e.StatusCode != tt.status || e.Message != tt.msg || e.Resource != tt.resource ||
				e.RequestID != tt.header["X-Request-Id"] || e.Method != "GET" || e.Path != "/v1/apps/my-app" {
				t.Errorf("got %+v", e)
			}
			if want := tt.header["Retry-After"]; want != "" && e.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %s", e.RetryAfter)
			}
		})
	}
}

// TestTLS_UntrustedCertificateNotRetried: a certificate the client does not trust will
// not become trusted by trying again.
func TestTLS_UntrustedCertificateNotRetried(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c, err := New(Options{APIURL: srv.URL, AuthURL: srv.URL, APIToken: "tk-us-test", Clock: instant{clock.NewFake(epoch)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Authenticate(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	if strings.Contains(err.Error(), "gave up") || conns.Load() != 1 {
		t.Errorf("%d connections (%v), want 1", conns.Load(), err)
	}
}

func TestInvalidPortNotRetried(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:99999", "http://127.0.0.1:0", "https://127.0.0.1:", "ftp://127.0.0.1:21"} {
		if _, err := New(Options{APIURL: u, AuthURL: "http://127.0.0.1:1"}); err == nil {
			t.Errorf("New accepted API URL %s", u)
		}
	}
	var inst instant
	c, mux, _, teardown := setup(t, func(o *Options) {
		inst = instant{clock.NewFake(epoch)}
		o.Clock = inst
	})
	defer teardown()
	exchanges := handleExchange(t, mux, inst, time.Hour)
	// A URL given by the API itself (links.output) with a port no connection can use.
	_, err := c.Output(context.Background(), "http://127.0.0.1:99999/v1/apps/a/deployments/1/output?sig=s3cret")
	if err == nil || strings.Contains(err.Error(), "gave up") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v", err)
	}
	if exchanges.Load() != 0 {
		t.Errorf("%d exchanges for an unusable URL", exchanges.Load())
	}
	if _, err := c.ForRegion("http://127.0.0.1:65536"); err == nil {
		t.Error("ForRegion accepted port 65536")
	}
}

// TestUpload_Redirects: each redirect hop re-sends the same PUT (body, Content-Length,
// Content-Type), never turned into a GET, never with an Authorization header, at most
// three hops.
func TestUpload_Redirects(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("archive bytes ", 1000))
	archive := bytes.NewReader(data)
	tests := []struct {
		name    string
		status  int
		hops    int
		noLoc   bool
		wantErr string // empty: uploaded
		wantPUT int
	}{
		{"301", 301, 1, false, "", 2},
		{"302", 302, 1, false, "", 2},
		{"307", 307, 1, false, "", 2},
		{"308", 308, 1, false, "", 2},
		{"three hops", 307, 3, false, "", 4},
		{"four hops", 307, 4, false, "more than 3 redirects", 4},
		{"301 without Location (S3 wrong region)", 301, 1, true, "HTTP 301", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, clk, teardown := setup(t)
			defer teardown()
			var puts atomic.Int32
			stored := make(chan []byte, 1)
			storage := http.NewServeMux()
			// The last hop is on another host, as S3's regional endpoints are.
			other := httptest.NewServer(storage)
			defer other.Close()
			storage.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				puts.Add(1)
				body, _ := io.ReadAll(r.Body)
				switch {
				case r.Method != http.MethodPut:
					t.Errorf("%s %s, want PUT", r.Method, r.URL.Path)
				case r.Header.Get("Authorization") != "":
					t.Errorf("Authorization sent to the storage: %q", r.Header.Get("Authorization"))
				case r.ContentLength != int64(len(data)) || len(r.TransferEncoding) > 0 || string(body) != string(data):
					t.Errorf("hop %s: Content-Length %d, TE %v, %d bytes", r.URL.Path, r.ContentLength, r.TransferEncoding, len(body))
				case r.Header.Get("Content-Type") != "application/x-gzip":
					t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
				}
				var hop int
				fmt.Sscanf(r.URL.Path, "/hop/%d", &hop)
				if hop < tt.hops {
					if !tt.noLoc {
						loc := fmt.Sprintf("/hop/%d?X-Amz-Signature=sig%d", hop+1, hop+1)
						if hop+1 == tt.hops {
							loc = other.URL + loc
						}
						w.Header().Set("Location", loc)
					}
					w.WriteHeader(tt.status)
					fmt.Fprint(w, "<Error><Code>PermanentRedirect</Code><Message>use another endpoint</Message></Error>")
					return
				}
				stored <- body
			})
			first := httptest.NewServer(storage)
			defer first.Close()
			src := &Source{UploadURL: first.URL + "/hop/0?X-Amz-Signature=sig0", CreatedAt: clk.Now()}
			err := c.Upload(context.Background(), src, archive, archive.Size())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Upload: %v", err)
			case tt.wantErr == "":
				if got := <-stored; string(got) != string(data) {
					t.Errorf("stored %d bytes, want %d", len(got), len(data))
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Upload: %v, want %q", err, tt.wantErr)
			case strings.Contains(err.Error(), "sig"):
				t.Errorf("the error shows a signature: %v", err)
			}
			if puts.Load() != int32(tt.wantPUT) {
				t.Errorf("%d PUTs, want %d", puts.Load(), tt.wantPUT)
			}
		})
	}
}

// TestForRegion_OneExchange: clients of two regions share one token exchange.
func TestForRegion_OneExchange(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	auth := http.NewServeMux()
	exchanges := handleExchange(t, auth, clk, time.Hour)
	authSrv := httptest.NewServer(auth)
	defer authSrv.Close()
	var regions [2]*httptest.Server
	var calls [2]atomic.Int32
	for i := range regions {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/apps/my-app", func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("region %d: no bearer", i)
			}
			calls[i].Add(1)
			fmt.Fprint(w, `{"app":{"name":"my-app"}}`)
		})
		regions[i] = httptest.NewServer(mux)
		defer regions[i].Close()
	}
	a, err := New(Options{APIURL: regions[0].URL, AuthURL: authSrv.URL, APIToken: "tk-us-test", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := a.ForRegion(regions[1].URL)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		c := []*Client{a, b}[i%2]
		wg.Go(func() {
			if _, err := c.App(context.Background(), "my-app"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if exchanges.Load() != 1 {
		t.Errorf("%d exchanges, want 1", exchanges.Load())
	}
	if calls[0].Load() != 4 || calls[1].Load() != 4 {
		t.Errorf("calls per region: %d, %d; want 4, 4", calls[0].Load(), calls[1].Load())
	}
	if a.APIURL() == b.APIURL() {
		t.Error("both clients point at one region")
	}
}

// TestUpload_RetriesAsThePolicySays: the upload asks the same policy as the API calls.
func TestUpload_RetriesAsThePolicySays(t *testing.T) {
	t.Parallel()
	archive := bytes.NewReader([]byte("gz"))
	tests := []struct {
		name    string
		first   int
		wantPUT int32
		wantErr bool
	}{
		{"503 retried", 503, 2, false},
		{"429 retried", 429, 2, false},
		{"500 retried", 500, 2, false},
		{"501 final", 501, 1, true},
		{"403 final", 403, 1, true},
		{"400 final", 400, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var inst instant
			c, _, _, teardown := setup(t, func(o *Options) {
				inst = instant{clock.NewFake(epoch)}
				o.Clock = inst
			})
			defer teardown()
			var puts atomic.Int32
			storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if puts.Add(1) == 1 {
					w.WriteHeader(tt.first)
				}
			}))
			defer storage.Close()
			err := c.Upload(context.Background(), &Source{UploadURL: storage.URL + "/o", CreatedAt: inst.Now()}, archive, archive.Size())
			if (err != nil) != tt.wantErr {
				t.Errorf("Upload: %v", err)
			}
			if puts.Load() != tt.wantPUT {
				t.Errorf("%d PUTs, want %d", puts.Load(), tt.wantPUT)
			}
		})
	}
}

// TestForRegion_SharesTheBudget: the request budget counts both regions' requests.
func TestForRegion_SharesTheBudget(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	a, mux, _, teardown := setup(t, func(o *Options) {
		o.Clock = clk
		o.Limiter = NewLimiter(3, time.Minute, clk)
	})
	defer teardown()
	handleExchange(t, mux, clk, time.Hour)
	calls := handleApp(mux, func(int32) int { return 200 })
	b, err := a.ForRegion(a.APIURL()) // another region's client; the same server will do
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.App(context.Background(), "my-app"); err != nil { // exchange + GET
		t.Fatal(err)
	}
	if _, err := b.App(context.Background(), "my-app"); err != nil { // GET
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := b.App(context.Background(), "my-app"); done <- err }()
	parked(t, clk, 1, done)
	if calls.Load() != 2 {
		t.Fatalf("%d calls: a fourth request within the minute was sent", calls.Load())
	}
	clk.Advance(time.Minute + LimiterMargin)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestOutput_TokenStaysWithTheAPI: an answer naming links.output on another host (a
// hostile or broken API) gets no request, so no bearer token, from the client.
func TestOutput_TokenStaysWithTheAPI(t *testing.T) {
	t.Parallel()
	c, mux, clk, teardown := setup(t)
	defer teardown()
	handleExchange(t, mux, clk, time.Hour)
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer other.Close()
	mux.HandleFunc("GET /v1/apps/my-app/deployments/d1/output", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "-----> Fetching source code\n")
	})

	if _, err := c.Output(context.Background(), c.APIURL()+"/v1/apps/my-app/deployments/d1/output"); err != nil {
		t.Fatalf("the API's own output URL: %v", err)
	}
	_, err := c.Output(context.Background(), other.URL+"/v1/apps/my-app/deployments/d1/output")
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("an output URL on another host: err = %v, want a refusal", err)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

// TestSetVariables_ErrorNeverQuotesAValue: an API that quotes a value back in its error
// does not get it printed (env values are not masks, so nothing else would hide them).
func TestSetVariables_ErrorNeverQuotesAValue(t *testing.T) {
	t.Parallel()
	client, mux, clk, teardown := setup(t)
	defer teardown()
	handleExchange(t, mux, clk, time.Hour)
	mux.HandleFunc("PUT /v1/apps/my-app/variables", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"errors":{"value":["s3cr3t-database-password-and-more is invalid","s3cr3t-database-password is invalid","on is fine"]}}`)
	})
	err := client.SetVariables(context.Background(), "my-app", []Variable{
		{Name: "A", Value: "s3cr3t-database-password"}, {Name: "B", Value: "s3cr3t-database-password-and-more"}, {Name: "C", Value: "on"}})
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "<value> is invalid") || !strings.Contains(err.Error(), "on is fine") {
		t.Errorf("error %q", err)
	}
}
