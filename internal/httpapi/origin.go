package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// An origin is a scheme, a host and a port. A credential goes to the origin it was
// given for and nowhere else: Go's client keeps Authorization on a redirect to the same
// host name whatever the port or the scheme (https → http would carry it in clear), so
// every client that attaches one follows redirects only within the origin.

// SameOrigin tells whether a and b have the same scheme, host and port, a default port
// counting as written out.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		return "443"
	case "http", "ws":
		return "80"
	}
	return ""
}

// RedirectError is a redirect out of the request's origin, refused: nothing was sent
// there. Location is redacted (no query, no password).
type RedirectError struct {
	From, Location string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused a redirect from %s to %s: another origin (scheme, host or port), and credentials never leave theirs", e.From, e.Location)
}

// CheckRedirect is the http.Client.CheckRedirect of every client that attaches a
// credential: it follows a redirect only to the first request's origin, at most 10, and
// refuses any other with a *RedirectError before a byte is sent there.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects") // net/http's own words: Policy knows them
	}
	first := via[0].URL
	if !SameOrigin(req.URL, first) {
		return &RedirectError{From: Redact(first.Scheme + "://" + first.Host), Location: Redact(req.URL.String())}
	}
	return nil
}

// NewHTTPClient returns an http.Client on rt that keeps credentials in their origin
// (CheckRedirect).
func NewHTTPClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: CheckRedirect}
}

// NotFoundHost returns the host name that err says does not exist (DNS NXDOMAIN, "no such
// host"), or "". Such a name does not start resolving on a retry a few seconds later.
func NotFoundHost(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return de.Name
	}
	return ""
}

// MaskUserinfo shows the userinfo of a URL as "user:***@" (a user name alone, which may
// be a token, as "***@"), leaving the rest of s as it is; s need not parse.
func MaskUserinfo(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndexByte(s[start:end], '@')
	if at < 0 {
		return s
	}
	user, shown := s[start:start+at], "***"
	if k := strings.IndexByte(user, ':'); k >= 0 {
		shown = user[:k] + ":***"
	}
	return s[:start] + shown + s[start+at:]
}
