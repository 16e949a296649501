package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary values to every input: Load must never panic, every error it
// returns must be invalid input (exit 2), and none may show the token.
func FuzzLoad(f *testing.F) {
	f.Add("40m", "true", "node_modules/,*.log", "osc-fr1", "https://api.example.com", "abc123", "300MiB", "", "my-app")
	f.Add("-1s", "maybe", "\n\n,", "OSC", "http://", "-x", "0", "x", "../etc")
	f.Add("1h", "FALSE", "a\r\nb", "osc-secnum-fr1", "http://127.0.0.1:1/", "v1.0.0", "1 GiB", "1700000000", "a")
	f.Fuzz(func(t *testing.T, timeout, wait, exclude, region, apiURL, gitRef, maxSize, epoch, app string) {
		const token = "tk-us-fuzz-secret"
		e := env("SCALINGO_API_TOKEN", token, "SCALINGO_APP", app, "SCALINGO_TIMEOUT", timeout,
			"SCALINGO_WAIT", wait, "SCALINGO_EXCLUDE", exclude, "SCALINGO_REGION", region,
			"SCALINGO_API_URL", apiURL, "SCALINGO_GIT_REF", gitRef, "SCALINGO_MAX_SIZE", maxSize,
			"SOURCE_DATE_EPOCH", epoch, "CI_PROJECT_DIR", "/ws")
		c, err := Load(nil, e)
		if err != nil {
			var ie interface{ InvalidInput() bool }
			if !errors.As(err, &ie) {
				t.Errorf("error %v is not invalid input", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error shows the token")
			}
			return
		}
		if c.Timeout <= 0 || c.MaxSize <= 0 {
			t.Errorf("accepted a non-positive timeout or size: %+v", c)
		}
		for _, p := range c.Exclude {
			if p == "" || strings.ContainsAny(p, ",\n") {
				t.Errorf("exclude pattern %q", p)
			}
		}
	})
}
