package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an answer from an API outside the statuses a call accepts.
type APIError struct {
	Method     string
	Path       string // the URL path: never the query, which may hold a signature
	StatusCode int
	Message    string // the API's own words, on one line
	Resource   string // what the API says was not found ("app", …), when it says
	RequestID  string // the request id header, for the API's support
	RetryAfter time.Duration
	Hint       string // what the user can do, when the client knows
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n  %s", e.Hint)
	}
	return b.String()
}

// HTTPStatus is the answer's status (StatusError).
func (e *APIError) HTTPStatus() int { return e.StatusCode }

// ErrorBodyFunc reads an API's error body: its message on one line and, when the API
// names one, the resource the error is about. Each API hands in its own shapes.
type ErrorBodyFunc func(body []byte) (message, resource string)

// maxErrorBody caps how much of an error body is read: enough for any JSON error, not a
// whole HTML page.
const maxErrorBody = 64 << 10

// newAPIError reads resp's body (capped) into an APIError.
func newAPIError(req *http.Request, resp *http.Response, now func() time.Time, body ErrorBodyFunc, requestID string) *APIError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		Method:     req.Method,
		Path:       req.URL.Path,
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get(requestID),
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
	e.Message, e.Resource = body(data)
	return e
}

// TextMessage turns a body that is not the API's JSON into one line: an HTML page from a
// proxy or load balancer says nothing useful past its title; plain text (a 429's "Retry
// later") is kept.
func TextMessage(body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "<") {
		if i := strings.Index(asciiLower(trimmed), "<title>"); i >= 0 {
			rest := trimmed[i+len("<title>"):]
			if j := strings.Index(asciiLower(rest), "</title>"); j >= 0 {
				return OneLine(rest[:j])
			}
		}
		return "(an HTML page)"
	}
	return OneLine(trimmed)
}

// asciiLower lowercases ASCII letters only, keeping byte offsets (strings.ToLower may
// change the length of non-ASCII text).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// OneLine folds text onto one line of at most 300 bytes, so an error never floods a log.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// ParseRetryAfter reads a Retry-After header, in seconds or as an HTTP date; 0 when
// absent, unreadable or past.
func ParseRetryAfter(v string, now func() time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now()); d > 0 {
			return d
		}
	}
	return 0
}

// Redact returns u without its query string and with its userinfo shown as "user:***@"
// (MaskUserinfo): a signed URL's query is a bearer secret for as long as it is valid.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i] + "?[redacted]"
		}
		return MaskUserinfo(u)
	}
	if p.RawQuery != "" || p.Fragment != "" {
		p.RawQuery, p.Fragment = "", ""
		return MaskUserinfo(p.String()) + "?[redacted]"
	}
	return MaskUserinfo(p.String())
}

// RedactErr returns err with every URL inside it stripped of its query: a *url.Error
// prints the full URL, also when wrapped (the WebSocket library wraps one). The result
// still unwraps to err for errors.Is and errors.As.
func RedactErr(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	msg := err.Error()
	if red := Redact(ue.URL); red != ue.URL {
		msg = strings.ReplaceAll(msg, ue.URL, red)
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
