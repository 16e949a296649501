package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// started runs the command until the test ends and returns what it printed before "Ctrl-C".
func started(t *testing.T, args ...string) (env map[string]string, comments []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	env = map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
			continue
		}
		comments = append(comments, line)
		if strings.HasPrefix(line, "# Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(env) == 0 {
		t.Fatalf("printed no export; %q", comments)
	}
	return env, comments
}

func get(t *testing.T, url, jwt string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if jwt != "" {
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestRun_exportsWork follows what a person does with the printed lines: the token
// exchanges at the auth URL, whose regions list gives both built-in names, each serving its
// own apps.
func TestRun_exportsWork(t *testing.T) {
	t.Parallel()
	env, comments := started(t, "--app", "demo-app,prod-app@osc-secnum-fr1", "--token", "tk-us-demo")
	if _, ok := env["SCALINGO_API_URL"]; ok {
		t.Errorf("SCALINGO_API_URL is printed: one API URL cannot serve two regions")
	}
	if env["SCALINGO_API_TOKEN"] != "tk-us-demo" || !strings.HasPrefix(env["SCALINGO_AUTH_URL"], "http://127.0.0.1:") {
		t.Fatalf("printed env %v", env)
	}
	if want := "# then: scalingo-deploy --app demo-app --path ."; !contains(comments, want) {
		t.Errorf("no hint %q in %q", want, comments)
	}
	req, _ := http.NewRequest("POST", env["SCALINGO_AUTH_URL"]+"/v1/tokens/exchange", nil)
	req.SetBasicAuth("", env["SCALINGO_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.Token == "" {
		t.Fatalf("exchange with the printed token: %d", resp.StatusCode)
	}
	_, body := get(t, env["SCALINGO_AUTH_URL"]+"/v1/regions", tok.Token)
	var regions struct{ Regions []struct{ Name, API string } }
	if err := json.Unmarshal(body, &regions); err != nil {
		t.Fatal(err)
	}
	apiOf := map[string]string{}
	for _, r := range regions.Regions {
		apiOf[r.Name] = r.API
	}
	for _, tc := range []struct{ region, app string }{{"osc-fr1", "demo-app"}, {"osc-secnum-fr1", "prod-app"}} {
		if apiOf[tc.region] == "" {
			t.Fatalf("regions %v lack %s", regions, tc.region)
		}
		if st, _ := get(t, apiOf[tc.region]+"/v1/apps/"+tc.app, tok.Token); st != 200 {
			t.Errorf("GET %s in %s: %d", tc.app, tc.region, st)
		}
	}
}

// TestRun_hint: the suggested command names the region of an app outside osc-fr1.
func TestRun_hint(t *testing.T) {
	t.Parallel()
	_, comments := started(t, "--app", "prod-app@osc-secnum-fr1")
	if want := "# then: scalingo-deploy --app prod-app@osc-secnum-fr1 --path ."; !contains(comments, want) {
		t.Errorf("no hint %q in %q", want, comments)
	}
}

// TestRun_appServers: every app answers on 127.0.0.1, healthy unless --unhealthy names it.
func TestRun_appServers(t *testing.T) {
	t.Parallel()
	_, comments := started(t, "--app", "ok-app", "--app", "sick-app", "--unhealthy", "sick-app")
	want := map[string]int{"ok-app": 200, "sick-app": 503}
	for name, status := range want {
		var url string
		for _, c := range comments {
			if rest, ok := strings.CutPrefix(c, "# app "+name+" in osc-fr1: "); ok {
				_, url, _ = strings.Cut(rest, " at ")
			}
		}
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("no web URL for %s in %q", name, comments)
		}
		if st, _ := get(t, url+"/healthz", ""); st != status {
			t.Errorf("%s answered %d, want %d", name, st, status)
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestParse holds every knob to its meaning: per-app settings reach their app only.
func TestParse(t *testing.T) {
	t.Parallel()
	o, err := parse([]string{"--app", "a-app,b-app@osc-secnum-fr1", "--final", "b-app=build-error", "--duration", "1s",
		"--duration", "a-app=5s", "--queued-polls", "a-app=2", "--unhealthy", "b-app", "--var", "a-app:SENTRY_DSN=https://x@y/1",
		"--child", "a-app:a-app-pr7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fakescalingo.Scenario{}
	for _, a := range o.apps {
		got[a.name] = a.sc
	}
	a, b, c := got["a-app"], got["b-app"], got["a-app-pr7"]
	switch {
	case len(o.apps) != 3:
		t.Errorf("apps %+v", o.apps)
	case a.FinalStatus != "" || b.FinalStatus != "build-error":
		t.Errorf("final: %q %q", a.FinalStatus, b.FinalStatus)
	case a.BuildTime != 5*time.Second || b.BuildTime != time.Second:
		t.Errorf("durations %s %s", a.BuildTime, b.BuildTime)
	case a.QueuedPolls != 2 || b.QueuedPolls != 0:
		t.Errorf("queued polls %d %d", a.QueuedPolls, b.QueuedPolls)
	case a.Serve.NeverHealthy || !b.Serve.NeverHealthy:
		t.Errorf("unhealthy %v %v", a.Serve, b.Serve)
	case a.Variables["SENTRY_DSN"] != "https://x@y/1" || b.Variables != nil:
		t.Errorf("variables %v %v", a.Variables, b.Variables)
	case b.Region != "osc-secnum-fr1" || c.Parent != "a-app":
		t.Errorf("region %q, parent %q", b.Region, c.Parent)
	case c.Age != 0 || c.Deployed || c.Formation != nil:
		t.Errorf("a review app without knobs: age %s, deployed %v, formation %v", c.Age, c.Deployed, c.Formation)
	}
}

// TestParse_fleet: --child's age and --formation reach their apps only; a formation or an
// age deploys the app once, so that its types can be scaled and its age shows.
func TestParse_fleet(t *testing.T) {
	t.Parallel()
	o, err := parse([]string{"--app", "my-app,other-app", "--child", "my-app:my-app-pr7:30d,my-app:my-app-pr8:36h",
		"--child", "my-app:my-app-pr9", "--formation", "my-app-pr8=web:2:M,worker:1:S", "--formation", "other-app=web:3",
		"--duration", "my-app-pr9=1s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fakescalingo.Scenario{}
	for _, a := range o.apps {
		got[a.name] = a.sc
	}
	type fleet struct {
		age       time.Duration
		deployed  bool
		formation map[string]fakescalingo.Container
	}
	want := map[string]fleet{
		"my-app":     {},
		"other-app":  {deployed: true, formation: map[string]fakescalingo.Container{"web": {Amount: 3, Size: "M"}}},
		"my-app-pr7": {age: 30 * 24 * time.Hour, deployed: true},
		"my-app-pr8": {age: 36 * time.Hour, deployed: true, formation: map[string]fakescalingo.Container{"web": {Amount: 2, Size: "M"}, "worker": {Amount: 1, Size: "S"}}},
		"my-app-pr9": {},
	}
	if len(got) != len(want) {
		t.Fatalf("apps %v", got)
	}
	for name, w := range want {
		sc := got[name]
		if sc.Age != w.age || sc.Deployed != w.deployed || !maps.Equal(sc.Formation, w.formation) {
			t.Errorf("%s: age %s, deployed %v, formation %v; want %+v", name, sc.Age, sc.Deployed, sc.Formation, w)
		}
	}
	if got["my-app-pr9"].BuildTime != time.Second {
		t.Errorf("--duration does not reach a review app: %s", got["my-app-pr9"].BuildTime)
	}
}

// TestRun_staleAndRunningReviewApps: what the knobs set is what the API says: an aged
// review app's last deployment is that old on the wall clock, and a formation is listed.
func TestRun_staleAndRunningReviewApps(t *testing.T) {
	t.Parallel()
	env, comments := started(t, "--child", "my-app:my-app-pr7:30d", "--formation", "my-app=web:2:L")
	for _, want := range []string{"review app of my-app; last deployed 30d ago", "containers web:2:L"} {
		if !containsPart(comments, want) {
			t.Errorf("no %q in %q", want, comments)
		}
	}
	jwt := exchangeToken(t, env)
	api := env["SCALINGO_AUTH_URL"]
	_, body := get(t, api+"/v1/regions", jwt)
	var regions struct{ Regions []struct{ Name, API string } }
	json.Unmarshal(body, &regions)
	for _, r := range regions.Regions {
		if r.Name == "osc-fr1" {
			api = r.API
		}
	}
	_, body = get(t, api+"/v1/apps/my-app/child_apps", jwt)
	var kids struct {
		ChildApps []struct {
			Name           string
			LastDeployedAt time.Time `json:"last_deployed_at"`
		} `json:"child_apps"`
	}
	if err := json.Unmarshal(body, &kids); err != nil || len(kids.ChildApps) != 1 {
		t.Fatalf("child apps %s: %v", body, err)
	}
	if age := time.Since(kids.ChildApps[0].LastDeployedAt); age < 30*24*time.Hour || age > 30*24*time.Hour+time.Minute {
		t.Errorf("my-app-pr7 last deployed %s ago, want 30 days", age)
	}
	_, body = get(t, api+"/v1/apps/my-app/containers", jwt)
	if !strings.Contains(string(body), `{"amount":2,"command":"bin/web","name":"web","size":"L"}`) {
		t.Errorf("containers %s", body)
	}
}

func exchangeToken(t *testing.T, env map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", env["SCALINGO_AUTH_URL"]+"/v1/tokens/exchange", nil)
	req.SetBasicAuth("", env["SCALINGO_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.Token == "" {
		t.Fatalf("exchange: %d", resp.StatusCode)
	}
	return tok.Token
}

func containsPart(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func TestParse_mistakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "see --help"},
		{"region not served", []string{"--app", "prod-app@osc-new1"}, "add --region osc-new1"},
		{"unknown final", []string{"--final", "broken"}, `"broken" is not one of success, build-error`},
		{"final for an app not given", []string{"--final", "my-worker=build-error"}, `no app "my-worker" (add --app my-worker)`},
		{"bad duration", []string{"--duration", "soon"}, "is not a duration"},
		{"unhealthy app not given", []string{"--unhealthy", "x-app"}, "add --app x-app"},
		{"var without a value", []string{"--var", "my-app:NAME"}, "want APP:NAME=value"},
		{"child of no app", []string{"--child", "other:other-pr1"}, "want PARENT:CHILD"},
		{"child with a bad age", []string{"--child", "my-app:my-app-pr1:old"}, `"old" is not an age`},
		{"child twice", []string{"--child", "my-app:my-app-pr1", "--child", "my-app:my-app-pr1"}, "my-app-pr1 given twice"},
		{"formation without an amount", []string{"--formation", "web"}, "want TYPE:AMOUNT[:SIZE]"},
		{"formation too large", []string{"--formation", "web:11"}, "an amount is 0 to 10"},
		{"formation of an unknown size", []string{"--formation", "web:1:XXL"}, `size "XXL" is not one of XS, S`},
		{"formation for an app not given", []string{"--formation", "my-api=web:1"}, `no app "my-api" (add --app my-api)`},
		{"app twice", []string{"--app", "my-app,my-app"}, "given twice"},
		{"stray argument", []string{"my-app"}, "every setting is a flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRun_help: --help succeeds and lists every knob.
func TestRun_help(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	err := run(context.Background(), []string{"--help"}, &out, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run --help: %v", err)
	}
	for _, knob := range []string{"-app", "-region", "-final", "-duration", "-queued-polls", "-unhealthy", "-var", "-child", "-formation", "-token"} {
		if !strings.Contains(out.String(), "  "+knob+" ") {
			t.Errorf("--help does not list %s:\n%s", knob, out.String())
		}
	}
}
