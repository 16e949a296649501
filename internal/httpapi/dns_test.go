package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/dnstest"
)

// TestDo_HostNotFoundIsNotRetried: a name that does not exist (NXDOMAIN, from Go's own
// resolver asking a DNS server on 127.0.0.1) is said at once: one lookup, no retry.
func TestDo_HostNotFoundIsNotRetried(t *testing.T) {
	t.Parallel()
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	tr := NewTransport(nil)
	tr.DialContext = dns.Dialer().DialContext
	var retries atomic.Int32
	c := New(Config{
		Transport: tr,
		Policy:    Policy{MaxAttempts: 4, Base: time.Millisecond, Max: time.Millisecond},
		Logf:      func(string, ...any) { retries.Add(1) },
	})
	defer c.CloseIdleConnections()
	const host = "api.scalingo-deploy.invalid"
	u, _ := url.Parse("http://" + host + ":8080/v1/apps/x")
	err = c.Do(context.Background(), Request{Method: http.MethodGet, URL: u, Idempotent: true}, nil)
	if got := NotFoundHost(err); got != host {
		t.Fatalf("NotFoundHost(%v) = %q, want %q", err, got, host)
	}
	if n := retries.Load(); n != 0 || strings.Contains(err.Error(), "gave up") {
		t.Errorf("%d retries (%v), want none", n, err)
	}
	queries := dns.Queries()
	if len(queries) == 0 || len(queries) > 2 {
		t.Errorf("DNS queries %q, want one lookup (A and AAAA) of %s", queries, host)
	}
}
