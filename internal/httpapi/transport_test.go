package httpapi

import (
	"net/http"
	"testing"
)

func TestNewTransport_Proxy(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HTTPS_PROXY": "http://proxy.corp:3128",
		"http_proxy":  "http://plain.corp:8080",
		"NO_PROXY":    "internal.corp,.svc",
	}
	proxy := NewTransport(func(k string) string { return env[k] }).Proxy
	tests := []struct{ url, want string }{
		{"https://api.osc-fr1.scalingo.com/v1/apps", "http://proxy.corp:3128"},
		{"http://api.example.com/", "http://plain.corp:8080"},
		{"https://internal.corp/x", ""},
		{"https://db.svc/x", ""},
		{"http://127.0.0.1:8080/", ""}, // Go never proxies loopback
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		u, err := proxy(req)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != tt.want {
			t.Errorf("proxy for %s = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
	if p, _ := NewTransport(nil).Proxy(&http.Request{}); p != nil {
		t.Errorf("no getenv: proxy %v, want none", p)
	}
}
