package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// head is pull_request.head.sha in every pull-request file of testdata/events.
const head = "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39"

func event(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		panic(err)
	}
	return p
}

// github is a GitHub run on an event; the workspace is base's.
func githubEvent(eventName, file string) []string {
	return []string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", eventName, "GITHUB_EVENT_PATH", event(file)}
}

func TestLoad_Review(t *testing.T) {
	t.Parallel()
	opened := githubEvent("pull_request", "github-pull_request-opened.json")
	tests := []struct {
		name  string
		args  []string
		env   []string
		want  Review
		names map[string]string // parent → ReviewAppName
	}{
		{
			name: "off by default, the event is not read",
			env:  append([]string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", "/nonexistent/event.json"}, base...),
			want: Review{},
		},
		{
			name:  "GitHub pull_request opened",
			env:   append([]string{"INPUT_REVIEW-APP", "true"}, append(opened, base...)...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}},
			names: map[string]string{"my-app": "my-app-pr42"},
		},
		{
			name: "GitHub pull_request closed destroys, and a missing path is no error",
			args: []string{"--path", "dist-not-built"},
			env: append([]string{"INPUT_REVIEW-APP", "true"},
				append(githubEvent("pull_request", "github-pull_request-closed.json"), base...)...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 42, ForkKnown: true, Closed: true, Event: "pull_request", HeadSHA: head}},
			names: map[string]string{"my-app": "my-app-pr42"},
		},
		{
			name:  "fork is carried, not refused here",
			env:   append([]string{"INPUT_REVIEW-APP", "true"}, append(githubEvent("pull_request", "github-pull_request-fork.json"), base...)...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 57, Fork: true, ForkKnown: true, Event: "pull_request", HeadSHA: head}},
			names: map[string]string{"my-app": "my-app-pr57"},
		},
		{
			name: "pull_request_target from a fork, allowed",
			env: append([]string{"INPUT_REVIEW-APP", "true", "INPUT_ALLOW-FORKS", "true"},
				append(githubEvent("pull_request_target", "github-pull_request_target-fork-opened.json"), base...)...),
			want:  Review{Enabled: true, AllowForks: true, PR: ci.PR{Number: 58, Fork: true, ForkKnown: true, Event: "pull_request_target", HeadSHA: head}},
			names: map[string]string{"my-app": "my-app-pr58"},
		},
		{
			name: "GitLab merge request",
			env: []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", "/ws", "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "12",
				"CI_MERGE_REQUEST_PROJECT_ID", "12", "SCALINGO_API_TOKEN", "tk-us-plain", "SCALINGO_APP", "shop-staging", "SCALINGO_REVIEW_APP", "true"},
			want:  Review{Enabled: true, PR: ci.PR{Number: 7, ForkKnown: true}},
			names: map[string]string{"shop-staging": "shop-staging-pr7"},
		},
		{
			name: "Woodpecker pull request, settings as plugin",
			env: []string{"CI", "woodpecker", "CI_WORKSPACE", "/woodpecker/src", "CI_COMMIT_PULL_REQUEST", "9",
				"PLUGIN_API_TOKEN", "tk-us-plain", "PLUGIN_APP", "my-app", "PLUGIN_REVIEW_APP", "true", "PLUGIN_COPY_ENV", "SENTRY_DSN,MAILER_*"},
			want:  Review{Enabled: true, CopyEnv: []string{"SENTRY_DSN", "MAILER_*"}, PR: ci.PR{Number: 9}},
			names: map[string]string{"my-app": "my-app-pr9"},
		},
		{
			name: "Drone pull request, kebab-case settings",
			env: []string{"DRONE", "true", "DRONE_WORKSPACE", "/drone/src", "DRONE_PULL_REQUEST", "11",
				"PLUGIN_API_TOKEN", "tk-us-plain", "PLUGIN_APP", "my-app", "PLUGIN_REVIEW-APP", "true", "PLUGIN_ADDONS", "postgresql:postgresql-starter-512"},
			want:  Review{Enabled: true, Addons: []string{"postgresql:postgresql-starter-512"}, PR: ci.PR{Number: 11}},
			names: map[string]string{"my-app": "my-app-pr11"},
		},
		{
			name:  "review-app-name without a pull request",
			args:  []string{"--review-app", "--review-app-name", "my-app-preview"},
			env:   base,
			want:  Review{Enabled: true, Name: "my-app-preview"},
			names: map[string]string{"my-app": "my-app-preview"},
		},
		{
			name:  "destroy a named review app by hand",
			args:  []string{"--review-app", "--review-app-name", "my-app-preview", "--destroy"},
			env:   base,
			want:  Review{Enabled: true, Name: "my-app-preview", Destroy: true},
			names: map[string]string{"my-app": "my-app-preview"},
		},
		{
			name: "several parents, one child each",
			env: append([]string{"INPUT_REVIEW-APP", "true", "INPUT_APP", "front-app\napi-app@osc-secnum-fr1"},
				append(opened, base...)...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}},
			names: map[string]string{"front-app": "front-app-pr42", "api-app": "api-app-pr42"},
		},
		{
			name: "lists: newlines and commas, duplicates dropped",
			env: append([]string{"INPUT_REVIEW-APP", "true",
				"INPUT_COPY-ENV", "DATABASE_URL, MAILER_*\nSENTRY_DSN\n\nDATABASE_URL",
				"INPUT_ADDONS", "postgresql:postgresql-starter-512,\nredis:redis-sandbox\n"},
				append(opened, base...)...),
			want: Review{Enabled: true, CopyEnv: []string{"DATABASE_URL", "MAILER_*", "SENTRY_DSN"},
				Addons: []string{"postgresql:postgresql-starter-512", "redis:redis-sandbox"}, PR: ci.PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}},
			names: map[string]string{"my-app": "my-app-pr42"},
		},
		{
			name:  "false inputs without review-app are fine",
			env:   append([]string{"INPUT_DESTROY", "false", "INPUT_ALLOW-FORKS", "false", "INPUT_REVIEW-APP", "false"}, base...),
			want:  Review{},
			names: nil,
		},
		{
			name:  "shortest name: a 1-letter parent fits with a 2-digit PR",
			args:  []string{"--review-app", "--app", "a"},
			env:   append([]string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "10"}, base...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 10}},
			names: map[string]string{"a": "a-pr10"},
		},
		{
			name:  "longest name: 48 characters",
			args:  []string{"--review-app", "--app", strings.Repeat("a", 43)},
			env:   append([]string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "1"}, base...),
			want:  Review{Enabled: true, PR: ci.PR{Number: 1}},
			names: map[string]string{strings.Repeat("a", 43): strings.Repeat("a", 43) + "-pr1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Review, tt.want) {
				t.Errorf("Review = %+v\nwant     %+v", c.Review, tt.want)
			}
			for parent, want := range tt.names {
				if got := c.ReviewAppName(parent); got != want {
					t.Errorf("ReviewAppName(%s) = %q, want %q", parent, got, want)
				}
			}
		})
	}
}

