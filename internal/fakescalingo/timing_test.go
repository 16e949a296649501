package fakescalingo_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestBuildTime: a deployment with Scenario.BuildTime moves with the fake's clock, not
// with the polls: however often it is read, it ends at BuildTime, through every state.
func TestBuildTime(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now})
	s.AddApp("my-app", fakescalingo.Scenario{BuildTime: 30 * time.Second})
	jwt, id := deployOK(t, s, "my-app")
	tests := []struct {
		at   time.Duration // since the creation
		want string
	}{
		{0, "building"}, {5 * time.Second, "building"}, {9 * time.Second, "building"},
		{10 * time.Second, "pushing"}, {20 * time.Second, "starting"}, {29 * time.Second, "starting"},
		{30 * time.Second, "success"}, {2 * time.Minute, "success"},
	}
	elapsed := time.Duration(0)
	for _, tt := range tests {
		clk.Advance(tt.at - elapsed)
		elapsed = tt.at
		for range 3 { // polls do not move it
			if got := getDeployment(t, s, jwt, "my-app", id)["status"]; got != tt.want {
				t.Fatalf("+%s: %v, want %s", tt.at, got, tt.want)
			}
		}
	}
	if log := s.Deployments("my-app")[0].Log; len(log) == 0 || log[len(log)-1] != '\n' {
		t.Errorf("the log was not written through: %q", log)
	}
}

// TestTick: Tick moves a timed deployment without any request, so that the stream
// could speak at the right time.
func TestTick(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now})
	s.AddApp("my-app", fakescalingo.Scenario{BuildTime: 20 * time.Second})
	deployOK(t, s, "my-app")
	clk.Advance(20 * time.Second)
	if st := s.Deployments("my-app")[0].Status; st != "building" {
		t.Fatalf("moved before Tick: %s", st)
	}
	s.Tick()
	if st := s.Deployments("my-app")[0].Status; st != "success" {
		t.Errorf("after Tick: %s, want success", st)
	}
}

// TestRateLimitLag: calls counted up to RateLimitLag late. A client sending one call a
// second keeps within 60 in any minute of its own clock; counted with a lag that
// varies, some call arrives while one sent 60 s before it still counts: refused.
func TestRateLimitLag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		lag     time.Duration
		refused bool
	}{{"no lag", 0, false}, {"lag", time.Second, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			s := startFake(t, fakescalingo.Options{Now: clk.Now, RateLimit: 60, RateLimitLag: tc.lag})
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			var got []int
			for range 75 {
				got = append(got, do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: bearer(jwt)}).Status)
				clk.Advance(time.Second)
			}
			if refused := slices.Contains(got, http.StatusTooManyRequests); refused != tc.refused {
				t.Errorf("statuses %v; refused: %v, want %v", got, refused, tc.refused)
			}
		})
	}
}

// TestVanish: after Vanish the auth, API and stream hosts close every connection
// unanswered, and the storage still answers.
func TestVanish(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	s.Vanish()
	for _, u := range []string{s.APIURL + "/v1/apps/my-app", s.AuthURL + "/v1/regions", "http" + s.StreamURL[len("ws"):] + "/apps/my-app"} {
		hr, _ := http.NewRequest("GET", u, nil)
		hr.Header.Set("Authorization", "Bearer "+jwt)
		if resp, err := http.DefaultClient.Do(hr); err == nil {
			resp.Body.Close()
			t.Errorf("%s answered %d after Vanish", u, resp.StatusCode)
		}
	}
	if r := do(t, req{method: "GET", url: s.StorageURL + "/nothing"}); r.Status == 0 {
		t.Error("the storage went away too")
	}
	for _, r := range s.Requests() {
		if r.Server == "api" && r.Fault != "vanished" {
			t.Errorf("%s %s: fault %q, want vanished", r.Method, r.Path, r.Fault)
		}
	}
}
