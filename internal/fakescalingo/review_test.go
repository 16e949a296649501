package fakescalingo_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// errorsOf returns the 422 body's "errors" field names, sorted.
func errorsOf(t *testing.T, r response) []string {
	t.Helper()
	errs, _ := r.JSON(t)["errors"].(map[string]any)
	var keys []string
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestVariables(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       int
		wantErrs   []string
		wantVars   map[string]string
	}{
		{"bulk set", `{"variables":[{"name":"A","value":"1"},{"name":"B_2-x","value":""}]}`, 200, nil,
			map[string]string{"OLD": "kept", "A": "1", "B_2-x": ""}},
		{"update keeps the others", `{"variables":[{"name":"OLD","value":"new"}]}`, 200, nil, map[string]string{"OLD": "new"}},
		{"no wrapper", `[{"name":"A","value":"1"}]`, 400, nil, nil},
		{"empty body", ``, 422, []string{"variables"}, nil},
		{"empty list", `{"variables":[]}`, 422, []string{"variables"}, nil},
		{"bad name", `{"variables":[{"name":"A B","value":"1"}]}`, 422, []string{"name"}, nil},
		{"name too long", `{"variables":[{"name":"` + strings.Repeat("N", 65) + `","value":"1"}]}`, 422, []string{"name"}, nil},
		{"value too long", `{"variables":[{"name":"A","value":"` + strings.Repeat("v", 8193) + `"}]}`, 422, []string{"value"}, nil},
		{"no value", `{"variables":[{"name":"A"}]}`, 422, []string{"value"}, nil},
		{"one bad, none set", `{"variables":[{"name":"A","value":"1"},{"name":"","value":"2"}]}`, 422, []string{"name"}, map[string]string{"OLD": "kept"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/variables", header: jsonHeaders(jwt),
				body: strings.NewReader(`{"variable":{"name":"OLD","value":"kept"}}`)})
			if r.Status != 201 {
				t.Fatalf("POST variable: %d %s", r.Status, r.Body)
			}
			oldID := r.JSON(t)["variable"].(map[string]any)["id"].(string)

			r = do(t, req{method: "PUT", url: s.APIURL + "/v1/apps/my-app/variables", header: jsonHeaders(jwt), body: strings.NewReader(tc.body)})
			if r.Status != tc.want {
				t.Fatalf("PUT: %d %s, want %d", r.Status, r.Body, tc.want)
			}
			if got := errorsOf(t, r); tc.want == 422 && !slices.Equal(got, tc.wantErrs) {
				t.Errorf("422 errors %v, want %v", got, tc.wantErrs)
			}
			if tc.want == 200 {
				// The answer holds the variables sent, with their ids.
				var sent struct{ Variables []map[string]string }
				json.Unmarshal([]byte(tc.body), &sent)
				got := r.JSON(t)["variables"].([]any)
				if len(got) != len(sent.Variables) {
					t.Fatalf("PUT answered %s", r.Body)
				}
				for i, v := range got {
					v := v.(map[string]any)
					if v["name"] != sent.Variables[i]["name"] || v["value"] != sent.Variables[i]["value"] || v["id"] == "" {
						t.Errorf("PUT answer %d: %v", i, v)
					}
					if v["name"] == "OLD" && v["id"] != oldID {
						t.Errorf("update changed the id: %v, was %s", v["id"], oldID)
					}
				}
			}
			if tc.wantVars == nil {
				return
			}
			r = do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/variables?aliases=false", header: bearer(jwt)})
			got := map[string]string{}
			for _, v := range r.JSON(t)["variables"].([]any) {
				v := v.(map[string]any)
				got[v["name"].(string)] = v["value"].(string)
			}
			app, _ := s.App("my-app")
			for k, v := range tc.wantVars {
				if got[k] != v || app.Variables[k] != v {
					t.Errorf("%s: GET %q, App() %q, want %q", k, got[k], app.Variables[k], v)
				}
			}
			if len(got) != len(app.Variables) {
				t.Errorf("GET %v, App() %v", got, app.Variables)
			}
		})
	}
}

