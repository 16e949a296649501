package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadErr runs Load expecting invalid input, and checks that the error is marked so and
// holds every fragment of want and none of hide.
func loadErr(t *testing.T, args, e, want, hide []string) {
	t.Helper()
	c, err := Load(args, env(e...))
	if err == nil {
		t.Fatalf("Load accepted it: %+v", c)
	}
	var ie interface{ InvalidInput() bool }
	if !errors.As(err, &ie) || !ie.InvalidInput() {
		t.Errorf("error %v is not marked as invalid input", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for _, h := range append(hide, "tk-us") {
		if strings.Contains(err.Error(), h) {
			t.Errorf("error %q shows %q", err, h)
		}
	}
}

func TestLoad_Targets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		env    []string
		want   []Target
		region string // Config.Region
		apiURL string // Config.APIURL
	}{
		{
			name: "one app", env: []string{"SCALINGO_APP", "my-app"},
			want: []Target{{"my-app", "osc-fr1"}}, region: "osc-fr1", apiURL: "https://api.osc-fr1.scalingo.com",
		},
		{
			name: "commas and newlines, blanks dropped, input order kept",
			env:  []string{"INPUT_APP", "api, worker\n\nfront,\r\n"},
			want: []Target{{"api", "osc-fr1"}, {"worker", "osc-fr1"}, {"front", "osc-fr1"}}, region: "osc-fr1", apiURL: "https://api.osc-fr1.scalingo.com",
		},
		{
			name: "the region input is the default of targets without one",
			env:  []string{"PLUGIN_APP", "staging@osc-fr1\nprod", "PLUGIN_REGION", "osc-secnum-fr1"},
			want: []Target{{"staging", "osc-fr1"}, {"prod", "osc-secnum-fr1"}}, region: "osc-fr1", apiURL: "https://api.osc-fr1.scalingo.com",
		},
		{
			name: "the first target's region is Region, with its API URL",
			args: []string{"--app", "prod@osc-secnum-fr1,staging"},
			want: []Target{{"prod", "osc-secnum-fr1"}, {"staging", "osc-fr1"}}, region: "osc-secnum-fr1", apiURL: "https://api.osc-secnum-fr1.scalingo.com",
		},
		{
			name: "one name in two regions",
			env:  []string{"SCALINGO_APP", "web@osc-fr1,web@osc-secnum-fr1"},
			want: []Target{{"web", "osc-fr1"}, {"web", "osc-secnum-fr1"}}, region: "osc-fr1", apiURL: "https://api.osc-fr1.scalingo.com",
		},
		{
			name: "a region that is not built in is looked up later",
			env:  []string{"SCALINGO_APP", "a@osc-new1"},
			want: []Target{{"a", "osc-new1"}}, region: "osc-new1", apiURL: "",
		},
		{
			name: "api-url with targets in one region",
			env:  []string{"SCALINGO_APP", "a@osc-new1, b", "SCALINGO_REGION", "osc-new1", "SCALINGO_API_URL", "http://127.0.0.1:8080/"},
			want: []Target{{"a", "osc-new1"}, {"b", "osc-new1"}}, region: "osc-new1", apiURL: "http://127.0.0.1:8080",
		},
		{
			name: "twenty targets",
			env:  []string{"SCALINGO_APP", numbered(20)},
			want: func() (ts []Target) {
				for i := 1; i <= 20; i++ {
					ts = append(ts, Target{fmt.Sprintf("app-%d", i), "osc-fr1"})
				}
				return ts
			}(), region: "osc-fr1", apiURL: "https://api.osc-fr1.scalingo.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(append([]string{"SCALINGO_API_TOKEN", "tk-us-plain", "CI_PROJECT_DIR", "/ws"}, tt.env...)...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(c.Targets, tt.want) {
				t.Errorf("Targets = %v, want %v", c.Targets, tt.want)
			}
			if c.App != tt.want[0].App || c.Region != tt.region || c.APIURL != tt.apiURL {
				t.Errorf("App, Region, APIURL = %q, %q, %q; want %q, %q, %q", c.App, c.Region, c.APIURL, tt.want[0].App, tt.region, tt.apiURL)
			}
			for _, target := range c.Targets {
				want := Regions[target.Region]
				if target.Region == c.Region {
					want = tt.apiURL
				}
				if got := c.APIURLFor(target.Region); got != want {
					t.Errorf("APIURLFor(%s) = %q, want %q", target.Region, got, want)
				}
			}
		})
	}
}

func numbered(n int) string {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("app-%d", i))
	}
	return strings.Join(names, "\n")
}

