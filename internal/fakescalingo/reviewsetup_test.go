package fakescalingo_test

import (
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestChildInheritsAddons: with ChildrenInheritAddons a new child holds an addon of
// each of its parent's, with the parent's value in its variable; removing the addon
// removes the variable; and a deployment records the addons it was created with.
func TestChildInheritsAddons(t *testing.T) {
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{ChildrenInheritAddons: true})
	if err := s.AddAddon("my-app", "postgresql", "postgresql-business-1024"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddon("my-app", "postgresql", "no-such-plan"); err == nil {
		t.Error("AddAddon took an unknown plan")
	}
	parent, _ := s.App("my-app")
	jwt := exchange(t, s)
	r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/child_apps", header: jsonHeaders(jwt),
		body: strings.NewReader(`{"app":{"name":"my-app-pr7"}}`)})
	if r.Status != 201 {
		t.Fatalf("create child: %d %s", r.Status, r.Body)
	}
	child, _ := s.App("my-app-pr7")
	if len(child.Addons) != 1 || child.Addons[0].PlanName != "postgresql-business-1024" || child.Addons[0].ID == parent.Addons[0].ID {
		t.Fatalf("child addons %+v, want a postgresql-business-1024 of its own", child.Addons)
	}
	if got := child.Variables["SCALINGO_POSTGRESQL_URL"]; got == "" || got != parent.Variables["SCALINGO_POSTGRESQL_URL"] {
		t.Errorf("child SCALINGO_POSTGRESQL_URL %q, want the parent's", got)
	}

	src := createSource(t, s, jwt)
	createDeployment(t, s, jwt, "my-app-pr7", src.download)
	r = do(t, req{method: "DELETE", url: s.APIURL + "/v1/apps/my-app-pr7/addons/" + child.Addons[0].ID, header: bearer(jwt)})
	if r.Status != 204 {
		t.Fatalf("DELETE addon: %d %s", r.Status, r.Body)
	}
	if r = do(t, req{method: "DELETE", url: s.APIURL + "/v1/apps/my-app-pr7/addons/" + child.Addons[0].ID, header: bearer(jwt)}); r.Status != 404 {
		t.Errorf("DELETE of a removed addon: %d, want 404", r.Status)
	}
	child, _ = s.App("my-app-pr7")
	if _, held := child.Variables["SCALINGO_POSTGRESQL_URL"]; held || len(child.Addons) != 0 {
		t.Errorf("after the removal: %v, %+v", child.Variables, child.Addons)
	}
	if deps := s.Deployments("my-app-pr7"); len(deps) != 1 || len(deps[0].Addons) != 1 || deps[0].Env["SCALINGO_POSTGRESQL_URL"] == "" {
		t.Errorf("the deployment did not record what the app held at its creation: %+v", deps)
	}
	if parent, _ = s.App("my-app"); len(parent.Addons) != 1 {
		t.Error("the parent's addon went with the child's")
	}
}
