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

// FuzzInputLists feeds arbitrary targets, variables and health checks to Load: it must never
// panic, every error must be invalid input without the token, and what it accepts must keep
// the rules (1 to 20 distinct targets each with a region, valid variable names, bounded
// values, a health check only with wait).
func FuzzInputLists(f *testing.F) {
	f.Add("api,worker@osc-secnum-fr1", "A=1\n# c\nB=x,y=z", "/healthz", "30s", "true", "")
	f.Add("a\na@osc-fr1", "=v", "//x", "0s", "false", "https://api.example.com")
	f.Add("a@b@c", "A=1\nA=2", "https://u:p@h/x", "2m", "FALSE", "http://127.0.0.1:99999")
	f.Add(" ,\n", "\r\n", "http://[::1]:80/x", "-1s", "1", "")
	f.Fuzz(func(t *testing.T, app, vars, health, healthTimeout, wait, apiURL string) {
		const token = "tk-us-fuzz-secret"
		e := env("SCALINGO_API_TOKEN", token, "SCALINGO_APP", app, "SCALINGO_ENV", vars,
			"SCALINGO_HEALTH_CHECK", health, "SCALINGO_HEALTH_CHECK_TIMEOUT", healthTimeout,
			"SCALINGO_WAIT", wait, "SCALINGO_API_URL", apiURL, "CI_PROJECT_DIR", "/ws")
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
		if n := len(c.Targets); n < 1 || n > MaxTargets {
			t.Errorf("%d targets accepted", n)
		}
		seen := map[Target]bool{}
		for _, tg := range c.Targets {
			if seen[tg] || tg.Region == "" || !appName.MatchString(tg.App) {
				t.Errorf("target %+v accepted (repeated, no region or bad name)", tg)
			}
			seen[tg] = true
		}
		if c.App != c.Targets[0].App || c.Region != c.Targets[0].Region {
			t.Errorf("App, Region = %q, %q; first target %+v", c.App, c.Region, c.Targets[0])
		}
		for _, v := range c.Env {
			if !envVarName.MatchString(v.Name) || len(v.Value) > MaxEnvValueBytes || strings.Contains(v.Value, "\n") {
				t.Errorf("variable %q accepted", v.Name)
			}
		}
		if c.HealthCheck != "" && !c.Wait {
			t.Error("health check accepted with wait=false")
		}
		if c.HealthCheckTimeout <= 0 {
			t.Errorf("health check timeout %s", c.HealthCheckTimeout)
		}
	})
}