// TestVariablesBeforeDeployment: the order of requests and the variables a
// deployment was created with are both visible to a test.
func TestVariablesBeforeDeployment(t *testing.T) {
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	src := createSource(t, s, jwt)
	upload(t, src.upload, goodArchive(t), "application/x-gzip")
	r := do(t, req{method: "PUT", url: s.APIURL + "/v1/apps/my-app/variables", header: jsonHeaders(jwt),
		body: strings.NewReader(`{"variables":[{"name":"SECRET","value":"s3cr3t"}]}`)})
	if r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	createDeployment(t, s, jwt, "my-app", src.download)
	put, post := -1, -1
	for i, q := range s.Requests() {
		switch {
		case q.Method == "PUT" && q.Path == "/v1/apps/my-app/variables":
			put = i
		case q.Method == "POST" && q.Path == "/v1/apps/my-app/deployments":
			post = i
		}
	}
	if put < 0 || post < put {
		t.Errorf("PUT at %d, deployment POST at %d", put, post)
	}
	if d := s.Deployments("my-app"); len(d) != 1 || d[0].Env["SECRET"] != "s3cr3t" {
		t.Errorf("deployment env %v", d)
	}
}

func TestPostdeployHook(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		want        int
		wantHook    *string
	}{
		{"absent", ``, 201, nil},
		{"null", `,"postdeploy_hook":null`, 201, nil},
		{"command", `,"postdeploy_hook":"bundle exec rake db:seed"`, 201, ptr("bundle exec rake db:seed")},
		{"not a string", `,"postdeploy_hook":["rake"]`, 422, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/deployments", header: jsonHeaders(jwt),
				body: strings.NewReader(`{"deployment":{"source_url":"http://127.0.0.1:1/x"` + tc.field + `}}`)})
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
			if tc.want != 201 {
				if got := errorsOf(t, r); !slices.Equal(got, []string{"postdeploy_hook"}) {
					t.Errorf("errors %v", got)
				}
				return
			}
			d := s.Deployments("my-app")[0]
			answered := r.JSON(t)["deployment"].(map[string]any)["postdeploy_hook"]
			switch {
			case tc.wantHook == nil && (d.PostdeployHook != nil || answered != nil):
				t.Errorf("hook %v, answered %v, want none", d.PostdeployHook, answered)
			case tc.wantHook != nil && (d.PostdeployHook == nil || *d.PostdeployHook != *tc.wantHook || answered != *tc.wantHook):
				t.Errorf("hook %v, answered %v, want %q", d.PostdeployHook, answered, *tc.wantHook)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestChildApps(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     fakescalingo.Options
		parent   fakescalingo.Scenario
		body     string
		want     int
		wantErrs []string
	}{
		{"created", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"parent-app-pr12"}}`, 201, nil},
		{"48 characters", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"` + strings.Repeat("a", 48) + `"}}`, 201, nil},
		{"49 characters", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"` + strings.Repeat("a", 49) + `"}}`, 422, []string{"name"}},
		{"33 with the doc's 32", fakescalingo.Options{ChildNameMax: 32}, fakescalingo.Scenario{}, `{"app":{"name":"` + strings.Repeat("a", 33) + `"}}`, 422, []string{"name"}},
		{"too short", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"pr-1"}}`, 422, []string{"name"}},
		{"capitals", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"Parent-PR12"}}`, 422, []string{"name"}},
		{"double hyphen", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"parent--pr12"}}`, 422, []string{"name"}},
		{"trailing hyphen", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"parent-pr12-"}}`, 422, []string{"name"}},
		{"taken", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"app":{"name":"other-app"}}`, 422, []string{"name"}},
		{"no wrapper", fakescalingo.Options{}, fakescalingo.Scenario{}, `{"name":"parent-app-pr12"}`, 422, []string{"app"}},
		{"free trial", fakescalingo.Options{}, fakescalingo.Scenario{FreeTrialExceeded: true}, `{"app":{"name":"parent-app-pr12"}}`, 402, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.OtherRegions = []string{"osc-secnum-fr1"}
			s := startFake(t, tc.opts)
			tc.parent.Region = "osc-secnum-fr1"
			s.AddApp("parent-app", tc.parent)
			s.AddApp("other-app", fakescalingo.Scenario{})
			api := s.RegionAPIURL("osc-secnum-fr1")
			jwt := exchange(t, s)
			r := do(t, req{method: "POST", url: api + "/v1/apps/parent-app/child_apps", header: jsonHeaders(jwt), body: strings.NewReader(tc.body)})
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
			switch tc.want {
			case 422:
				if got := errorsOf(t, r); !slices.Equal(got, tc.wantErrs) {
					t.Errorf("errors %v, want %v", got, tc.wantErrs)
				}
			case 402:
				m := r.JSON(t)
				if !strings.HasSuffix(m["name"].(string), "free-trial-exceeded") || m["error"] == "" || m["url"] == "" {
					t.Errorf("402 body %s", r.Body)
				}
			case 201:
				a := r.JSON(t)["app"].(map[string]any)
				name := a["name"].(string)
				if a["parent_app_name"] != "parent-app" || a["status"] != "new" || a["region"] != "osc-secnum-fr1" || a["id"] == "" {
					t.Errorf("created %v", a)
				}
				got := do(t, req{method: "GET", url: api + "/v1/apps/" + name, header: bearer(jwt)})
				if got.Status != 200 || got.JSON(t)["app"].(map[string]any)["parent_app_name"] != "parent-app" {
					t.Errorf("GET child: %d %s", got.Status, got.Body)
				}
				if do(t, req{method: "GET", url: s.APIURL + "/v1/apps/" + name, header: bearer(jwt)}).Status != 404 {
					t.Errorf("the child is found in the parent's other region")
				}
				list := do(t, req{method: "GET", url: api + "/v1/apps/parent-app/child_apps", header: bearer(jwt)})
				children := list.JSON(t)["child_apps"].([]any)
				if list.Status != 200 || len(children) != 1 || children[0].(map[string]any)["name"] != name {
					t.Errorf("child_apps list: %d %s", list.Status, list.Body)
				}
				if app, ok := s.App(name); !ok || app.Parent != "parent-app" || app.Region != "osc-secnum-fr1" {
					t.Errorf("App(%s) = %+v, %v", name, app, ok)
				}
			}
			if tc.want != 201 {
				if _, ok := s.App("parent-app-pr12"); ok {
					t.Errorf("the refused child exists")
				}
			}
		})
	}
}

