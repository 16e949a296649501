package fakescalingo_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func TestServer_tokenExchange(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{APIToken: "tk-us-secret"})
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	tests := []struct {
		name       string
		method     string
		header     map[string]string
		wantStatus int
	}{
		{"token as password, empty user", "POST", basic("", "tk-us-secret"), 200},
		{"wrong token", "POST", basic("", "tk-us-other"), 401},
		{"token as user", "POST", basic("tk-us-secret", ""), 401},
		{"no credentials", "POST", nil, 401},
		{"bearer with the raw token", "POST", map[string]string{"Authorization": "Bearer tk-us-secret"}, 401},
		{"GET is not a route", "GET", basic("", "tk-us-secret"), 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, req{method: tc.method, url: s.AuthURL + "/v1/tokens/exchange", header: tc.header})
			if r.Status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", r.Status, tc.wantStatus, r.Body)
			}
			if r.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			m := r.JSON(t)
			if tc.wantStatus != 200 {
				if _, ok := m["error"].(string); !ok {
					t.Errorf("error body %s has no \"error\" string", r.Body)
				}
				return
			}
			tok, _ := m["token"].(string)
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q is not a JWT", tok)
			}
			raw, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			json.Unmarshal(raw, &claims)
			// The official client's JWT parser needs these types.
			if _, ok := claims["exp"].(float64); !ok {
				t.Errorf("exp claim %v is not a number", claims["exp"])
			}
			if _, ok := claims["jti"].(string); !ok {
				t.Errorf("jti claim %v is not a string", claims["jti"])
			}
		})
	}
}

func TestServer_bearerRequired(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now, JWTLifetime: time.Hour})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	tampered := jwt[:len(jwt)-2] + "xx"

	tests := []struct {
		name       string
		header     map[string]string
		advance    time.Duration // clock moves before the call
		wantStatus int
	}{
		{"valid JWT", bearer(jwt), 0, 200},
		{"no header", nil, 0, 401},
		{"raw API token as basic auth", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+s.APIToken))}, 0, 401},
		{"raw API token as bearer", bearer(s.APIToken), 0, 401},
		{"tampered JWT", bearer(tampered), 0, 401},
		{"JWT one second before expiry", bearer(jwt), time.Hour - time.Second, 200},
		{"expired JWT", bearer(jwt), time.Second, 401},
	}
	// Not parallel: the cases share the clock and run in order.
	for _, tc := range tests {
		clk.Advance(tc.advance)
		r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: tc.header})
		if r.Status != tc.wantStatus {
			t.Errorf("%s: status = %d, want %d (%s)", tc.name, r.Status, tc.wantStatus, r.Body)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", tc.name)
		}
		if tc.wantStatus == 401 {
			if _, ok := r.JSON(t)["error"].(string); !ok {
				t.Errorf("%s: 401 body %s has no error", tc.name, r.Body)
			}
		}
	}
	// A fresh exchange works again after expiry.
	if r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app", header: bearer(exchange(t, s))}); r.Status != 200 {
		t.Errorf("after re-exchange: status %d", r.Status)
	}
}

