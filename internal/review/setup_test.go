package review

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

const collaboratorToken = "tk-us-collaborator-0000000000000000000000"

// setupFaults are the set-up's steps made to fail in turn, each as a fault of the fake
// (or of the manifest); lost: the creation's answer is lost.
var setupFaults = []struct {
	name      string
	faults    []fakescalingo.Fault
	valuesErr bool
	// adopted: the run finds the app its lost creation made and sets it up: no error.
	adopted bool
	// unknown: the run cannot tell whether its creation made the app, so it cannot
	// delete it.
	unknown bool
}{
	{name: "addon removal", faults: []fakescalingo.Fault{{Method: "DELETE", Path: "/v1/apps/parent-app-pr7/addons/", Status: 500, Times: -1}}},
	{name: "variable removal", faults: []fakescalingo.Fault{{Method: "DELETE", Path: "/v1/apps/parent-app-pr7/variables/", Status: 500, Times: -1}}},
	{name: "copy", faults: []fakescalingo.Fault{{Method: "GET", Path: "/v1/apps/parent-app/variables", Status: 500, Times: -1}}},
	{name: "manifest values", valuesErr: true},
	{name: "setting the values", faults: []fakescalingo.Fault{{Method: "PUT", Path: "/v1/apps/parent-app-pr7/variables", Status: 500, Times: -1}}},
	{name: "addon provisioning", faults: []fakescalingo.Fault{{Method: "POST", Path: "/v1/apps/parent-app-pr7/addons", Status: 500, Times: -1}}},
	{name: "creation answer lost", faults: []fakescalingo.Fault{{Method: "POST", Path: "/v1/apps/parent-app/child_apps", DropResponse: true}}, adopted: true},
	{name: "creation answer lost, then the app unreadable", faults: []fakescalingo.Fault{
		{Method: "POST", Path: "/v1/apps/parent-app/child_apps", DropResponse: true},
		{Method: "GET", Path: "/v1/apps/parent-app-pr7", After: 1, Status: 500, Times: -1},
	}, unknown: true},
}

// TestEnsure_SetupFailsThenStartsOver makes each step of a new review app's set-up fail,
// on a parent whose children inherit its variables and addons, then runs again: a
// failed set-up leaves no app that holds what the run did not set, or one that the next
// run sets up again from the start; never one handed to a deployment as it is.
func TestEnsure_SetupFailsThenStartsOver(t *testing.T) {
	t.Parallel()
	const prodDB = "postgres://admin:prod-secret@db.internal/prod"
	for _, tt := range setupFaults {
		for _, owner := range []bool{true, false} {
			name := tt.name + "/as a collaborator"
			if owner {
				name = tt.name + "/as the owner"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, fakescalingo.Options{CollaboratorToken: collaboratorToken})
				r.fake.AddApp("parent-app", fakescalingo.Scenario{ChildrenInheritVariables: true, ChildrenInheritAddons: true,
					Variables: map[string]string{"DATABASE_URL": prodDB, "SMTP_HOST": "smtp.example"}})
				for _, a := range [][2]string{{"postgresql", "postgresql-business-1024"}, {"redis", "redis-starter-256"}} {
					if err := r.fake.AddAddon("parent-app", a[0], a[1]); err != nil {
						t.Fatal(err)
					}
				}
				parent, _ := r.fake.App("parent-app")
				token := collaboratorToken
				if owner {
					token = r.fake.APIToken
				}
				c := r.child(t, "parent-app-pr7", "parent-app", token)
				fail := tt.valuesErr
				setup := Setup{
					CopyEnv: []string{"SMTP_HOST"},
					Values: func(string) ([]Value, error) {
						if fail {
							return nil, errors.New("generator broke")
						}
						return []Value{{Name: "FEATURE", Value: "review"}}, nil
					},
					Env:    []scalingo.Variable{{Name: "RELEASE", Value: "v1"}},
					Addons: []Addon{{Provider: "postgresql", Plan: "postgresql-starter-512"}},
					Clock:  r.clock, Timeout: time.Minute,
				}
				for _, f := range tt.faults {
					r.fake.Inject(f)
				}

				_, err := Ensure(context.Background(), c, setup)
				app, exists := r.fake.App("parent-app-pr7")
				switch {
				case tt.adopted:
					if err != nil {
						t.Fatalf("a lost creation answer: %v, want the app found and set up", err)
					}
				case err == nil:
					t.Fatal("the set-up failed, and Ensure said nothing")
				case tt.unknown:
					if !strings.Contains(err.Error(), "could not tell whether it was created") || !strings.Contains(err.Error(), "the next run sets it up from the start") {
						t.Errorf("err = %v", err)
					}
				case owner:
					if exists || !strings.Contains(err.Error(), "could not be set up and was deleted") {
						t.Errorf("the half-made app exists: %v; err = %v", exists, err)
					}
				default:
					// A collaborator cannot delete: what is left is said, names only.
					if !exists || !strings.Contains(err.Error(), "is left, never deployed") || !strings.Contains(err.Error(), "the next run sets it up again from the start") ||
						!strings.Contains(err.Error(), "it holds variables: ") {
						t.Errorf("exists %v; err = %v", exists, err)
					}
					if strings.Contains(err.Error(), "prod-secret") {
						t.Errorf("a value shows in the error: %v", err)
					}
				}

				// The next run (the set-up works now).
				r.fake.ClearFaults()
				fail = false
				if _, err := Ensure(context.Background(), c, setup); err != nil {
					t.Fatalf("second run: %v", err)
				}
				app, _ = r.fake.App("parent-app-pr7")
				if got, want := slices.Sorted(maps.Keys(app.Variables)), []string{"FEATURE", "RELEASE", "SCALINGO_POSTGRESQL_URL", "SMTP_HOST"}; !slices.Equal(got, want) {
					t.Errorf("the review app holds %v, want %v", got, want)
				}
				if app.Variables["SCALINGO_POSTGRESQL_URL"] == parent.Variables["SCALINGO_POSTGRESQL_URL"] {
					t.Error("the review app's database is the parent's")
				}
				if len(app.Addons) != 1 || app.Addons[0].PlanName != "postgresql-starter-512" {
					t.Errorf("the review app's addons are %+v, want the one the run provisioned", app.Addons)
				}
				if strings.Contains(r.out.String(), "prod-secret") {
					t.Errorf("a value shows in the output:\n%s", r.out)
				}
			})
		}
	}
}