// TestCreateAppWithParentID covers go-scalingo's path: POST /v1/apps with parent_id.
func TestCreateAppWithParentID(t *testing.T) {
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("parent-app", fakescalingo.Scenario{})
	s.PlanApp("parent-app-pr7", fakescalingo.Scenario{FinalStatus: "build-error"})
	jwt := exchange(t, s)
	parent, _ := s.App("parent-app")
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"by id", `{"app":{"name":"parent-app-pr7","parent_id":"` + parent.ID + `"}}`, 201},
		{"unknown parent", `{"app":{"name":"parent-app-pr8","parent_id":"nope"}}`, 404},
		{"taken", `{"app":{"name":"parent-app-pr7","parent_id":"parent-app"}}`, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps", header: jsonHeaders(jwt), body: strings.NewReader(tc.body)})
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
		})
	}
	// The planned scenario applies to the created app.
	_, id := deployOK(t, s, "parent-app-pr7")
	if seen := pollToEnd(t, s, jwt, "parent-app-pr7", id); seen[len(seen)-1] != "build-error" {
		t.Errorf("planned scenario not applied: %v", seen)
	}
}

func TestDeleteApp(t *testing.T) {
	for _, tc := range []struct {
		name, query  string
		collaborator bool
		want         int
	}{
		{"owner", "?current_name=review-app-pr1", false, 204},
		{"collaborator", "?current_name=review-app-pr1", true, 403},
		{"no current_name", "", false, 422},
		{"other current_name", "?current_name=review-app", false, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, fakescalingo.Options{CollaboratorToken: "tk-us-collaborator"})
			s.AddApp("review-app", fakescalingo.Scenario{})
			s.AddApp("review-app-pr1", fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}})
			app, _ := s.App("review-app-pr1")
			jwt := exchange(t, s)
			if tc.collaborator {
				r := do(t, req{method: "POST", url: s.AuthURL + "/v1/tokens/exchange", header: map[string]string{
					"Authorization": "Basic " + basic(":tk-us-collaborator")}})
				if r.Status != 200 {
					t.Fatalf("collaborator exchange: %d", r.Status)
				}
				jwt = r.JSON(t)["token"].(string)
				// A collaborator may create children.
				c := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/review-app/child_apps", header: jsonHeaders(jwt),
					body: strings.NewReader(`{"app":{"name":"review-app-pr2"}}`)})
				if c.Status != 201 {
					t.Errorf("collaborator creating a child: %d %s", c.Status, c.Body)
				}
			}
			r := do(t, req{method: "DELETE", url: s.APIURL + "/v1/apps/review-app-pr1" + tc.query, header: bearer(jwt)})
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
			_, exists := s.App("review-app-pr1")
			if exists == (tc.want == 204) {
				t.Errorf("exists after delete: %v", exists)
			}
			if tc.want == 403 && r.JSON(t)["error"] == "" {
				t.Errorf("403 body %s", r.Body)
			}
			if tc.want == 204 {
				if len(r.Body) != 0 || !slices.Equal(s.Deleted(), []string{"review-app-pr1"}) {
					t.Errorf("body %q, Deleted %v", r.Body, s.Deleted())
				}
				if g := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/review-app-pr1", header: bearer(jwt)}); g.Status != 404 {
					t.Errorf("GET after delete: %d", g.Status)
				}
				if _, ok := s.App(app.ID); ok {
					t.Errorf("still known by id")
				}
			}
		})
	}
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAddons(t *testing.T) {
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{AddonPolls: 2})
	jwt := exchange(t, s)

	r := do(t, req{method: "GET", url: s.APIURL + "/v1/addon_providers/postgresql/plans", header: bearer(jwt)})
	if r.Status != 200 {
		t.Fatalf("plans: %d %s", r.Status, r.Body)
	}
	var starter string
	for _, p := range r.JSON(t)["plans"].([]any) {
		if p := p.(map[string]any); p["name"] == "postgresql-starter-512" {
			starter = p["id"].(string)
		}
	}
	if starter == "" || starter == "postgresql-starter-512" {
		t.Fatalf("plan id %q", starter)
	}
	if r := do(t, req{method: "GET", url: s.APIURL + "/v1/addon_providers/oracle-db/plans", header: bearer(jwt)}); r.Status != 404 || r.JSON(t)["resource"] != "addon_provider" {
		t.Errorf("unknown provider: %d %s", r.Status, r.Body)
	}

	for _, tc := range []struct {
		name, body string
		want       int
		wantErrs   []string
	}{
		{"plan name instead of id", `{"addon":{"addon_provider_id":"postgresql","plan_id":"postgresql-starter-512"}}`, 404, nil},
		{"unknown provider", `{"addon":{"addon_provider_id":"oracle-db","plan_id":"` + starter + `"}}`, 404, nil},
		{"no plan", `{"addon":{"addon_provider_id":"postgresql"}}`, 422, []string{"plan_id"}},
		{"no wrapper", `{"addon_provider_id":"postgresql","plan_id":"` + starter + `"}`, 422, []string{"addon"}},
		{"provisioned", `{"addon":{"addon_provider_id":"postgresql","plan_id":"` + starter + `","options":{"version":"16"}}}`, 201, nil},
		{"second of a provider", `{"addon":{"addon_provider_id":"postgresql","plan_id":"` + starter + `"}}`, 422, []string{"addon_provider_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/addons", header: jsonHeaders(jwt), body: strings.NewReader(tc.body)})
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
			if tc.want == 422 && !slices.Equal(errorsOf(t, r), tc.wantErrs) {
				t.Errorf("errors %v, want %v", errorsOf(t, r), tc.wantErrs)
			}
			if tc.want == 201 {
				m := r.JSON(t)
				ad := m["addon"].(map[string]any)
				if ad["status"] != "provisioning" || ad["plan"].(map[string]any)["id"] != starter ||
					fmt.Sprint(m["variables"]) != "[SCALINGO_POSTGRESQL_URL]" {
					t.Errorf("provision answer %s", r.Body)
				}
			}
		})
	}

	var statuses []string
	for range 4 {
		r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/addons", header: bearer(jwt)})
		addons := r.JSON(t)["addons"].([]any)
		if len(addons) != 1 {
			t.Fatalf("addons: %s", r.Body)
		}
		statuses = append(statuses, addons[0].(map[string]any)["status"].(string))
	}
	if strings.Join(statuses, ",") != "provisioning,provisioning,running,running" {
		t.Errorf("addon statuses over polls: %v", statuses)
	}
	app, _ := s.App("my-app")
	if len(app.Addons) != 1 || app.Addons[0].Status != "running" || app.Addons[0].PlanName != "postgresql-starter-512" ||
		!strings.HasPrefix(app.Variables["SCALINGO_POSTGRESQL_URL"], "postgres://") {
		t.Errorf("App() %+v", app)
	}
}

