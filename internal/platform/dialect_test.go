package platform

import (
	"bytes"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/ghrunner"
)

// TestReporter_Annotate: an annotation at a repository line in each dialect, with a file
// name and a message that try to break out of it (file names and build logs are not
// ours).
func TestReporter_Annotate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, platform    string
		file              string
		line, col         int
		msg               string
		want              string
		wantGitHubCommand string // the one command the runner reads, for GitHub's dialect
	}{
		{name: "github", platform: ci.GitHub, file: "internal/api/handler.go", line: 42, col: 7, msg: "undefined: Serve",
			want:              "::error col=7,file=internal/api/handler.go,line=42,title=my-app build failed::undefined: Serve\n",
			wantGitHubCommand: "error col=7,file=internal/api/handler.go,line=42,title=my-app build failed"},
		{name: "github: hostile file and message", platform: ci.GitHub, file: "a,line=1:b\n::set-output name=x::y.go", line: 3,
			msg:               "100% broken\r\n::set-output name=x::y\n##[error]legacy",
			want:              "::error file=a%2Cline=1%3Ab\\n%3A%3Aset-output name=x%3A%3Ay.go,line=3,title=my-app build failed::100%25 broken\\r%0A\\x3a:set-output name=x::y%0A##\\x5berror]legacy\n",
			wantGitHubCommand: "error file=a%2Cline=1%3Ab\\n%3A%3Aset-output name=x%3A%3Ay.go,line=3,title=my-app build failed"},
		{name: "github: no file", platform: ci.GitHub, msg: "deploy failed",
			want: "::error title=my-app build failed::deploy failed\n", wantGitHubCommand: "error title=my-app build failed"},
		{name: "azure", platform: ci.Azure, file: "src/main.c", line: 3, col: 5, msg: "'x' undeclared",
			want: "##vso[task.logissue type=error;sourcepath=src/main.c;linenumber=3;columnnumber=5]my-app build failed: 'x' undeclared\n"},
		{name: "azure: hostile file and message", platform: ci.Azure, file: "a;b]c%.py", line: 1, msg: "x\n##vso[task.setvariable variable=a]b 5%",
			want: "##vso[task.logissue type=error;sourcepath=a%3Bb%5Dc%AZP25.py;linenumber=1]my-app build failed: x%0A##vso\\x5btask.setvariable variable=a]b 5%AZP25\n"},
		{name: "gitlab", platform: ci.GitLab, file: "app.py", line: 9, msg: "NameError: name 'x' is not defined",
			want: "error: app.py:9: NameError: name 'x' is not defined\n"},
		{name: "plain: hostile file", platform: ci.Drone, file: "\x1b[0Ksection_end:1:x\r.go", line: 2, msg: "bad",
			want: "error: \\x1b[0Ksection_end:1:x\\r.go:2: bad\n"},
		{name: "plain: no line", platform: ci.Local, file: "Makefile", msg: "missing separator",
			want: "error: Makefile: missing separator\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			New(ci.ByPlatform(tt.platform), &out, env(), fixed).Annotate("error", "my-app build failed", tt.file, tt.line, tt.col, tt.msg)
			if got := out.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Errorf("not one line: %q", out.String())
			}
			commands, _ := ghrunner.Commands(out.String())
			want := []string{}
			if tt.wantGitHubCommand != "" {
				want = []string{tt.wantGitHubCommand}
			}
			if strings.Join(commands, "|") != strings.Join(want, "|") {
				t.Errorf("the runner reads %q, want %q", commands, want)
			}
			if tt.platform != ci.Azure && strings.Contains(out.String(), "##vso[") {
				t.Errorf("an Azure command got through: %q", out.String())
			}
		})
	}
}
