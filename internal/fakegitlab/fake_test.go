package fakegitlab

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServer_rules: the requests GitLab refuses, and the forms it accepts.
func TestServer_rules(t *testing.T) {
	s := Start(Options{})
	defer s.Close()
	notes := s.URL + "/projects/42/merge_requests/1/notes"
	tests := []struct {
		name, method, url string
		header            map[string]string
		body              string
		status            int
		want              string
	}{
		{"no token", "GET", notes, nil, "", 401, "401 Unauthorized"},
		{"job token", "GET", notes, map[string]string{"JOB-TOKEN": DefaultToken}, "", 401, "401 Unauthorized"},
		{"wrong token", "GET", notes, map[string]string{"PRIVATE-TOKEN": "glpat-x"}, "", 401, "401"},
		{"bearer", "GET", notes, map[string]string{"Authorization": "Bearer " + DefaultToken}, "", 200, "[]"},
		{"project by path", "GET", s.URL + "/projects/group%2Fproject/merge_requests/1/notes", map[string]string{"PRIVATE-TOKEN": DefaultToken}, "", 200, "[]"},
		{"other project", "GET", s.URL + "/projects/43/merge_requests/1/notes", map[string]string{"PRIVATE-TOKEN": DefaultToken}, "", 404, "Project Not Found"},
		{"form body", "POST", notes, map[string]string{"PRIVATE-TOKEN": DefaultToken, "Content-Type": "application/x-www-form-urlencoded"}, "body=hi", 201, `"body":"hi"`},
		{"blank body", "POST", notes, map[string]string{"PRIVATE-TOKEN": DefaultToken, "Content-Type": "application/json"}, `{"body":" "}`, 400, "can't be blank"},
		{"body not a string", "POST", notes, map[string]string{"PRIVATE-TOKEN": DefaultToken, "Content-Type": "application/json"}, `{"body":1}`, 400, "body is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, b, tt.status, tt.want)
			}
		})
	}
}
