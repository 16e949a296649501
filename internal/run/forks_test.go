package run

import (
	"context"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestReview_ForksOnEveryCI: on each CI that says where a pull request comes from, a
// fork's request is refused (exit 1) before any request, with the CI's words and its way
// of setting allow-forks; the same repository's request, however the CI writes the
// repository's name, deploys without the "cannot tell" warning. A CI that cannot tell
// deploys with the warning.
func TestReview_ForksOnEveryCI(t *testing.T) {
	t.Parallel()
	const none, fork, same = "cannot tell", "fork", "same"
	tests := []struct {
		name string
		vars func(ws string) []string
		want string
		says []string // in the refusal or the warning
	}{
		{"azure fork", func(ws string) []string {
			return []string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", ws, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7", "SYSTEM_PULLREQUEST_ISFORK", "True"}
		}, fork, []string{"this pull request comes from a fork", "SCALINGO_ALLOW_FORKS=true"}},
		{"azure same repository", func(ws string) []string {
			return []string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", ws, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7", "SYSTEM_PULLREQUEST_ISFORK", "False"}
		}, same, nil},
		{"jenkins fork", func(ws string) []string {
			return []string{"JENKINS_URL", "http://127.0.0.1:1/", "WORKSPACE", ws, "CHANGE_ID", "7", "CHANGE_FORK", "mallory"}
		}, fork, []string{"comes from a fork"}},
		{"jenkins same repository", func(ws string) []string {
			return []string{"JENKINS_URL", "http://127.0.0.1:1/", "WORKSPACE", ws, "CHANGE_ID", "7"}
		}, same, nil},
		{"circleci fork", func(ws string) []string {
			return []string{"CIRCLECI", "true", "CIRCLE_WORKING_DIRECTORY", ws, "CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/7",
				"CIRCLE_PR_USERNAME", "mallory", "CIRCLE_PR_REPONAME", "shop", "CIRCLE_PR_NUMBER", "7"}
		}, fork, []string{"comes from a fork"}},
		{"circleci same repository", func(ws string) []string {
			return []string{"CIRCLECI", "true", "CIRCLE_WORKING_DIRECTORY", ws, "CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/7"}
		}, same, nil},
		{"travis fork", func(ws string) []string {
			return []string{"TRAVIS", "true", "TRAVIS_BUILD_DIR", ws, "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "mallory/shop", "TRAVIS_REPO_SLUG", "acme/shop"}
		}, fork, []string{"comes from a fork"}},
		{"travis same repository", func(ws string) []string {
			return []string{"TRAVIS", "true", "TRAVIS_BUILD_DIR", ws, "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "acme/shop", "TRAVIS_REPO_SLUG", "acme/shop"}
		}, same, nil},
		{"buildkite fork", func(ws string) []string {
			return []string{"BUILDKITE", "true", "BUILDKITE_BUILD_CHECKOUT_PATH", ws, "BUILDKITE_PULL_REQUEST", "7",
				"BUILDKITE_PULL_REQUEST_REPO", "https://github.com/mallory/shop.git", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}
		}, fork, []string{"comes from a fork"}},
		{"buildkite same repository written another way", func(ws string) []string {
			return []string{"BUILDKITE", "true", "BUILDKITE_BUILD_CHECKOUT_PATH", ws, "BUILDKITE_PULL_REQUEST", "7",
				"BUILDKITE_PULL_REQUEST_REPO", "git://github.com/acme/shop.git", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}
		}, same, nil},
		{"semaphore fork", func(ws string) []string {
			return []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_DIR", ws, "SEMAPHORE_GIT_PR_NUMBER", "7", "SEMAPHORE_GIT_PR_SLUG", "mallory/shop", "SEMAPHORE_GIT_REPO_SLUG", "acme/shop"}
		}, fork, []string{"comes from a fork"}},
		{"semaphore same repository", func(ws string) []string {
			return []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_DIR", ws, "SEMAPHORE_GIT_PR_NUMBER", "7", "SEMAPHORE_GIT_PR_SLUG", "acme/shop", "SEMAPHORE_GIT_REPO_SLUG", "acme/shop"}
		}, same, nil},
		{"gitlab fork, only the source project id", func(ws string) []string {
			return []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", ws, "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "666", "CI_PROJECT_ID", "7"}
		}, fork, []string{"this merge request comes from a fork", "SCALINGO_ALLOW_FORKS=true"}},
		{"gitlab without the source project id", func(ws string) []string {
			return []string{"GITLAB_CI", "true", "CI_PROJECT_DIR", ws, "CI_MERGE_REQUEST_IID", "7", "CI_PROJECT_ID", "7"}
		}, none, []string{"GitLab CI did not tell", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "fork merge requests", "SCALINGO_ALLOW_FORKS=true"}},
		{"bitbucket cannot tell", func(ws string) []string {
			return []string{"BITBUCKET_BUILD_NUMBER", "1", "BITBUCKET_CLONE_DIR", ws, "BITBUCKET_PR_ID", "7"}
		}, none, []string{"Bitbucket Pipelines does not tell", "fork pull requests"}},
		{"woodpecker cannot tell", func(ws string) []string {
			return []string{"CI", "woodpecker", "CI_WORKSPACE", ws, "CI_COMMIT_PULL_REQUEST", "7", "PLUGIN_REVIEW_APP", "true"}
		}, none, []string{"Woodpecker does not tell", "allow_forks: true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			e := w.env("", tt.vars(w.ws)...)
			e["SCALINGO_API_TOKEN"], e["SCALINGO_APP"], e["SCALINGO_REVIEW_APP"] = w.fake.APIToken, "my-app", "true"
			res := w.run(t, context.Background(), e)
			out := res.stdout + res.stderr
			warned := strings.Contains(out, "cannot refuse one")
			switch tt.want {
			case fork:
				if res.code != 1 || len(w.fake.Requests()) != 0 {
					t.Fatalf("exit %d after %d requests, want 1 before any\n%s", res.code, len(w.fake.Requests()), out)
				}
			default:
				if res.code != 0 || len(w.fake.Deployments("my-app-pr7")) != 1 {
					t.Fatalf("exit %d, %d deployments of my-app-pr7; want one\n%s", res.code, len(w.fake.Deployments("my-app-pr7")), out)
				}
				if warned != (tt.want == none) {
					t.Errorf("the cannot-tell warning shown: %v, want %v\n%s", warned, tt.want == none, out)
				}
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}
