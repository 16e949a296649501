package annotate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The logs in testdata/logs are real: testdata/capture.sh produced them on a machine
// with the tools, from the broken sources in testdata/repo, each built from a copy of its
// folder (its PROJECT_DIR) in a /tmp/build_XXXXXXXX as Scalingo's builder does. Run it
// again to refresh them; the expectations below do not depend on the build dirs' names.

// repoFiles is testdata/repo's file list, as the archive of that repository ships it.
func repoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata/repo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel("testdata/repo", p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readLog(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// indented is a log as a buildpack shows a tool's output: every line indented by seven
// spaces (Heroku-style buildpacks pipe through `sed 's/^/       /'`).
func indented(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "       " + l
	}
	return out
}

func TestLocate_RealOutput(t *testing.T) {
	t.Parallel()
	typeErr := "error TS2322: Type 'string' is not assignable to type 'number'."
	nodeErr := "TypeError: Cannot read properties of undefined (reading 'toUpperCase')"
	tests := []struct {
		name string
		log  string
		edit func([]string) []string
		want []Location
	}{
		{name: "go build, relative to the module in a PROJECT_DIR", log: "go", want: []Location{
			{"api/internal/api/handler.go", 8, 2, "undefined: Serve"},
			{"api/internal/api/handler.go", 12, 6, "declared and not used: count"},
			{"api/internal/api/handler.go", 12, 18, `cannot use "none" (untyped string constant) as int value in variable declaration`},
		}},
		{name: "gcc, absolute build dir; the note and the warning left out", log: "gcc", want: []Location{
			{"native/src/main.c", 5, 24, "error: ‘totl’ undeclared (first use in this function); did you mean ‘total’?"},
		}},
		{name: "python3 traceback: the innermost frame of the app", log: "python", want: []Location{
			{"worker/jobs/report.py", 7, 0, "NameError: name 'totl' is not defined"},
		}},
		{name: "python3 syntax error", log: "python-syntax", want: []Location{
			{"worker/jobs/syntax.py", 1, 0, "SyntaxError: invalid syntax"},
		}},
		{name: "node uncaught error: the throwing line, not node:internal", log: "node", want: []Location{
			{"web/lib/greet.js", 4, 32, nodeErr},
		}},
		{name: "tsc", log: "tsc", want: []Location{
			{"web/src/index.ts", 2, 7, typeErr}, {"web/src/index.ts", 6, 3, typeErr},
		}},
		{name: "tsc --pretty, in colour", log: "tsc-pretty", want: []Location{
			{"web/src/index.ts", 2, 7, typeErr}, {"web/src/index.ts", 6, 3, typeErr},
		}},
		{name: "rustc", log: "rustc", want: []Location{
			{"rust/src/main.rs", 3, 20, "error[E0425]: cannot find value `answr` in this scope"},
			{"rust/src/main.rs", 2, 23, "error[E0308]: mismatched types"},
		}},
		{name: "javac", log: "javac", want: []Location{
			{"java/src/main/java/com/example/App.java", 6, 0, "error: ';' expected"},
		}},
		{name: "eslint --format unix", log: "eslint", want: []Location{
			{"web/lib/format.js", 4, 9, "'unused' is assigned a value but never used. [Error/no-unused-vars]"},
			{"web/lib/format.js", 5, 37, "'currency' is not defined. [Error/no-undef]"},
		}},
		{name: "eslint, its default stylish format", log: "eslint-stylish", want: []Location{
			{"web/lib/format.js", 4, 9, "'unused' is assigned a value but never used (no-unused-vars)"},
			{"web/lib/format.js", 5, 37, "'currency' is not defined (no-undef)"},
		}},
		{name: "python3 traceback indented by the buildpack", log: "python", edit: indented, want: []Location{
			{"worker/jobs/report.py", 7, 0, "NameError: name 'totl' is not defined"},
		}},
		{name: "node indented by the buildpack", log: "node", edit: indented, want: []Location{
			{"web/lib/greet.js", 4, 32, nodeErr},
		}},
		{name: "gcc in a CRLF log", log: "gcc", edit: func(l []string) []string {
			for i := range l {
				l[i] += "\r"
			}
			return l
		}, want: []Location{
			{"native/src/main.c", 5, 24, "error: ‘totl’ undeclared (first use in this function); did you mean ‘total’?"},
		}},
	}
	shipped := NewShipped(repoFiles(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines := readLog(t, tt.log)
			if tt.edit != nil {
				lines = tt.edit(lines)
			}
			got := Locate(Scan(lines), shipped, MaxPerTarget)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", show(got), show(tt.want))
			}
		})
	}
}

