package ci

import (
	"slices"
	"strings"
	"testing"
)

// env returns a getenv over name/value pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		env          []string
		platform     string
		ciName       string
		dialect      Dialect
		outputFile   string
		outputEnvVar string
	}{
		{"github", []string{"GITHUB_ACTIONS", "true", "CI", "true"}, GitHub, "GitHub Actions", GitHubCommands, "", ""},
		{"forgejo sets both markers", []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true", "GITEA_ACTIONS", "true"}, GitHub, "Forgejo Actions", GitHubCommands, "", ""},
		{"gitea", []string{"GITHUB_ACTIONS", "true", "GITEA_ACTIONS", "true"}, GitHub, "Gitea Actions", GitHubCommands, "", ""},
		{"gitea marker alone is not a CI", []string{"GITEA_ACTIONS", "true"}, Local, "a local shell", Plain, "", ""},
		{"github wins over gitlab", []string{"GITHUB_ACTIONS", "true", "GITLAB_CI", "true"}, GitHub, "GitHub Actions", GitHubCommands, "", ""},
		{"GITHUB_ACTIONS must be exactly true", []string{"GITHUB_ACTIONS", "TRUE"}, Local, "a local shell", Plain, "", ""},
		{"gitlab", []string{"GITLAB_CI", "true", "CI", "true"}, GitLab, "GitLab CI", GitLabSections, DotenvFile, ""},
		{"woodpecker sets DRONE too", []string{"CI", "woodpecker", "DRONE", "true"}, Woodpecker, "Woodpecker", Plain, DotenvFile, ""},
		{"woodpecker by system name", []string{"CI_SYSTEM_NAME", "woodpecker", "CI", "true"}, Woodpecker, "Woodpecker", Plain, DotenvFile, ""},
		{"drone sets CI_* too", []string{"DRONE", "true", "CI", "true", "CI_COMMIT_SHA", "x"}, Drone, "Drone", Plain, DotenvFile, "DRONE_OUTPUT"},
		{"gitlab wins over drone", []string{"GITLAB_CI", "true", "DRONE", "true"}, GitLab, "GitLab CI", GitLabSections, DotenvFile, ""},
		{"drone wins over the new CIs", []string{"DRONE", "true", "JENKINS_URL", "http://j", "TRAVIS", "true"}, Drone, "Drone", Plain, DotenvFile, "DRONE_OUTPUT"},
		{"bitbucket", []string{"BITBUCKET_BUILD_NUMBER", "17", "CI", "true"}, Bitbucket, "Bitbucket Pipelines", Plain, "", ""},
		{"circleci", []string{"CIRCLECI", "true", "CI", "true"}, CircleCI, "CircleCI", Plain, "", ""},
		{"jenkins", []string{"JENKINS_URL", "https://jenkins.example.com/"}, Jenkins, "Jenkins", Plain, "", ""},
		{"azure writes True", []string{"TF_BUILD", "True"}, Azure, "Azure Pipelines", AzureLogging, "", ""},
		{"buildkite", []string{"BUILDKITE", "true", "CI", "true"}, Buildkite, "Buildkite", Plain, "", ""},
		{"travis", []string{"TRAVIS", "true", "CI", "true"}, Travis, "Travis CI", Plain, "", ""},
		{"semaphore", []string{"SEMAPHORE", "true", "CI", "true"}, Semaphore, "Semaphore", Plain, "", ""},
		{"bitbucket before circleci", []string{"CIRCLECI", "true", "BITBUCKET_BUILD_NUMBER", "3"}, Bitbucket, "Bitbucket Pipelines", Plain, "", ""},
		{"jenkins before travis and semaphore", []string{"SEMAPHORE", "true", "TRAVIS", "true", "JENKINS_URL", "x"}, Jenkins, "Jenkins", Plain, "", ""},
		{"buildkite before travis", []string{"TRAVIS", "true", "BUILDKITE", "true"}, Buildkite, "Buildkite", Plain, "", ""},
		{"empty JENKINS_URL is not Jenkins", []string{"JENKINS_URL", ""}, Local, "a local shell", Plain, "", ""},
		{"CI=true alone is local", []string{"CI", "true"}, Local, "a local shell", Plain, "", ""},
		{"nothing", nil, Local, "a local shell", Plain, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Detect(env(tt.env...))
			if got.Platform != tt.platform || got.Name != tt.ciName || got.Dialect != tt.dialect ||
				got.DefaultOutputFile != tt.outputFile || got.OutputEnv != tt.outputEnvVar {
				t.Errorf("Detect = %s %q %s %q %q, want %s %q %s %q %q", got.Platform, got.Name, got.Dialect, got.DefaultOutputFile, got.OutputEnv,
					tt.platform, tt.ciName, tt.dialect, tt.outputFile, tt.outputEnvVar)
			}
		})
	}
}

