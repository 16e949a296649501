package run

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/dnstest"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// TestRun_PlainStreamBesideHTTPSAPI: the API is https but names a ws:// stream. The JWT
// never goes there in clear: the run follows by polling and links.output, says so once,
// and deploys.
func TestRun_PlainStreamBesideHTTPSAPI(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{TLS: true, PlainStream: true})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Log: []string{"-----> Building", "-----> Done"}})
	trust := func(o *scalingo.Options) {
		tr := httpapi.NewTransport(nil)
		tr.TLSClientConfig = w.fake.TLSClientConfig()
		o.Transport = tr
	}
	res := w.runWith(t, context.Background(), w.env("gitlab"), trust)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if n := strings.Count(res.stdout, "live log stream is unavailable"); n != 1 || !strings.Contains(res.stdout, "not wss://") {
		t.Errorf("%d warnings about the stream, want one saying why:\n%s", n, res.stdout)
	}
	if !strings.Contains(res.stdout, "-----> Done") {
		t.Errorf("the build log did not come through the API:\n%s", res.stdout)
	}
	for _, r := range w.fake.Requests() {
		if r.Server == "stream" {
			t.Errorf("the plain stream got %s %s", r.Method, r.Path)
		}
	}
}

// TestRun_HostNotFound: a host that does not exist is said at once, with the input that
// sets it; lookups go to a DNS server on 127.0.0.1 that knows no name.
func TestRun_HostNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    []string
		listed map[string]string // what /v1/regions gives
		host   string
		input  string
	}{
		{"api-url", []string{"SCALINGO_API_URL", "http://api.scalingo-deploy.invalid:8080"}, nil, "api.scalingo-deploy.invalid", "api-url"},
		{"auth-url", []string{"SCALINGO_AUTH_URL", "https://auth.scalingo-deploy.invalid"}, nil, "auth.scalingo-deploy.invalid", "auth-url"},
		{"region", []string{"SCALINGO_API_URL", "", "SCALINGO_REGION", "osc-fr1"},
			map[string]string{"osc-fr1": "https://api.osc-fr1.scalingo-deploy.invalid"}, "api.osc-fr1.scalingo-deploy.invalid", "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{ListedAPIURLs: tt.listed})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			dns, err := dnstest.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer dns.Close()
			resolveNothing := func(o *scalingo.Options) {
				tr := httpapi.NewTransport(nil)
				tr.DialContext = dns.Dialer().DialContext
				o.Transport = tr
			}
			res := w.runWith(t, context.Background(), w.env("gitlab", tt.env...), resolveNothing)
			out := res.stdout + res.stderr
			if res.code == 0 || !strings.Contains(out, "host "+tt.host+" does not exist") || !strings.Contains(out, "check "+tt.input) {
				t.Errorf("exit %d, want the host %s and the input %s named:\n%s", res.code, tt.host, tt.input, out)
			}
			if strings.Contains(out, "retry") {
				t.Errorf("retried:\n%s", out)
			}
			if len(dns.Queries()) > 2 {
				t.Errorf("DNS queries %q, want one lookup", dns.Queries())
			}
		})
	}
}

// TestHealthCheck_UserinfoNotEchoed: an app URL with credentials in it (as an API answer
// may hold) is never echoed with its password, in the log or in the failure.
func TestHealthCheck_UserinfoNotEchoed(t *testing.T) {
	t.Parallel()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer app.Close()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{URL: "http://admin:s3cretpw@" + strings.TrimPrefix(app.URL, "http://")})
	res := w.run(t, context.Background(), w.env("gitlab", "SCALINGO_HEALTH_CHECK", "/healthz", "SCALINGO_HEALTH_CHECK_TIMEOUT", "10s"))
	if res.code != 1 || !strings.Contains(res.stderr, "failed its health check: GET http://admin:***@127.0.0.1") {
		t.Fatalf("exit %d, want 1 and the URL named without its password\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, line := range strings.Split(res.stdout+res.stderr, "\n") {
		if strings.Contains(line, "s3cretpw") && strings.Contains(strings.ToLower(line), "health") {
			t.Errorf("the password shows: %q", line)
		}
	}
}
