// Package httpapi is the HTTP core every JSON API client of this tool shares (the
// Scalingo client today, the forges' later): one retry loop driven by a Policy, one
// request budget (Limiter), capped reads, a typed APIError whose body each API decodes
// its own way, and the redaction of secrets from anything an error prints.
//
// An API's client keeps its endpoints, its credentials and its error-body shapes; it
// hands each request to Client.Do.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"golang.org/x/net/http/httpproxy"
)

// Config configures a Client. The zero value is usable: no budget, the default policy,
// the real clock, a 60 s call timeout.
type Config struct {
	// Transport carries the requests; nil means NewTransport(nil).
	Transport http.RoundTripper
	Policy    Policy
	// Limiter is the budget every request spends, retries and token exchanges
	// included; nil means none.
	Limiter *Limiter
	// Clock times backoff and Retry-After; nil means clock.Real.
	Clock clock.Clock
	// CallTimeout bounds one attempt; 0 means 60 s. The wait for the budget is not part of it.
	CallTimeout time.Duration
	UserAgent   string
	// Logf receives one line per retry.
	Logf func(format string, args ...any)
	// ErrorBody reads the API's error bodies; nil means TextMessage.
	ErrorBody ErrorBodyFunc
	// RequestIDHeader names the header that carries the API's request id; "" means
	// X-Request-Id.
	RequestIDHeader string
}

// Client sends requests to one JSON API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	clk  clock.Clock
	http *http.Client
}

// New returns a Client. It sends no request.
func New(cfg Config) *Client {
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(nil)
	}
	cfg.Policy = cfg.Policy.withDefaults()
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 60 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.ErrorBody == nil {
		cfg.ErrorBody = func(body []byte) (string, string) { return TextMessage(body), "" }
	}
	if cfg.RequestIDHeader == "" {
		cfg.RequestIDHeader = "X-Request-Id"
	}
	return &Client{cfg: cfg, clk: cfg.Clock, http: NewHTTPClient(cfg.Transport)}
}

// Policy returns the retry policy the client follows.
func (c *Client) Policy() Policy { return c.cfg.Policy }

// CloseIdleConnections releases the client's idle connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Request is one API call.
type Request struct {
	Method string
	URL    *url.URL
	Body   any // JSON-encoded when not nil
	// Idempotent calls are retried as the policy says; the others are sent once.
	Idempotent bool
	// RetryRefused retries a call that is not idempotent after a 429, which refused it
	// before any work.
	RetryRefused bool
	// Accept lists the success statuses; empty means any 2xx.
	Accept []int
	// Header, when set, receives the headers of the success answer.
	Header func(http.Header)
	// Authorize attaches the credential to each attempt (within its timeout); nil sends
	// none. Its error ends the call: it is not retried.
	Authorize func(ctx context.Context, req *http.Request) error
	// Reauthorize is asked once, after a 401: it drops the credential req carried and
	// tells whether to send the call again with a fresh one.
	Reauthorize func(req *http.Request) bool
}

// Do sends r and decodes a JSON answer into out (a *string receives the raw text, nil
// drops it). It retries what the policy says is safe to retry and reauthorizes once
// after a 401.
func (c *Client) Do(ctx context.Context, r Request, out any) error {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = json.Marshal(r.Body); err != nil {
			return err
		}
	}
	policy := c.cfg.Policy
	renewed := false
	for attempt := 1; ; attempt++ {
		resp, req, err := c.send(ctx, r, body)
		if f, ok := err.(*final); ok {
			return f.err
		}
		if err == nil {
			if accepted(resp.StatusCode, r.Accept) {
				defer resp.Body.Close()
				if r.Header != nil {
					r.Header(resp.Header)
				}
				return decode(resp, out)
			}
			apiErr := newAPIError(req, resp, c.clk.Now, c.cfg.ErrorBody, c.cfg.RequestIDHeader)
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized && r.Reauthorize != nil && !renewed && r.Reauthorize(req) {
				// The credential may have been revoked or expired early: once more.
				renewed = true
				attempt--
				continue
			}
			err = apiErr
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !(r.Idempotent || r.RetryRefused && refused(err)) || !policy.Retryable(err) || attempt >= policy.MaxAttempts {
			if attempt > 1 {
				return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return err
		}
		wait := policy.Wait(attempt, err)
		// A context's deadline is in real time, whatever the client's clock; a deadline
		// on the run's clock (clock.WithDeadline) is checked on the client's.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait || !clock.Fits(ctx, c.clk.Now(), wait) {
			return fmt.Errorf("gave up after %d attempts (no time left to retry): %w", attempt, err)
		}
		c.cfg.Logf("%s %s failed (%s); retry %d/%d in %s", r.Method, r.URL.Path, Short(err), attempt, policy.MaxAttempts-1, wait.Round(time.Millisecond))
		if err := c.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Sleep waits d on the client's clock, or until ctx ends.
func (c *Client) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.clk.After(d):
		return nil
	}
}

// refused tells a 429: the API did nothing with the request.
func refused(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests
}

func (c *Client) send(ctx context.Context, r Request, body []byte) (*http.Response, *http.Request, error) {
	// Every request, retries and token exchanges included, spends the budget; the wait
	// for it is not part of the call's timeout.
	if c.cfg.Limiter != nil {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return nil, nil, &final{err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), rd)
	if err != nil {
		// An invalid request stays invalid.
		cancel()
		return nil, nil, &final{RedactErr(err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Authorize != nil {
		if err := r.Authorize(ctx, req); err != nil {
			cancel()
			return nil, nil, &final{err}
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, req, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, RedactErr(err))
	}
	// The body must stay readable after send returns: cancel with it.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, req, nil
}

// final marks an error that retrying the call cannot mend (a token exchange retries on
// its own).
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

// MaxBody caps a success body; a Scalingo build log is the largest thing read, and a
// 30-minute build's log stays well under it.
const MaxBody = 32 << 20

func decode(resp *http.Response, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return fmt.Errorf("read the answer: %w", RedactErr(err))
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

// Short is err in a few words, for a retry line: "HTTP 503", or the innermost cause.
func Short(err error) string {
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

// ParseBaseURL parses an API's base URL (trailing slashes dropped); it must be an
// absolute http(s) URL with a usable port.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || !Usable(u) {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL with a valid port", Redact(raw))
	}
	return u, nil
}

// Usable tells an absolute http(s) URL whose port, if any, is one a connection can use:
// url.Parse accepts any digits.
func Usable(u *url.URL) bool {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		return err == nil && n >= 1 && n <= 65535
	}
	return !strings.HasSuffix(u.Host, ":")
}

// NewTransport is http.DefaultTransport's setup with bounded connects and the proxy
// variables read through getenv rather than the process environment; getenv nil means
// no proxy.
func NewTransport(getenv func(string) string) *http.Transport {
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
