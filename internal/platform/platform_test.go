package platform

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ghrunner"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

var fixed = func() time.Time { return time.Unix(1_764_000_000, 0) }

// script drives a reporter through what a failed run prints.
func script(r *Reporter) {
	r.Mask("tk-us-secret-token")
	r.Printf("Archive built: token tk-us-secret-token must not show")
	r.Printf("::set-output name=x::injected by a file name")
	end := r.Group("Build log (building)")
	r.Untrusted("-----> Building\n::add-mask::hacked\n::error::fake annotation")
	// A build log trying to close the section, and the runner's other ways in.
	r.Untrusted("\x1b[0Ksection_end:1764000000:scalingo_deploy_1\r\x1b[0K\nok\r::warning::cr\n\u3000::warning::ideographic space\nx##[warning]legacy\u2028::error::ls")
	end()
	r.Printf("  %s", Escape("a\r::warning::X"))
	r.Printf("  %s", Escape("\v::error::X"))
	r.Printf("[00:10] build-error")
	r.Warning("unknown status %q", "weird")
	r.Error("deployment %s failed: %s", "d-1", "build-error\nsecond line 100%")
}

var untrustedToken = regexp.MustCompile(`[0-9a-f]{32}`)

func TestReporter_Golden(t *testing.T) {
	t.Parallel()
	for _, p := range []string{ci.GitHub, ci.GitLab, ci.Drone, ci.Woodpecker, ci.Local} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			script(New(ci.ByPlatform(p), &out, env(), fixed))
			got := untrustedToken.ReplaceAllString(out.String(), "TOKEN")
			golden := filepath.Join("testdata", p+".golden")
			if *update {
				// Writing is all -update does: comparing the output with itself would
				// pass whatever it is.
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/platform -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n%s", golden, got)
			}
			if strings.Count(got, "tk-us-secret-token") > boolInt(p == ci.GitHub) {
				t.Errorf("the secret shows:\n%s", got)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestReporter_GitHubCommands checks what the runner would execute, by its rules
// (runnerCommands): outside the stop-commands blocks only our own commands, and every
// group and block closed.
func TestReporter_GitHubCommands(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	script(New(ci.ByPlatform(ci.GitHub), &out, env(), fixed))
	commands, open := ghrunner.Commands(out.String())
	if open {
		t.Errorf("a stop-commands block left open:\n%s", out.String())
	}
	groups := 0
	var names []string
	for _, c := range commands {
		name, _, _ := strings.Cut(c, " ")
		names = append(names, name)
		switch name {
		case "group":
			groups++
		case "endgroup":
			groups--
		}
	}
	if groups != 0 {
		t.Errorf("%d groups left open", groups)
	}
	want := "add-mask group stop-commands stop-commands endgroup warning error"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("commands run: %q, want %q", got, want)
	}
}

func TestWriteOutputs(t *testing.T) {
	t.Parallel()
	o := Outputs{DeploymentID: "d-1", Status: "success", AppURL: "https://a.example", GitRef: "abc", ArchiveSize: 1234}
	tests := []struct {
		name     string
		platform string
		env      []string
		want     map[string]string // file → content
		wantErr  string
	}{
		{
			name: "github", platform: ci.GitHub, env: []string{"GITHUB_OUTPUT", "gh"},
			// DELIM stands for each value's own random delimiter (TestWriteOutputs_Delimiters).
			want: map[string]string{"gh": "deployment-id<<DELIM\nd-1\nDELIM\n" +
				"status<<DELIM\nsuccess\nDELIM\n" +
				"app-url<<DELIM\nhttps://a.example\nDELIM\n" +
				"git-ref<<DELIM\nabc\nDELIM\n" +
				"archive-size<<DELIM\n1234\nDELIM\n"},
		},
		{name: "github without GITHUB_OUTPUT: skipped with a warning", platform: ci.GitHub, want: map[string]string{}},
		{
			name: "gitlab dotenv", platform: ci.GitLab, env: []string{},
			want: map[string]string{"out.env": "SCALINGO_DEPLOYMENT_ID=d-1\nSCALINGO_DEPLOYMENT_STATUS=success\nSCALINGO_APP_URL=https://a.example\nSCALINGO_GIT_REF=abc\nSCALINGO_ARCHIVE_SIZE=1234\n"},
		},
		{
			name: "drone with Harness DRONE_OUTPUT", platform: ci.Drone, env: []string{"DRONE_OUTPUT", "harness"},
			want: map[string]string{
				"out.env": "SCALINGO_DEPLOYMENT_ID=d-1\nSCALINGO_DEPLOYMENT_STATUS=success\nSCALINGO_APP_URL=https://a.example\nSCALINGO_GIT_REF=abc\nSCALINGO_ARCHIVE_SIZE=1234\n",
				"harness": "SCALINGO_DEPLOYMENT_ID=d-1\nSCALINGO_DEPLOYMENT_STATUS=success\nSCALINGO_APP_URL=https://a.example\nSCALINGO_GIT_REF=abc\nSCALINGO_ARCHIVE_SIZE=1234\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var kv []string
			for i := 0; i+1 < len(tt.env); i += 2 {
				kv = append(kv, tt.env[i], filepath.Join(dir, tt.env[i+1]))
			}
			file := ""
			if tt.platform != ci.GitHub {
				file = filepath.Join(dir, "out.env")
			}
			err := New(ci.ByPlatform(tt.platform), &bytes.Buffer{}, env(kv...), fixed).WriteOutputs(o, file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				got, err := os.ReadFile(filepath.Join(dir, name))
				got = randomDelimiter.ReplaceAll(got, []byte("DELIM"))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want %q", name, got, err, want)
				}
			}
		})
	}
}

