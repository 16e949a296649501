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
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"golang.org/x/net/http/httpproxy"
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
	api     *http.Client // API calls: bounded per call
	storage *http.Client // uploads: no Authorization, no automatic redirects

	ws *http.Client // the WebSocket handshake: HTTP/1.1 only

	exchange sync.Mutex // held during a token exchange
	jwtMu    sync.Mutex // guards what follows
	jwt      string
	jwtExp   time.Time
}

// Client talks to one Scalingo region. It is safe for concurrent use.
type Client struct {
	*session
	apiURL *url.URL // set once, by New or ForRegion
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
	s := &session{opts: opts, clk: opts.Clock, policy: DefaultPolicy(), limiter: opts.Limiter}
	if s.clk == nil {
		s.clk = clock.Real
	}
	if opts.Policy != nil {
		s.policy = opts.Policy.withDefaults()
	}
	if s.limiter == nil {
		s.limiter = NewLimiter(APIRequestsPerMinute, time.Minute, s.clk)
	}
	var err error
	if s.authURL, err = baseURL(opts.AuthURL); err != nil {
		return nil, fmt.Errorf("auth URL: %w", err)
	}
	c := &Client{session: s}
	if opts.APIURL != "" {
		if c.apiURL, err = baseURL(opts.APIURL); err != nil {
			return nil, fmt.Errorf("API URL: %w", err)
		}
	}
	transport := opts.Transport
	if transport == nil {
		transport = newTransport(opts.Getenv)
	}
	s.api = &http.Client{Transport: transport}
	s.ws = s.api
	if t, ok := transport.(*http.Transport); ok {
		t = t.Clone()
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		s.ws = &http.Client{Transport: t}
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
	return &Client{session: c.session, apiURL: u}, nil
}

// Policy returns the retry policy the client follows, for the callers that retry on
// their own terms (the deployment creation).
func (c *Client) Policy() Policy { return c.policy }

// sleep waits d on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.clk.After(d):
		return nil
	}
}

func baseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || !usable(u) {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL with a valid port", Redact(raw))
	}
	return u, nil
}

// usable tells an absolute http(s) URL whose port, if any, is one a connection can use:
// url.Parse accepts any digits.
func usable(u *url.URL) bool {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		return err == nil && n >= 1 && n <= 65535
	}
	return !strings.HasSuffix(u.Host, ":")
}

// newTransport is http.DefaultTransport's setup with bounded connects and the proxy
// variables read through getenv rather than the process environment.
func newTransport(getenv func(string) string) *http.Transport {
	proxy := func(*http.Request) (*url.URL, error) { return nil, nil }
	if getenv != nil {
		cfg := httpproxy.Config{
			HTTPProxy:  firstEnv(getenv, "HTTP_PROXY", "http_proxy"),
			HTTPSProxy: firstEnv(getenv, "HTTPS_PROXY", "https_proxy"),
			NoProxy:    firstEnv(getenv, "NO_PROXY", "no_proxy"),
		}
		pf := cfg.ProxyFunc()
		proxy = func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func firstEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// Close releases the client's idle connections, so that a finished run leaves no
// goroutine behind.
func (c *Client) Close() {
	c.api.CloseIdleConnections()
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

// onAPI refuses a URL that an answer named (links.output, an operation's Location) on
// another host than the API's: the bearer token goes with the request, only to the API.
func (c *Client) onAPI(u *url.URL) error {
	if c.apiURL == nil || u.Scheme != c.apiURL.Scheme || u.Host != c.apiURL.Host {
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

// do sends c and decodes a JSON answer into out (a *string receives the raw text). It
// retries what the policy says is safe to retry and renews the bearer token once on a
// 401.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return err
		}
	}
	target, err := c.target(cl)
	if err != nil {
		return err
	}
	renewed := false
	for attempt := 1; ; attempt++ {
		resp, req, err := c.send(ctx, cl, target, body)
		if f, ok := err.(*final); ok {
			return f.err
		}
		if err == nil {
			if accepted(resp.StatusCode, cl.accept) {
				defer resp.Body.Close()
				if cl.header != nil {
					cl.header(resp.Header)
				}
				return decode(resp, out)
			}
			apiErr := newAPIError(req, resp, c.clk.Now)
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized && cl.auth == "" && !renewed {
				// The JWT may have been revoked or expired early: exchange once more.
				renewed = true
				c.forgetJWT(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "))
				attempt--
				continue
			}
			err = apiErr
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !(cl.idempotent || cl.retryRefused && refused(err)) || !c.policy.Retryable(err) || attempt >= c.policy.MaxAttempts {
			if attempt > 1 {
				return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return err
		}
		wait := c.policy.Wait(attempt, err)
		// A context's deadline is in real time, whatever the client's clock; a deadline
		// on the run's clock (clock.WithDeadline) is checked on the client's.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait || !clock.Fits(ctx, c.clk.Now(), wait) {
			return fmt.Errorf("gave up after %d attempts (no time left to retry): %w", attempt, err)
		}
		c.opts.Logf("%s %s failed (%s); retry %d/%d in %s", cl.method, target.Path, short(err), attempt, c.policy.MaxAttempts-1, wait.Round(time.Millisecond))
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// refused tells a 429: the API did nothing with the request.
func refused(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests
}

func (c *Client) target(cl call) (*url.URL, error) {
	if cl.abs != "" {
		u, err := url.Parse(cl.abs)
		if err != nil || !usable(u) {
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

func (c *Client) send(ctx context.Context, cl call, target *url.URL, body []byte) (*http.Response, *http.Request, error) {
	// Every API request, retries and token exchanges included, spends the budget; the
	// wait for it is not part of the call's timeout.
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, nil, &final{err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target.String(), rd)
	if err != nil {
		// An invalid request stays invalid.
		cancel()
		return nil, nil, &final{redactErr(err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch cl.auth {
	case "basic":
		req.SetBasicAuth("", c.opts.APIToken)
	case "none":
	default:
		jwt, err := c.bearer(ctx)
		if err != nil {
			cancel()
			return nil, nil, &final{err}
		}
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	resp, err := c.api.Do(req)
	if err != nil {
		cancel()
		return nil, req, fmt.Errorf("%s %s: %w", cl.method, target.Path, redactErr(err))
	}
	// The body must stay readable after send returns: cancel with it.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, req, nil
}

// final marks an error that retrying the call cannot mend (the token exchange retries
// on its own).
type final struct{ err error }

func (f *final) Error() string { return f.err.Error() }

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func accepted(status int, accept []int) bool {
	if len(accept) == 0 {
		return status >= 200 && status < 300
	}
	for _, s := range accept {
		if s == status {
			return true
		}
	}
	return false
}

// maxBody caps a success body; a build log is the largest thing read, and a 30-minute
// build's log stays well under it.
const maxBody = 32 << 20

func decode(resp *http.Response, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read the answer: %w", redactErr(err))
	}
	switch v := out.(type) {
	case nil:
		return nil
	case *string:
		*v = string(data)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode the answer (HTTP %d, %s): %w", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return nil
}

func short(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("HTTP %d", apiErr.StatusCode)
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
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
