package scalingo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/dnstest"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// startFake runs the fake Scalingo and a client of it that trusts its certificate.
func startFake(t *testing.T, opts fakescalingo.Options) (*fakescalingo.Server, *Client) {
	t.Helper()
	fake, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	tr := httpapi.NewTransport(nil)
	tr.TLSClientConfig = fake.TLSClientConfig()
	c, err := New(Options{APIURL: fake.APIURL, AuthURL: fake.AuthURL, APIToken: fake.APIToken, Transport: tr,
		Policy: &Policy{MaxAttempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	fake.AddApp("my-app", fakescalingo.Scenario{})
	return fake, c
}

// TestCredentials_NoRedirectOutOfTheirOrigin is the attacker's redirect: a front of the
// auth service or of the API answers 307/308 to another port of the same host (Go's
// client keeps Authorization for a same-named host, whatever the port or scheme). The
// API token and the JWT must never arrive there, the call fails at once naming the new
// location without its query, and nothing is retried.
func TestCredentials_NoRedirectOutOfTheirOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tls    bool
		fault  fakescalingo.Fault
		server string // the listener the fault is on
		call   func(context.Context, *Client) error
	}{
		{"token exchange, 307 to another port", false,
			fakescalingo.Fault{Method: http.MethodPost, Path: "/v1/tokens/exchange", Redirect: "307", OtherPort: true}, "auth",
			func(ctx context.Context, c *Client) error { return c.Authenticate(ctx) }},
		{"token exchange over https, 308 to http on another port", true,
			fakescalingo.Fault{Method: http.MethodPost, Path: "/v1/tokens/exchange", Redirect: "308", OtherPort: true}, "auth",
			func(ctx context.Context, c *Client) error { return c.Authenticate(ctx) }},
		{"regions list, 302 to another port", false,
			fakescalingo.Fault{Method: http.MethodGet, Path: "/v1/regions", Redirect: "302", OtherPort: true}, "auth",
			func(ctx context.Context, c *Client) error { _, err := c.Regions(ctx); return err }},
		{"API call with the bearer, 307 to another port", false,
			fakescalingo.Fault{Method: http.MethodGet, Path: "/v1/apps/my-app", Redirect: "307", OtherPort: true}, "api",
			func(ctx context.Context, c *Client) error { _, err := c.App(ctx, "my-app"); return err }},
		{"API call over https, 301 to http on another port, with a query", true,
			fakescalingo.Fault{Method: http.MethodGet, Path: "/v1/apps/my-app/deployments", Redirect: "301", OtherPort: true}, "api",
			func(ctx context.Context, c *Client) error { _, err := c.Deployments(ctx, "my-app", 5); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := startFake(t, fakescalingo.Options{TLS: tt.tls})
			fake.Inject(tt.fault)
			err := tt.call(context.Background(), c)
			redirected := 0
			for _, r := range fake.Requests() {
				if r.Server == "elsewhere" {
					t.Errorf("%s %s reached the other port (Authorization sent: %v)", r.Method, r.Path, r.HadAuthorization)
				}
				if r.Server == tt.server && r.Fault != "" {
					redirected++
				}
			}
			if redirected != 1 {
				t.Errorf("%d redirected requests, want 1: a refused redirect is not retried", redirected)
			}
			var re *httpapi.RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a refused redirect", err)
			}
			if !strings.Contains(err.Error(), "http://127.0.0.1:") || strings.Contains(err.Error(), "per_page") {
				t.Errorf("the error should name the new location without its query: %v", err)
			}
		})
	}
}

// TestStream_TokenOnlyOverTLSToTheAPIsSite: the JWT goes in the stream's first frame, so
// the stream URL an answer names is checked before any connection: ws:// beside an https
// API is refused (the fake's stream stays plain), and so is another site.
func TestStream_TokenOnlyOverTLSToTheAPIsSite(t *testing.T) {
	t.Parallel()
	fake, c := startFake(t, fakescalingo.Options{TLS: true, PlainStream: true})
	ctx := context.Background()
	app, err := c.App(ctx, "my-app")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(app.Links.DeploymentsStream, "ws://127.0.0.1:") {
		t.Fatalf("the fake's stream URL is %q, want a plain ws:// one", app.Links.DeploymentsStream)
	}
	for _, raw := range []string{
		app.Links.DeploymentsStream,
		"wss://deployments.evil.invalid/apps/my-app",
		"wss://localhost" + strings.TrimPrefix(fake.APIURL, "https://127.0.0.1") + "/apps/my-app",
		"https://127.0.0.1/apps/my-app",
	} {
		s, err := c.Stream(ctx, raw)
		if err == nil {
			s.Close()
			t.Errorf("Stream(%s) opened", raw)
			continue
		}
		if !errors.Is(err, ErrStreamRefused) {
			t.Errorf("Stream(%s) = %v, want ErrStreamRefused", raw, err)
		}
	}
	for _, r := range fake.Requests() {
		if r.Server == "stream" {
			t.Errorf("the stream listener got %s %s", r.Method, r.Path)
		}
	}
}