func TestLoad_TargetsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"an empty list", nil, []string{"SCALINGO_APP", " ,\n, "}, []string{"app: lists no app"}},
		{"a target given twice", nil, []string{"SCALINGO_APP", "api,worker,api"}, []string{"app: target api@osc-fr1 is given twice"}},
		{"two names that share their output names", nil, []string{"SCALINGO_APP", "my-api,my_api"}, []string{"app: targets my-api@osc-fr1 and my_api@osc-fr1 would share their output names (MY_API)"}},
		{"a target given twice, once with the default region", []string{"--region", "osc-secnum-fr1"}, []string{"SCALINGO_APP", "api\napi@osc-secnum-fr1"}, []string{"app: target api@osc-secnum-fr1 is given twice"}},
		{"twenty-one targets", nil, []string{"SCALINGO_APP", numbered(21)}, []string{"app: 21 targets; at most 20 in one run"}},
		{"a bad name among good ones", nil, []string{"SCALINGO_APP", "api,../etc,worker"}, []string{`app: "../etc" is not an app name`}},
		{"an empty region", nil, []string{"SCALINGO_APP", "api@"}, []string{`app: "" in "api@" is not a region name`}},
		{"two @", nil, []string{"SCALINGO_APP", "api@osc-fr1@x"}, []string{`app: "osc-fr1@x" in "api@osc-fr1@x" is not a region name`}},
		{"no name before @", nil, []string{"SCALINGO_APP", "@osc-fr1"}, []string{`app: "" is not an app name`}},
		{"api-url with targets in two regions", nil, []string{"SCALINGO_APP", "a@osc-fr1,b@osc-secnum-fr1", "SCALINGO_API_URL", "https://api.example.com"},
			[]string{"api-url: one API URL cannot serve targets in several regions (osc-fr1, osc-secnum-fr1)"}},
		{"api-url with a target outside the default region", []string{"--api-url", "https://api.example.com"}, []string{"SCALINGO_APP", "a,b@osc-secnum-fr1"},
			[]string{"api-url: one API URL cannot serve targets in several regions"}},
		{"the token as the second target", nil, []string{"SCALINGO_APP", "api\ntk-us-plain"}, []string{"app: target #2 holds the API token's value (not shown)"}},
		{"the token as a target's region", nil, []string{"SCALINGO_APP", "api@tk-us-plain"}, []string{"app: target #1 holds the API token's value"}},
		{"the token as the whole list", nil, []string{"INPUT_APP", "tk-us-plain"}, []string{"app: holds the API token's value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, tt.args, append([]string{"SCALINGO_API_TOKEN", "tk-us-plain", "CI_PROJECT_DIR", "/ws"}, tt.env...), tt.want, nil)
		})
	}
}

func TestLoad_Env(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("v", MaxEnvValueBytes)
	name64 := strings.Repeat("N", 64)
	tests := []struct {
		name  string
		value string
		want  []Var
	}{
		{"one variable", "A=1", []Var{{"A", "1"}}},
		{
			"comments, blank lines, CRLF, '=' and commas in values, spaces around",
			"# database\r\nDATABASE_URL=postgres://u:p@h/db?a=b,c\r\n\r\n  my-flag = on \n#X=1\nEMPTY=\n",
			[]Var{{"DATABASE_URL", "postgres://u:p@h/db?a=b,c"}, {"my-flag", "on"}, {"EMPTY", ""}},
		},
		{"longest value and name", name64 + "=" + long, []Var{{name64, long}}},
		{"only comments", "# nothing\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env(append([]string{"SCALINGO_ENV", tt.value}, base...)...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(c.Env, tt.want) {
				t.Errorf("Env = %q, want %q", c.Env, tt.want)
			}
			// Env values are data, never masks: only the token is.
			if got, want := c.Secrets(), []string{"tk-us-plain"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Secrets() = %q, want %q", got, want)
			}
		})
	}
}

func TestLoad_EnvInvalid(t *testing.T) {
	t.Parallel()
	// secret stands for a value: no error may show it.
	const secret = "s3cr3t-v4lue"
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{"a line without =", "A=1\n" + secret, []string{"env: line 2 is not NAME=value"}},
		{"line numbers count leading blank lines and comments", "\n\n# c\n" + secret + "\n", []string{"env: line 4 is not NAME=value"}},
		{"a value written where the name goes", secret + " x=y", []string{"env: line 1: the name is not a variable name"}},
		{"no name", "=" + secret, []string{"env: line 1: the name is not a variable name"}},
		{"a dot in the name", "A.B=" + secret, []string{"env: line 1: the name is not a variable name"}},
		{"a name of 65 characters", strings.Repeat("N", 65) + "=" + secret, []string{"env: line 1: the name is not"}},
		{"a value over 8192 bytes", "OK=1\nBIG=" + secret + strings.Repeat("v", MaxEnvValueBytes), []string{"env: line 2: the value of BIG is longer than 8192 bytes"}},
		{"a name set twice", "A=1\n\nA=" + secret, []string{"env: line 3: A is already set on line 1"}},
		{"every bad line named", secret + "\nB=1\n=" + secret, []string{"env: line 1 is not NAME=value", "env: line 3: the name"}},
		{"the token as the whole value", "tk-us-plain", []string{"env: holds the API token's value"}},
	}
	t.Run("a value pasted into another input", func(t *testing.T) {
		t.Parallel()
		loadErr(t, []string{"--timeout", secret}, append([]string{"SCALINGO_ENV", "K=" + secret + "\n" + "bad line"}, base...),
			[]string{`timeout: "***" is not a duration`, "env: line 2 is not NAME=value"}, []string{secret})
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, nil, append([]string{"SCALINGO_ENV", tt.value}, base...), tt.want, []string{secret, "s3cr3t"})
		})
	}
}

