package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("upstream provider returned an error, please retry later"))
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/apps/x?secret=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e := newAPIError(req, resp, time.Now, func(b []byte) (string, string) { return TextMessage(b), "" }, "X-Request-Id")
	got := e.Error()
	want := "GET /v1/apps/x: HTTP 503 Service Unavailable: upstream provider returned an error, please retry later (request id req-42)"
	if got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	if e.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %s", e.RetryAfter)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://s3.example/b/k?X-Amz-Signature=abc&X-Amz-Credential=x", "https://s3.example/b/k?[redacted]"},
		{"https://user:pw@host/p", "https://user:***@host/p"},
		{"https://ghp_token@host/p", "https://***@host/p"},
		{"%zz://admin:pw@host/p?x=1", "%zz://admin:***@host/p?[redacted]"},
		{"https://host/p", "https://host/p"},
		{"https://host/p#frag", "https://host/p?[redacted]"},
		{"%zz?token=1", "%zz?[redacted]"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	inner := &url.Error{Op: "Put", URL: "https://h/k?X-Amz-Signature=s3cr3t", Err: http.ErrHandlerTimeout}
	for _, err := range []error{inner, fmt.Errorf("failed to WebSocket dial: %w", inner)} {
		red := RedactErr(err)
		if strings.Contains(red.Error(), "s3cr3t") || !strings.Contains(red.Error(), "https://h/k?[redacted]") {
			t.Errorf("RedactErr(%v) = %v", err, red)
		}
		if !errors.Is(red, http.ErrHandlerTimeout) {
			t.Errorf("RedactErr(%v) no longer unwraps", err)
		}
	}
}
