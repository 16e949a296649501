package run

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
)

// TestForgeClients_WhyNot: the feedback and the sweep build their forge clients the
// same way (githubClient, gitlabClient), and say the same reason when they cannot,
// each ending it with what it goes without.
func TestForgeClients_WhyNot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		forge config.Forge
		env   map[string]string
		why   string
	}{
		{"github without GITHUB_REPOSITORY", config.Forge{GitHubToken: "ghp_x", Comment: true}, nil,
			"github-token is set but GITHUB_REPOSITORY is not"},
		{"github with an unusable API URL", config.Forge{GitHubToken: "ghp_x", Comment: true},
			map[string]string{"GITHUB_REPOSITORY": "acme/web", "GITHUB_API_URL": "ftp://example.invalid"},
			"github-token is set but the GitHub API is unusable"},
		{"gitlab without CI_PROJECT_ID", config.Forge{GitLabToken: "glpat-x", Comment: true},
			map[string]string{"CI_API_V4_URL": "https://gitlab.example/api/v4"},
			"gitlab-token is set but CI_API_V4_URL or CI_PROJECT_ID is not"},
		{"gitlab with an unusable API URL", config.Forge{GitLabToken: "glpat-x", Comment: true},
			map[string]string{"CI_API_V4_URL": "ftp://example.invalid", "CI_PROJECT_ID": "7"},
			"gitlab-token is set but the GitLab API is unusable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			cfg := &config.Config{Forge: tt.forge}
			cfg.Forge.PR.Number = 4
			h := hooks{clock: newClock()}
			var out bytes.Buffer
			r := platform.New(ci.ByPlatform(ci.Woodpecker), &out, getenv, time.Now)
			closed, done := forgeClosed(cfg, getenv, r, h)
			done()
			fb, fdone := newFeedback(cfg, getenv, r, h)
			fdone()
			if closed != nil || fb != nil {
				t.Errorf("a client was made: closed %v, feedback %v", closed != nil, fb != nil)
			}
			log := out.String()
			if strings.Count(log, tt.why) != 2 || !strings.Contains(log, "the sweep goes by age only") ||
				!(strings.Contains(log, "no pull-request feedback") || strings.Contains(log, "no merge-request note")) {
				t.Errorf("the warnings do not say %q twice, each with what is skipped:\n%s", tt.why, log)
			}
		})
	}
}
