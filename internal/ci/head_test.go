package ci

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCI_HeadSHA(t *testing.T) {
	t.Parallel()
	write := func(content string) string {
		p := filepath.Join(t.TempDir(), "event.json")
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	tests := []struct {
		name, event, path, want string
	}{
		{"opened", "pull_request", fixture("github-pull_request-opened.json"), "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39"},
		{"pull_request_target", "pull_request_target", fixture("github-pull_request-opened.json"), "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39"},
		{"push: none", "push", fixture("github-pull_request-opened.json"), ""},
		{"not a SHA", "pull_request", write(`{"pull_request":{"head":{"sha":"main\n::error::x"}}}`), ""},
		{"not a string", "pull_request", write(`{"pull_request":{"head":{"sha":42}}}`), ""},
		{"no file", "pull_request", "/nonexistent/event.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": tt.event, "GITHUB_EVENT_PATH": tt.path}[k]
			}
			if got := Detect(getenv).HeadSHA(getenv); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
