package scalingo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an answer from the Scalingo API outside 2xx.
type APIError struct {
	Method     string
	Path       string // the URL path: never the query, which may hold a signature
	StatusCode int
	Message    string // the API's own words
	Resource   string // on 404: what was not found ("app", …)
	RequestID  string // X-Request-Id, for Scalingo's support
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

// maxErrorBody caps how much of an error body is read: enough for any JSON error, not a
// whole HTML page.
const maxErrorBody = 64 << 10

// newAPIError reads resp's body (capped) into an APIError. Every documented shape is
// understood: {"error"}, {"errors":{field:[…]}}, {"resource","error"}, and plain text
// such as the 429's "Retry later".
func newAPIError(req *http.Request, resp *http.Response, now func() time.Time) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		Method:     req.Method,
		Path:       req.URL.Path,
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
	e.Message, e.Resource = decodeErrorBody(body)
	return e
}

// decodeErrorBody turns an error body into one line of text.
func decodeErrorBody(body []byte) (msg, resource string) {
	var shaped struct {
		Error    any                 `json:"error"`
		Errors   map[string][]string `json:"errors"`
		Message  string              `json:"message"`
		Resource string              `json:"resource"`
	}
	trimmed := strings.TrimSpace(string(body))
	if err := json.Unmarshal(body, &shaped); err == nil && strings.HasPrefix(trimmed, "{") {
		var parts []string
		switch v := shaped.Error.(type) {
		case string:
			parts = append(parts, v)
		case nil:
		default:
			if b, err := json.Marshal(v); err == nil {
				parts = append(parts, string(b))
			}
		}
		if shaped.Message != "" {
			parts = append(parts, shaped.Message)
		}
		fields := make([]string, 0, len(shaped.Errors))
		for f := range shaped.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			parts = append(parts, f+" "+strings.Join(shaped.Errors[f], ", "))
		}
		return oneLine(strings.Join(parts, "; ")), shaped.Resource
	}
	if strings.HasPrefix(trimmed, "<") {
		// An HTML page from a proxy or load balancer says nothing useful past its title.
		if i := strings.Index(asciiLower(trimmed), "<title>"); i >= 0 {
			rest := trimmed[i+len("<title>"):]
			if j := strings.Index(asciiLower(rest), "</title>"); j >= 0 {
				return oneLine(rest[:j]), ""
			}
		}
		return "(an HTML page)", ""
	}
	return oneLine(trimmed), ""
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

// oneLine folds text onto one line of at most 300 bytes, so an error never floods a log.
func oneLine(s string) string {
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

func parseRetryAfter(v string, now func() time.Time) time.Duration {
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

// Redact returns u without its query string and credentials: a signed URL's query is a
// bearer secret for as long as it is valid.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			return u[:i] + "?[redacted]"
		}
		return u
	}
	p.User = nil
	if p.RawQuery != "" || p.Fragment != "" {
		p.RawQuery, p.Fragment = "", ""
		return p.String() + "?[redacted]"
	}
	return p.String()
}

// redactErr returns err with every URL inside it stripped of its query: a *url.Error
// prints the full URL, also when wrapped (the WebSocket library wraps one). The result
// still unwraps to err for errors.Is and errors.As.
func redactErr(err error) error {
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
