package ci

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestPullRequestFromVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		want    PR
		wantErr string // a substring; "" for no error
	}{
		{"gitlab same project", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "12", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "7", "CI_MERGE_REQUEST_PROJECT_ID", "7"}, PR{Number: 12, ForkKnown: true}, ""},
		{"gitlab fork", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "12", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "99", "CI_MERGE_REQUEST_PROJECT_ID", "7"}, PR{Number: 12, Fork: true, ForkKnown: true}, ""},
		{"gitlab without project ids", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "12"}, PR{Number: 12}, ""},
		{"gitlab branch pipeline", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "99"}, PR{}, ""},
		{"gitlab bad iid", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "12abc"}, PR{}, "CI_MERGE_REQUEST_IID is not a positive integer"},
		{"woodpecker", []string{"CI", "woodpecker", "CI_COMMIT_PULL_REQUEST", "5", "DRONE_PULL_REQUEST", "6"}, PR{Number: 5}, ""},
		{"woodpecker push", []string{"CI", "woodpecker", "DRONE_PULL_REQUEST", "6"}, PR{}, ""},
		{"drone", []string{"DRONE", "true", "DRONE_PULL_REQUEST", "6"}, PR{Number: 6}, ""},
		{"drone negative", []string{"DRONE", "true", "DRONE_PULL_REQUEST", "-6"}, PR{}, "DRONE_PULL_REQUEST is not a positive integer"},
		{"bitbucket", []string{"BITBUCKET_BUILD_NUMBER", "1", "BITBUCKET_PR_ID", "301"}, PR{Number: 301}, ""},
		{"circleci url", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/web/pull/88"}, PR{Number: 88, ForkKnown: true}, ""},
		{"circleci none", []string{"CIRCLECI", "true"}, PR{}, ""},
		{"circleci url without number", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/web/pull/"}, PR{}, "CIRCLE_PULL_REQUEST does not end with a number"},
		{"circleci url with junk", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/web/pull/8x"}, PR{}, "CIRCLE_PULL_REQUEST is not a positive integer"},
		{"jenkins", []string{"JENKINS_URL", "x", "CHANGE_ID", "14"}, PR{Number: 14, ForkKnown: true}, ""},
		{"azure number first", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "9", "SYSTEM_PULLREQUEST_PULLREQUESTID", "123456"}, PR{Number: 9}, ""},
		{"azure id", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTID", "123456"}, PR{Number: 123456}, ""},
		{"buildkite", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "77"}, PR{Number: 77}, ""},
		{"buildkite false", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "false"}, PR{}, ""},
		{"travis", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "3"}, PR{Number: 3}, ""},
		{"travis false", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "false"}, PR{}, ""},
		{"travis False is not false", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "False"}, PR{}, "TRAVIS_PULL_REQUEST is not a positive integer"},
		{"semaphore", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "1"}, PR{Number: 1}, ""},
		{"semaphore zero", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "0"}, PR{}, "is not a positive integer"},
		{"leading zero", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "01"}, PR{}, "is not a positive integer"},
		{"plus sign", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "+1"}, PR{}, "is not a positive integer"},
		{"over 32 bits", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "2147483648"}, PR{}, "is not a positive integer"},
		{"largest", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "2147483647"}, PR{Number: 2147483647}, ""},
		{"huge", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", strings.Repeat("9", 400)}, PR{}, "is not a positive integer"},
		{"unicode digits", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "١٢"}, PR{}, "is not a positive integer"},
		{"local has none", []string{"CHANGE_ID", "4", "DRONE_PULL_REQUEST", "4"}, PR{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := env(tt.env...)
			got, err := Detect(getenv).PullRequest(getenv)
			checkPR(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// TestForks: every CI that says where a request comes from has its fork detected, and a
// request from the same repository, however the CI writes its name, is not a fork.
func TestForks(t *testing.T) {
	t.Parallel()
	fork, same := PR{Number: 7, Fork: true, ForkKnown: true}, PR{Number: 7, ForkKnown: true}
	unknown := PR{Number: 7}
	tests := []struct {
		name string
		env  []string
		want PR
	}{
		{"gitlab fork, target project id", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "99", "CI_MERGE_REQUEST_PROJECT_ID", "7", "CI_PROJECT_ID", "99"}, fork},
		{"gitlab fork, only the source project id and the pipeline's", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "99", "CI_PROJECT_ID", "7"}, fork},
		{"gitlab same project, only the source project id and the pipeline's", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "7", "CI_PROJECT_ID", "7"}, same},
		{"gitlab without the source project id", []string{"GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "7", "CI_PROJECT_ID", "7"}, unknown},

		{"azure fork", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7", "SYSTEM_PULLREQUEST_ISFORK", "True"}, fork},
		{"azure fork, lower case", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTID", "7", "SYSTEM_PULLREQUEST_ISFORK", "true"}, fork},
		{"azure same repository", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7", "SYSTEM_PULLREQUEST_ISFORK", "False"}, same},
		{"azure without the variable", []string{"TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7"}, unknown},

		{"jenkins fork", []string{"JENKINS_URL", "x", "CHANGE_ID", "7", "CHANGE_FORK", "contributor"}, fork},
		{"jenkins same repository", []string{"JENKINS_URL", "x", "CHANGE_ID", "7"}, same},

		{"circleci fork: user and repository", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/7", "CIRCLE_PR_USERNAME", "mallory", "CIRCLE_PR_REPONAME", "shop", "CIRCLE_PR_NUMBER", "7"}, fork},
		{"circleci fork: the repository alone", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/7", "CIRCLE_PR_REPONAME", "shop"}, fork},
		{"circleci fork: the number alone", []string{"CIRCLECI", "true", "CIRCLE_PR_NUMBER", "7"}, fork},
		{"circleci same repository", []string{"CIRCLECI", "true", "CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/7", "CIRCLE_PROJECT_USERNAME", "acme", "CIRCLE_PROJECT_REPONAME", "shop"}, same},

		{"travis fork", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "mallory/shop", "TRAVIS_REPO_SLUG", "acme/shop"}, fork},
		{"travis same repository", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "acme/shop", "TRAVIS_REPO_SLUG", "acme/shop"}, same},
		{"travis same repository, other case", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "Acme/Shop", "TRAVIS_REPO_SLUG", "acme/shop"}, same},
		{"travis without the request's slug", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "7", "TRAVIS_REPO_SLUG", "acme/shop"}, unknown},
		{"travis a slug prefixing the other", []string{"TRAVIS", "true", "TRAVIS_PULL_REQUEST", "7", "TRAVIS_PULL_REQUEST_SLUG", "acme/shop-fork", "TRAVIS_REPO_SLUG", "acme/shop"}, fork},

		{"buildkite fork", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_PULL_REQUEST_REPO", "https://github.com/mallory/shop.git", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, fork},
		{"buildkite same repository: git:// against scp", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_PULL_REQUEST_REPO", "git://github.com/acme/shop.git", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, same},
		{"buildkite same repository: https without .git", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_PULL_REQUEST_REPO", "https://github.com/acme/shop", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, same},
		{"buildkite same path on another host", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_PULL_REQUEST_REPO", "https://evil.example/acme/shop.git", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, fork},
		{"buildkite a request repository that cannot be read", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_PULL_REQUEST_REPO", "???", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, fork},
		{"buildkite without the request's repository", []string{"BUILDKITE", "true", "BUILDKITE_PULL_REQUEST", "7", "BUILDKITE_REPO", "git@github.com:acme/shop.git"}, unknown},

		{"semaphore fork", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "7", "SEMAPHORE_GIT_PR_SLUG", "mallory/shop", "SEMAPHORE_GIT_REPO_SLUG", "acme/shop"}, fork},
		{"semaphore same repository", []string{"SEMAPHORE", "true", "SEMAPHORE_GIT_PR_NUMBER", "7", "SEMAPHORE_GIT_PR_SLUG", "acme/shop", "SEMAPHORE_GIT_REPO_SLUG", "acme/shop"}, same},

		// No variable says: the run cannot tell, whatever else is set.
		{"drone cannot tell", []string{"DRONE", "true", "DRONE_PULL_REQUEST", "7", "CHANGE_FORK", "x"}, unknown},
		{"woodpecker cannot tell", []string{"CI", "woodpecker", "CI_COMMIT_PULL_REQUEST", "7"}, unknown},
		{"bitbucket cannot tell", []string{"BITBUCKET_BUILD_NUMBER", "1", "BITBUCKET_PR_ID", "7"}, unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := env(tt.env...)
			got, err := Detect(getenv).PullRequest(getenv)
			checkPR(t, got, err, tt.want, "")
		})
	}
	t.Run("azure: a value that is no boolean", func(t *testing.T) {
		t.Parallel()
		getenv := env("TF_BUILD", "True", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7", "SYSTEM_PULLREQUEST_ISFORK", "maybe")
		got, err := Detect(getenv).PullRequest(getenv)
		checkPR(t, got, err, PR{}, "SYSTEM_PULLREQUEST_ISFORK is neither True nor False")
	})
}

func TestSameRepository(t *testing.T) {
	t.Parallel()
	shop := []string{
		"acme/shop", "Acme/Shop", "acme/shop.git", "/acme/shop/",
		"git@github.com:acme/shop.git", "git@github.com:acme/shop", "github.com:acme/shop",
		"git://github.com/acme/shop.git", "https://github.com/acme/shop", "https://github.com/acme/shop.git/",
		"https://GitHub.com/acme/shop", "https://www.github.com/acme/shop", "http://github.com/acme/shop",
		"ssh://git@github.com/acme/shop.git", "ssh://git@github.com:22/acme/shop.git", "https://x-access-token@github.com/acme/shop",
	}
	for _, a := range shop {
		for _, b := range shop {
			if !SameRepository(a, b) {
				t.Errorf("SameRepository(%q, %q) = false", a, b)
			}
		}
	}
	// Another repository.
	for _, other := range []string{"mallory/shop", "acme/shop-fork", "acme/shop/extra", "acme/sho", "https://github.com/acme/shop2"} {
		for _, a := range []string{"acme/shop", "git@github.com:acme/shop.git", "https://github.com/acme/shop"} {
			if SameRepository(a, other) || SameRepository(other, a) {
				t.Errorf("SameRepository(%q, %q) = true", a, other)
			}
		}
	}
	// The same path on another host, when both name a host (a slug names none: a CI gives
	// slugs on both sides).
	for _, other := range []string{"git@gitlab.com:acme/shop.git", "https://evil.example/acme/shop", "ssh://git@github.com.evil.example/acme/shop"} {
		for _, a := range []string{"git@github.com:acme/shop.git", "https://github.com/acme/shop"} {
			if SameRepository(a, other) || SameRepository(other, a) {
				t.Errorf("SameRepository(%q, %q) = true", a, other)
			}
		}
	}
	// Names that cannot be read as a repository are the same as nothing, not even themselves.
	for _, bad := range []string{"", "acme", "???", "acme//shop", "acme/./shop", "https://github.com/../acme/shop",
		"://acme/shop", "https:///acme/shop", "a/b:c/d", " "} {
		if SameRepository(bad, bad) || SameRepository(bad, "acme/shop") {
			t.Errorf("%q reads as a repository", bad)
		}
	}
}

func checkPR(t *testing.T, got PR, err error, want PR, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("error %v", err)
	case wantErr != "" && err == nil:
		t.Fatalf("no error, want one with %q (got %+v)", wantErr, got)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q, want one with %q", err, wantErr)
	}
	if got != want {
		t.Errorf("PR = %+v, want %+v", got, want)
	}
}

// fixture is a real-shaped event payload from the repository's testdata.
// head is pull_request.head.sha in every pull-request file of testdata/events.
const head = "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39"

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "events", name) }

func TestPullRequestFromGitHubEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, path string
		marker            string // a forge's marker variable, if any
		want              PR
		wantErr           string
	}{
		{"opened", "pull_request", fixture("github-pull_request-opened.json"), "", PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}, ""},
		{"closed", "pull_request", fixture("github-pull_request-closed.json"), "", PR{Number: 42, ForkKnown: true, Closed: true, Event: "pull_request", HeadSHA: head}, ""},
		{"fork", "pull_request", fixture("github-pull_request-fork.json"), "", PR{Number: 57, Fork: true, ForkKnown: true, Event: "pull_request", HeadSHA: head}, ""},
		{"pull_request_target", "pull_request_target", fixture("github-pull_request-fork.json"), "", PR{Number: 57, Fork: true, ForkKnown: true, Event: "pull_request_target", HeadSHA: head}, ""},
		{"forgejo reads the same payload", "pull_request", fixture("github-pull_request-closed.json"), "FORGEJO_ACTIONS", PR{Number: 42, ForkKnown: true, Closed: true, Event: "pull_request", HeadSHA: head}, ""},
		{"gitea reads the same payload", "pull_request", fixture("github-pull_request-opened.json"), "GITEA_ACTIONS", PR{Number: 42, ForkKnown: true, Event: "pull_request", HeadSHA: head}, ""},
		{"push is not a pull request", "push", fixture("push.json"), "", PR{}, ""},
		// Other events are not read at all, so a broken file there does no harm.
		{"push with a missing file", "push", "/nonexistent/event.json", "", PR{}, ""},
		{"issue_comment is not read", "issue_comment", fixture("github-pull_request-opened.json"), "", PR{}, ""},
		{"a push payload under a pull_request name", "pull_request", fixture("push.json"), "", PR{}, "field pull_request is missing"},
		{"no event path", "pull_request", "", "", PR{}, "GITHUB_EVENT_PATH is not set"},
		{"missing file", "pull_request", "/nonexistent/event.json", "", PR{}, "/nonexistent/event.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := []string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", tt.event, "GITHUB_EVENT_PATH", tt.path}
			if tt.marker != "" {
				e = append(e, tt.marker, "true")
			}
			getenv := env(e...)
			c := Detect(getenv)
			if c.Platform != GitHub {
				t.Fatalf("detected %s", c.Platform)
			}
			got, err := c.PullRequest(getenv)
			checkPR(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// canary stands for a secret in the payload: no error may repeat it.
const canary = "CANARY-s3cr3t"

// TestGitHubEventAttacks feeds payloads an attacker could shape (or a broken runner
// could write). Each must give an error naming the file, never its content.
func TestGitHubEventAttacks(t *testing.T) {
	t.Parallel()
	pr := func(number string) string {
		return `{"action":"opened","pull_request":{"number":` + number +
			`,"head":{"repo":{"full_name":"acme/web"}},"base":{"repo":{"full_name":"acme/web"}}}}`
	}
	deep := `{"junk":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"pull_request":{"number":1}}`
	tests := []struct {
		name    string
		body    string
		want    PR
		wantErr string
	}{
		{"valid", pr("7"), PR{Number: 7, ForkKnown: true, Event: "pull_request"}, ""},
		{"number as a string", pr(`"7"`), PR{}, "pull_request.number is not a positive integer"},
		{"negative number", pr("-7"), PR{}, "pull_request.number is not a positive integer"},
		{"zero", pr("0"), PR{}, "pull_request.number is not a positive integer"},
		{"float", pr("7.0"), PR{}, "pull_request.number is not a positive integer"},
		{"exponent", pr("7e0"), PR{}, "pull_request.number is not a positive integer"},
		{"over 32 bits", pr("2147483648"), PR{}, "pull_request.number is not a positive integer"},
		{"huge", pr(strings.Repeat("9", 5000)), PR{}, "pull_request.number is not a positive integer"},
		{"null number", pr("null"), PR{}, "pull_request.number is not a positive integer"},
		{"object number", pr(`{"` + canary + `":1}`), PR{}, "pull_request.number is not a positive integer"},
		{"missing number", `{"pull_request":{"base":{"repo":{"full_name":"a/b"}}}}`, PR{}, "pull_request.number is not a positive integer"},
		{"pull_request null", `{"action":"opened","pull_request":null}`, PR{}, "pull_request is missing"},
		{"pull_request a string", `{"pull_request":"` + canary + `"}`, PR{}, "field pull_request has the wrong type"},
		{"action a number", `{"action":3,"pull_request":{"number":1,"base":{"repo":{"full_name":"a/b"}}}}`, PR{}, "field action is not a string"},
		{"base repo missing", `{"pull_request":{"number":1,"head":{"repo":{"full_name":"a/b"}}}}`, PR{}, "pull_request.base.repo is missing"},
		{"base name empty", `{"pull_request":{"number":1,"base":{"repo":{"full_name":""}}}}`, PR{}, "base.repo.full_name is not a non-empty string"},
		{"base name not a string", `{"pull_request":{"number":1,"base":{"repo":{"full_name":["` + canary + `"]}}}}`, PR{}, "base.repo.full_name is not a non-empty string"},
		{"head name not a string", `{"pull_request":{"number":1,"head":{"repo":{"full_name":1}},"base":{"repo":{"full_name":"a/b"}}}}`, PR{}, "head.repo.full_name is not a string"},
		// A deleted fork leaves head.repo null: it cannot be shown to be this repository.
		{"deleted fork", `{"pull_request":{"number":1,"head":{"repo":null},"base":{"repo":{"full_name":"a/b"}}}}`, PR{Number: 1, Fork: true, ForkKnown: true, Event: "pull_request"}, ""},
		{"head name differs by case", `{"pull_request":{"number":1,"head":{"repo":{"full_name":"A/b"}},"base":{"repo":{"full_name":"a/b"}}}}`, PR{Number: 1, Fork: true, ForkKnown: true, Event: "pull_request"}, ""},
		{"nested junk past the decoder's depth", deep, PR{}, "not valid JSON"},
		{"not JSON", "action=closed&" + canary, PR{}, "not valid JSON (at byte 1)"},
		{"bad token after a secret", `{"title":"` + canary + `", "pull_request": {"number": ` + canary + `}}`, PR{}, "not valid JSON"},
		{"truncated", pr("7")[:40], PR{}, "not valid JSON"},
		{"top-level array", `[1,2]`, PR{}, "not a JSON object"},
		{"top-level string", `"` + canary + `"`, PR{}, "not a JSON object"},
		{"empty file", ``, PR{}, "not valid JSON"},
		{"two documents", pr("7") + pr("8"), PR{}, "not valid JSON"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
			t.Fatal(err)
		}
		tests[i].body = path
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readGitHubEvent(tt.body)
			checkPR(t, got, err, tt.want, tt.wantErr)
			if err != nil {
				if !strings.Contains(err.Error(), tt.body) {
					t.Errorf("error %q does not name the file", err)
				}
				if strings.Contains(err.Error(), "CANARY") {
					t.Errorf("error %q repeats the payload", err)
				}
			}
		})
	}
}

func readGitHubEvent(path string) (PR, error) {
	return Detect(env("GITHUB_ACTIONS", "true")).PullRequest(
		env("GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", "pull_request", "GITHUB_EVENT_PATH", path))
}

func TestGitHubEventFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Over the limit: refused from its size, so a sparse file costs nothing to make.
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxEventSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// At the limit exactly, valid JSON padded with spaces: read and accepted.
	edge := filepath.Join(dir, "edge.json")
	body := `{"pull_request":{"number":3,"head":{"repo":{"full_name":"a/b"}},"base":{"repo":{"full_name":"a/b"}}}}`
	if err := os.WriteFile(edge, []byte(body+strings.Repeat(" ", MaxEventSize-len(body))), 0o644); err != nil {
		t.Fatal(err)
	}
	// A FIFO with no writer: a blocking open would wait for one forever.
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       PR
		wantErr    string
	}{
		{"a FIFO", fifo, PR{}, "not a regular file"},
		{"over the size limit", huge, PR{}, "larger than 26214400 bytes"},
		{"at the size limit", edge, PR{Number: 3, ForkKnown: true, Event: "pull_request"}, ""},
		{"a directory", dir, PR{}, "not a regular file"},
		{"a device that never ends", "/dev/zero", PR{}, "not a regular file"},
		{"missing", filepath.Join(dir, "none.json"), PR{}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readGitHubEvent(tt.path)
			checkPR(t, got, err, tt.want, tt.wantErr)
			if err != nil && !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"github-pull_request-opened.json", "github-pull_request-fork.json", "push.json"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"pull_request":{"number":1,"base":{"repo":{"full_name":"a/b"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pr, err := parseEvent(data)
		if err != nil {
			if pr != (PR{}) {
				t.Errorf("error %v with a non-zero PR %+v", err, pr)
			}
			return
		}
		if pr.Number < 1 || pr.Number > maxNumber || !pr.ForkKnown {
			t.Errorf("accepted %+v", pr)
		}
	})
}

// FuzzSameRepository: the comparison is symmetric, never panics, and a name is the same
// as itself whenever it reads as a repository at all.
func FuzzSameRepository(f *testing.F) {
	for _, s := range []string{"acme/shop", "git@github.com:acme/shop.git", "git://github.com/acme/shop.git",
		"https://github.com/acme/shop", "ssh://git@github.com:22/acme/shop", "???", "a/b:c/d", "://x/y"} {
		f.Add(s, "acme/shop")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if SameRepository(a, b) != SameRepository(b, a) {
			t.Fatalf("SameRepository(%q, %q) is not symmetric", a, b)
		}
		if _, _, ok := repository(a); ok != SameRepository(a, a) {
			t.Fatalf("%q: readable %v, same as itself %v", a, ok, SameRepository(a, a))
		}
	})
}