// TestEnsure_NeverDeployedIsSetUpAgain: a child of the parent with no deployment is not
// trusted, whatever made it; one with a deployment is left as it is.
func TestEnsure_NeverDeployedIsSetUpAgain(t *testing.T) {
	t.Parallel()
	for _, deployed := range []bool{false, true} {
		t.Run(map[bool]string{false: "never deployed", true: "deployed"}[deployed], func(t *testing.T) {
			t.Parallel()
			r := newRig(t, fakescalingo.Options{})
			r.fake.AddApp("parent-app", fakescalingo.Scenario{})
			r.fake.AddApp("parent-app-pr7", fakescalingo.Scenario{Parent: "parent-app", Variables: map[string]string{"DATABASE_URL": "postgres://prod"}})
			c := r.child(t, "parent-app-pr7", "parent-app", r.fake.APIToken)
			if deployed {
				deployOnce(t, c)
			}
			if _, err := Ensure(context.Background(), c, Setup{Clock: r.clock, Env: []scalingo.Variable{{Name: "RELEASE", Value: "v1"}}}); err != nil {
				t.Fatal(err)
			}
			app, _ := r.fake.App("parent-app-pr7")
			want := []string{"RELEASE"}
			if deployed {
				want = []string{"DATABASE_URL"} // env is the deploy flow's on a deployed app
			}
			if got := slices.Sorted(maps.Keys(app.Variables)); !slices.Equal(got, want) {
				t.Errorf("variables %v, want %v", got, want)
			}
		})
	}
}

// TestCheckDestroy tries to make a destroy delete what is not a review app of this
// request.
func TestCheckDestroy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kids     []Child
		targets  []string
		explicit bool
		keep     bool
		refused  []string
	}{
		{name: "the default name on a closed event", kids: []Child{{Name: "my-app-pr7", Parent: "my-app"}}, targets: []string{"my-app"}},
		{name: "the default name with destroy", kids: []Child{{Name: "my-app-pr7", Parent: "my-app"}}, targets: []string{"my-app"}, explicit: true},
		{name: "a fixed name with destroy", kids: []Child{{Name: "my-app-demo", Parent: "my-app", Fixed: true}}, targets: []string{"my-app"}, explicit: true},
		{name: "a fixed name on a closed event alone", kids: []Child{{Name: "my-app-demo", Parent: "my-app", Fixed: true}}, targets: []string{"my-app"}, keep: true},
		{name: "the parent by review-app-name", kids: []Child{{Name: "my-app", Parent: "my-app", Fixed: true}}, targets: []string{"my-app"}, explicit: true,
			refused: []string{"review app my-app is not deleted: it is the parent app itself"}},
		{name: "the parent on a closed event", kids: []Child{{Name: "my-app", Parent: "my-app", Fixed: true}}, targets: []string{"my-app"},
			refused: []string{"it is the parent app itself"}},
		{name: "a target of the same run", kids: []Child{{Name: "my-app-pr7", Parent: "my-app"}, {Name: "my-app-pr7-pr7", Parent: "my-app-pr7"}},
			targets: []string{"my-app", "my-app-pr7"}, explicit: true,
			refused: []string{"review app my-app-pr7 is not deleted: it is a target of this same run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keep, err := CheckDestroy(tt.kids, tt.targets, tt.explicit)
			if keep != tt.keep {
				t.Errorf("keep = %v, want %v", keep, tt.keep)
			}
			if (err != nil) != (len(tt.refused) > 0) {
				t.Fatalf("err = %v, want refusals %q", err, tt.refused)
			}
			for _, want := range tt.refused {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want %q", err, want)
				}
			}
		})
	}
}

// TestEnsure_WaitsForAddonRemoval: an inherited addon whose removal outlasts its answer
// is waited for, then the run's own of the same provider is provisioned.
func TestEnsure_WaitsForAddonRemoval(t *testing.T) {
	t.Parallel()
	r := newRig(t, fakescalingo.Options{})
	r.fake.AddApp("parent-app", fakescalingo.Scenario{ChildrenInheritAddons: true})
	if err := r.fake.AddAddon("parent-app", "postgresql", "postgresql-business-1024"); err != nil {
		t.Fatal(err)
	}
	r.fake.PlanApp("parent-app-pr7", fakescalingo.Scenario{AddonRemovalPolls: 3})
	c := r.child(t, "parent-app-pr7", "parent-app", r.fake.APIToken)
	_, err := Ensure(context.Background(), c, Setup{Clock: r.clock, Addons: []Addon{{Provider: "postgresql", Plan: "postgresql-starter-512"}}})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := r.fake.App("parent-app-pr7")
	parent, _ := r.fake.App("parent-app")
	if len(app.Addons) != 1 || app.Addons[0].PlanName != "postgresql-starter-512" ||
		app.Variables["SCALINGO_POSTGRESQL_URL"] == parent.Variables["SCALINGO_POSTGRESQL_URL"] {
		t.Errorf("addons %+v, variables %v: want the run's own database only", app.Addons, app.Variables)
	}
}