func TestLoad_HealthCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         []string
		wantCheck   string
		wantTimeout time.Duration
		wantErr     []string
	}{
		{name: "none by default", wantTimeout: 2 * time.Minute},
		{name: "a path", env: []string{"SCALINGO_HEALTH_CHECK", "/healthz"}, wantCheck: "/healthz", wantTimeout: 2 * time.Minute},
		{name: "a URL with a query", env: []string{"INPUT_HEALTH-CHECK", "https://status.example.com:8443/ping?deep=1"}, wantCheck: "https://status.example.com:8443/ping?deep=1", wantTimeout: 2 * time.Minute},
		{name: "a timeout", env: []string{"SCALINGO_HEALTH_CHECK", "/", "PLUGIN_HEALTH_CHECK_TIMEOUT", "90s"}, wantCheck: "/", wantTimeout: 90 * time.Second},
		{name: "a timeout without a check", env: []string{"SCALINGO_HEALTH_CHECK_TIMEOUT", "5m", "SCALINGO_WAIT", "false"}, wantTimeout: 5 * time.Minute},
		{name: "a relative path", env: []string{"SCALINGO_HEALTH_CHECK", "healthz"}, wantErr: []string{`health-check: "healthz" is neither a path starting with / nor an absolute http(s) URL`}},
		{name: "a scheme-relative URL", env: []string{"SCALINGO_HEALTH_CHECK", "//evil.example.com/x"}, wantErr: []string{"health-check: "}},
		{name: "another scheme", env: []string{"SCALINGO_HEALTH_CHECK", "ftp://example.com/x"}, wantErr: []string{"health-check: "}},
		{name: "no host", env: []string{"SCALINGO_HEALTH_CHECK", "https:///x"}, wantErr: []string{"health-check: "}},
		{name: "credentials", env: []string{"SCALINGO_HEALTH_CHECK", "https://u:p@example.com/x"}, wantErr: []string{"health-check: "}},
		{name: "port out of range", env: []string{"SCALINGO_HEALTH_CHECK", "http://127.0.0.1:99999/x"}, wantErr: []string{"health-check: ", "port 99999"}},
		{name: "a control character", env: []string{"SCALINGO_HEALTH_CHECK", "/x\x7f"}, wantErr: []string{"health-check: "}},
		{name: "with wait=false", env: []string{"SCALINGO_HEALTH_CHECK", "/healthz", "SCALINGO_WAIT", "false"}, wantErr: []string{"health-check: needs wait=true"}},
		{name: "a bad timeout", env: []string{"SCALINGO_HEALTH_CHECK_TIMEOUT", "soon"}, wantErr: []string{`health-check-timeout: "soon" is not a duration`}},
		{name: "a zero timeout", env: []string{"SCALINGO_HEALTH_CHECK_TIMEOUT", "0s"}, wantErr: []string{"health-check-timeout: must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := append(append([]string{}, tt.env...), base...)
			if tt.wantErr != nil {
				loadErr(t, nil, e, tt.wantErr, nil)
				return
			}
			c, err := Load(nil, env(e...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.HealthCheck != tt.wantCheck || c.HealthCheckTimeout != tt.wantTimeout {
				t.Errorf("HealthCheck, HealthCheckTimeout = %q, %s; want %q, %s", c.HealthCheck, c.HealthCheckTimeout, tt.wantCheck, tt.wantTimeout)
			}
		})
	}
}

// TestLoad_Precedence gives each input a different value in each of its sources and takes
// the sources away one by one, from the strongest: flag > INPUT_ > PLUGIN_ > SCALINGO_.
func TestLoad_Precedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input string
		// values, from the strongest source to the weakest.
		values [4]string
		get    func(c *Config) any
		want   [4]any
	}{
		{"app", [4]string{"f", "i1,i2", "p@osc-secnum-fr1", "s"}, func(c *Config) any { return c.Targets },
			[4]any{[]Target{{"f", "osc-fr1"}}, []Target{{"i1", "osc-fr1"}, {"i2", "osc-fr1"}}, []Target{{"p", "osc-secnum-fr1"}}, []Target{{"s", "osc-fr1"}}}},
		{"env", [4]string{"F=1", "I=1\nJ=2", "P=1", "S=1"}, func(c *Config) any { return c.Env },
			[4]any{[]Var{{"F", "1"}}, []Var{{"I", "1"}, {"J", "2"}}, []Var{{"P", "1"}}, []Var{{"S", "1"}}}},
		{"health-check", [4]string{"/f", "/i", "/p", "/s"}, func(c *Config) any { return c.HealthCheck },
			[4]any{"/f", "/i", "/p", "/s"}},
		{"health-check-timeout", [4]string{"1s", "2s", "3s", "4s"}, func(c *Config) any { return c.HealthCheckTimeout },
			[4]any{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}},
		{"region", [4]string{"f", "i", "p", "s"}, func(c *Config) any { return c.Region }, [4]any{"f", "i", "p", "s"}},
		{"timeout", [4]string{"1m", "2m", "3m", "4m"}, func(c *Config) any { return c.Timeout },
			[4]any{time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute}},
		{"wait", [4]string{"false", "true", "false", "true"}, func(c *Config) any { return c.Wait }, [4]any{false, true, false, true}},
	}
	for _, tt := range tests {
		for from := range 4 {
			for _, kebab := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/from source %d/kebab %v", tt.input, from, kebab), func(t *testing.T) {
					t.Parallel()
					upper := strings.ToUpper(tt.input)
					plugin := "PLUGIN_" + strings.ReplaceAll(upper, "-", "_")
					if kebab {
						plugin = "PLUGIN_" + upper // as Drone passes it
					}
					keys := [4]string{"", "INPUT_" + upper, plugin, envName(tt.input)}
					e := []string{"SCALINGO_API_TOKEN", "tk-us-plain", "CI_PROJECT_DIR", "/ws"}
					if tt.input != "app" {
						e = append(e, "SCALINGO_APP", "my-app")
					}
					var args []string
					for i := from; i < 4; i++ {
						if i == 0 {
							args = []string{"--" + tt.input + "=" + tt.values[0]}
							continue
						}
						e = append(e, keys[i], tt.values[i])
					}
					c, err := Load(args, env(e...))
					if err != nil {
						t.Fatalf("Load: %v", err)
					}
					if got := tt.get(c); !reflect.DeepEqual(got, tt.want[from]) {
						t.Errorf("%s = %v, want %v", tt.input, got, tt.want[from])
					}
				})
			}
		}
	}
}

