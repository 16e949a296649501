package run

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/markdown"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// verdictCases are the outcomes whose step summary and last lines are kept as goldens:
// testdata/golden/summary-<name>.md and verdict-<name>.log.
var verdictCases = []struct {
	name  string
	apps  []string // in input order
	scen  map[string]fakescalingo.Scenario
	extra []string
	code  int
	// mark the summary's heading must start with, whatever the golden says.
	mark string
}{
	{name: "success", apps: []string{"my-app"}, scen: map[string]fakescalingo.Scenario{"my-app": {}}, code: 0, mark: "### ✅"},
	{name: "health-failure", apps: []string{"my-app"}, scen: map[string]fakescalingo.Scenario{"my-app": {Serve: &fakescalingo.AppServer{NeverHealthy: true, UnhealthyStatus: 503}}},
		extra: []string{"INPUT_HEALTH-CHECK", "/healthz", "INPUT_HEALTH-CHECK-TIMEOUT", "10s"}, code: 1, mark: "### ❌"},
	{name: "timeout", apps: []string{"my-app"}, scen: map[string]fakescalingo.Scenario{"my-app": {NeverFinish: true}},
		extra: []string{"INPUT_TIMEOUT", "2m"}, code: 3, mark: "### ⏳"},
	{name: "build-error", apps: []string{"my-app"}, scen: map[string]fakescalingo.Scenario{"my-app": {FinalStatus: "build-error"}}, code: 1, mark: "### ❌"},
	{name: "several", apps: []string{"my-api", "my-web", "my-worker"},
		scen: map[string]fakescalingo.Scenario{"my-api": {}, "my-web": {}, "my-worker": {FinalStatus: "build-error"}}, code: 1, mark: "### ❌ 2 of 3 deployed"},
	{name: "not-waited", apps: []string{"my-app"}, scen: map[string]fakescalingo.Scenario{"my-app": {}},
		extra: []string{"INPUT_WAIT", "false"}, code: 0, mark: "### ▶️"},
}

// stableReport is stable() for a summary and the last lines: the ports of the fake's
// app servers and the durations in words vary too.
func stableReport(out string, w *world, ids ...string) string {
	for _, id := range ids {
		// As the step summary's text escapes them.
		out = strings.ReplaceAll(out, markdown.Text(id), id)
	}
	out = stable(out, w, ids...)
	for _, re := range []struct{ re, with string }{
		{`127\\\.0\\\.0\\\.1\\:\d+`, `127\.0\.0\.1\:<port>`},
		{`\bin \d+ (min \d+ )?s\b`, "in <d>"},
		{`\| \d+(m\d+)?s \|`, "| <d> |"},
		{`\| \d+(m\d+)?(\.\d+)?s \|`, "| <d> |"},
	} {
		out = regexp.MustCompile(re.re).ReplaceAllString(out, re.with)
	}
	return out
}

// TestReport_Golden: the step summary and the last lines of the log, read as a person
// would, never contradict the exit code: a failed health check is a failure with a
// Health row; a timeout says the deployment is still running at Scalingo and what to do;
// a failure says its cause and the build's first error above the table; several targets
// start with "2 of 3 deployed". The dashboard links name the real app, as do the hints.
func TestReport_Golden(t *testing.T) {
	t.Parallel()
	for _, tt := range verdictCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			for _, app := range tt.apps {
				w.fake.AddApp(app, tt.scen[app])
			}
			dir := t.TempDir()
			e := w.env("github", append([]string{"INPUT_APP", strings.Join(tt.apps, ","), "SOURCE_DATE_EPOCH", "1700000000",
				"GITHUB_OUTPUT", filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY", filepath.Join(dir, "summary.md")}, tt.extra...)...)
			res := w.run(t, context.Background(), e)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			var ids []string
			for _, app := range tt.apps {
				for _, d := range w.fake.Deployments(app) {
					ids = append(ids, d.ID)
				}
			}
			md, err := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
			if err != nil {
				t.Fatal(err)
			}
			summary := stableReport(string(md), w, ids...)
			// The last lines: from the first record on (the build logs of several targets
			// interleave before it).
			out := res.stdout
			out = out[strings.Index(out, "scalingo-deploy: app="):]
			last := stableReport(out, w, ids...)

			compareGolden(t, "summary-"+tt.name+".md", summary)
			compareGolden(t, "verdict-"+tt.name+".log", last)

			if !strings.HasPrefix(summary, tt.mark) {
				t.Errorf("the summary starts %q, want %q", summary[:min(len(summary), 40)], tt.mark)
			}
			if strings.Contains(summary, "APP") || strings.Contains(last, "APP") {
				t.Errorf("a hint names APP rather than the app")
			}
			for _, app := range tt.apps {
				if want := "https://dashboard.scalingo.com/apps/osc-fr1/" + app; !strings.Contains(summary, "("+want+")") {
					t.Errorf("the summary has no link to %s", want)
				}
			}
			if notice := "::notice title=scalingo-deploy::deployed my-app: https://my-app.osc-fr1.scalingo.io\n"; strings.Contains(res.stdout, notice) != (tt.name == "success") {
				t.Errorf("the notice of the app's URL shows %v, want %v", strings.Contains(res.stdout, notice), tt.name == "success")
			}
			lines := strings.Split(strings.TrimRight(last, "\n"), "\n")
			lastLine := lines[len(lines)-1]
			// On GitHub a failed run's verdict is the step's one error annotation: each
			// failure said once, in words, last.
			words := strings.TrimPrefix(lastLine, "::error title=scalingo-deploy::")
			if strings.HasPrefix(words, "scalingo-deploy: app=") || strings.HasPrefix(words, "::") {
				t.Errorf("the last line is a record, not words: %q", lastLine)
			}
			if n, want := strings.Count(res.stdout, "::error title=scalingo-deploy::"), min(tt.code, 1); n != want || (want == 1) != (words != lastLine) {
				t.Errorf("%d error annotations of the run, want %d, the verdict's:\n%s", n, want, last)
			}
		})
	}
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("..", "..", "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestReport_Golden -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s:\n%s", golden, got)
	}
}

