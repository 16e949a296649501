package oracle

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	scalingo "github.com/Scalingo/go-scalingo/v10"
	scalingohttp "github.com/Scalingo/go-scalingo/v10/http"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func startWith(t *testing.T, opts fakescalingo.Options) *fakescalingo.Server {
	t.Helper()
	s, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, s *fakescalingo.Server, cfg scalingo.ClientConfig) *scalingo.Client {
	t.Helper()
	if cfg.APIToken == "" {
		cfg.APIToken = s.APIToken
	}
	cfg.AuthEndpoint = s.AuthURL
	if cfg.Region == "" && cfg.APIEndpoint == "" {
		cfg.APIEndpoint = s.APIURL
	}
	c, err := scalingo.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apiError returns the status and the decoded API error of a failed call.
func apiError(t *testing.T, err error) (int, error) {
	t.Helper()
	var rfe *scalingohttp.RequestFailedError
	if !errors.As(err, &rfe) {
		t.Fatalf("not a RequestFailedError: %v", err)
	}
	return rfe.Code, rfe.APIError
}

// TestOfficialClient_regions: the client's Region option resolves the API
// through the fake's /v1/regions, and an app is found only in its region.
func TestOfficialClient_regions(t *testing.T) {
	ctx := context.Background()
	s := startWith(t, fakescalingo.Options{OtherRegions: []string{"osc-secnum-fr1"}})
	s.AddApp("prod-app", fakescalingo.Scenario{Region: "osc-secnum-fr1"})

	c := client(t, s, scalingo.ClientConfig{Region: "osc-secnum-fr1"})
	regions, err := c.RegionsList(ctx)
	if err != nil || len(regions) != 2 || regions[0].Name != "osc-fr1" || !regions[0].Default ||
		regions[1].Name != "osc-secnum-fr1" || regions[1].API != s.RegionAPIURL("osc-secnum-fr1") || regions[1].Default {
		t.Fatalf("RegionsList: %+v, %v", regions, err)
	}
	app, err := c.AppsShow(ctx, "prod-app")
	if err != nil || app.Region != "osc-secnum-fr1" {
		t.Fatalf("AppsShow in its region: %+v, %v", app, err)
	}

	fr1 := client(t, s, scalingo.ClientConfig{Region: "osc-fr1"})
	_, err = fr1.AppsShow(ctx, "prod-app")
	code, apiErr := apiError(t, err)
	var nf scalingohttp.NotFoundError
	if code != 404 || !errors.As(apiErr, &nf) || nf.Resource != "app" {
		t.Errorf("AppsShow in the wrong region: %v", err)
	}
}

func TestOfficialClient_variables(t *testing.T) {
	ctx := context.Background()
	s := startWith(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	c := client(t, s, scalingo.ClientConfig{})

	one, status, err := c.VariableSet(ctx, "my-app", "OLD", "kept")
	if err != nil || status != 201 || one.ID == "" || one.Name != "OLD" || one.Value != "kept" {
		t.Fatalf("VariableSet: %+v, %d, %v", one, status, err)
	}
	set, status, err := c.VariableMultipleSet(ctx, "my-app", scalingo.Variables{{Name: "A", Value: "1"}, {Name: "OLD", Value: "new"}})
	if err != nil || status != 200 || len(set) != 2 || set[0].ID == "" || set[1].ID != one.ID || set[1].Value != "new" {
		t.Fatalf("VariableMultipleSet: %+v, %d, %v", set, status, err)
	}
	for _, list := range []func(context.Context, string) (scalingo.Variables, error){c.VariablesList, c.VariablesListWithoutAlias} {
		vars, err := list(ctx, "my-app")
		if err != nil || len(vars) != 2 {
			t.Fatalf("list: %+v, %v", vars, err)
		}
		if a, ok := vars.Contains("A"); !ok || a.Value != "1" {
			t.Errorf("list: %+v", vars)
		}
	}
	_, _, err = c.VariableMultipleSet(ctx, "my-app", scalingo.Variables{{Name: "NOT VALID", Value: "1"}})
	code, apiErr := apiError(t, err)
	var ue scalingohttp.UnprocessableEntity
	if code != 422 || !errors.As(apiErr, &ue) || len(ue.Errors["name"]) == 0 {
		t.Errorf("bad name: %v", err)
	}
	if err := c.VariableUnset(ctx, "my-app", one.ID); err != nil {
		t.Errorf("VariableUnset: %v", err)
	}
}

// createChild calls POST /v1/apps/{parent}/child_apps, which go-scalingo
// has no method for, through the client's own request machinery.
func createChild(ctx context.Context, c *scalingo.Client, parent, name string) (*scalingo.App, error) {
	var res scalingo.AppResponse
	err := c.ScalingoAPI().DoRequest(ctx, &scalingohttp.APIRequest{
		Method:   "POST",
		Endpoint: "/apps/" + parent + "/child_apps",
		Expected: scalingohttp.Statuses{201},
		Params:   map[string]any{"app": map[string]string{"name": name}},
	}, &res)
	return res.App, err
}

func TestOfficialClient_childApps(t *testing.T) {
	ctx := context.Background()
	s := startWith(t, fakescalingo.Options{CollaboratorToken: "tk-us-collaborator"})
	s.AddApp("parent-app", fakescalingo.Scenario{})
	s.AddApp("trial-app", fakescalingo.Scenario{FreeTrialExceeded: true})
	c := client(t, s, scalingo.ClientConfig{})
	collab := client(t, s, scalingo.ClientConfig{APIToken: "tk-us-collaborator"})

	child, err := createChild(ctx, c, "parent-app", "parent-app-pr1")
	if err != nil || child.Name != "parent-app-pr1" || child.ID == "" || child.Status != scalingo.AppStatusNew || child.Owner.Username == "" {
		t.Fatalf("child_apps: %+v, %v", child, err)
	}
	parent, err := c.AppsShow(ctx, "parent-app")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := collab.AppsCreate(ctx, scalingo.AppsCreateOpts{Name: "parent-app-pr2", ParentApp: parent.ID})
	if err != nil || byID.Name != "parent-app-pr2" {
		t.Fatalf("AppsCreate with ParentApp (collaborator): %+v, %v", byID, err)
	}
	if a, ok := s.App("parent-app-pr2"); !ok || a.Parent != "parent-app" {
		t.Errorf("App(parent-app-pr2) = %+v", a)
	}

	_, err = createChild(ctx, c, "parent-app", "Parent_PR3")
	code, apiErr := apiError(t, err)
	var ue scalingohttp.UnprocessableEntity
	if code != 422 || !errors.As(apiErr, &ue) || len(ue.Errors["name"]) == 0 {
		t.Errorf("bad name: %v", err)
	}
	_, err = createChild(ctx, c, "trial-app", "trial-app-pr1")
	code, apiErr = apiError(t, err)
	var pr scalingohttp.PaymentRequiredError
	if code != 402 || !errors.As(apiErr, &pr) || !strings.HasSuffix(pr.Name, "free-trial-exceeded") || pr.URL == "" {
		t.Errorf("free trial: %v (%#v)", err, apiErr)
	}

	// Only the owner deletes; current_name goes in the query string.
	err = collab.AppsDestroy(ctx, "parent-app-pr1", "parent-app-pr1")
	code, apiErr = apiError(t, err)
	var fe scalingohttp.ForbiddenError
	if code != 403 || !errors.As(apiErr, &fe) || fe.Err == "" {
		t.Errorf("collaborator delete: %v", err)
	}
	if err := c.AppsDestroy(ctx, "parent-app-pr1", "parent-app"); err == nil {
		t.Errorf("delete with another current_name succeeded")
	}
	if err := c.AppsDestroy(ctx, "parent-app-pr1", "parent-app-pr1"); err != nil {
		t.Fatalf("AppsDestroy: %v", err)
	}
	_, err = c.AppsShow(ctx, "parent-app-pr1")
	if code, _ := apiError(t, err); code != 404 {
		t.Errorf("after delete: %v", err)
	}
}

func TestOfficialClient_addons(t *testing.T) {
	ctx := context.Background()
	s := startWith(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{AddonPolls: 1})
	c := client(t, s, scalingo.ClientConfig{})

	// "scalingo-postgres" is corrected by the client into scalingo-postgresql.
	for _, provider := range []string{"postgresql", "scalingo-postgres"} {
		plans, err := c.AddonProviderPlansList(ctx, provider, scalingo.AddonProviderPlansListOpts{})
		if err != nil || len(plans) == 0 || plans[0].ID == "" || plans[0].Name == "" {
			t.Fatalf("AddonProviderPlansList(%s): %+v, %v", provider, plans, err)
		}
	}
	plans, _ := c.AddonProviderPlansList(ctx, "postgresql", scalingo.AddonProviderPlansListOpts{})
	var planID string
	for _, p := range plans {
		if p.Name == "postgresql-starter-512" {
			planID = p.ID
		}
	}
	res, err := c.AddonProvision(ctx, "my-app", scalingo.AddonProvisionParams{AddonProviderID: "postgresql", PlanID: planID, Options: map[string]string{"version": "16"}})
	if err != nil || res.Addon.ID == "" || res.Addon.Status != scalingo.AddonStatusProvisioning || res.Addon.Plan == nil || res.Addon.Plan.ID != planID ||
		res.Addon.AddonProvider == nil || res.Addon.AddonProvider.ID != "postgresql" || res.Addon.ProvisionedAt.IsZero() ||
		len(res.Variables) != 1 || res.Variables[0] != "SCALINGO_POSTGRESQL_URL" {
		t.Fatalf("AddonProvision: %+v, %v", res, err)
	}
	list, err := c.AddonsList(ctx, "my-app")
	if err != nil || len(list) != 1 || list[0].Status != scalingo.AddonStatusProvisioning {
		t.Fatalf("AddonsList: %+v, %v", list, err)
	}
	shown, err := c.AddonShow(ctx, "my-app", res.Addon.ID)
	if err != nil || shown.Status != scalingo.AddonStatusRunning {
		t.Fatalf("AddonShow: %+v, %v", shown, err)
	}
	_, err = c.AddonProvision(ctx, "my-app", scalingo.AddonProvisionParams{AddonProviderID: "postgresql", PlanID: "postgresql-starter-512"})
	var nf scalingohttp.NotFoundError
	if code, apiErr := apiError(t, err); code != 404 || !errors.As(apiErr, &nf) || nf.Resource != "plan" {
		t.Errorf("plan name as id: %v", err)
	}
	// Removing an addon takes its variable with it.
	if err := c.AddonDestroy(ctx, "my-app", res.Addon.ID); err != nil {
		t.Fatalf("AddonDestroy: %v", err)
	}
	if app, _ := s.App("my-app"); len(app.Addons) != 0 || app.Variables["SCALINGO_POSTGRESQL_URL"] != "" {
		t.Errorf("after AddonDestroy: %+v", app)
	}
}

func TestOfficialClient_scaleAndHook(t *testing.T) {
	ctx := context.Background()
	s := startWith(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{ScalePolls: 1})
	c := client(t, s, scalingo.ClientConfig{})

	// Never deployed: scaled at once.
	resp, err := c.AppsScale(ctx, "my-app", &scalingo.AppsScaleParams{Containers: []scalingo.ContainerType{{Name: "web", Amount: 1, Size: "S"}}})
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Location") != "" {
		t.Fatalf("AppsScale before deploying: %v, %v", resp, err)
	}
	resp.Body.Close()

	// A deployment with a postdeploy_hook, which go-scalingo's params lack.
	src, err := c.SourcesCreate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, src.UploadURL, strings.NewReader(string(archive(t))))
	req.Header.Set("Content-Type", "application/x-gzip")
	up, err := http.DefaultClient.Do(req)
	if err != nil || up.StatusCode != 200 {
		t.Fatalf("upload: %v %v", up, err)
	}
	up.Body.Close()
	var created map[string]*scalingo.Deployment
	err = c.ScalingoAPI().DoRequest(ctx, &scalingohttp.APIRequest{
		Method: "POST", Endpoint: "/apps/my-app/deployments", Expected: scalingohttp.Statuses{201},
		Params: map[string]any{"deployment": map[string]any{"source_url": src.DownloadURL, "postdeploy_hook": "rake db:seed"}},
	}, &created)
	if err != nil || created["deployment"] == nil || created["deployment"].PostdeployHook != "rake db:seed" {
		t.Fatalf("create with postdeploy_hook: %+v, %v", created, err)
	}
	id := created["deployment"].ID
	for range 5 {
		d, err := c.Deployment(ctx, "my-app", id)
		if err != nil {
			t.Fatal(err)
		}
		if d.PostdeployHook != "rake db:seed" {
			t.Errorf("Deployment().PostdeployHook %q", d.PostdeployHook)
		}
		if scalingo.IsFinishedString(d.Status) {
			break
		}
	}

	resp, err = c.AppsScale(ctx, "my-app", &scalingo.AppsScaleParams{Containers: []scalingo.ContainerType{{Name: "web", Amount: 2, Size: "M"}}})
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("AppsScale after deploying: %v, %v", resp, err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	op, err := c.OperationsShowFromURL(ctx, loc)
	if err != nil || op.Status != scalingo.OperationStatusRunning || op.Type != scalingo.OperationTypeScale || op.ID == "" {
		t.Fatalf("OperationsShowFromURL(%s): %+v, %v", loc, op, err)
	}
	op, err = c.OperationsShow(ctx, "my-app", op.ID)
	if err != nil || op.Status != scalingo.OperationStatusDone || op.FinishedAt.IsZero() {
		t.Fatalf("OperationsShow: %+v, %v", op, err)
	}

	_, err = c.AppsScale(ctx, "my-app", &scalingo.AppsScaleParams{Containers: []scalingo.ContainerType{{Name: "clock", Amount: 1}}})
	var nf scalingohttp.NotFoundError
	if code, apiErr := apiError(t, err); code != 404 || !errors.As(apiErr, &nf) || nf.Resource != "container_type" {
		t.Errorf("unknown type: %v", err)
	}
}