func TestScale(t *testing.T) {
	const web1 = `{"containers":[{"name":"web","amount":1,"size":"S"}]}`
	for _, tc := range []struct {
		name     string
		sc       fakescalingo.Scenario
		deployed bool
		first    string // a scale done before, to the end of its operation
		body     string
		want     int
		wantOps  []string // operation statuses over GETs
		wantForm map[string]fakescalingo.Container
	}{
		{"never deployed: at once", fakescalingo.Scenario{}, false, "", web1, 200, nil,
			map[string]fakescalingo.Container{"web": {Amount: 1, Size: "S"}}},
		{"deployed: an operation", fakescalingo.Scenario{ScalePolls: 2}, true, "", web1, 202, []string{"running", "running", "done", "done"},
			map[string]fakescalingo.Container{"web": {Amount: 1, Size: "S"}}},
		{"operation error", fakescalingo.Scenario{ScaleError: "not enough capacity"}, true, "", web1, 202, []string{"error"},
			map[string]fakescalingo.Container{}},
		{"no change", fakescalingo.Scenario{}, false, web1, web1, 422, nil, map[string]fakescalingo.Container{"web": {Amount: 1, Size: "S"}}},
		{"stop", fakescalingo.Scenario{}, false, web1, `{"containers":[{"name":"web","amount":0}]}`, 200, nil,
			map[string]fakescalingo.Container{"web": {Amount: 0, Size: "S"}}},
		{"type from the Procfile", fakescalingo.Scenario{}, true, "", `{"containers":[{"name":"worker","amount":1}]}`, 404, nil, map[string]fakescalingo.Container{}},
		{"over 10", fakescalingo.Scenario{}, false, "", `{"containers":[{"name":"web","amount":11}]}`, 422, nil, map[string]fakescalingo.Container{}},
		{"bad size", fakescalingo.Scenario{}, false, "", `{"containers":[{"name":"web","amount":1,"size":"XXL"}]}`, 422, nil, map[string]fakescalingo.Container{}},
		{"empty", fakescalingo.Scenario{}, false, "", `{"containers":[]}`, 422, nil, map[string]fakescalingo.Container{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", tc.sc)
			jwt := exchange(t, s)
			if tc.deployed {
				_, id := deployOK(t, s, "my-app")
				pollToEnd(t, s, jwt, "my-app", id)
			}
			scale := func(body string) response {
				return do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/scale", header: jsonHeaders(jwt), body: strings.NewReader(body)})
			}
			if tc.first != "" {
				if r := scale(tc.first); r.Status != 200 {
					t.Fatalf("first scale: %d %s", r.Status, r.Body)
				}
			}
			r := scale(tc.body)
			if r.Status != tc.want {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.want)
			}
			if r.Status == 404 && r.JSON(t)["resource"] != "container_type" {
				t.Errorf("404 body %s", r.Body)
			}
			loc := r.Header.Get("Location")
			if (tc.want == 202) != (loc != "") {
				t.Fatalf("Location %q with %d", loc, r.Status)
			}
			if loc != "" {
				if !strings.HasPrefix(loc, s.APIURL+"/v1/apps/my-app/operations/") {
					t.Errorf("Location %q", loc)
				}
				if again := scale(`{"containers":[{"name":"web","amount":2}]}`); again.Status != 422 {
					t.Errorf("scale during an operation: %d", again.Status)
				}
				var seen []string
				for range tc.wantOps {
					op := do(t, req{method: "GET", url: loc, header: bearer(jwt)}).JSON(t)["operation"].(map[string]any)
					seen = append(seen, op["status"].(string))
					if op["status"] == "error" && op["error"] != tc.sc.ScaleError {
						t.Errorf("operation error %v", op["error"])
					}
				}
				if !slices.Equal(seen, tc.wantOps) {
					t.Errorf("operation statuses %v, want %v", seen, tc.wantOps)
				}
			}
			app, _ := s.App("my-app")
			if fmt.Sprint(app.Formation) != fmt.Sprint(tc.wantForm) {
				t.Errorf("formation %v, want %v", app.Formation, tc.wantForm)
			}
		})
	}
}

