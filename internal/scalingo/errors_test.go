package scalingo

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecodeErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, msg, resource string
	}{
		{"error", `{"error":"invalid token"}`, "invalid token", ""},
		{"not found", `{"resource":"app","error":"not found"}`, "not found", "app"},
		{"422 errors", `{"errors":{"source_url":["is required"],"app":["missing field","bad"]}}`, "app missing field, bad; source_url is required", ""},
		{"402 with url", `{"error":"free trial ended","url":"https://x/billing"}`, "free trial ended", ""},
		{"error and code", `{"error":"region disabled","code":"region_disabled"}`, "region disabled", ""},
		{"plain 429", "Retry later\n", "Retry later", ""},
		{"html", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "502 Bad Gateway", ""},
		{"html without title", "<html><body>oops</body></html>", "(an HTML page)", ""},
		{"empty", "", "", ""},
		{"non-string error", `{"error":{"detail":"x"}}`, `{"detail":"x"}`, ""},
		{"multi-line text", "line one\n\n  line two", "line one line two", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, res := decodeErrorBody([]byte(tt.body))
			if msg != tt.msg || res != tt.resource {
				t.Errorf("decodeErrorBody(%q) = %q, %q; want %q, %q", tt.body, msg, res, tt.msg, tt.resource)
			}
		})
	}
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name, jwt string
		want      time.Time
	}{
		{"exp claim", "h." + b64(`{"exp":1700003600,"jti":"x"}`) + ".s", time.Unix(1700003600, 0)},
		{"float exp", "h." + b64(`{"exp":1700000100.5}`) + ".s", time.Unix(1700000100, 0)},
		{"no exp: one hour", "h." + b64(`{"sub":"u"}`) + ".s", now.Add(time.Hour)},
		{"not a JWT", "opaque-token", now.Add(time.Hour)},
	}
	for _, tt := range tests {
		if got := jwtExpiry(tt.jwt, now); !got.Equal(tt.want) {
			t.Errorf("%s: jwtExpiry = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	data := []byte(s)
	for i := 0; i < len(data); i += 3 {
		var n uint32
		k := min(3, len(data)-i)
		for j := 0; j < 3; j++ {
			n <<= 8
			if j < k {
				n |= uint32(data[i+j])
			}
		}
		for j := 0; j < k+1; j++ {
			out = append(out, enc[(n>>(18-6*j))&63])
		}
	}
	return string(out)
}

// FuzzDecodeErrorBody feeds the error decoder arbitrary bodies: it must never panic, and
// its message stays one bounded line whatever the body.
func FuzzDecodeErrorBody(f *testing.F) {
	for _, seed := range []string{
		`{"error":"x"}`, `{"errors":{"a":["b"]}}`, `{"resource":"app","error":"not found"}`,
		"Retry later", "<html><title>t</title></html>", "", `{"error":null}`, `[1,2]`, `{"errors":"x"}`,
		strings.Repeat("a", 100000),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, _ := decodeErrorBody(body)
		if strings.ContainsAny(msg, "\n\r") {
			t.Errorf("message spans lines: %q", msg)
		}
		if utf8.RuneCountInString(msg) > 301 {
			t.Errorf("message too long: %d runes", utf8.RuneCountInString(msg))
		}
	})
}