// TestReport_PreflightError: when a target cannot be used, nothing is deployed and the
// error is the last thing said: no record of a target with no deployment before it.
func TestReport_PreflightError(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-api", fakescalingo.Scenario{})
	res := w.run(t, context.Background(), w.env("shell", "SCALINGO_APP", "my-api,missing-app"))
	if res.code != 1 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, "scalingo-deploy: app=") || strings.Contains(res.stdout, "deployed") {
		t.Errorf("records or a verdict before a pre-flight error:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "nothing was deployed") {
		t.Errorf("stderr: %s", res.stderr)
	}
}

// TestReport_PlainLogOnce: in a plain log (nothing folds), a failed build's log shows
// once; where it is folded away (GitHub, GitLab) its last lines show again under the
// verdict.
func TestReport_PlainLogOnce(t *testing.T) {
	t.Parallel()
	for platform, want := range map[string]int{"shell": 1, "woodpecker": 1, "gitlab": 2, "github": 2} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps, FinalStatus: "build-error"})
			e := w.env(platform)
			if platform == "github" {
				e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
			}
			res := w.run(t, context.Background(), e)
			if res.code != 1 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			if got := len(logLines(res.stdout, sixSteps[:1])); got != want {
				t.Errorf("the build log shows %d times, want %d:\n%s", got, want, res.stdout)
			}
		})
	}
}

// TestReport_FirstError: the first line of a build log that says what broke.
func TestReport_FirstError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  []string
		want string
	}{
		{"go", []string{"-----> Running: go install ./...", "       ./main.go:12:2: undefined: handler", " !     Push rejected, failed to compile Go app."}, "./main.go:12:2: undefined: handler"},
		{"typescript", []string{"> tsc", "src/app.ts(3,7): error TS2322: Type 'string' is not assignable"}, "src/app.ts(3,7): error TS2322: Type 'string' is not assignable"},
		{"python", []string{"Traceback (most recent call last):", `  File "app.py", line 1`, "NameError: name 'x' is not defined"}, "Traceback (most recent call last):"},
		{"npm", []string{"-----> Installing dependencies", "npm ERR! code ELIFECYCLE"}, "npm ERR! code ELIFECYCLE"},
		{"colours", []string{"\x1b[1;31merror\x1b[0m: could not compile `app`"}, "error: could not compile `app`"},
		{"only the buildpack's", []string{"-----> Fetching source code", " !     Unable to select a buildpack"}, "Unable to select a buildpack"},
		{"nothing", []string{"-----> Fetching source code", "-----> Build complete"}, ""},
		// The location is annotate's to read: a warning's is not where the build broke.
		{"a warning before the error", []string{"main.c:3:5: warning: unused variable 'x'", "main.c:7:1: error: expected ';'"}, "main.c:7:1: error: expected ';'"},
		{"a location without an error word", []string{"-----> Building", "lib/app.rb:4: syntax trouble near 'end'"}, "lib/app.rb:4: syntax trouble near 'end'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f firstError
			for _, l := range tt.log {
				f.see(l)
			}
			if got := f.line(); got != tt.want {
				t.Errorf("first error %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReport_StatusAfterItsLines: a status change shows after the build log lines that
// came before it (the fake appends a state's lines before its status), whether the log
// comes live or through the API.
func TestReport_StatusAfterItsLines(t *testing.T) {
	t.Parallel()
	for name, sc := range map[string]fakescalingo.Scenario{
		"live":        {Log: sixSteps},
		"through API": {Log: sixSteps, NoStream: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for range 5 {
				w := newWorld(t, fakescalingo.Options{})
				w.fake.AddApp("my-app", sc)
				res := w.run(t, context.Background(), w.env("shell"))
				if res.code != 0 {
					t.Fatalf("exit %d\n%s", res.code, res.stderr)
				}
				out := res.stdout
				// Six lines over building, pushing, starting, success: 1, 2, 1, 2, each before its status.
				for status, after := range map[string]string{"] pushing\n": sixSteps[2], "] starting\n": sixSteps[3], "] success:": sixSteps[5]} {
					if s, l := strings.Index(out, status), strings.Index(out, after); s < 0 || l < 0 || s < l {
						t.Fatalf("%q shows at %d, before %q at %d:\n%s", status, s, after, l, out)
					}
				}
			}
		})
	}
}

// TestReport_NoDashboardForAMissingApp: an app that was not found has no dashboard page
// to link to: the output is not written.
func TestReport_NoDashboardForAMissingApp(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	e := w.env("gitlab", "SCALINGO_APP", "missing-app")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := readDotenv(t, filepath.Join(w.ws, "scalingo-deploy.env"))
	if v, ok := got["SCALINGO_DASHBOARD_URL"]; ok || !strings.Contains(got["SCALINGO_DEPLOYMENTS"], `"dashboard_url":""`) {
		t.Errorf("dashboard URL %q written for an app not found; deployments %s", v, got["SCALINGO_DEPLOYMENTS"])
	}
}