func TestLoad_ReviewInvalid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"action":"opened","pull_request":{"number":"42; rm -rf /"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "not.json")
	if err := os.WriteFile(notJSON, []byte("tk-us-plain"), 0o644); err != nil {
		t.Fatal(err)
	}
	opened := githubEvent("pull_request", "github-pull_request-opened.json")
	on := func(kv ...string) []string {
		return append(append([]string{"INPUT_REVIEW-APP", "true"}, kv...), base...)
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
		hide []string
	}{
		{name: "no pull request and no name", env: on(githubEvent("push", "push.json")...),
			want: []string{"review-app: found no pull or merge request number", "set review-app-name"}},
		{name: "no pull request outside a CI", args: []string{"--review-app"}, env: base,
			want: []string{"review-app: found no pull or merge request number"}},
		{name: "review-app-name with several parents", env: on(append([]string{"INPUT_APP", "one-app,two-app", "INPUT_REVIEW-APP-NAME", "shared-preview"}, opened...)...),
			want: []string{"review-app-name: names one review app, but app lists 2 parents"}},
		{name: "resolved name over 48 characters", env: on(append([]string{"INPUT_APP", strings.Repeat("a", 44)}, opened...)...),
			want: []string{"review-app: the review app of " + strings.Repeat("a", 44) + " would be", "-pr42", "6 to 48 characters", "set review-app-name"}},
		{name: "resolved name under 6 characters", env: append([]string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "1"}, on("INPUT_APP", "a")...),
			want: []string{`would be "a-pr1"`, "set review-app-name"}},
		{name: "parent with capitals and underscores", env: on(append([]string{"INPUT_APP", "My_App"}, opened...)...),
			want: []string{`"My_App-pr42"`, "set review-app-name"}},
		{name: "one bad parent among several", env: on(append([]string{"INPUT_APP", "good-app\nBad_App"}, opened...)...),
			want: []string{`"Bad_App-pr42"`}},
		{name: "review-app-name with a double hyphen", env: on(append([]string{"INPUT_REVIEW-APP-NAME", "my--preview"}, opened...)...),
			want: []string{`review-app-name: "my--preview" is not a Scalingo app name`}},
		{name: "review-app-name too short", env: on("INPUT_REVIEW-APP-NAME", "short"), want: []string{"review-app-name:", "6 to 48"}},
		{name: "review-app-name too long", env: on("INPUT_REVIEW-APP-NAME", strings.Repeat("b", 49)), want: []string{"review-app-name:"}},
		{name: "review-app-name with a leading hyphen", env: on("INPUT_REVIEW-APP-NAME", "-preview"), want: []string{"review-app-name:"}},
		{name: "review-app-name with capitals", env: on("INPUT_REVIEW-APP-NAME", "My-Preview"), want: []string{"review-app-name:"}},
		{name: "destroy without review-app", env: append([]string{"INPUT_DESTROY", "true"}, base...),
			want: []string{"destroy: needs review-app: true"}},
		{name: "every review input without review-app", args: []string{"--review-app-name", "x-preview", "--copy-env", "A", "--addons", "redis:redis-sandbox", "--allow-forks"}, env: base,
			want: []string{"review-app-name: needs review-app: true", "copy-env: needs review-app: true", "addons: needs review-app: true", "allow-forks: needs review-app: true"}},
		{name: "addons item without a plan", env: on(append([]string{"INPUT_ADDONS", "postgresql"}, opened...)...),
			want: []string{`addons: item #1 is not "provider:plan"`}},
		{name: "addons item with a bad character", env: on(append([]string{"INPUT_ADDONS", "redis:redis-sandbox,pg:plan;drop"}, opened...)...),
			want: []string{"addons: item #2"}, hide: []string{"drop"}},
		{name: "addons provider twice", env: on(append([]string{"INPUT_ADDONS", "redis:redis-sandbox\nredis:redis-starter-256"}, opened...)...),
			want: []string{"addons: item #2: provider redis is given twice"}},
		{name: "copy-env star copies everything", env: on(append([]string{"INPUT_COPY-ENV", "*"}, opened...)...),
			want: []string{"copy-env: item #1 copies every variable of the parent"}},
		{name: "copy-env not a name, not echoed", env: on(append([]string{"INPUT_COPY-ENV", "A,postgres://u:hunter2@db"}, opened...)...),
			want: []string{"copy-env: item #2 is not a variable name"}, hide: []string{"hunter2"}},
		{name: "copy-env star in the middle", env: on(append([]string{"INPUT_COPY-ENV", "A*B"}, opened...)...),
			want: []string{"copy-env: item #1"}},
		{name: "review-app not a bool", env: append([]string{"INPUT_REVIEW-APP", "yes"}, base...),
			want: []string{`review-app: "yes" is not true or false`}},
		{name: "destroy not a bool", env: on(append([]string{"INPUT_DESTROY", "please"}, opened...)...),
			want: []string{`destroy: "please" is not true or false`}},
		{name: "event payload with a bad number", env: on("GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", broken),
			want: []string{"review-app: read the pull request event", "pull_request.number is not a positive integer"}, hide: []string{"rm -rf"}},
		{name: "event payload not JSON, not echoed", env: on("GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request_target", "GITHUB_EVENT_PATH", notJSON),
			want: []string{"review-app: read the pull request event", "not valid JSON"}},
		{name: "event payload missing", env: on("GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", filepath.Join(dir, "gone.json")),
			want: []string{"review-app: read the pull request event"}},
		{name: "event path unset", env: on("GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request"),
			want: []string{"review-app: read the pull request event: GITHUB_EVENT_PATH is not set"}},
		{name: "GitLab IID not a number", env: append([]string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7abc"}, on()...),
			want: []string{"review-app: read the pull request number: CI_MERGE_REQUEST_IID is not a positive integer"}},
		{name: "token pasted into copy-env", env: on(append([]string{"INPUT_COPY-ENV", "tk-us-plain"}, opened...)...),
			want: []string{"copy-env: holds the API token's value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, tt.args, tt.env, tt.want, tt.hide)
		})
	}
}

