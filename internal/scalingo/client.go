// Package scalingo is a small client for the parts of the Scalingo API a deploy needs:
// token exchange, apps, sources, the upload to a signed URL, deployments and their logs.
//
// It follows the API as it really behaves (see shared/docs/scalingo-api.md): the API
// token is exchanged for a bearer JWT that is renewed before it expires; responses are
// rooted objects; errors come in several shapes, 429s in plain text. Idempotent calls are
// retried as one Policy says; creating a deployment is not (see deploy). Every API
// request spends one shared budget (Limiter); clients of several regions share one
// session (ForRegion).
package scalingo

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// Options configure a Client. Only APIURL, AuthURL and APIToken are required.
type Options struct {
	APIURL   string // e.g. https://api.osc-fr1.scalingo.com
	AuthURL  string // e.g. https://auth.scalingo.com
	APIToken string

	UserAgent string
	// Getenv reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY; nil means no proxy.
	Getenv func(string) string
	// Clock is the client's one clock: backoff, the request budget, the JWT's and the
	// sources' expiry. nil means clock.Real.
	Clock clock.Clock
	// Logf receives one line per retry.
	Logf func(format string, args ...any)
	// OnJWT is called with every new bearer token before it is used, so that the
	// caller can mask it in CI logs.
	OnJWT func(jwt string)
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// Policy decides which failures are retried and how long to wait; nil means
	// DefaultPolicy().
	Policy *Policy
	// Limiter is the request budget every API request goes through; nil means the
	// API's own: 60 requests in any minute.
	Limiter *Limiter
	// CallTimeout bounds one API call; 0 means 60s. The upload has its own bound.
	CallTimeout time.Duration
	// AuthURLInput and APIURLInput name the inputs that set AuthURL and APIURL, for the
	// message when a host does not exist; "" means "auth-url" and "api-url". A
	// regional client names its own (WithInput).
	AuthURLInput, APIURLInput string
}

// APIRequestsPerMinute is the API's rate limit (developers.scalingo.com, since 2025).
const APIRequestsPerMinute = 60

// session is what every regional client of a run shares: the token and its JWT, the
// request budget, the transport, the policy and the clock.
type session struct {
	opts    Options
	clk     clock.Clock
	policy  Policy
	limiter *Limiter
	authURL *url.URL
	core    *httpapi.Client // API calls: retried, budgeted, bounded per call
	storage *http.Client    // uploads: no Authorization, no automatic redirects

	ws *http.Client // the WebSocket handshake: HTTP/1.1 only

	exchange sync.Mutex // held during a token exchange
	jwtMu    sync.Mutex // guards what follows
	jwt      string
	jwtExp   time.Time
}

// Client talks to one Scalingo region. It is safe for concurrent use.
type Client struct {
	*session
	apiURL   *url.URL // set once, by New or ForRegion
	apiInput string   // the input that sets apiURL, for messages
}