// TestLocate_Forms covers forms no tool on this machine prints (Maven, PHP, Ruby), each
// written as its tool's documentation shows it, and how a whole build log is read.
func TestLocate_Forms(t *testing.T) {
	t.Parallel()
	shipped := NewShipped([]string{"src/main/java/com/example/App.java", "public/index.php", "app.rb", "lib/report.rb",
		"main.go", "cmd/tool/main.go", "web/server.js", "Makefile"})
	tests := []struct {
		name string
		log  string
		want []Location
	}{
		{name: "maven", log: "[INFO] BUILD FAILURE\n[ERROR] /tmp/build_ab12/src/main/java/com/example/App.java:[5,21] incompatible types: String cannot be converted to int\n[WARNING] /tmp/build_ab12/src/main/java/com/example/App.java:[2,1] unused import",
			want: []Location{{"src/main/java/com/example/App.java", 5, 21, "incompatible types: String cannot be converted to int"}}},
		{name: "php error", log: "PHP Parse error:  syntax error, unexpected token \"}\" in /app/public/index.php on line 12",
			want: []Location{{"public/index.php", 12, 0, "PHP Parse error:  syntax error, unexpected token \"}\""}}},
		{name: "php stack trace", log: "#0 /app/public/index.php(7): render()\n#1 {main}",
			want: []Location{{"public/index.php", 7, 0, "render()"}}},
		{name: "ruby: the first line, not the from lines", log: "/app/lib/report.rb:3:in 'build': undefined local variable or method 'totl' for main (NameError)\n\tfrom /app/app.rb:7:in '<main>'",
			want: []Location{{"lib/report.rb", 3, 0, "in 'build': undefined local variable or method 'totl' for main (NameError)"}}},
		{name: "ruby syntax error", log: "app.rb:3: syntax error, unexpected end-of-input", want: []Location{{"app.rb", 3, 0, "syntax error, unexpected end-of-input"}}},
		{name: "exact file wins over a PROJECT_DIR match", log: "/tmp/build_x/main.go:3:1: undefined: x",
			want: []Location{{"main.go", 3, 1, "undefined: x"}}},
		{name: "the longest suffix: cmd/tool/main.go", log: "/tmp/build_x/cmd/tool/main.go:9:2: undefined: y",
			want: []Location{{"cmd/tool/main.go", 9, 2, "undefined: y"}}},
		{name: "buildpack noise and a status line are no locations", log: "-----> Installing Go 1.22\n       Fetching https://dl.google.com:443/go/go1.22.tar.gz\n       12:34:56 compiling\n-----> Build failed at 2024-01-02T10:11:12Z",
			want: nil},
		{name: "make names its Makefile, not the app's line", log: "make: *** [Makefile:2: all] Error 1", want: nil},
		{name: "node ESM frame with file://", log: "Error: boom\n    at file:///app/web/server.js:3:9",
			want: []Location{{"web/server.js", 3, 9, "Error: boom"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Locate(Scan(strings.Split(tt.log, "\n")), shipped, MaxPerTarget)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", show(got), show(tt.want))
			}
		})
	}
}

