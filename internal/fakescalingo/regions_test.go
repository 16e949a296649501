package fakescalingo_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func TestRegions(t *testing.T) {
	s := startFake(t, fakescalingo.Options{OtherRegions: []string{"osc-secnum-fr1"}})
	s.AddApp("staging-app", fakescalingo.Scenario{})
	s.AddApp("prod-app", fakescalingo.Scenario{Region: "osc-secnum-fr1"})
	fr1, secnum := s.RegionAPIURL("osc-fr1"), s.RegionAPIURL("osc-secnum-fr1")
	if fr1 != s.APIURL || secnum == "" || secnum == fr1 || s.RegionAPIURL("nowhere") != "" {
		t.Fatalf("RegionAPIURL: osc-fr1 %q (APIURL %q), osc-secnum-fr1 %q", fr1, s.APIURL, secnum)
	}

	jwt := exchange(t, s) // one JWT for every region
	r := do(t, req{method: "GET", url: s.AuthURL + "/v1/regions", header: bearer(jwt)})
	regions := r.JSON(t)["regions"].([]any)
	if r.Status != 200 || len(regions) != 2 {
		t.Fatalf("/v1/regions: %d %s", r.Status, r.Body)
	}
	for i, want := range []struct {
		name, api string
		dflt      bool
	}{{"osc-fr1", fr1, true}, {"osc-secnum-fr1", secnum, false}} {
		got := regions[i].(map[string]any)
		if got["name"] != want.name || got["api"] != want.api || got["default"] != want.dflt {
			t.Errorf("region %d: %v, want %+v", i, got, want)
		}
	}

	for _, tc := range []struct {
		name, api, app string
		want           int
	}{
		{"default region", fr1, "staging-app", 200},
		{"other region", secnum, "prod-app", 200},
		{"staging app asked of secnum", secnum, "staging-app", 404},
		{"prod app asked of fr1", fr1, "prod-app", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, req{method: "GET", url: tc.api + "/v1/apps/" + tc.app, header: bearer(jwt)})
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			m := r.JSON(t)
			if tc.want == 404 && (m["resource"] != "app" || m["error"] != "not found") {
				t.Errorf("404 body %s", r.Body)
			}
			if tc.want == 200 {
				a := m["app"].(map[string]any)
				region := strings.Split(strings.TrimPrefix(a["url"].(string), "https://"+tc.app+"."), ".")[0]
				if a["region"] != region {
					t.Errorf("app region %v, url %v", a["region"], a["url"])
				}
			}
		})
	}

	// A deployment in the other region links its output on that region's API.
	src := createSource(t, s, jwt)
	upload(t, src.upload, goodArchive(t), "application/x-gzip")
	r = do(t, req{method: "POST", url: secnum + "/v1/apps/prod-app/deployments", header: jsonHeaders(jwt),
		body: strings.NewReader(`{"deployment":{"source_url":"` + src.download + `"}}`)})
	if r.Status != 201 {
		t.Fatalf("create in secnum: %d %s", r.Status, r.Body)
	}
	link := r.JSON(t)["deployment"].(map[string]any)["links"].(map[string]any)["output"].(string)
	if !strings.HasPrefix(link, secnum+"/v1/apps/") {
		t.Errorf("output link %q is not on %s", link, secnum)
	}
	var secnumCalls int
	for _, q := range s.Requests() {
		if q.Server == "api" && q.Region == "osc-secnum-fr1" {
			secnumCalls++
		}
	}
	if secnumCalls != 3 {
		t.Errorf("%d requests logged for osc-secnum-fr1, want 3", secnumCalls)
	}
}

func TestRegionsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fakescalingo.Options
	}{
		{"repeated default", fakescalingo.Options{OtherRegions: []string{"osc-fr1"}}},
		{"empty name", fakescalingo.Options{OtherRegions: []string{""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := fakescalingo.Start(tc.opts); err == nil {
				s.Close()
				t.Fatal("Start accepted it")
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	for _, tc := range []struct {
		name           string
		retryAfter     bool
		wantRetryAfter string
	}{
		{"as documented: no Retry-After", false, ""},
		{"with Retry-After", true, "20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := startFake(t, fakescalingo.Options{Now: clk.Now, RateLimit: 60, RateLimitRetryAfter: tc.retryAfter,
				OtherRegions: []string{"osc-secnum-fr1"}})
			s.AddApp("my-app", fakescalingo.Scenario{})
			jwt := exchange(t, s)
			// 60 calls over 40 s, half of them in the other region: one budget.
			for i := range 60 {
				api := s.APIURL
				if i%2 == 1 {
					api = s.RegionAPIURL("osc-secnum-fr1")
				}
				if r := do(t, req{method: "GET", url: api + "/v1/apps/my-app", header: bearer(jwt)}); r.Status == 429 {
					t.Fatalf("call %d answered 429", i+1)
				}
				if i < 40 {
					clk.Advance(time.Second)
				}
			}
			r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: bearer(jwt)})
			if r.Status != 429 || string(r.Body) != "Retry later" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") ||
				r.Header.Get("X-Request-Id") == "" || r.Header.Get("Retry-After") != tc.wantRetryAfter {
				t.Fatalf("61st call: %d %q %v", r.Status, r.Body, r.Header)
			}
			if n := s.RateLimited(); n != 1 {
				t.Errorf("RateLimited() = %d, want 1", n)
			}
			// The auth host is not limited.
			exchange(t, s)
			// The first call leaves the window a minute after it was made.
			clk.Advance(20 * time.Second)
			if r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: bearer(jwt)}); r.Status != 200 {
				t.Errorf("after the window moved: %d", r.Status)
			}
			if n := s.RateLimited(); n != 1 {
				t.Errorf("RateLimited() = %d, want 1", n)
			}
		})
	}
}

func TestAppServer(t *testing.T) {
	for _, tc := range []struct {
		name         string
		serve        fakescalingo.AppServer
		want         []int
		wantLocation string
	}{
		{"healthy at once", fakescalingo.AppServer{}, []int{200, 200}, ""},
		{"healthy after 2", fakescalingo.AppServer{HealthyAfter: 2}, []int{503, 503, 200, 200}, ""},
		{"never healthy", fakescalingo.AppServer{NeverHealthy: true}, []int{503, 503, 503}, ""},
		{"never healthy, 500", fakescalingo.AppServer{NeverHealthy: true, UnhealthyStatus: 500}, []int{500, 500}, ""},
		{"redirect", fakescalingo.AppServer{RedirectTo: "/users/sign_in"}, []int{302, 302}, "/users/sign_in"},
		{"redirect once healthy", fakescalingo.AppServer{HealthyAfter: 1, RedirectTo: "/login"}, []int{503, 302}, "/login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, fakescalingo.Options{})
			serve := tc.serve
			s.AddApp("web-app", fakescalingo.Scenario{Serve: &serve})
			jwt := exchange(t, s)
			a := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/web-app", header: bearer(jwt)}).JSON(t)["app"].(map[string]any)
			url := a["url"].(string)
			if !strings.HasPrefix(url, "http://127.0.0.1:") || a["base_url"] != url {
				t.Fatalf("app url %q, base_url %v", url, a["base_url"])
			}
			if got, _ := s.App("web-app"); got.URL != url {
				t.Errorf("App().URL %q, want %q", got.URL, url)
			}
			for i, want := range tc.want {
				r := do(t, req{method: "GET", url: url + "/"})
				if r.Status != want {
					t.Errorf("request %d: %d, want %d", i+1, r.Status, want)
				}
				if r.Status == http.StatusFound && r.Header.Get("Location") != tc.wantLocation {
					t.Errorf("Location %q, want %q", r.Header.Get("Location"), tc.wantLocation)
				}
			}
			if n := s.AppRequests("web-app"); n != len(tc.want) {
				t.Errorf("AppRequests = %d, want %d", n, len(tc.want))
			}
			var logged int
			for _, q := range s.Requests() {
				if q.Server == "app" && q.Region == "web-app" && q.Status != 0 {
					logged++
				}
			}
			if logged != len(tc.want) {
				t.Errorf("%d app requests logged, want %d", logged, len(tc.want))
			}
		})
	}
}
