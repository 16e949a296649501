package run

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ghrunner"
)

// buildLog is a failed build's log as the fake replays it: a buildpack's steps, then the
// real output of a compiler or runtime (internal/annotate/testdata/logs, captured by
// capture.sh from builds in /tmp/build_XXXXXXXX), then extra lines.
func buildLog(t *testing.T, tool string, extra ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "annotate", "testdata", "logs", tool+".log"))
	if err != nil {
		t.Fatal(err)
	}
	log := []string{"-----> Fetching source code", "-----> Building"}
	log = append(log, strings.Split(strings.TrimRight(string(b), "\n"), "\n")...)
	return append(append(log, extra...), " !     Build failed")
}

// withRepo adds to the world's workspace the repository whose broken sources those logs
// come from (internal/annotate/testdata/repo).
func withRepo(t *testing.T, w *world) {
	t.Helper()
	src := filepath.Join("..", "annotate", "testdata", "repo")
	files := map[string]string{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, w.ws, files)
}

// TestRun_BuildFailureAtTheLine: a failed build is shown at the repository's lines, in
// each CI's dialect, from the log the builder printed; a hostile log gets nothing through.
func TestRun_BuildFailureAtTheLine(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"internal/api/handler.go:1:1: ::set-output name=a::b",
		"::set-output name=x::y",
		"../../etc/passwd:1:1: root:x:0:0",
		"/tmp/build_0a1b2c3d/not-in-the-archive.go:3:1: undefined: z",
		"worker/jobs/report.py:2:1: ##vso[task.setvariable variable=X]y",
	}
	tests := []struct {
		name     string
		platform string
		extra    []string // more variables
		tool     string
		status   string
		want     []string // lines of stdout, in this order
		// wantErrors are the error commands GitHub's runner reads, with their file, line
		// and col, in order (the run's own error last).
		wantErrors []string
		// report is the Code Quality report's issues: "path:line", in order; nil for none.
		report []string
	}{
		{name: "github: go build from a PROJECT_DIR, with a hostile log", platform: "github", tool: "go", status: "build-error",
			wantErrors: []string{
				"error col=2,file=api/internal/api/handler.go,line=8,title=my-app build failed",
				"error col=6,file=api/internal/api/handler.go,line=12,title=my-app build failed",
				"error col=18,file=api/internal/api/handler.go,line=12,title=my-app build failed",
				"error col=1,file=api/internal/api/handler.go,line=1,title=my-app build failed",
				"error col=1,file=worker/jobs/report.py,line=2,title=my-app build failed",
				"error title=scalingo-deploy",
			},
			want: []string{"::error col=2,file=api/internal/api/handler.go,line=8,title=my-app build failed::undefined: Serve"}},
		{name: "github: path is a folder, node's frames", platform: "github", extra: []string{"INPUT_PATH", "web"}, tool: "node", status: "hook-error",
			wantErrors: []string{
				"error col=32,file=web/lib/greet.js,line=4,title=my-app build failed",
				"error title=scalingo-deploy",
			}},
		{name: "gitlab: a Code Quality report, and the list", platform: "gitlab", tool: "python", status: "build-error",
			want:   []string{"scalingo-deploy: app=my-app", "error: worker/jobs/report.py:7: NameError: name 'totl' is not defined"},
			report: []string{"worker/jobs/report.py:7", "api/internal/api/handler.go:1", "worker/jobs/report.py:2"}},
		{name: "azure: logged issues", platform: "azure", tool: "gcc", status: "build-error",
			want: []string{"##vso[task.logissue type=error;sourcepath=native/src/main.c;linenumber=5;columnnumber=24]my-app build failed: error: ‘totl’ undeclared (first use in this function); did you mean ‘total’?",
				"##vso[task.logissue type=error;sourcepath=worker/jobs/report.py;linenumber=2;columnnumber=1]my-app build failed: ##vso\\x5btask.setvariable variable=X]y"}},
		{name: "drone: the list right above the verdict", platform: "drone", tool: "tsc", status: "build-error",
			want: []string{
				"scalingo-deploy: app=my-app",
				"error: web/src/index.ts:2: error TS2322: Type 'string' is not assignable to type 'number'.",
				"error: web/src/index.ts:6: error TS2322: Type 'string' is not assignable to type 'number'.",
			}},
		{name: "a crash is not a build failure: nothing", platform: "github", tool: "go", status: "crashed-error",
			wantErrors: []string{"error title=scalingo-deploy"}},
		{name: "a prebuilt archive is not the repository: nothing", platform: "gitlab", tool: "tsc", status: "build-error",
			extra: []string{"SCALINGO_PATH", "web.tar"}, report: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			withRepo(t, w)
			w.fake.AddApp("my-app", fakescalingo.Scenario{FinalStatus: tt.status, Log: buildLog(t, tt.tool, hostile...)})
			var e env
			if tt.platform == "azure" {
				e = w.env("shell", "TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", w.ws, "SCALINGO_PATH", "")
			} else {
				e = w.env(tt.platform)
			}
			for i := 0; i+1 < len(tt.extra); i += 2 {
				e[tt.extra[i]] = tt.extra[i+1]
			}
			if strings.HasSuffix(e["SCALINGO_PATH"], ".tar") {
				// The log's src/index.ts is in this archive, but the archive is not the repository.
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				tw.WriteHeader(&tar.Header{Name: "src/index.ts", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
				tw.Write([]byte("x\n"))
				tw.Close()
				writeTree(t, w.ws, map[string]string{e["SCALINGO_PATH"]: b.String()})
			}
			res := w.run(t, context.Background(), e)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
			}

			at := 0
			for _, want := range tt.want {
				i := strings.Index(res.stdout[at:], want)
				if i < 0 {
					t.Fatalf("stdout lacks %q after byte %d:\n%s", want, at, res.stdout)
				}
				at += i + len(want)
			}
			if tt.platform == "github" {
				commands, open := ghrunner.Commands(res.stdout)
				var errs []string
				for _, c := range commands {
					switch name, _, _ := strings.Cut(c, " "); name {
					case "error":
						errs = append(errs, c)
					case "add-mask", "group", "endgroup", "warning": // no GITHUB_OUTPUT here
					default:
						if !strings.HasPrefix(c, "stop-commands") && len(c) != 32 { // a resume token
							t.Errorf("the runner reads %q", c)
						}
					}
				}
				if open || !slices.Equal(errs, tt.wantErrors) {
					t.Errorf("error commands\n  %q\nwant\n  %q", errs, tt.wantErrors)
				}
			}
			if strings.Contains(res.stdout, "etc/passwd,") || strings.Contains(res.stdout, "not-in-the-archive.go,") {
				t.Errorf("a path that is not a shipped file is annotated:\n%s", res.stdout)
			}

			path := filepath.Join(w.ws, "gl-code-quality-report.json")
			data, err := os.ReadFile(path)
			if tt.report == nil {
				if err == nil {
					t.Errorf("a Code Quality report was written off GitLab: %s", data)
				}
				return
			}
			var issues []struct {
				Description, Fingerprint, Severity string
				CheckName                          string `json:"check_name"`
				Location                           struct {
					Path  string
					Lines struct{ Begin int }
				}
			}
			if err := json.Unmarshal(data, &issues); err != nil {
				t.Fatalf("report %s: %v", data, err)
			}
			got := []string{}
			for _, is := range issues {
				got = append(got, is.Location.Path+":"+strconv.Itoa(is.Location.Lines.Begin))
				if !strings.HasPrefix(is.Description, "my-app build failed: ") || is.Fingerprint == "" || is.Severity != "blocker" || is.CheckName == "" {
					t.Errorf("issue %+v", is)
				}
			}
			if !slices.Equal(got, tt.report) {
				t.Errorf("report issues %q, want %q", got, tt.report)
			}
		})
	}
}

