package fakescalingo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestFake_ChildListingAges: the listing gives each child's creation and last deployment
// by the fake's clock (null when never deployed); the containers route gives the
// formation of every process type the last deployment's Procfile names.
func TestFake_ChildListingAges(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now})
	s.AddApp("my-app", fakescalingo.Scenario{Deployed: true})
	s.AddApp("my-app-pr1", fakescalingo.Scenario{Parent: "my-app", Deployed: true,
		Formation: map[string]fakescalingo.Container{"web": {Amount: 2, Size: "M"}, "worker": {Amount: 1, Size: "S"}}})
	clk.Advance(48 * time.Hour)
	s.AddApp("my-app-pr2", fakescalingo.Scenario{Parent: "my-app"})
	s.AddApp("other-app-pr1", fakescalingo.Scenario{})
	jwt := exchange(t, s)

	res := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/child_apps?per_page=1&page=1", header: bearer(jwt)})
	page1 := res.JSON(t)
	kids := page1["child_apps"].([]any)
	first := kids[0].(map[string]any)
	if len(kids) != 1 || first["name"] != "my-app-pr1" || first["parent_app_name"] != "my-app" ||
		first["created_at"] != "2026-03-04T11:00:00.000+01:00" || first["last_deployed_at"] != "2026-03-04T11:00:00.000+01:00" {
		t.Errorf("page 1: %v", page1)
	}
	if next := page1["meta"].(map[string]any)["pagination"].(map[string]any)["next_page"]; next != 2.0 {
		t.Errorf("next_page %v", next)
	}
	page2 := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/child_apps?per_page=1&page=2", header: bearer(jwt)}).JSON(t)
	second := page2["child_apps"].([]any)[0].(map[string]any)
	if second["name"] != "my-app-pr2" || second["last_deployed_at"] != nil || second["created_at"] != "2026-03-06T11:00:00.000+01:00" {
		t.Errorf("page 2: %v", page2)
	}

	body := string(do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app-pr1/containers", header: bearer(jwt)}).Body)
	if !strings.Contains(body, `{"amount":2,"command":"bin/web","name":"web","size":"M"}`) || !strings.Contains(body, `"name":"worker"`) {
		t.Errorf("containers %s", body)
	}
	// A process type the Procfile names is scalable: worker to 0 goes through an operation.
	res = do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app-pr1/scale", header: jsonHeaders(jwt),
		body: strings.NewReader(`{"containers":[{"name":"worker","amount":0}]}`)})
	if res.Status != 202 || res.Header.Get("Location") == "" {
		t.Errorf("scale: %d %s", res.Status, res.Body)
	}
}

// TestFake_AddedAppAge: Scenario.Age dates an added app's creation and its seeded deployment
// before Now, as the fake command's stale review apps need (its clock is the wall clock).
func TestFake_AddedAppAge(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now})
	s.AddApp("my-app", fakescalingo.Scenario{})
	s.AddApp("my-app-pr7", fakescalingo.Scenario{Parent: "my-app", Deployed: true, Age: 30 * 24 * time.Hour})
	s.AddApp("my-app-pr8", fakescalingo.Scenario{Parent: "my-app", Age: 2 * time.Hour})
	jwt := exchange(t, s)
	kids := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/child_apps", header: bearer(jwt)}).JSON(t)["child_apps"].([]any)
	got := map[string][2]any{}
	for _, k := range kids {
		m := k.(map[string]any)
		got[m["name"].(string)] = [2]any{m["created_at"], m["last_deployed_at"]}
	}
	want := map[string][2]any{
		"my-app-pr7": {"2026-02-02T11:00:00.000+01:00", "2026-02-02T11:00:00.000+01:00"},
		"my-app-pr8": {"2026-03-04T09:00:00.000+01:00", nil},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: created_at, last_deployed_at %v, want %v", name, got[name], w)
		}
	}
}

// TestFake_AppServerShowsEnv: a served app shows a variable as its running deployment got
// it, not as set since; an app never deployed, or a variable unset, is 404.
func TestFake_AppServerShowsEnv(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}, Deployed: true,
		Variables: map[string]string{"API_URL": "https://api.example/v1"}})
	s.AddApp("my-app", fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}, Variables: map[string]string{"API_URL": "changed"}})
	s.AddApp("new-app", fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}, Variables: map[string]string{"API_URL": "x"}})
	info, _ := s.App("my-app")
	fresh, _ := s.App("new-app")
	for _, tc := range []struct {
		name, url string
		status    int
		body      string
	}{
		{"the deployed value", info.URL + "/env/API_URL", 200, "https://api.example/v1\n"},
		{"unset", info.URL + "/env/NOPE", 404, ""},
		{"never deployed", fresh.URL + "/env/API_URL", 404, ""},
	} {
		res := do(t, req{method: "GET", url: tc.url})
		if res.Status != tc.status || (tc.body != "" && string(res.Body) != tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, res.Status, res.Body, tc.status, tc.body)
		}
	}
}
