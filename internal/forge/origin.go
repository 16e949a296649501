// Package forge holds what the forge clients (forge/github, forge/gitlab) share: the
// origin rule that keeps a token on the API it was given for.
package forge

import (
	"net/http"
	"net/url"
	"strings"
)

// Origin is u's scheme://host:port, the port written out.
func Origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port(u)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// Same tells whether u is on base's origin: same scheme, host and port.
func Same(base, u *url.URL) bool { return Origin(base) == Origin(u) }

// SameOrigin wraps next so that a request leaving base's origin (a redirect, a link)
// carries no credential: net/http keeps custom headers across hosts and every header
// across a scheme change or a subdomain, so the rule is kept here, on every hop.
func SameOrigin(base *url.URL, next http.RoundTripper) http.RoundTripper {
	return &sameOrigin{base: base, next: next}
}

type sameOrigin struct {
	base *url.URL
	next http.RoundTripper
}

// credentials are the headers a forge reads a token from.
var credentials = []string{"Authorization", "Private-Token", "Job-Token", "Cookie"}

func (t *sameOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	if !Same(t.base, req.URL) {
		req = req.Clone(req.Context())
		for _, h := range credentials {
			req.Header.Del(h)
		}
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections passes on to the wrapped transport, so that Client.Close works.
func (t *sameOrigin) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