func TestShipped_Resolve(t *testing.T) {
	t.Parallel()
	shipped := NewShipped([]string{"app/", "main.go", "api/handler.go", "web/handler.go", "web/lib/util.js",
		"node_modules/left-pad/index.js", "etc/app.conf", "lib/report.rb", "http/server.py"})
	tests := []struct {
		name, logged, want string
	}{
		{"relative", "main.go", "main.go"},
		{"./ prefix", "./main.go", "main.go"},
		{"build dir", "/tmp/build_0a1b2c/main.go", "main.go"},
		{"runtime dir", "/app/web/lib/util.js", "web/lib/util.js"},
		{"PROJECT_DIR subfolder", "/tmp/build_0a1b2c/lib/util.js", "web/lib/util.js"},
		{"ambiguous: two handler.go", "/tmp/build_x/handler.go", ""},
		{"longer suffix removes the ambiguity", "/tmp/build_x/api/handler.go", "api/handler.go"},
		{"not shipped", "/tmp/build_x/missing.go", ""},
		{"a folder is no file", "/tmp/build_x/app", ""},
		{"dependency, even when shipped", "/app/node_modules/left-pad/index.js", ""},
		{"dependency through a relative path", "node_modules/left-pad/index.js", ""},
		{"python's site-packages", "/app/.heroku/python/lib/python3.11/site-packages/http/server.py", ""},
		{"the system's files", "/usr/lib/python3.11/http/server.py", ""},
		{"too deep below the builder's folders", "/home/u/src/project/http/server.py", ""},
		{"climbing", "../../etc/passwd", ""},
		{"climbing into a shipped file", "/tmp/build_x/web/../main.go", ""},
		{"climbing out, then a shipped file", "../etc/app.conf", "etc/app.conf"},
		{"empty", "", ""},
		{"slashes only", "///", ""},
		{"node internal", "node:internal/modules/cjs/loader", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := shipped.Resolve(tt.logged)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.logged, got, ok, tt.want)
			}
		})
	}
}

// TestLocate_HostileLog: a build log is the app's, and so the attacker's: what it holds
// comes back as data, and a path that is not a shipped file is dropped.
func TestLocate_HostileLog(t *testing.T) {
	t.Parallel()
	shipped := NewShipped([]string{"main.go"})
	log := []string{
		"::set-output name=token::stolen",
		"main.go:1:1: ::set-output name=x::y",
		"main.go:2:1: ##vso[task.setvariable variable=x]y",
		"../../etc/passwd:1:1: root:x:0:0",
		"/tmp/build_x/not-in-the-archive.go:3:1: undefined: z",
		"main.go:99999999999:1: overflow",
		"main.go:3:1: " + strings.Repeat("é", 1000),
	}
	got := Locate(Scan(log), shipped, MaxPerTarget)
	want := []Location{
		{"main.go", 1, 1, "set-output name=x::y"}, // the separator's colons are trimmed
		{"main.go", 2, 1, "##vso[task.setvariable variable=x]y"},
		{"main.go", 3, 1, strings.Repeat("é", maxMessage/2) + "…"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", show(got), show(want))
	}
}

// TestScan_TimesAreNoPaths: a builder that stamps each line with the time must not use up
// the candidates before the compiler's error.
func TestScan_TimesAreNoPaths(t *testing.T) {
	t.Parallel()
	var log []string
	for i := 0; i < 2*MaxCandidates; i++ {
		log = append(log, fmt.Sprintf("2024-01-02T10:11:%02dZ 12:34:56 step %d", i%60, i))
	}
	log = append(log, "main.go:3:1: undefined: x")
	got := Locate(Scan(log), NewShipped([]string{"main.go"}), MaxPerTarget)
	if want := []Location{{"main.go", 3, 1, "undefined: x"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %s", show(got))
	}
}

func TestLocate_Bounded(t *testing.T) {
	t.Parallel()
	var log []string
	for i := 1; i <= 2*MaxCandidates; i++ {
		log = append(log, fmt.Sprintf("main.go:%d:1: error %d", i, i))
	}
	c := Scan(log)
	if len(c) != MaxCandidates {
		t.Errorf("Scan kept %d candidates, want %d", len(c), MaxCandidates)
	}
	got := Locate(c, NewShipped([]string{"main.go"}), MaxPerTarget)
	if len(got) != MaxPerTarget || got[0].Line != 1 || got[MaxPerTarget-1].Line != MaxPerTarget {
		t.Errorf("got %s, want the first %d", show(got), MaxPerTarget)
	}
}

func show(locs []Location) string {
	var b strings.Builder
	for _, l := range locs {
		fmt.Fprintf(&b, "  %s:%d:%d: %q\n", l.File, l.Line, l.Col, l.Message)
	}
	return b.String()
}