func TestWorkspaceAndCommit(t *testing.T) {
	t.Parallel()
	// Each row also sets another CI's variables, which must not leak in.
	noise := []string{"GITHUB_WORKSPACE", "/other", "GITHUB_SHA", "other", "WORKSPACE", "/other2", "GIT_COMMIT", "other2"}
	tests := []struct {
		name, platform string
		env            []string
		ws, commit     string
	}{
		{"github", GitHub, []string{"GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", "/github/workspace", "GITHUB_SHA", "aaa"}, "/github/workspace", "aaa"},
		{"forgejo", GitHub, []string{"GITHUB_ACTIONS", "true", "FORGEJO_ACTIONS", "true", "GITHUB_WORKSPACE", "/workspace/acme/web", "GITHUB_SHA", "fff"}, "/workspace/acme/web", "fff"},
		{"gitlab", GitLab, append([]string{"GITLAB_CI", "true", "CI_PROJECT_DIR", "/builds/acme/web", "CI_COMMIT_SHA", "bbb"}, noise...), "/builds/acme/web", "bbb"},
		{"woodpecker", Woodpecker, append([]string{"CI", "woodpecker", "CI_WORKSPACE", "/woodpecker/src/x", "CI_COMMIT_SHA", "ccc", "DRONE_WORKSPACE", "/nope"}, noise...), "/woodpecker/src/x", "ccc"},
		{"drone", Drone, append([]string{"DRONE", "true", "DRONE_WORKSPACE", "/drone/src", "DRONE_COMMIT_SHA", "ddd", "CI_COMMIT_SHA", "old"}, noise...), "/drone/src", "ddd"},
		{"drone's CI_* aliases", Drone, []string{"DRONE", "true", "CI_WORKSPACE", "/drone/src", "CI_COMMIT_SHA", "eee"}, "/drone/src", "eee"},
		{"bitbucket", Bitbucket, append([]string{"BITBUCKET_BUILD_NUMBER", "1", "BITBUCKET_CLONE_DIR", "/opt/atlassian/pipelines/agent/build", "BITBUCKET_COMMIT", "b1"}, noise...), "/opt/atlassian/pipelines/agent/build", "b1"},
		{"circleci", CircleCI, append([]string{"CIRCLECI", "true", "CIRCLE_WORKING_DIRECTORY", "~/project", "CIRCLE_SHA1", "c1"}, noise...), "~/project", "c1"},
		{"jenkins", Jenkins, []string{"JENKINS_URL", "x", "WORKSPACE", "/var/jenkins/ws", "GIT_COMMIT", "j1", "GITHUB_WORKSPACE", "/other"}, "/var/jenkins/ws", "j1"},
		{"azure", Azure, append([]string{"TF_BUILD", "True", "BUILD_SOURCESDIRECTORY", "/home/vsts/work/1/s", "BUILD_SOURCEVERSION", "a1"}, noise...), "/home/vsts/work/1/s", "a1"},
		{"buildkite", Buildkite, append([]string{"BUILDKITE", "true", "BUILDKITE_BUILD_CHECKOUT_PATH", "/buildkite/builds/x", "BUILDKITE_COMMIT", "k1"}, noise...), "/buildkite/builds/x", "k1"},
		{"travis", Travis, append([]string{"TRAVIS", "true", "TRAVIS_BUILD_DIR", "/home/travis/build/acme/web", "TRAVIS_COMMIT", "t1"}, noise...), "/home/travis/build/acme/web", "t1"},
		{"semaphore", Semaphore, append([]string{"SEMAPHORE", "true", "SEMAPHORE_GIT_DIR", "/home/semaphore/web", "SEMAPHORE_GIT_SHA", "s1"}, noise...), "/home/semaphore/web", "s1"},
		{"a CI that gives nothing", Jenkins, []string{"JENKINS_URL", "x", "GITHUB_WORKSPACE", "/other", "CI_COMMIT_SHA", "x"}, "", ""},
		{"local honours the historical variables in order", Local, []string{"CI_WORKSPACE", "/w2", "CI_PROJECT_DIR", "/w1", "CI_COMMIT_SHA", "l2", "DRONE_COMMIT_SHA", "l3"}, "/w1", "l2"},
		{"local, github's first", Local, []string{"GITHUB_WORKSPACE", "/g", "DRONE_WORKSPACE", "/d", "GITHUB_SHA", "g1", "CI_COMMIT_SHA", "l2"}, "/g", "g1"},
		{"blank values are unset", Local, []string{"GITHUB_WORKSPACE", "  ", "DRONE_WORKSPACE", " /d ", "GITHUB_SHA", "", "DRONE_COMMIT_SHA", "d1"}, "/d", "d1"},
		{"local with nothing", Local, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := env(tt.env...)
			c := Detect(getenv)
			if c.Platform != tt.platform {
				t.Fatalf("detected %s, want %s", c.Platform, tt.platform)
			}
			if got := c.WorkspaceDir(getenv); got != tt.ws {
				t.Errorf("WorkspaceDir = %q, want %q", got, tt.ws)
			}
			if got := c.CommitSHA(getenv); got != tt.commit {
				t.Errorf("CommitSHA = %q, want %q", got, tt.commit)
			}
		})
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	all := All()
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	want := []string{"Forgejo Actions", "Gitea Actions", "GitHub Actions", "GitLab CI", "Woodpecker", "Drone",
		"Bitbucket Pipelines", "CircleCI", "Jenkins", "Azure Pipelines", "Buildkite", "Travis CI", "Semaphore", "a local shell"}
	if !slices.Equal(names, want) {
		t.Errorf("All() = %q, want %q", names, want)
	}
	// Every CI but Local must be detected by its own variables alone: a row that another
	// entry shadows would never be reached.
	for _, c := range all {
		if c.Platform == Local {
			continue
		}
		if len(c.Workspace) == 0 || len(c.Commit) == 0 {
			t.Errorf("%s gives no workspace or commit variable", c.Name)
		}
	}
	// Callers get copies: editing one does not change the table.
	all[0].Workspace[0] = "CHANGED"
	if All()[0].Workspace[0] == "CHANGED" {
		t.Error("All shares its slices with the table")
	}
}