func TestServer_notFound(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	tests := []struct {
		name, method, path string
		want               map[string]any
	}{
		{"unknown app", "GET", "/v1/apps/other-app", map[string]any{"resource": "app", "error": "not found"}},
		{"deployments of an unknown app", "POST", "/v1/apps/other-app/deployments", map[string]any{"resource": "app", "error": "not found"}},
		{"unknown deployment", "GET", "/v1/apps/my-app/deployments/0b7ae3a5-5d84-4c0f-8d67-0a4b4fb1b9b3", map[string]any{"resource": "deployment", "error": "not found"}},
		{"unknown route", "GET", "/v1/nothing", map[string]any{"error": "not found"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, req{method: tc.method, url: s.APIURL + tc.path, header: jsonHeaders(jwt), body: strings.NewReader(`{"deployment":{"source_url":"http://127.0.0.1/x"}}`)})
			if r.Status != 404 {
				t.Fatalf("status %d, want 404 (%s)", r.Status, r.Body)
			}
			if got := r.JSON(t); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("body %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServer_getApp(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	s.AddApp("custom-url", fakescalingo.Scenario{URL: "https://www.example.com"})
	jwt := exchange(t, s)
	for _, tc := range []struct{ name, wantURL string }{
		{"my-app", "https://my-app.osc-fr1.scalingo.io"},
		{"custom-url", "https://www.example.com"},
	} {
		r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/" + tc.name, header: bearer(jwt)})
		a := r.JSON(t)["app"].(map[string]any)
		if a["name"] != tc.name || a["url"] != tc.wantURL {
			t.Errorf("app %v: want name %s url %s", a, tc.name, tc.wantURL)
		}
		stream := a["links"].(map[string]any)["deployments_stream"].(string)
		if stream != s.StreamURL+"/apps/"+tc.name {
			t.Errorf("deployments_stream %q", stream)
		}
		// The id works in paths as the name does.
		if r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/" + a["id"].(string), header: bearer(jwt)}); r.Status != 200 {
			t.Errorf("GET by id: %d", r.Status)
		}
	}
}

func TestServer_createSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        fakescalingo.Options
		contentType string
		body        string
		wantStatus  int
		wrapped     bool
	}{
		{"go-scalingo style {}", fakescalingo.Options{}, "application/json", "{}", 201, true},
		{"no body as in the docs", fakescalingo.Options{}, "", "", 201, true},
		{"old unwrapped form", fakescalingo.Options{UnwrappedSources: true}, "application/json", "{}", 201, false},
		{"broken JSON", fakescalingo.Options{}, "application/json", "{", 400, false},
		{"form body", fakescalingo.Options{}, "application/x-www-form-urlencoded", "a=b", 400, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, tc.opts)
			h := bearer(exchange(t, s))
			if tc.contentType != "" {
				h["Content-Type"] = tc.contentType
			}
			r := do(t, req{method: "POST", url: s.APIURL + "/v1/sources", header: h, body: strings.NewReader(tc.body)})
			if r.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.Status, tc.wantStatus, r.Body)
			}
			m := r.JSON(t)
			if tc.wantStatus != 201 {
				if _, ok := m["error"].(string); !ok {
					t.Errorf("error body %s", r.Body)
				}
				return
			}
			src := m
			if tc.wrapped {
				src, _ = m["source"].(map[string]any)
			} else if _, ok := m["source"]; ok {
				t.Errorf("unwrapped form has a source key: %s", r.Body)
			}
			up, _ := src["upload_url"].(string)
			down, _ := src["download_url"].(string)
			if !strings.HasPrefix(up, s.StorageURL+"/") || !strings.Contains(up, "X-Amz-Signature=") {
				t.Errorf("upload_url %q is not a signed URL on the storage host %s", up, s.StorageURL)
			}
			if !strings.Contains(down, "X-Amz-Signature=") {
				t.Errorf("download_url %q is not signed", down)
			}
		})
	}
}

