// Package scalingo is a small client for the parts of the Scalingo API a deploy needs:
// token exchange, apps, sources, the upload to a signed URL, deployments and their logs.
//
// It follows the API as it really behaves (see shared/docs/scalingo-api.md): the API
// token is exchanged for a bearer JWT that is renewed before it expires; responses are
// rooted objects; errors come in several shapes, 429s in plain text. Idempotent calls are
// retried with capped exponential backoff; creating a deployment is not (see deploy).
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
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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
	// Now and Sleep are the clock; tests replace them so that nothing waits for real.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf receives one line per retry.
	Logf func(format string, args ...any)
	// OnJWT is called with every new bearer token before it is used, so that the
	// caller can mask it in CI logs.
	OnJWT func(jwt string)
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// MaxAttempts bounds the attempts of a retried call; 0 means 6.
	MaxAttempts int
	// RetryBase and RetryMax bound the backoff; 0 means 1s and 30s.
	RetryBase, RetryMax time.Duration
	// CallTimeout bounds one API call; 0 means 60s. The upload has its own bound.
	CallTimeout time.Duration
}

// Client talks to one Scalingo region. It is safe for concurrent use.
type Client struct {
	opts    Options
	apiURL  *url.URL
	authURL *url.URL
	api     *http.Client // API calls: bounded per call
	storage *http.Client // uploads: no Authorization, no automatic redirects

	ws *http.Client // the WebSocket handshake: HTTP/1.1 only

	exchange sync.Mutex // held during a token exchange
	mu       sync.Mutex // guards what follows
	jwt      string
	jwtExp   time.Time
}

// New returns a Client. It sends no request.
func New(opts Options) (*Client, error) {
	if opts.UserAgent == "" {
		opts.UserAgent = "scalingo-deploy"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.OnJWT == nil {
		opts.OnJWT = func(string) {}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 6
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	authURL, err := baseURL(opts.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("auth URL: %w", err)
	}
	c := &Client{opts: opts, authURL: authURL}
	if opts.APIURL != "" {
		if c.apiURL, err = baseURL(opts.APIURL); err != nil {
			return nil, fmt.Errorf("API URL: %w", err)
		}
	}
	transport := opts.Transport
	if transport == nil {
		transport = newTransport(opts.Getenv)
	}
	c.api = &http.Client{Transport: transport}
	c.ws = c.api
	if t, ok := transport.(*http.Transport); ok {
		t = t.Clone()
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		c.ws = &http.Client{Transport: t}
	}
	c.storage = &http.Client{
		Transport: transport,
		// Go would turn a redirected PUT into a GET (301/302) and report the GET's 200:
		// redirects are followed by hand, re-sending the body (see Upload).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func baseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return u, nil
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

// SetAPIURL points the client at a region's API once it is known (see Regions).
func (c *Client) SetAPIURL(raw string) error {
	u, err := baseURL(raw)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apiURL = u
	return nil
}

// APIURL returns the API base URL in use.
func (c *Client) APIURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiURL == nil {
		return ""
	}
	return c.apiURL.String()
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
}

// do sends c and decodes a JSON answer into out (a *string receives the raw text). It
// retries what is safe to retry and renews the bearer token once on a 401.
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
		var apiErr *APIError
		if err == nil {
			if accepted(resp.StatusCode, cl.accept) {
				defer resp.Body.Close()
				return decode(resp, out)
			}
			apiErr = newAPIError(req, resp)
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized && cl.auth == "" && !renewed {
				// The JWT may have been revoked or expired early: exchange once more.
				renewed = true
				c.forgetJWT()
				attempt--
				continue
			}
			err = apiErr
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !cl.idempotent || !retryable(apiErr, err) || attempt >= c.opts.MaxAttempts {
			if attempt > 1 {
				return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return err
		}
		wait := c.backoff(attempt, apiErr)
		if dl, ok := ctx.Deadline(); ok && c.opts.Now().Add(wait).After(dl) {
			return fmt.Errorf("gave up after %d attempts (no time left to retry): %w", attempt, err)
		}
		c.opts.Logf("%s %s failed (%s); retry %d/%d in %s", cl.method, target.Path, short(err), attempt, c.opts.MaxAttempts-1, wait.Round(time.Millisecond))
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (c *Client) target(cl call) (*url.URL, error) {
	if cl.abs != "" {
		u, err := url.Parse(cl.abs)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("the API gave an unusable URL %q", Redact(cl.abs))
		}
		return u, nil
	}
	c.mu.Lock()
	base := cl.base
	if base == nil {
		base = c.apiURL
	}
	c.mu.Unlock()
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
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target.String(), rd)
	if err != nil {
		cancel()
		return nil, nil, err
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

// retryable tells whether a failed attempt may be tried again: a transport error, a 429
// or a 5xx that says "try later". 501 and other 4xx will not change.
func retryable(apiErr *APIError, err error) bool {
	if apiErr == nil {
		var ne net.Error
		return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || isConnError(err)
	}
	switch apiErr.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func isConnError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled)
}

// backoff is capped exponential with jitter, or the server's Retry-After when it gives one.
func (c *Client) backoff(attempt int, apiErr *APIError) time.Duration {
	if apiErr != nil && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, 2*c.opts.RetryMax)
	}
	d := c.opts.RetryBase << (attempt - 1)
	if d <= 0 || d > c.opts.RetryMax {
		d = c.opts.RetryMax
	}
	// Full jitter in [d/2, d): runners retrying together spread out.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// bearer returns a JWT valid for at least five more minutes, exchanging the API token
// when needed. Deployments can outlast a JWT (one hour), so it is checked on every call.
func (c *Client) bearer(ctx context.Context) (string, error) {
	// One exchange at a time: the poller and the log stream may both need a token.
	c.exchange.Lock()
	defer c.exchange.Unlock()
	c.mu.Lock()
	jwt, exp := c.jwt, c.jwtExp
	c.mu.Unlock()
	if jwt != "" && exp.Sub(c.opts.Now()) > 5*time.Minute {
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jwt = res.Token
	c.jwtExp = jwtExpiry(res.Token, c.opts.Now())
	return c.jwt, nil
}

func (c *Client) forgetJWT() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jwt = ""
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