// TestMessagesPerCI: each CI's words for a request and for setting an input, as its
// pipelines spell them, and a cannot-tell warning that names what was missing only on a
// CI that does tell forks apart.
func TestMessagesPerCI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform, request, setting string
		tells                      bool
	}{
		{GitHub, "pull request", "allow-forks: true", true},
		{GitLab, "merge request", "SCALINGO_ALLOW_FORKS=true", true},
		{Woodpecker, "pull request", "allow_forks: true", false},
		{Drone, "pull request", "allow_forks: true", false},
		{Bitbucket, "pull request", "SCALINGO_ALLOW_FORKS=true", false},
		{CircleCI, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Jenkins, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Azure, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Buildkite, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Travis, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Semaphore, "pull request", "SCALINGO_ALLOW_FORKS=true", true},
		{Local, "pull request", "SCALINGO_ALLOW_FORKS=true", false},
	}
	seen := map[string]bool{}
	for _, c := range All() {
		seen[c.Platform] = true
		for _, tt := range tests {
			if tt.platform != c.Platform {
				continue
			}
			if c.Request != tt.request || c.Setting("allow-forks", "true") != tt.setting {
				t.Errorf("%s: %q, %q; want %q, %q", c.Name, c.Request, c.Setting("allow-forks", "true"), tt.request, tt.setting)
			}
			w := c.ForkUnknown()
			if tells := strings.Contains(w, "did not tell"); tells != tt.tells || strings.Contains(w, "does not tell") == tt.tells {
				t.Errorf("%s: %q, want a CI that tells forks apart: %v", c.Name, w, tt.tells)
			}
			if !strings.Contains(w, "fork "+tt.request+"s") || !strings.Contains(w, tt.setting) || !strings.HasPrefix(w, c.Name) {
				t.Errorf("%s: %q lacks the CI's words", c.Name, w)
			}
		}
	}
	for _, tt := range tests {
		if !seen[tt.platform] {
			t.Errorf("no CI %s", tt.platform)
		}
	}
}