// TestInputs_Documented holds the inputs table, --help, action.yml and the README's table
// together: an input added to one is added to all.
func TestInputs_Documented(t *testing.T) {
	t.Parallel()
	action, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	usage := Usage()
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(usage, "  --"+in.name+" ") {
				t.Errorf("--help does not show --%s", in.name)
			}
			entry := "\n  " + in.name + ":\n"
			i := strings.Index(string(action), entry)
			if i < 0 {
				t.Fatalf("action.yml has no input %s", in.name)
			}
			var body string
			for _, line := range strings.Split(string(action[i+len(entry):]), "\n") {
				if !strings.HasPrefix(line, "    ") {
					break
				}
				body += line + "\n"
			}
			if !strings.Contains(body, "description: ") || strings.Contains(body, "default:") {
				t.Errorf("action.yml input %s: want a description and no default:\n%s", in.name, body)
			}
			row := fmt.Sprintf("| %s | %s | %s | --%s |", in.name, strings.ReplaceAll(in.name, "-", "_"), envName(in.name), in.name)
			if !strings.Contains(string(readme), row) {
				t.Errorf("README's inputs table has no row starting %q", row)
			}
		})
	}
}

// TestLoad_AuthURLRegions: with another auth-url than Scalingo's (the bundled fake, another
// installation), no built-in API URL is assumed: every region is looked up there, so
// targets in both built-in regions need no api-url.
func TestLoad_AuthURLRegions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, authURL string
		want          map[string]string
	}{
		{"Scalingo's auth", "", map[string]string{"osc-fr1": Regions["osc-fr1"], "osc-secnum-fr1": Regions["osc-secnum-fr1"]}},
		{"another auth", "http://127.0.0.1:9", map[string]string{"osc-fr1": "", "osc-secnum-fr1": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env("SCALINGO_API_TOKEN", "tk-us-plain", "CI_PROJECT_DIR", "/ws", "SCALINGO_AUTH_URL", tc.authURL,
				"SCALINGO_APP", "a-app, b-app@osc-secnum-fr1"))
			if err != nil {
				t.Fatal(err)
			}
			for region, want := range tc.want {
				if got := c.APIURLFor(region); got != want {
					t.Errorf("APIURLFor(%s) = %q, want %q", region, got, want)
				}
			}
		})
	}
}
