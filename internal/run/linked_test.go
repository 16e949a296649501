package run

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// Review apps that know each other: with several parents, env and scalingo.json may
// name another parent's review app (%URL:api%, %APP:api%).

func TestReview_LinkedApps(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("api-prod", fakescalingo.Scenario{})
	w.fake.AddApp("front-prod", fakescalingo.Scenario{})
	// The front's review app exists already, deployed: its URL comes from its lookup,
	// the api's from its creation. A URL of their own tells them apart from a guess.
	w.fake.AddApp("front-prod-pr42", fakescalingo.Scenario{Parent: "front-prod", Deployed: true, URL: "https://front-preview.example.net"})
	w.fake.PlanApp("api-prod-pr42", fakescalingo.Scenario{URL: "https://api-preview.example.net"})
	writeTree(t, w.ws, map[string]string{"scalingo.json": `{"env": {
		"CORS_ORIGIN": {"generator": "template", "template": "%URL:front-prod%"},
		"PEER": {"generator": "template", "template": "%APP:api-prod% next to %APP%"}
	}}`})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_APP", "api-prod, front-prod",
		"INPUT_ENV", "API_URL=%URL:api-prod%/v1\nLITERAL=100%")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	front := w.fake.Deployments("front-prod-pr42")
	api := w.fake.Deployments("api-prod-pr42")
	if len(front) != 2 || len(api) != 1 {
		t.Fatalf("deployments: front %d (1 seeded), api %d", len(front), len(api))
	}
	// The front's review app was deployed before: env only is set again, resolved.
	if got := front[1].Env["API_URL"]; got != "https://api-preview.example.net/v1" {
		t.Errorf("front's review app got API_URL=%q, want the api's review app URL", got)
	}
	if got := front[1].Env["LITERAL"]; got != "100%" {
		t.Errorf("LITERAL=%q: a value without a reference must be left as written", got)
	}
	// The api's review app is new: the manifest's templates name the front's.
	for k, want := range map[string]string{
		"API_URL":     "https://api-preview.example.net/v1",
		"CORS_ORIGIN": "https://front-preview.example.net",
		"PEER":        "api-prod-pr42 next to api-prod-pr42",
	} {
		if got := api[0].Env[k]; got != want {
			t.Errorf("api's review app got %s=%q, want %q", k, got, want)
		}
	}
	// Every review app was found or created before any variable was set.
	reqs := requestsSince(w, 0)
	firstPut := slices.IndexFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "PUT ") })
	for _, found := range []string{"GET /v1/apps/front-prod-pr42", "POST /v1/apps/api-prod/child_apps"} {
		if i := slices.Index(reqs, found); i < 0 || i > firstPut {
			t.Errorf("%s at request %d, after variables were set (%d):\n%s", found, i, firstPut, strings.Join(reqs, "\n"))
		}
	}
}

func TestReview_LinkedAppsRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, app, env, manifest string
		want                     string
	}{
		{name: "env names a parent not in the run", app: "api-prod,front-prod", env: "API_URL=%URL:api-staging%",
			want: `env: line 1: %URL:…% or %APP:…% names "api-staging" that is not a parent app of this run (api-prod, front-prod)`},
		{name: "env names the review app, not its parent", app: "api-prod,front-prod", env: "# c\nPEER=%APP:api-prod-pr42%",
			want: `env: line 2: %URL:…% or %APP:…% names "api-prod-pr42"`},
		{name: "a malformed name is not echoed", app: "api-prod,front-prod", env: "X=%URL:s3cr3t!%",
			want: `names a name that is not a parent app`},
		{name: "scalingo.json names a parent not in the run", app: "api-prod,front-prod",
			manifest: `{"env": {"API_URL": {"generator": "template", "template": "%URL:api%"}}}`,
			want:     `scalingo.json: env: %URL:…% or %APP:…% names "api" that is not a parent app of this run`},
		{name: "one parent naming another", app: "front-prod", env: "API_URL=%URL:api-prod%", want: `names "api-prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			if tt.manifest != "" {
				writeTree(t, w.ws, map[string]string{"scalingo.json": tt.manifest})
			}
			e := reviewEnv(t, w, event(t, "opened"), "INPUT_APP", tt.app, "INPUT_ENV", tt.env)
			res := w.run(t, context.Background(), e)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if n := len(w.fake.Requests()); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
			// GitHub's annotation escapes % as %25.
			if all := strings.ReplaceAll(res.stdout+res.stderr, "%25", "%"); !strings.Contains(all, tt.want) {
				t.Errorf("the output does not say %q:\n%s", tt.want, all)
			}
			if strings.Contains(res.stdout+res.stderr, "s3cr3t") {
				t.Error("a value of env shows in the output")
			}
		})
	}
}

// TestReview_LinkedAppsOneCannotBeMade: when one parent's review app cannot be made,
// nothing is set up or deployed, and the one this run created is deleted again.
func TestReview_LinkedAppsOneCannotBeMade(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("api-prod", fakescalingo.Scenario{})
	w.fake.AddApp("front-prod", fakescalingo.Scenario{FreeTrialExceeded: true})
	e := reviewEnv(t, w, event(t, "opened"), "INPUT_APP", "api-prod, front-prod", "INPUT_ENV", "API_URL=%URL:api-prod%")
	res := w.run(t, context.Background(), e)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if _, ok := w.fake.App("api-prod-pr42"); ok {
		t.Error("the api's review app, created by this run, is left")
	}
	for _, r := range requestsSince(w, 0) {
		if strings.HasPrefix(r, "PUT ") || strings.HasSuffix(r, "/deployments") && strings.HasPrefix(r, "POST") {
			t.Errorf("sent %s", r)
		}
	}
	if !strings.Contains(res.stdout+res.stderr, "review apps need a paid account") {
		t.Errorf("the cause is not named:\n%s%s", res.stdout, res.stderr)
	}
}
