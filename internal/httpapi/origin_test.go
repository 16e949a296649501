package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCheckRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to string
		follow         bool
	}{
		{"same origin", "https://api.example/v1/a", "https://api.example/v1/b", true},
		{"default port written out", "https://api.example/v1/a", "https://API.example:443/v1/b", true},
		{"plain default port", "http://127.0.0.1/a", "http://127.0.0.1:80/b", true},
		{"another port", "http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a", false},
		{"https to http", "https://api.example/a", "http://api.example/a", false},
		{"https to http on 443", "https://api.example/a", "http://api.example:443/a", false},
		{"another host", "https://api.example/a", "https://evil.example/a", false},
		{"a subdomain", "https://example.com/a", "https://api.example.com/a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from, _ := http.NewRequest(http.MethodGet, tt.from, nil)
			to, _ := http.NewRequest(http.MethodGet, tt.to+"?X-Signature=s3cr3t", nil)
			err := CheckRedirect(to, []*http.Request{from})
			if tt.follow {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("followed: %v", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), Redact(tt.to)) {
				t.Errorf("the error should name %s without its query: %v", tt.to, err)
			}
		})
	}
	// The first request's origin counts, not the last hop's.
	a, _ := http.NewRequest(http.MethodGet, "https://api.example/a", nil)
	b, _ := http.NewRequest(http.MethodGet, "https://api.example/b", nil)
	c, _ := http.NewRequest(http.MethodGet, "https://api.example:8443/c", nil)
	if CheckRedirect(c, []*http.Request{a, b}) == nil {
		t.Error("a second hop out of the origin was followed")
	}
}

func TestMaskUserinfo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://admin:pw@app.example/healthz", "http://admin:***@app.example/healthz"},
		{"https://ghp_secret@host", "https://***@host"},
		{"https://host/p?u=a@b", "https://host/p?u=a@b"},
		{"https://u:p@ss@host/x", "https://u:***@host/x"},
		{"not a url", "not a url"},
		{"%zz://a:b@h/", "%zz://a:***@h/"},
	}
	for _, tt := range tests {
		if got := MaskUserinfo(tt.in); got != tt.want {
			t.Errorf("MaskUserinfo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