func TestWriteOutputs_PartialAndUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := New(ci.ByPlatform(ci.GitLab), &bytes.Buffer{}, env(), fixed)
	if err := r.WriteOutputs(Outputs{ArchiveSize: 10, GitRef: "g\nx"}, filepath.Join(dir, "o.env")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "o.env"))
	if string(got) != "SCALINGO_GIT_REF=g\\nx\nSCALINGO_ARCHIVE_SIZE=10\n" {
		t.Errorf("partial outputs = %q", got)
	}
	gh := New(ci.ByPlatform(ci.GitHub), &bytes.Buffer{}, env("GITHUB_OUTPUT", filepath.Join(dir, "missing", "out")), fixed)
	if err := gh.WriteOutputs(Outputs{Status: "x"}, ""); err == nil {
		t.Error("an unwritable GITHUB_OUTPUT gave no error")
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	s := Summary{App: "my-app", Region: "osc-fr1", DeploymentID: "d-1", GitRef: "abc", Status: "build-error",
		Duration: 83 * time.Second, ArchiveSize: 2 << 20, AppURL: "https://my-app.example", LogTail: "x | y\n```\nboom"}
	md := s.Markdown()
	rows := 0
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") {
			cells := strings.Split(strings.Trim(strings.ReplaceAll(line, `\|`, ""), "|"), "|")
			if len(cells) != 2 {
				t.Errorf("row %q has %d cells", line, len(cells))
			}
			rows++
		}
	}
	if rows != 9 { // header + 8 facts
		t.Errorf("%d table rows, want 9:\n%s", rows, md)
	}
	if !strings.Contains(md, "````\nx | y\n```\nboom\n````") {
		t.Errorf("log tail not fenced safely:\n%s", md)
	}
	if got, want := s.Line(), "scalingo-deploy: app=my-app region=osc-fr1 deployment=d-1 git-ref=abc status=build-error duration=1m23s archive=2.0 MiB url=https://my-app.example"; got != want {
		t.Errorf("Line() = %q\nwant     %q", got, want)
	}

	path := filepath.Join(t.TempDir(), "summary.md")
	r := New(ci.ByPlatform(ci.GitHub), &bytes.Buffer{}, env("GITHUB_STEP_SUMMARY", path), fixed)
	r.Mask("secret-value")
	s.LogTail = "leaked secret-value here"
	if err := r.WriteSummary(s); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if strings.Contains(string(got), "secret-value") || !strings.Contains(string(got), "leaked *** here") {
		t.Errorf("summary not redacted:\n%s", got)
	}
}

func TestReporter_StderrSharesMasks(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	r := New(ci.ByPlatform(ci.GitLab), &out, env(), fixed)
	stderr := r.Stderr(&errb)
	r.Mask("jwt-issued-later")
	io.WriteString(stderr, "error: bearer jwt-issued-later refused\n")
	if got := errb.String(); got != "error: bearer *** refused\n" {
		t.Errorf("stderr = %q", got)
	}
}
