package run

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestSweep_ClosedRequestsFromForge: with a forge token, a review app whose pull or
// merge request is closed or merged goes whatever its age; an open one stays; a request
// the forge does not know is kept, and says why.
func TestSweep_ClosedRequestsFromForge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		forge func(t *testing.T, w *world) env
	}{
		{"GitHub", func(t *testing.T, w *world) env {
			gh := fakegithub.Start(fakegithub.Options{Token: ghToken, Repository: "acme/web", PullRequests: []int{1, 2, 3, 4, 8}, Closed: []int{3, 1},
				Permissions: map[string]string{"pull_requests": fakegithub.Read}})
			t.Cleanup(gh.Close)
			return scheduleEnv(t, w, "INPUT_GITHUB-TOKEN", ghToken, "GITHUB_API_URL", gh.URL, "GITHUB_REPOSITORY", "acme/web")
		}},
		{"GitLab", func(t *testing.T, w *world) env {
			gl := fakegitlab.Start(fakegitlab.Options{MergeRequests: []int{1, 2, 3, 4, 8}, Merged: []int{3, 1}})
			t.Cleanup(gl.Close)
			return w.env("gitlab", "CI_PIPELINE_SOURCE", "schedule", "CI_API_V4_URL", gl.URL, "CI_PROJECT_ID", "42", "SCALINGO_GITLAB_TOKEN", gl.Token)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := fleetWorld(t, fakescalingo.Options{})
			seedAged(w)
			e := tt.forge(t, w)
			for k, v := range map[string]string{"SCALINGO_APP": "api-prod", "SCALINGO_REVIEW_APP_SWEEP": "true", "SCALINGO_REVIEW_APP_MAX_AGE": "7d"} {
				e[k] = v
			}
			delete(e, "INPUT_APP")
			res := w.run(t, context.Background(), e)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			deleted := w.fake.Deleted()
			slices.Sort(deleted)
			// pr3: 6 days old, its request closed; pr1, pr2, pr5: past the max age; pr4 and
			// pr8 open; pr6 unknown to the forge.
			if want := []string{"api-prod-pr1", "api-prod-pr2", "api-prod-pr3", "api-prod-pr5"}; !slices.Equal(deleted, want) {
				t.Errorf("deleted %v, want %v\n%s", deleted, want, res.stdout)
			}
			for _, want := range []string{
				"review-app=api-prod-pr3 parent=api-prod status=deleted reason=request #3 is closed or merged (last deployed 6d ago, within 7d)",
				"review-app=api-prod-pr4 parent=api-prod status=kept reason=last deployed 1d ago, within 7d; request #4 is open",
				"review-app=api-prod-pr6 parent=api-prod status=kept reason=created, never deployed, 2d ago, within 7d; whether request #6 is closed is unknown",
			} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("the output does not say %q:\n%s", want, res.stdout)
				}
			}
		})
	}
}
