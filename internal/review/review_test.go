package review

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// instant is a clock whose waits end at once and move the time on: a wait of minutes
// takes no real time.
type instant struct {
	mu sync.Mutex
	t  time.Time
}

func (c *instant) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *instant) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

type rig struct {
	fake  *fakescalingo.Server
	out   *bytes.Buffer
	clock *instant
}

func newRig(t *testing.T, opts fakescalingo.Options) *rig {
	t.Helper()
	fake, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	return &rig{fake: fake, out: &bytes.Buffer{}, clock: &instant{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}}
}

// child is the review app name of parent, with a client of the given token.
func (r *rig) child(t *testing.T, name, parent, token string) Child {
	t.Helper()
	client, err := scalingo.New(scalingo.Options{APIURL: r.fake.APIURL, AuthURL: r.fake.AuthURL, APIToken: token, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	rep := platform.New(ci.ByPlatform(ci.Local), r.out, func(string) string { return "" }, r.clock.Now)
	return Child{Name: name, Parent: parent, Region: "osc-fr1", Client: client, Reporter: rep}
}

// deployOnce creates a deployment of c through the API, as the deploy flow would once
// the set-up is complete (its source is never uploaded: it fails to build).
func deployOnce(t *testing.T, c Child) {
	t.Helper()
	src, err := c.Client.CreateSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CreateDeployment(context.Background(), c.Name, src.DownloadURL, "v1", ""); err != nil {
		t.Fatal(err)
	}
}

// writes are the requests that change something at Scalingo.
func writes(fake *fakescalingo.Server) []string {
	var out []string
	for _, r := range fake.Requests() {
		if r.Server == "api" && r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestCheckFork(t *testing.T) {
	t.Parallel()
	fork := ci.PR{Number: 7, Fork: true, ForkKnown: true}
	labeled := func(label string) ci.PR { pr := fork; pr.Labeled = label; return pr }
	closed := fork
	closed.Closed = true
	tests := []struct {
		name    string
		pr      ci.PR
		allow   bool
		label   string
		refused string // a fragment of the refusal; "" when admitted
	}{
		{"same repository", ci.PR{Number: 7, ForkKnown: true}, false, "", ""},
		{"same repository, fork-label set, not labeled", ci.PR{Number: 7, ForkKnown: true}, false, "safe-to-deploy", ""},
		{"fork refused", fork, false, "", "ALLOW_FORKS"},
		{"fork allowed", fork, true, "", ""},
		{"fork labeled with the label", labeled("safe-to-deploy"), false, "safe-to-deploy", ""},
		{"fork labeled with another label", labeled("bug"), false, "safe-to-deploy", "adds it again"},
		{"fork synchronize while labeled", fork, false, "safe-to-deploy", "adds it again"},
		{"fork labeled, no fork-label", labeled("safe-to-deploy"), false, "", "ALLOW_FORKS"},
		{"fork label case differs", labeled("Safe-To-Deploy"), false, "safe-to-deploy", "adds it again"},
		{"fork closed, fork-label set: destroyed", closed, false, "safe-to-deploy", ""},
		{"fork closed, no fork-label", closed, false, "", "ALLOW_FORKS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFork(ci.Detect(func(string) string { return "" }), tt.pr, tt.allow, tt.label)
			if (err != nil) != (tt.refused != "") {
				t.Fatalf("CheckFork = %v, want refused %v", err, tt.refused != "")
			}
			if err != nil && !strings.Contains(err.Error(), tt.refused) {
				t.Errorf("the refusal %q does not say %q", err, tt.refused)
			}
		})
	}
}

func TestEnsure_CreatesAndConfiguresOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, fakescalingo.Options{})
	r.fake.AddApp("parent-app", fakescalingo.Scenario{Variables: map[string]string{
		"SMTP_HOST": "smtp.example", "SMTP_PASSWORD": "parent-smtp-secret", "STRIPE_KEY": "sk_live_parent", "FEATURE": "parent",
	}})
	r.fake.PlanApp("parent-app-pr7", fakescalingo.Scenario{AddonPolls: 3})
	c := r.child(t, "parent-app-pr7", "parent-app", r.fake.APIToken)
	var gotURL string
	setup := Setup{
		CopyEnv: []string{"SMTP_*", "FEATURE", "MISSING"},
		Values: func(url string) ([]Value, error) {
			gotURL = url
			return []Value{{Name: "FEATURE", Value: "review"}, {Name: "SECRET_KEY_BASE", Value: "0123456789abcdef0123456789abcdef", Secret: true},
				{Name: "BASE_URL", Value: url}}, nil
		},
		Addons:      []Addon{{Provider: "postgresql", Plan: "postgresql-starter-512", Version: "14"}},
		FirstDeploy: "bundle exec rake db:seed",
		Formation:   []scalingo.Container{{Name: "web", Amount: 2, Size: "S"}},
		Clock:       r.clock,
	}
	target, err := Ensure(context.Background(), c, setup)
	if err != nil {
		t.Fatal(err)
	}
	app, ok := r.fake.App("parent-app-pr7")
	if !ok || app.Parent != "parent-app" {
		t.Fatalf("child %+v (exists %v), want a child of parent-app", app, ok)
	}
	if gotURL != app.URL {
		t.Errorf("the manifest got URL %q, want the child's %q", gotURL, app.URL)
	}
	want := map[string]string{
		"SMTP_HOST": "smtp.example", "SMTP_PASSWORD": "parent-smtp-secret", "FEATURE": "review",
		"SECRET_KEY_BASE": "0123456789abcdef0123456789abcdef", "BASE_URL": app.URL,
	}
	for k, v := range want {
		if app.Variables[k] != v {
			t.Errorf("%s = %q, want %q", k, app.Variables[k], v)
		}
	}
	if _, copied := app.Variables["STRIPE_KEY"]; copied {
		t.Error("STRIPE_KEY was copied though copy-env does not name it")
	}
	if len(app.Addons) != 1 || app.Addons[0].PlanName != "postgresql-starter-512" || app.Addons[0].Status != "running" {
		t.Errorf("addons %+v, want one running postgresql-starter-512", app.Addons)
	}
	if target.App != "parent-app-pr7" || target.Region != "osc-fr1" || target.PostdeployHook != setup.FirstDeploy || target.AfterSuccess == nil {
		t.Errorf("target %+v", target)
	}
	// Never deployed: the scale applies at once.
	if err := target.AfterSuccess(context.Background()); err != nil {
		t.Fatal(err)
	}
	if app, _ := r.fake.App("parent-app-pr7"); app.Formation["web"] != (fakescalingo.Container{Amount: 2, Size: "S"}) {
		t.Errorf("formation %+v", app.Formation)
	}
	for _, secret := range []string{"parent-smtp-secret", "0123456789abcdef0123456789abcdef", "smtp.example"} {
		if strings.Contains(r.out.String(), secret) {
			t.Errorf("%q shows in the output:\n%s", secret, r.out)
		}
	}

	// Once deployed, a second run reuses the child and changes nothing, even what was
	// changed by hand.
	deployOnce(t, c)
	r.fake.AddApp("parent-app-pr7", fakescalingo.Scenario{Parent: "parent-app", Variables: map[string]string{"FEATURE": "by-hand"}})
	before := len(writes(r.fake))
	target, err = Ensure(context.Background(), c, setup)
	if err != nil {
		t.Fatal(err)
	}
	if w := writes(r.fake)[before:]; len(w) > 0 {
		t.Errorf("the second run wrote %q", w)
	}
	// Never deployed with success (the source was never uploaded): what goes with the
	// first success still does.
	if target.PostdeployHook != setup.FirstDeploy || target.AfterSuccess == nil {
		t.Errorf("a reused child not yet deployed lost its first-deploy hook or formation: %+v", target)
	}
	if app, _ := r.fake.App("parent-app-pr7"); app.Variables["FEATURE"] != "by-hand" || len(app.Addons) != 1 {
		t.Errorf("the reused child changed: %+v", app)
	}
}

func TestEnsure_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(f *fakescalingo.Server)
		addons  []Addon
		check   func(t *testing.T, err error)
		created bool
	}{
		{name: "an app that is not a child", setup: func(f *fakescalingo.Server) {
			f.AddApp("parent-app-pr7", fakescalingo.Scenario{Variables: map[string]string{"X": "1"}})
		}, check: func(t *testing.T, err error) {
			var nc *NotChildError
			if !errors.As(err, &nc) || !strings.Contains(err.Error(), "exists and is not a review app of parent-app") {
				t.Errorf("err = %v", err)
			}
		}, created: true},
		{name: "a child of another parent", setup: func(f *fakescalingo.Server) {
			f.AddApp("other-app", fakescalingo.Scenario{})
			f.AddApp("parent-app-pr7", fakescalingo.Scenario{Parent: "other-app"})
		}, check: func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "child of other-app") {
				t.Errorf("err = %v", err)
			}
		}, created: true},
		{name: "free trial", setup: func(f *fakescalingo.Server) {
			f.AddApp("parent-app", fakescalingo.Scenario{FreeTrialExceeded: true})
		}, check: func(t *testing.T, err error) {
			if !errors.Is(err, scalingo.ErrPaidAccount) {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "an unknown plan leaves nothing behind", addons: []Addon{{Provider: "postgresql", Plan: "postgresql-huge"}}, check: func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), `no plan "postgresql-huge"`) || !strings.Contains(err.Error(), "postgresql-starter-512") {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "addons never running", setup: func(f *fakescalingo.Server) {
			f.PlanApp("parent-app-pr7", fakescalingo.Scenario{AddonPolls: 1 << 20})
		}, addons: []Addon{{Provider: "redis", Plan: "redis-sandbox"}}, check: func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "still not running after 1m0s: redis (provisioning)") ||
				!strings.Contains(err.Error(), "review app parent-app-pr7 could not be set up and was deleted") {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, fakescalingo.Options{})
			r.fake.AddApp("parent-app", fakescalingo.Scenario{})
			if tt.setup != nil {
				tt.setup(r.fake)
			}
			before, _ := r.fake.App("parent-app-pr7")
			c := r.child(t, "parent-app-pr7", "parent-app", r.fake.APIToken)
			_, err := Ensure(context.Background(), c, Setup{Addons: tt.addons, CopyEnv: []string{"X"}, Clock: r.clock, Timeout: time.Minute})
			tt.check(t, err)
			after, exists := r.fake.App("parent-app-pr7")
			if exists != tt.created {
				t.Errorf("child exists: %v, want %v", exists, tt.created)
			}
			if tt.created && before.Name != "" && !maps.Equal(before.Variables, after.Variables) {
				t.Errorf("an app not ours changed: %v → %v", before.Variables, after.Variables)
			}
		})
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		setup        func(f *fakescalingo.Server)
		collaborator bool
		want         string
		wantErr      string
		deleted      bool
	}{
		{name: "as owner", setup: func(f *fakescalingo.Server) {
			f.AddApp("parent-app-pr7", fakescalingo.Scenario{Parent: "parent-app"})
		}, want: Destroyed, deleted: true},
		{name: "absent", want: Absent},
		{name: "not a child", setup: func(f *fakescalingo.Server) {
			f.AddApp("parent-app-pr7", fakescalingo.Scenario{})
		}, wantErr: "exists and is not a review app of parent-app"},
		{name: "as a collaborator", setup: func(f *fakescalingo.Server) {
			f.AddApp("parent-app-pr7", fakescalingo.Scenario{Parent: "parent-app"})
		}, collaborator: true, wantErr: "only the owner of the parent app can delete its review apps: use the owner's API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, fakescalingo.Options{CollaboratorToken: "tk-us-collaborator-0000000000000000000000"})
			r.fake.AddApp("parent-app", fakescalingo.Scenario{})
			if tt.setup != nil {
				tt.setup(r.fake)
			}
			token := r.fake.APIToken
			if tt.collaborator {
				token = "tk-us-collaborator-0000000000000000000000"
			}
			got, err := Destroy(context.Background(), r.child(t, "parent-app-pr7", "parent-app", token), time.Minute)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("Destroy = %q, %v; want %q", got, err, tt.want)
			}
			if d := r.fake.Deleted(); (len(d) == 1 && d[0] == "parent-app-pr7") != tt.deleted || len(d) > 1 {
				t.Errorf("deleted %q, want deleted: %v", d, tt.deleted)
			}
			if _, ok := r.fake.App("parent-app"); !ok {
				t.Error("the parent is gone")
			}
		})
	}
}
