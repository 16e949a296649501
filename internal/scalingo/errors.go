package scalingo

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// The HTTP core's types under the names this package's callers know.
type (
	// APIError is an answer from the Scalingo API outside the accepted statuses.
	APIError = httpapi.APIError
	// Policy is the retry policy shared by every call, the upload and the deployment
	// creation.
	Policy = httpapi.Policy
	// Limiter is the request budget of a run, shared by every regional client.
	Limiter = httpapi.Limiter
)

// DefaultPolicy is the core's default retry policy.
func DefaultPolicy() Policy { return httpapi.DefaultPolicy() }

// NewLimiter is httpapi.NewLimiter (a variable, so that it follows the core's signature).
var NewLimiter = httpapi.NewLimiter

// LimiterMargin is httpapi.LimiterMargin: how much longer than a minute a request counts.
const LimiterMargin = httpapi.LimiterMargin

// Redact returns u without its query string and credentials (httpapi.Redact).
func Redact(u string) string { return httpapi.Redact(u) }

func redactErr(err error) error { return httpapi.RedactErr(err) }

func oneLine(s string) string { return httpapi.OneLine(s) }

func short(err error) string { return httpapi.Short(err) }

// decodeErrorBody turns a Scalingo error body into one line of text. Every documented
// shape is understood: {"error"}, {"errors":{field:[…]}}, {"resource","error"}, and
// plain text such as the 429's "Retry later".
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
	return httpapi.TextMessage(body), ""
}