// New returns a Client. It sends no request.
func New(opts Options) (*Client, error) {
	if opts.UserAgent == "" {
		opts.UserAgent = "scalingo-deploy"
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.OnJWT == nil {
		opts.OnJWT = func(string) {}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	if opts.AuthURLInput == "" {
		opts.AuthURLInput = "auth-url"
	}
	if opts.APIURLInput == "" {
		opts.APIURLInput = "api-url"
	}
	s := &session{opts: opts, clk: opts.Clock, limiter: opts.Limiter}
	if s.clk == nil {
		s.clk = clock.Real
	}
	var policy Policy // the zero policy is the default one
	if opts.Policy != nil {
		policy = *opts.Policy
	}
	if s.limiter == nil {
		s.limiter = NewLimiter(APIRequestsPerMinute, time.Minute, s.clk)
	}
	var err error
	if s.authURL, err = baseURL(opts.AuthURL); err != nil {
		return nil, fmt.Errorf("auth URL: %w", err)
	}
	c := &Client{session: s, apiInput: opts.APIURLInput}
	if opts.APIURL != "" {
		if c.apiURL, err = baseURL(opts.APIURL); err != nil {
			return nil, fmt.Errorf("API URL: %w", err)
		}
	}
	transport := opts.Transport
	if transport == nil {
		transport = httpapi.NewTransport(opts.Getenv)
	}
	s.core = httpapi.New(httpapi.Config{
		Transport:   transport,
		Policy:      policy,
		Limiter:     s.limiter,
		Clock:       s.clk,
		CallTimeout: opts.CallTimeout,
		UserAgent:   opts.UserAgent,
		Logf:        opts.Logf,
		ErrorBody:   decodeErrorBody,
	})
	s.policy = s.core.Policy() // with the core's defaults
	// The stream's handshake carries no credential, but the JWT follows on the
	// connection it opens: same origin rule.
	s.ws = httpapi.NewHTTPClient(transport)
	if t, ok := transport.(*http.Transport); ok {
		t = t.Clone()
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		s.ws = httpapi.NewHTTPClient(t)
	}
	s.storage = &http.Client{
		Transport: transport,
		// Go would turn a redirected PUT into a GET (301/302) and report the GET's 200:
		// redirects are followed by hand, re-sending the body (see Upload).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// ForRegion returns a client for another region's API that shares c's session: the
// API token, the JWT and its renewal (one exchange for every region), the request
// budget, the transport, the policy and the clock.
func (c *Client) ForRegion(apiURL string) (*Client, error) {
	u, err := baseURL(apiURL)
	if err != nil {
		return nil, fmt.Errorf("API URL: %w", err)
	}
	return &Client{session: c.session, apiURL: u, apiInput: c.apiInput}, nil
}

// WithInput returns c naming input (e.g. "region") as what sets its API URL, in the
// message when the API's host does not exist.
func (c *Client) WithInput(input string) *Client {
	cp := *c
	cp.apiInput = input
	return &cp
}

// Policy returns the retry policy the client follows, for the callers that retry on
// their own terms (the deployment creation).
func (c *Client) Policy() Policy { return c.policy }

// sleep waits d on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error { return c.core.Sleep(ctx, d) }

func baseURL(raw string) (*url.URL, error) { return httpapi.ParseBaseURL(raw) }

// Close releases the client's idle connections, so that a finished run leaves no
// goroutine behind.
func (c *Client) Close() {
	c.core.CloseIdleConnections()
	c.storage.CloseIdleConnections()
	c.ws.CloseIdleConnections()
}

// APIURL returns the API base URL in use.
func (c *Client) APIURL() string {
	if c.apiURL == nil {
		return ""
	}
	return c.apiURL.String()
}

// onAPI refuses a URL that an answer named (links.output, an operation's Location) out
// of the API's origin: the bearer token goes with the request, only to the API.
func (c *Client) onAPI(u *url.URL) error {
	if c.apiURL == nil || !httpapi.SameOrigin(u, c.apiURL) {
		host := ""
		if c.apiURL != nil {
			host = c.apiURL.Host
		}
		return fmt.Errorf("%s is not on the API's host %s: the token is never sent to another host", Redact(u.Scheme+"://"+u.Host), host)
	}
	return nil
}

// call describes one API request.
type call struct {
	method string
	base   *url.URL // authURL or apiURL; nil with abs
	path   string   // joined to base
	abs    string   // an absolute URL given by the API itself (links.output)
	body   any      // JSON-encoded when not nil
	// auth: "bearer" (default), "basic" (token exchange) or "none".
	auth string
	// idempotent calls are retried; the others are sent once.
	idempotent bool
	// accept lists the success statuses; empty means any 2xx.
	accept []int
	// retryRefused retries a call that is not idempotent after a 429, which refused it
	// before any work.
	retryRefused bool
	// header, when set, receives the headers of the success answer.
	header func(http.Header)
}

// do sends c through the HTTP core and decodes a JSON answer into out (a *string
// receives the raw text). The core retries what the policy says is safe to retry; a
// bearer call renews the JWT once on a 401.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	target, err := c.target(cl)
	if err != nil {
		return err
	}
	r := httpapi.Request{
		Method: cl.method, URL: target, Body: cl.body,
		Idempotent: cl.idempotent, RetryRefused: cl.retryRefused,
		Accept: cl.accept, Header: cl.header,
	}
	switch cl.auth {
	case "basic":
		r.Authorize = func(_ context.Context, req *http.Request) error {
			req.SetBasicAuth("", c.opts.APIToken)
			return nil
		}
	case "none":
	default:
		r.Authorize = func(ctx context.Context, req *http.Request) error {
			jwt, err := c.bearer(ctx)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+jwt)
			return nil
		}
		r.Reauthorize = func(req *http.Request) bool {
			// The JWT may have been revoked or expired early: exchange once more.
			c.forgetJWT(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "))
			return true
		}
	}
	err = c.core.Do(ctx, r, out)
	if host := httpapi.NotFoundHost(err); host != "" {
		input := c.apiInput
		if cl.base == c.authURL {
			input = c.opts.AuthURLInput
		}
		return &HostError{Host: host, Input: input, Err: err}
	}
	return err
}

// HostError is a host name that does not exist (DNS NXDOMAIN): it was not retried.
type HostError struct {
	Host  string
	Input string // the input that sets it: "region", "api-url" or "auth-url"
	Err   error
}

func (e *HostError) Error() string {
	return fmt.Sprintf("host %s does not exist (no such host; not retried): check %s", e.Host, e.Input)
}

func (e *HostError) Unwrap() error { return e.Err }

func (c *Client) target(cl call) (*url.URL, error) {
	if cl.abs != "" {
		u, err := url.Parse(cl.abs)
		if err != nil || !httpapi.Usable(u) {
			return nil, fmt.Errorf("the API gave an unusable URL %q", Redact(cl.abs))
		}
		// The bearer token goes with it.
		if err := c.onAPI(u); err != nil {
			return nil, err
		}
		return u, nil
	}
	base := cl.base
	if base == nil {
		base = c.apiURL
	}
	if base == nil {
		return nil, errors.New("no API URL: set region or api-url")
	}
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + cl.path
	if i := strings.IndexByte(cl.path, '?'); i >= 0 {
		u.Path = strings.TrimRight(base.Path, "/") + cl.path[:i]
		u.RawQuery = cl.path[i+1:]
	}
	return &u, nil
}

// bearer returns a JWT valid for at least five more minutes, exchanging the API token
// when needed. Deployments can outlast a JWT (one hour), so it is checked on every call.
func (c *Client) bearer(ctx context.Context) (string, error) {
	// One exchange at a time: the poller and the log stream may both need a token.
	c.exchange.Lock()
	defer c.exchange.Unlock()
	c.jwtMu.Lock()
	jwt, exp := c.jwt, c.jwtExp
	c.jwtMu.Unlock()
	if jwt != "" && exp.Sub(c.clk.Now()) > 5*time.Minute {
		return jwt, nil
	}
	var res struct {
		Token string `json:"token"`
	}
	cl := call{method: http.MethodPost, base: c.authURL, path: "/v1/tokens/exchange", body: struct{}{}, auth: "basic", idempotent: true}
	if err := c.do(ctx, cl, &res); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			apiErr.Hint = "the API token was refused: check that it is a valid, unrevoked token (dashboard → Account → API tokens)"
		}
		return "", fmt.Errorf("exchange the API token: %w", err)
	}
	if res.Token == "" {
		return "", errors.New("exchange the API token: the answer holds no token")
	}
	c.opts.OnJWT(res.Token)
	c.jwtMu.Lock()
	defer c.jwtMu.Unlock()
	c.jwt = res.Token
	c.jwtExp = jwtExpiry(res.Token, c.clk.Now())
	return c.jwt, nil
}

// forgetJWT drops the JWT a request was refused with, unless another request has
// renewed it meanwhile.
func (c *Client) forgetJWT(used string) {
	c.jwtMu.Lock()
	defer c.jwtMu.Unlock()
	if c.jwt == used {
		c.jwt = ""
	}
}

// Authenticate exchanges the API token now, so that a refused token is reported before
// any other work.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.bearer(ctx)
	return err
}

// jwtExpiry reads the exp claim without verifying the signature (the API does that).
// Scalingo documents a one-hour life, assumed when the claim cannot be read.
func jwtExpiry(jwt string, now time.Time) time.Time {
	parts := strings.Split(jwt, ".")
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "=")); err == nil {
			var claims struct {
				Exp json.Number `json:"exp"`
			}
			if json.Unmarshal(payload, &claims) == nil {
				if secs, err := claims.Exp.Float64(); err == nil && secs > 0 {
					return time.Unix(int64(secs), 0)
				}
			}
		}
	}
	return now.Add(time.Hour)
}
