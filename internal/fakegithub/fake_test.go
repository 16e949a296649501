package fakegithub

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func do(t *testing.T, s *Server, method, path, auth, ua, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServer_rules: the requests GitHub refuses before looking at the route.
func TestServer_rules(t *testing.T) {
	s := Start(Options{})
	defer s.Close()
	const comments = "/repos/" + DefaultRepository + "/issues/1/comments"
	tests := []struct {
		name, method, path, auth, ua, body string
		status                             int
		want                               string
	}{
		{"no user agent", "GET", comments, "Bearer " + DefaultToken, "", "", 403, "User-Agent"},
		{"no token, read: private repository", "GET", comments, "", "t", "", 404, "Not Found"},
		{"no token, write", "POST", comments, "", "t", `{"body":"x"}`, 401, "Requires authentication"},
		{"wrong token", "GET", comments, "Bearer ghs_other", "t", "", 401, "Bad credentials"},
		{"token scheme", "GET", comments, "token " + DefaultToken, "t", "", 200, "[]"},
		{"other repository", "GET", "/repos/other/repo/issues/1/comments", "Bearer " + DefaultToken, "t", "", 404, "Not Found"},
		{"not JSON", "POST", comments, "Bearer " + DefaultToken, "t", `body`, 400, "Problems parsing JSON"},
		{"body not a string", "POST", comments, "Bearer " + DefaultToken, "t", `{"body":1}`, 422, "is not a string"},
		{"blank body", "POST", comments, "Bearer " + DefaultToken, "t", `{"body":"  "}`, 422, "missing_field"},
		{"deployment payload a number", "POST", "/repos/" + DefaultRepository + "/deployments", "Bearer " + DefaultToken, "t",
			`{"ref":"0123456789abcdef0123456789abcdef01234567","required_contexts":[],"payload":3}`, 422, "properties/payload"},
		{"required_contexts not strings", "POST", "/repos/" + DefaultRepository + "/deployments", "Bearer " + DefaultToken, "t",
			`{"ref":"0123456789abcdef0123456789abcdef01234567","required_contexts":[1]}`, 422, "not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, s, tt.method, tt.path, tt.auth, tt.ua, tt.body)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}

// TestServer_autoInactive: a success marks the environment's earlier successful,
// non-transient deployments inactive, as GitHub's auto_inactive does.
func TestServer_autoInactive(t *testing.T) {
	s := Start(Options{})
	defer s.Close()
	const deps = "/repos/" + DefaultRepository + "/deployments"
	create := `{"ref":"0123456789abcdef0123456789abcdef01234567","required_contexts":[],"environment":"staging","production_environment":false}`
	for range 2 {
		if resp, body := do(t, s, "POST", deps, "Bearer "+DefaultToken, "t", create); resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	d := s.Deployments()
	for _, dep := range d {
		if resp, body := do(t, s, "POST", deps+"/"+strconv.FormatInt(dep.ID, 10)+"/statuses", "Bearer "+DefaultToken, "t", `{"state":"success"}`); resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	d = s.Deployments()
	if got := stateList(d[0]); got != "success,inactive" {
		t.Fatalf("first deployment: %s", got)
	}
	if got := stateList(d[1]); got != "success" {
		t.Fatalf("second deployment: %s", got)
	}
}

func stateList(d Deployment) string {
	var s []string
	for _, st := range d.Statuses {
		s = append(s, st.State)
	}
	return strings.Join(s, ",")
}
