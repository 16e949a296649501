package feedback

import (
	"github.com/scalingo-deploy/scalingo-deploy/internal/markdown"

	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/github"
	"github.com/scalingo-deploy/scalingo-deploy/internal/forge/gitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const sha = "0123456789abcdef0123456789abcdef01234567"

// lines records what the feedback reports.
type lines struct {
	mu  sync.Mutex
	out []string
}

func (l *lines) add(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out = append(l.out, level+": "+fmt.Sprintf(format, args...))
}
func (l *lines) Warning(f string, a ...any) { l.add("warning", f, a...) }
func (l *lines) Notice(f string, a ...any)  { l.add("notice", f, a...) }
func (l *lines) Printf(f string, a ...any)  { l.add("print", f, a...) }
func (l *lines) Redact(s string) string     { return s }

func ghClient(t *testing.T, s *fakegithub.Server) *github.Client {
	t.Helper()
	c, err := github.New(github.Options{APIURL: s.URL, Repository: fakegithub.DefaultRepository, Token: s.Token, UserAgent: "t",
		Policy: httpapi.Policy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRender_golden(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"success", []Entry{{App: "my-app-pr12", Parent: "my-app", Region: "osc-fr1", URL: "https://my-app-pr12.osc-fr1.scalingo.io",
			State: Deployed, Status: "success", Commit: sha, Duration: 92 * time.Second}}},
		{"build error", []Entry{{App: "api", Region: "osc-fr1", URL: "https://api.osc-fr1.scalingo.io", State: Failed, Status: "build-error",
			Commit: sha, Duration: 40 * time.Second, Cause: "build-error: the build failed: read its log",
			LogTail: "\x1b[1m-----> Building\x1b[0m\n./main.go:3:2: undefined: Serve\n```\n````closing attempt\n@someone please look\n",
			Blamed:  []Blame{{Place: "api/main.go:3:2", Message: "undefined: Serve"}, {Place: "api/`x|y`.go:1", Message: "@someone <b>[x](https://evil)</b>"}}}}},
		{"several", []Entry{
			{App: "api", Region: "osc-fr1", URL: "https://api.osc-fr1.scalingo.io", State: Deployed, Commit: "v1.2.0", Duration: time.Minute},
			{App: "worker", Region: "osc-secnum-fr1", URL: "javascript:alert(1)", State: TimedOut, Status: "building", Commit: "v1.2.0",
				Cause: "stopped waiting after 40m; it goes on at Scalingo"},
			{App: "front", Region: "osc-fr1", State: Unhealthy, Status: "success", Cause: "GET /healthz answered 503 <b>|pwn|</b> [x](https://evil)"},
		}},
		{"deleted", []Entry{{App: "my-app-pr12", Parent: "my-app", Region: "osc-fr1", State: Deleted}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, e := range tt.entries {
				if e.State != Deleted {
					tt.entries[i].Dashboard = "https://dashboard.scalingo.com/apps/" + e.Region + "/" + e.App
				}
			}
			got := Render(Key([]string{"my-app@osc-fr1"}), tt.entries, "https://github.com/o/r/actions/runs/7")
			path := filepath.Join("testdata", strings.ReplaceAll(tt.name, " ", "-")+".md")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(path, []byte(got), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestRender_hostile: what an attacker controls (a build log, an API message) cannot
// close the fence, add a link, mention anyone or break the table.
func TestRender_hostile(t *testing.T) {
	log := strings.Repeat("x\n", 100) + "`````\n</details>\n<!-- scalingo-deploy:my-app@osc-fr1 -->\n"
	got := Render("k", []Entry{{App: "a", Region: "r", State: Failed, Cause: "[click](https://evil) @admin <img src=x> | x", LogTail: log,
		URL: "https://ok.example/)[x](https://evil"}}, "")
	fence := markdown.Fence(lastLines(log))
	if len(fence) != 6 {
		t.Fatalf("fence %q: a log line of 5 backticks would close a shorter one", fence)
	}
	if strings.Count(got, "| x") != strings.Count(got, "\\| x") {
		t.Errorf("a pipe of the cause splits the table:\n%s", got)
	}
	for _, bad := range []string{"[click](https://evil)", "@admin", "<img", "https://ok.example/)"} {
		if strings.Contains(got, bad) {
			t.Errorf("the comment holds %q:\n%s", bad, got)
		}
	}
	if strings.Count(got, "<!-- scalingo-deploy:") != 2 || !strings.HasPrefix(got, "<!-- scalingo-deploy:k -->\n") {
		t.Errorf("marker:\n%s", got)
	}
}

// TestComment_github: created once, edited in place, left alone when unchanged; a
// marker in someone else's comment is not ours.
func TestComment_github(t *testing.T) {
	ctx := context.Background()
	s := fakegithub.Start(fakegithub.Options{PullRequests: []int{4}})
	defer s.Close()
	key := Key([]string{"my-app@osc-fr1"})
	// An attacker copies the marker into their own comment, hoping the run edits it
	// (their text then signed by the bot) or skips its own.
	s.AddComment(4, "mallory", Marker(key)+"\nfake: deployed to https://evil.example")
	// Another bot of the repository (an app, dependabot) quoting the marker is not ours
	// either: the Actions token has no user to compare, but its bot has a name.
	s.AddComment(4, "dependabot[bot]", Marker(key)+"\nquoted")
	var l lines
	f := New(&GitHub{Client: ghClient(t, s), PR: 4}, nil, key, "", &l)
	e := Entry{App: "my-app", Region: "osc-fr1", State: Deployed, URL: "https://my-app.osc-fr1.scalingo.io", Commit: sha}
	f.Comment(ctx, []Entry{e})
	f.Comment(ctx, []Entry{e})
	e.Commit = strings.Repeat("f", 40)
	f.Comment(ctx, []Entry{e})
	got := s.Comments(4)
	if len(got) != 3 || got[0].Edits != 0 || !strings.Contains(got[0].Body, "evil") || got[1].Edits != 0 || !strings.Contains(got[1].Body, "quoted") {
		t.Fatalf("another author's comment was touched: %+v", got)
	}
	if got[2].Edits != 1 || !strings.Contains(got[2].Body, "`fffffff`") || got[2].User.Login != ActionsBot {
		t.Fatalf("ours: %+v", got[2])
	}
	if len(l.out) != 0 {
		t.Fatalf("reported %v", l.out)
	}
}

// TestDeployments_github: one deployment per target, statuses in order, and the
// destroy's inactive.
func TestDeployments_github(t *testing.T) {
	ctx := context.Background()
	s := fakegithub.Start(fakegithub.Options{})
	defer s.Close()
	var l lines
	f := New(&GitHub{Client: ghClient(t, s), Deployments: true}, nil, "k", "https://github.com/o/r/actions/runs/9", &l)
	ok := Entry{App: "my-app-pr1", Parent: "my-app", Region: "osc-fr1", DeploymentID: "d-1", Commit: sha, State: Deployed, URL: "https://x.scalingo.io"}
	bad := Entry{App: "other-pr1", Parent: "other", Region: "osc-fr1", DeploymentID: "d-2", Commit: sha, State: TimedOut, Cause: "stopped waiting"}
	for _, e := range []Entry{ok, bad} {
		f.Started(ctx, e)
		f.Finished(ctx, e)
	}
	f.Destroyed(ctx, ok)
	d := s.Deployments()
	if len(d) != 2 {
		t.Fatalf("%d deployments", len(d))
	}
	want := [][]string{{"in_progress", "success", "inactive"}, {"in_progress", "error"}}
	for i, dep := range d {
		var states []string
		for _, st := range dep.Statuses {
			states = append(states, st.State)
			if st.LogURL != "https://github.com/o/r/actions/runs/9" {
				t.Errorf("log_url %q", st.LogURL)
			}
		}
		if strings.Join(states, ",") != strings.Join(want[i], ",") {
			t.Errorf("deployment %d: %v, want %v", i, states, want[i])
		}
		if !dep.TransientEnvironment || dep.ProductionEnvironment || dep.Request["auto_merge"] != false {
			t.Errorf("deployment %d: %+v", i, dep)
		}
	}
	if d[0].Environment != "my-app-pr1" || d[0].Statuses[1].EnvironmentURL != "https://x.scalingo.io" {
		t.Errorf("%+v", d[0])
	}
	if len(l.out) != 0 {
		t.Fatalf("reported %v", l.out)
	}
}

// TestFailures: a forge that refuses is one warning naming the permission; a fork's
// read-only token one notice; the other kind of feedback goes on.
func TestFailures(t *testing.T) {
	ctx := context.Background()
	e := Entry{App: "a", Region: "r", DeploymentID: "d", Commit: sha, State: Deployed}
	t.Run("no deployments permission", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{Permissions: map[string]string{"pull_requests": fakegithub.Write}})
		defer s.Close()
		var l lines
		f := New(&GitHub{Client: ghClient(t, s), Deployments: true, PR: 1}, nil, "k", "", &l)
		f.Started(ctx, e)
		f.Finished(ctx, e)
		f.Started(ctx, e)
		f.Comment(ctx, []Entry{e})
		if len(l.out) != 1 || !strings.Contains(l.out[0], "warning") || !strings.Contains(l.out[0], "deployments: write") {
			t.Fatalf("%v", l.out)
		}
		if len(s.Comments(1)) != 1 {
			t.Fatal("the comment did not go on")
		}
	})
	t.Run("fork", func(t *testing.T) {
		ro := map[string]string{"deployments": fakegithub.Read, "issues": fakegithub.Read, "pull_requests": fakegithub.Read}
		s := fakegithub.Start(fakegithub.Options{Permissions: ro})
		defer s.Close()
		var l lines
		f := New(&GitHub{Client: ghClient(t, s), PR: 1, Fork: true}, nil, "k", "", &l)
		f.gh.Deployments = true
		f.Started(ctx, e)
		f.Comment(ctx, []Entry{e})
		f.Comment(ctx, []Entry{e})
		if len(l.out) != 1 || !strings.HasPrefix(l.out[0], "notice: ") || !strings.Contains(l.out[0], "fork") {
			t.Fatalf("%v", l.out)
		}
	})
	t.Run("secondary rate limit", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		s.SecondaryRateLimit(10, 3600)
		var l lines
		f := New(&GitHub{Client: ghClient(t, s), PR: 1}, nil, "k", "", &l)
		f.Comment(ctx, []Entry{e})
		if len(l.out) != 1 || !strings.Contains(l.out[0], "secondary rate limit") {
			t.Fatalf("%v", l.out)
		}
	})
}

// TestComment_gitlab: one note, edited in place; another user's marked note and
// system notes are not ours.
func TestComment_gitlab(t *testing.T) {
	ctx := context.Background()
	s := fakegitlab.Start(fakegitlab.Options{MergeRequests: []int{3}})
	defer s.Close()
	s.AddNote(3, "mallory", Marker("k")+"\nfake", false)
	s.AddNote(3, "gitlab", Marker("k")+"\nsystem", true)
	c, err := gitlab.New(gitlab.Options{APIURL: s.URL, Project: "42", Token: s.Token, UserAgent: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var l lines
	f := New(nil, &GitLab{Client: c, MR: 3}, "k", "", &l)
	e := Entry{App: "a", Region: "r", State: Started}
	f.Comment(ctx, []Entry{e})
	e.State = Deployed
	f.Comment(ctx, []Entry{e})
	got := s.Notes(3)
	if len(got) != 3 || got[0].Edits != 0 || got[1].Edits != 0 || got[2].Edits != 1 || !strings.Contains(got[2].Body, "deployed") {
		t.Fatalf("%+v", got)
	}
	if len(l.out) != 0 {
		t.Fatalf("%v", l.out)
	}
}

// TestRender_long: twenty failing apps with long logs stay under GitHub's limit.
func TestRender_long(t *testing.T) {
	var entries []Entry
	for i := range 20 {
		entries = append(entries, Entry{App: fmt.Sprintf("app-%02d", i), Region: "osc-fr1", State: Failed, Cause: strings.Repeat("é", 300),
			LogTail: strings.Repeat(strings.Repeat("ü", 99)+"\n", 30)})
	}
	if n := len([]rune(Render("k", entries, ""))); n > maxComment {
		t.Fatalf("%d characters", n)
	}
	// A cause is one line, but its length is the error's: the build lines give way.
	for i := range entries {
		entries[i].Cause = strings.Repeat("x", 2500)
		entries[i].LogTail = strings.Repeat(strings.Repeat("y", 99)+"\n", 30)
	}
	got := Render("k", entries, "")
	if n := len([]rune(got)); n > 65536 || !strings.Contains(got, "would be too long") {
		t.Fatalf("%d characters", n)
	}
	if one := Render("k", entries[:1], ""); !strings.Contains(one, "```text") {
		t.Fatalf("one app keeps its lines:\n%s", one)
	}
}
