package review

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

func TestIsReviewName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		parent, name string
		want         bool
	}{
		{"my-app", "my-app-pr42", true},
		{"my-app", "my-app-pr1", true},
		{"my-app", "my-app-pr0", false},
		{"my-app", "my-app-pr042", false},
		{"my-app", "my-app-pr", false},
		{"my-app", "my-app-pr42-x", false},
		{"my-app", "my-app-staging", false},
		{"my-app", "my-app", false},
		{"my-app", "my-app-prod-pr4", false}, // a review app of my-app-prod, not of my-app
		{"my-app", "other-my-app-pr4", false},
		{"my-app", "my-app-pr12345678901", false},
	}
	for _, tt := range tests {
		if got := IsReviewName(tt.parent, tt.name); got != tt.want {
			t.Errorf("IsReviewName(%q, %q) = %v", tt.parent, tt.name, got)
		}
	}
}

func TestFormationMemory(t *testing.T) {
	t.Parallel()
	f := []scalingo.Container{{Name: "web", Amount: 2, Size: "M"}, {Name: "worker", Amount: 1, Size: "S"}}
	s := EncodeFormation(f)
	if s != "web:2:M,worker:1:S" {
		t.Errorf("EncodeFormation = %q", s)
	}
	back, err := DecodeFormation(s)
	if err != nil || !slices.Equal(back, f) {
		t.Errorf("DecodeFormation(%q) = %v, %v", s, back, err)
	}
	if got, err := DecodeFormation("clock:1:"); err != nil || got[0] != (scalingo.Container{Name: "clock", Amount: 1}) {
		t.Errorf("an empty size: %v, %v", got, err)
	}
	for _, bad := range []string{"", "web:0:M", "web:11:M", "web:+2:M", "web:2:XXL", "web:2", "web:2:M:x", "-web:1:M", "web:1:M,web:2:M",
		"a:1:M,b:1:M,c:1:M,d:1:M,e:1:M,f:1:M,g:1:M,h:1:M,i:1:M,j:1:M,k:1:M,l:1:M,m:1:M,n:1:M,o:1:M,p:1:M,q:1:M,r:1:M,s:1:M,t:1:M,u:1:M"} {
		if got, err := DecodeFormation(bad); err == nil {
			t.Errorf("DecodeFormation(%q) = %v, want an error", bad, got)
		}
	}
}

// TestSweep_ClosedRequests: with the forge's answer, a review app of a closed request
// goes whatever its age; an open one, or one the forge cannot tell, stays.
func TestSweep_ClosedRequests(t *testing.T) {
	t.Parallel()
	r := newRig(t, fakescalingo.Options{})
	r.fake.AddApp("my-app", fakescalingo.Scenario{Deployed: true})
	for _, name := range []string{"my-app-pr1", "my-app-pr2", "my-app-pr3", "my-app-staging"} {
		r.fake.AddApp(name, fakescalingo.Scenario{Parent: "my-app", Deployed: true})
	}
	r.clock.mu.Lock()
	r.clock.t = time.Now().Add(time.Hour) // the fake dates the deployments by the real clock
	r.clock.mu.Unlock()
	c := r.child(t, "my-app-pr1", "my-app", r.fake.APIToken)
	var asked []int
	f := &Fleet{Parent: "my-app", Region: "osc-fr1", Client: c.Client, Reporter: c.Reporter, Clock: r.clock,
		Closed: func(_ context.Context, n int) (bool, error) {
			asked = append(asked, n)
			switch n {
			case 1:
				return true, nil
			case 3:
				return false, errors.New("403 Forbidden")
			}
			return false, nil
		}}
	vs, err := f.Sweep(context.Background(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vs {
		got[v.App] = v.Status + ": " + v.Reason
	}
	if d := r.fake.Deleted(); !slices.Equal(d, []string{"my-app-pr1"}) {
		t.Errorf("deleted %v, want my-app-pr1 only\n%v", d, got)
	}
	want := map[string]string{
		"my-app-pr1":     "deleted: request #1 is closed or merged (last deployed 1h ago, within 7d)",
		"my-app-pr2":     "kept: last deployed 1h ago, within 7d; request #2 is open",
		"my-app-pr3":     "kept: last deployed 1h ago, within 7d; whether request #3 is closed is unknown: 403 Forbidden",
		"my-app-staging": "kept: not named as a review app of my-app (my-app-pr<N>): left alone",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	slices.Sort(asked)
	if !slices.Equal(asked, []int{1, 2, 3}) {
		t.Errorf("the forge was asked about %v: want the review apps' requests only", asked)
	}
}