// FuzzReview: whatever the review inputs and the request number, Load never panics, fails
// only with invalid input, and every review app name it accepts keeps Scalingo's rules.
func FuzzReview(f *testing.F) {
	f.Add("my-app", "", "A,B_*", "redis:redis-sandbox", "42", "false")
	f.Add("a,b", "x-preview", "*", "pg", "0", "true")
	f.Add(strings.Repeat("a", 60), "", "", "", "99999", "")
	f.Fuzz(func(t *testing.T, app, name, copyEnv, addons, iid, destroy string) {
		c, err := Load(nil, env("SCALINGO_API_TOKEN", "tk-us-fuzz", "SCALINGO_APP", app, "SCALINGO_REVIEW_APP", "true",
			"SCALINGO_REVIEW_APP_NAME", name, "SCALINGO_COPY_ENV", copyEnv, "SCALINGO_ADDONS", addons, "SCALINGO_DESTROY", destroy,
			"GITLAB_CI", "true", "CI_PROJECT_DIR", "/ws", "CI_MERGE_REQUEST_IID", iid))
		if err != nil {
			var ie interface{ InvalidInput() bool }
			if !errors.As(err, &ie) {
				t.Errorf("error %v is not invalid input", err)
			}
			return
		}
		for _, tg := range c.Targets {
			if n := c.ReviewAppName(tg.App); !validAppName(n) {
				t.Errorf("accepted the review app name %q", n)
			}
		}
		for _, e := range c.Review.CopyEnv {
			if e == "*" || !copyEnvItem.MatchString(e) {
				t.Errorf("accepted copy-env item %q", e)
			}
		}
	})
}
