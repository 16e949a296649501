package run

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// forwardProxy is a real HTTP forward proxy on 127.0.0.1 that resolves every host to
// 127.0.0.1 (so that test hosts such as api.scalingo.test reach the fake) and records
// what went through it.
type forwardProxy struct {
	mu    sync.Mutex
	hosts []string
}

func (p *forwardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.mu.Unlock()
	if r.Method == http.MethodConnect || !r.URL.IsAbs() {
		http.Error(w, "this test proxy forwards plain http only", http.StatusMethodNotAllowed)
		return
	}
	_, port, _ := net.SplitHostPort(r.URL.Host)
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Host = net.JoinHostPort("127.0.0.1", port)
	out.Header.Del("Proxy-Connection")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// TestRun_ThroughProxy deploys with HTTP_PROXY set: every API call goes through the
// proxy. (Go never proxies loopback addresses, so the API is named by a test host that
// only the proxy resolves: without the proxy the run could not reach it at all.)
func TestRun_ThroughProxy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	proxy := &forwardProxy{}
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	rename := func(raw, host string) string {
		u, _ := url.Parse(raw)
		u.Host = host + ":" + u.Port()
		return u.String()
	}
	e := w.env("gitlab",
		"SCALINGO_API_URL", rename(w.fake.APIURL, "api.scalingo.test"),
		"SCALINGO_AUTH_URL", rename(w.fake.AuthURL, "auth.scalingo.test"),
		"HTTP_PROXY", ps.URL,
		"NO_PROXY", "example.org",
	)
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	proxy.mu.Lock()
	seen := strings.Join(proxy.hosts, " ")
	proxy.mu.Unlock()
	for _, host := range []string{"auth.scalingo.test", "api.scalingo.test"} {
		if !strings.Contains(seen, host) {
			t.Errorf("no request to %s went through the proxy (saw %s)", host, seen)
		}
	}
	if n := len(w.fake.Deployments("my-app")); n != 1 {
		t.Errorf("%d deployments, want 1", n)
	}
}