// TestAddAppSeeds: a test can start from an existing child with variables.
func TestAddAppSeeds(t *testing.T) {
	s := startFake(t, fakescalingo.Options{OtherRegions: []string{"osc-secnum-fr1"}})
	s.AddApp("parent-app", fakescalingo.Scenario{Region: "osc-secnum-fr1", Variables: map[string]string{"DATABASE_URL": "postgres://x", "B": "2"}})
	s.AddApp("parent-app-pr3", fakescalingo.Scenario{Parent: "parent-app"})
	jwt := exchange(t, s)
	api := s.RegionAPIURL("osc-secnum-fr1")
	r := do(t, req{method: "GET", url: api + "/v1/apps/parent-app-pr3", header: bearer(jwt)})
	if r.Status != 200 || r.JSON(t)["app"].(map[string]any)["parent_app_name"] != "parent-app" {
		t.Fatalf("seeded child: %d %s", r.Status, r.Body)
	}
	r = do(t, req{method: "GET", url: api + "/v1/apps/parent-app/variables", header: bearer(jwt)})
	vars := r.JSON(t)["variables"].([]any)
	if len(vars) != 2 || vars[0].(map[string]any)["name"] != "B" || vars[1].(map[string]any)["value"] != "postgres://x" {
		t.Errorf("seeded variables: %s", r.Body)
	}
}