// TestStream_HandshakeRedirectNotFollowed: the stream's handshake carries no credential,
// but the JWT follows on the connection it opens; a redirect of the handshake to another
// port (which would accept the WebSocket and read the auth frame) is refused.
func TestStream_HandshakeRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	fake, c := startFake(t, fakescalingo.Options{})
	ctx := context.Background()
	app, err := c.App(ctx, "my-app")
	if err != nil {
		t.Fatal(err)
	}
	fake.Inject(fakescalingo.Fault{Method: http.MethodGet, Path: "/apps/my-app", Redirect: "307", OtherPort: true})
	s, err := c.Stream(ctx, app.Links.DeploymentsStream)
	if err == nil {
		s.Close()
	}
	if n := fake.StreamTokensElsewhere(); n != 0 {
		t.Errorf("the JWT reached the other port %d times", n)
	}
	for _, r := range fake.Requests() {
		if r.Server == "elsewhere" {
			t.Errorf("%s %s reached the other port", r.Method, r.Path)
		}
	}
	var re *httpapi.RedirectError
	if !errors.As(err, &re) {
		t.Errorf("Stream = %v, want a refused redirect", err)
	}
}

func TestSameSite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"api.osc-fr1.scalingo.com", "api.osc-fr1.scalingo.com", true},
		{"deployments.scalingo.com", "api.osc-fr1.scalingo.com", true},
		{"deployments.osc-secnum-fr1.scalingo.com", "api.osc-secnum-fr1.scalingo.com", true},
		{"my-app.osc-fr1.scalingo.io", "api.osc-fr1.scalingo.com", false},
		{"scalingo.com.evil.example", "api.osc-fr1.scalingo.com", false},
		{"evil.github.io", "api.github.io", false}, // github.io is a public suffix
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.2", "127.0.0.1", false},
		{"API.Example.com.", "api.example.com", true},
	}
	for _, tt := range tests {
		if got := sameSite(tt.a, tt.b); got != tt.want {
			t.Errorf("sameSite(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestHostNotFound_NamesTheInput: a host that does not exist is said at once, naming the
// host and the input that sets it; Go's resolver asks a DNS server on 127.0.0.1 only.
func TestHostNotFound_NamesTheInput(t *testing.T) {
	t.Parallel()
	fake, err := fakescalingo.Start(fakescalingo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.AddApp("my-app", fakescalingo.Scenario{})
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	const nowhere = "http://api.scalingo-deploy.invalid:1"
	tests := []struct {
		name, authURL, apiURL, input string
		client                       func(*Client) *Client
		call                         func(context.Context, *Client) error
		host, want                   string
	}{
		{"auth-url", "http://auth.scalingo-deploy.invalid:1", fake.APIURL, "", nil,
			func(ctx context.Context, c *Client) error { return c.Authenticate(ctx) },
			"auth.scalingo-deploy.invalid", "check auth-url"},
		{"api-url", fake.AuthURL, nowhere, "", nil,
			func(ctx context.Context, c *Client) error { _, err := c.App(ctx, "my-app"); return err },
			"api.scalingo-deploy.invalid", "check api-url"},
		{"region", fake.AuthURL, "", "", func(c *Client) *Client {
			r, err := c.ForRegion(nowhere)
			if err != nil {
				t.Fatal(err)
			}
			return r.WithInput("region")
		},
			func(ctx context.Context, c *Client) error { _, err := c.App(ctx, "my-app"); return err },
			"api.scalingo-deploy.invalid", "check region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := httpapi.NewTransport(nil)
			tr.DialContext = dns.Dialer().DialContext
			var retries int
			c, err := New(Options{AuthURL: tt.authURL, APIURL: tt.apiURL, APIToken: fake.APIToken, Transport: tr,
				Logf:   func(string, ...any) { retries++ },
				Policy: &Policy{MaxAttempts: 4, Base: time.Millisecond, Max: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.client != nil {
				c = tt.client(c)
			}
			before := len(dns.Queries())
			err = tt.call(context.Background(), c)
			var he *HostError
			if !errors.As(err, &he) || he.Host != tt.host || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.host) {
				t.Fatalf("err = %v, want host %s not found, %q", err, tt.host, tt.want)
			}
			if retries != 0 || len(dns.Queries())-before > 2 {
				t.Errorf("%d retries, %d DNS queries: want one lookup and no retry", retries, len(dns.Queries())-before)
			}
		})
	}
}