func TestServer_createDeploymentValidation(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	src := createSource(t, s, jwt)
	upload(t, src.upload, goodArchive(t), "application/x-gzip")

	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantErrors  string // the field named in {"errors":{field:[…]}}
	}{
		{"valid", "application/json", fmt.Sprintf(`{"deployment":{"source_url":%q,"git_ref":"v1.2.3"}}`, src.download), 201, ""},
		{"valid, git_ref null", "application/json; charset=utf-8", fmt.Sprintf(`{"deployment":{"source_url":%q,"git_ref":null}}`, src.download), 201, ""},
		{"not JSON content type", "text/plain", fmt.Sprintf(`{"deployment":{"source_url":%q}}`, src.download), 400, ""},
		{"broken JSON", "application/json", `{"deployment":`, 400, ""},
		{"empty body", "application/json", ``, 422, "deployment"},
		{"unwrapped params", "application/json", fmt.Sprintf(`{"source_url":%q}`, src.download), 422, "deployment"},
		{"no source_url", "application/json", `{"deployment":{"git_ref":"abc"}}`, 422, "source_url"},
		{"2017 download_url field", "application/json", fmt.Sprintf(`{"deployment":{"download_url":%q}}`, src.download), 422, "source_url"},
		{"source_url null", "application/json", `{"deployment":{"source_url":null}}`, 422, "source_url"},
		{"source_url not a URL", "application/json", `{"deployment":{"source_url":"archive.tar.gz"}}`, 422, "source_url"},
		{"git_ref starting with a dash", "application/json", fmt.Sprintf(`{"deployment":{"source_url":%q,"git_ref":"-x"}}`, src.download), 422, "git_ref"},
		{"git_ref with a slash", "application/json", fmt.Sprintf(`{"deployment":{"source_url":%q,"git_ref":"refs/heads/main"}}`, src.download), 422, "git_ref"},
		{"git_ref a number", "application/json", fmt.Sprintf(`{"deployment":{"source_url":%q,"git_ref":12}}`, src.download), 422, "git_ref"},
	}
	created := 0
	for _, tc := range tests {
		r := do(t, req{method: "POST", url: s.APIURL + "/v1/apps/my-app/deployments",
			header: map[string]string{"Authorization": "Bearer " + jwt, "Content-Type": tc.contentType},
			body:   strings.NewReader(tc.body)})
		if r.Status != tc.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.Status, tc.wantStatus, r.Body)
			continue
		}
		m := r.JSON(t)
		switch {
		case tc.wantStatus == 201:
			created++
			d := m["deployment"].(map[string]any)
			if d["status"] != "building" || d["id"] == "" {
				t.Errorf("%s: deployment %v", tc.name, d)
			}
		case tc.wantErrors != "":
			errs, _ := m["errors"].(map[string]any)
			if msgs, ok := errs[tc.wantErrors].([]any); !ok || len(msgs) == 0 {
				t.Errorf("%s: body %s, want errors.%s", tc.name, r.Body, tc.wantErrors)
			}
		default:
			if _, ok := m["error"].(string); !ok {
				t.Errorf("%s: body %s, want an error string", tc.name, r.Body)
			}
		}
	}
	if got := len(s.Deployments("my-app")); got != created {
		t.Errorf("%d deployments recorded, want %d", got, created)
	}
}

func TestServer_progression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		sc           fakescalingo.Scenario
		wantCreated  string
		wantStatuses []string // statuses answered by successive GETs
	}{
		{"success", fakescalingo.Scenario{}, "building", []string{"pushing", "starting", "success"}},
		{"queued twice", fakescalingo.Scenario{QueuedPolls: 2}, "queued", []string{"queued", "queued", "building", "pushing", "starting", "success"}},
		{"build-error", fakescalingo.Scenario{FinalStatus: "build-error"}, "building", []string{"build-error"}},
		{"aborted", fakescalingo.Scenario{FinalStatus: "aborted"}, "building", []string{"aborted"}},
		{"crashed-error", fakescalingo.Scenario{FinalStatus: "crashed-error"}, "building", []string{"pushing", "starting", "crashed-error"}},
		{"timeout-error", fakescalingo.Scenario{FinalStatus: "timeout-error"}, "building", []string{"pushing", "starting", "timeout-error"}},
		{"hook-error", fakescalingo.Scenario{FinalStatus: "hook-error"}, "building", []string{"pushing", "starting", "hook-error"}},
		{"unknown status", fakescalingo.Scenario{FinalStatus: "frozen"}, "building", []string{"pushing", "starting", "frozen", "frozen"}},
		{"never finishes", fakescalingo.Scenario{NeverFinish: true}, "building", []string{"building", "building", "building", "building", "building"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", tc.sc)
			jwt := exchange(t, s)
			src := createSource(t, s, jwt)
			upload(t, src.upload, goodArchive(t), "application/x-gzip")
			d := createDeployment(t, s, jwt, "my-app", src.download)
			if d["status"] != tc.wantCreated {
				t.Errorf("created with status %v, want %s", d["status"], tc.wantCreated)
			}
			link := d["links"].(map[string]any)["output"].(string)
			id := d["id"].(string)
			var got []string
			prevLog := output(t, jwt, link)
			for range tc.wantStatuses {
				dep := getDeployment(t, s, jwt, "my-app", id)
				st := dep["status"].(string)
				got = append(got, st)
				log := output(t, jwt, link)
				if !strings.HasPrefix(log, prevLog) {
					t.Errorf("log shrank or changed: %q then %q", prevLog, log)
				}
				terminal := st != "queued" && st != "building" && st != "pushing" && st != "starting"
				if terminal != (dep["finished_at"] != nil) {
					t.Errorf("status %s with finished_at %v", st, dep["finished_at"])
				}
				prevLog = log
			}
			if !reflect.DeepEqual(got, tc.wantStatuses) {
				t.Errorf("statuses %v, want %v", got, tc.wantStatuses)
			}
			deps := s.Deployments("my-app")
			if len(deps) != 1 || deps[0].Status != got[len(got)-1] || deps[0].Log != prevLog {
				t.Errorf("Deployments() = %+v", deps)
			}
			if deps[0].Polls != len(tc.wantStatuses) {
				t.Errorf("Polls = %d, want %d", deps[0].Polls, len(tc.wantStatuses))
			}
			if !tc.sc.NeverFinish && !strings.Contains(prevLog, "-----> Fetching source code") {
				t.Errorf("final log lacks the build steps: %q", prevLog)
			}
		})
	}
}

