package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	post := func(err error) error { return &url.Error{Op: "Post", URL: "https://api.example/v1/x", Err: err} }
	dial := func(err error) error { return post(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	tests := []struct {
		name     string
		err      error
		attempt  int
		retry    bool
		min, max time.Duration // the wait, when retried
	}{
		{"429 with Retry-After", &APIError{StatusCode: 429, RetryAfter: 5 * time.Second}, 1, true, 5 * time.Second, 5 * time.Second},
		{"429 Retry-After capped", &APIError{StatusCode: 429, RetryAfter: 2 * time.Hour}, 1, true, time.Minute, time.Minute},
		{"429 without Retry-After", &APIError{StatusCode: 429}, 1, true, 500 * time.Millisecond, time.Second},
		{"500", &APIError{StatusCode: 500}, 2, true, time.Second, 2 * time.Second},
		{"502", &APIError{StatusCode: 502}, 3, true, 2 * time.Second, 4 * time.Second},
		{"503 wrapped", fmt.Errorf("create a source: %w", &APIError{StatusCode: 503}), 1, true, 500 * time.Millisecond, time.Second},
		{"504 late: capped backoff", &APIError{StatusCode: 504}, 10, true, 15 * time.Second, 30 * time.Second},
		{"599", &APIError{StatusCode: 599}, 1, true, 500 * time.Millisecond, time.Second},
		{"501 never changes", &APIError{StatusCode: 501}, 1, false, 0, 0},
		{"400", &APIError{StatusCode: 400}, 1, false, 0, 0},
		{"401", &APIError{StatusCode: 401}, 1, false, 0, 0},
		{"403", &APIError{StatusCode: 403}, 1, false, 0, 0},
		{"404", &APIError{StatusCode: 404}, 1, false, 0, 0},
		{"409", &APIError{StatusCode: 409}, 1, false, 0, 0},
		{"422", &APIError{StatusCode: 422}, 1, false, 0, 0},
		{"another status error 503", statusErr(503), 1, true, 500 * time.Millisecond, time.Second},
		{"another status error 403", statusErr(403), 1, false, 0, 0},
		{"status error wrapped with a sentinel", fmt.Errorf("%w: %w", errors.New("the signed URL has expired"), statusErr(403)), 1, false, 0, 0},
		{"connection refused", dial(syscall.ECONNREFUSED), 1, true, 500 * time.Millisecond, time.Second},
		{"connection reset", post(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), 1, true, 500 * time.Millisecond, time.Second},
		{"EOF", post(io.EOF), 1, true, 500 * time.Millisecond, time.Second},
		{"unexpected EOF reading the body", fmt.Errorf("read the answer: %w", io.ErrUnexpectedEOF), 1, true, 500 * time.Millisecond, time.Second},
		{"call timeout", post(context.DeadlineExceeded), 1, true, 500 * time.Millisecond, time.Second},
		{"cancelled", post(context.Canceled), 1, false, 0, 0},
		{"unknown authority", post(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), 1, false, 0, 0},
		{"bare unknown authority", post(x509.UnknownAuthorityError{}), 1, false, 0, 0},
		{"wrong host name", post(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "api.example"}), 1, false, 0, 0},
		{"expired certificate", post(x509.CertificateInvalidError{Reason: x509.Expired}), 1, false, 0, 0},
		{"certificate not trusted (macOS text)", post(errors.New("x509: “api” certificate is not trusted")), 1, false, 0, 0},
		{"unsupported scheme", post(errors.New(`unsupported protocol scheme "ftp"`)), 1, false, 0, 0},
		{"too many redirects", post(errors.New("stopped after 10 redirects")), 1, false, 0, 0},
		{"invalid header", post(errors.New(`net/http: invalid header field value for "User-Agent"`)), 1, false, 0, 0},
		{"invalid URL", &url.Error{Op: "parse", URL: "http://[::1", Err: errors.New("missing ']' in host")}, 1, false, 0, 0},
		{"invalid port", dial(&net.AddrError{Err: "invalid port", Addr: "99999"}), 1, false, 0, 0},
		{"redirect out of the origin", post(&RedirectError{From: "https://api.example", Location: "http://api.example:8080/v1/x"}), 1, false, 0, 0},
		{"no such host", dial(&net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}), 1, false, 0, 0},
		{"DNS server unreachable", dial(&net.DNSError{Err: "i/o timeout", Name: "api.example", IsTimeout: true}), 1, true, 500 * time.Millisecond, time.Second},
		{"final", &final{errors.New("exchange the API token: refused")}, 1, false, 0, 0},
		{"a decoding error", errors.New("decode the answer: invalid character"), 1, false, 0, 0},
		{"nil", nil, 1, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Retryable(tt.err); got != tt.retry {
				t.Fatalf("Retryable(%v) = %v, want %v", tt.err, got, tt.retry)
			}
			if !tt.retry {
				return
			}
			for range 50 { // the jitter stays within bounds
				if w := p.Wait(tt.attempt, tt.err); w < tt.min || w > tt.max {
					t.Fatalf("Wait(%d) = %s, want within [%s, %s]", tt.attempt, w, tt.min, tt.max)
				}
			}
		})
	}
}

func TestPolicy_Defaults(t *testing.T) {
	t.Parallel()
	got := Policy{MaxAttempts: 2}.withDefaults()
	want := DefaultPolicy()
	want.MaxAttempts = 2
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
	if w := (Policy{Base: time.Hour, Max: time.Second}).Wait(1, nil); w > time.Second {
		t.Errorf("a Base above Max waits %s", w)
	}
}

// statusErr stands for a refusal of another API than the JSON ones (an object store's).
type statusErr int

func (e statusErr) Error() string   { return fmt.Sprintf("HTTP %d", int(e)) }
func (e statusErr) HTTPStatus() int { return int(e) }