// TestRun_BuildFailureSeveralApps: each failed target is pointed at with its own lines, in
// the log (with its name) and in one Code Quality report; a target that did not
// fail adds nothing.
func TestRun_BuildFailureSeveralApps(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	withRepo(t, w)
	w.fake.AddApp("my-api", fakescalingo.Scenario{FinalStatus: "build-error", Log: buildLog(t, "go")})
	w.fake.AddApp("my-worker", fakescalingo.Scenario{FinalStatus: "hook-error", Log: buildLog(t, "python")})
	w.fake.AddApp("my-web", fakescalingo.Scenario{})
	e := w.env("gitlab", "SCALINGO_APP", "my-api,my-worker,my-web")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		// As every warning of a target's view: the level, then the app's name.
		"\nerror: api/internal/api/handler.go:8: [my-api] undefined: Serve\n",
		"\nerror: worker/jobs/report.py:7: [my-worker] NameError: name 'totl' is not defined\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	data, err := os.ReadFile(filepath.Join(w.ws, "gl-code-quality-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var issues []struct{ Description string }
	if err := json.Unmarshal(data, &issues); err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, is := range issues {
		app, _, _ := strings.Cut(is.Description, " ")
		apps = append(apps, app)
	}
	if want := []string{"my-api", "my-api", "my-api", "my-worker"}; !slices.Equal(apps, want) {
		t.Errorf("report's issues are of %q, want %q:\n%s", apps, want, data)
	}
}

// TestRun_CodeQualityReportUnwritable: the report is feedback; failing to write it is a
// warning, and the exit code stays the deployment's.
func TestRun_CodeQualityReportUnwritable(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	e := w.env("gitlab", "SCALINGO_CODE_QUALITY_REPORT", "missing/folder/cq.json")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "warning: could not write the Code Quality report: ") {
		t.Errorf("no warning:\n%s", res.stdout)
	}
}

// TestRun_BuildFailureRedacted: a secret the build printed next to a location (the API
// token, pasted into the app's own variables and echoed by a failing script) is masked in
// the annotation and in the report, as in the log. (Env values are data, not masks: the
// CI masks the secrets it hands out.)
func TestRun_BuildFailureRedacted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	secret := w.fake.APIToken
	withRepo(t, w)
	w.fake.AddApp("my-app", fakescalingo.Scenario{FinalStatus: "build-error",
		Log: buildLog(t, "gcc", "/tmp/build_0a1b2c3d/src/main.c:6:16: error: cannot connect with "+secret)})
	for _, platform := range []string{"github", "gitlab"} {
		e := w.env(platform)
		res := w.run(t, context.Background(), e)
		if res.code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s\n%s", platform, res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, "main.c") || !strings.Contains(res.stdout, "cannot connect with ***") {
			t.Errorf("%s: the location is not shown, masked:\n%s", platform, res.stdout)
		}
		report, _ := os.ReadFile(filepath.Join(w.ws, "gl-code-quality-report.json"))
		if platform == "gitlab" && !strings.Contains(string(report), "cannot connect with ***") {
			t.Errorf("the report lacks the masked line:\n%s", report)
		}
		for _, out := range []string{res.stdout, res.stderr, string(report)} {
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, secret) && !strings.HasPrefix(line, "::add-mask::") {
					t.Errorf("%s: the secret shows: %q", platform, line)
				}
			}
		}
	}
}