func TestServer_customLogSplit(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{Log: []string{"a", "b", "c", "d", "e", "f", "g", "h"}})
	jwt, id := deployOK(t, s, "my-app")
	want := []string{"a\nb\n", "a\nb\nc\nd\n", "a\nb\nc\nd\ne\nf\n", "a\nb\nc\nd\ne\nf\ng\nh\n"}
	got := []string{s.Deployments("my-app")[0].Log}
	for range 3 {
		getDeployment(t, s, jwt, "my-app", id)
		got = append(got, s.Deployments("my-app")[0].Log)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logs over polls %q, want %q", got, want)
	}
}

func TestServer_listDeployments(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	var ids []string
	for range 5 {
		src := createSource(t, s, jwt)
		upload(t, src.upload, goodArchive(t), "application/x-gzip")
		ids = append(ids, createDeployment(t, s, jwt, "my-app", src.download)["id"].(string))
	}
	tests := []struct {
		query     string
		wantIDs   []string
		wantPage  map[string]any
		wantTotal float64
	}{
		{"", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, map[string]any{"current_page": 1.0, "per_page": 20.0, "prev_page": nil, "next_page": nil, "total_pages": 1.0, "total_count": 5.0}, 5},
		{"?page=1&per_page=2", []string{ids[4], ids[3]}, map[string]any{"current_page": 1.0, "per_page": 2.0, "prev_page": nil, "next_page": 2.0, "total_pages": 3.0, "total_count": 5.0}, 5},
		{"?page=3&per_page=2", []string{ids[0]}, map[string]any{"current_page": 3.0, "per_page": 2.0, "prev_page": 2.0, "next_page": nil, "total_pages": 3.0, "total_count": 5.0}, 5},
		{"?page=9&per_page=2", nil, map[string]any{"current_page": 9.0, "per_page": 2.0, "prev_page": 8.0, "next_page": nil, "total_pages": 3.0, "total_count": 5.0}, 5},
	}
	for _, tc := range tests {
		r := do(t, req{method: "GET", url: s.APIURL + "/v1/apps/my-app/deployments" + tc.query, header: bearer(jwt)})
		m := r.JSON(t)
		var got []string
		for _, d := range m["deployments"].([]any) {
			got = append(got, d.(map[string]any)["id"].(string))
		}
		if !reflect.DeepEqual(got, tc.wantIDs) {
			t.Errorf("%q: ids %v, want %v", tc.query, got, tc.wantIDs)
		}
		if p := m["meta"].(map[string]any)["pagination"]; !reflect.DeepEqual(p, tc.wantPage) {
			t.Errorf("%q: pagination %v, want %v", tc.query, p, tc.wantPage)
		}
	}
	// Listing does not move deployments.
	for _, d := range s.Deployments("my-app") {
		if d.Status != "building" || d.Polls != 0 {
			t.Errorf("deployment %s moved by listing: %s, %d polls", d.ID, d.Status, d.Polls)
		}
	}
}
