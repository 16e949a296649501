package ci

import "testing"

// TestPullRequestLabel: the label a labeled event added, and only on that event; the
// labels a request carries are not an approval of a later commit.
func TestPullRequestLabel(t *testing.T) {
	t.Parallel()
	fork := func(labeled string, closed bool) PR {
		return PR{Number: 58, Fork: true, ForkKnown: true, Labeled: labeled, Closed: closed, Event: "pull_request_target", HeadSHA: head}
	}
	tests := []struct {
		name, event, file string
		marker            string
		want              PR
		wantErr           string
	}{
		{"fork labeled", "pull_request_target", "github-pull_request_target-fork-labeled.json", "", fork("safe-to-deploy", false), ""},
		{"forgejo, fork labeled", "pull_request_target", "github-pull_request_target-fork-labeled.json", "FORGEJO_ACTIONS", fork("safe-to-deploy", false), ""},
		{"fork labeled with another label while carrying it", "pull_request_target", "github-pull_request_target-fork-labeled-other.json", "", fork("needs-docs", false), ""},
		{"fork synchronize while labeled", "pull_request_target", "github-pull_request_target-fork-synchronize-labeled.json", "", fork("", false), ""},
		{"fork opened carrying the label", "pull_request_target", "github-pull_request_target-fork-opened-labeled.json", "", fork("", false), ""},
		{"fork closed", "pull_request_target", "github-pull_request_target-fork-closed.json", "", fork("", true), ""},
		{"same repository labeled", "pull_request_target", "github-pull_request_target-labeled.json", "", PR{Number: 58, ForkKnown: true, Labeled: "safe-to-deploy", Event: "pull_request_target", HeadSHA: head}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := []string{"GITHUB_ACTIONS", "true", "GITHUB_EVENT_NAME", tt.event, "GITHUB_EVENT_PATH", fixture(tt.file)}
			if tt.marker != "" {
				e = append(e, tt.marker, "true")
			}
			getenv := env(e...)
			got, err := Detect(getenv).PullRequest(getenv)
			checkPR(t, got, err, tt.want, tt.wantErr)
		})
	}
	// A label whose name is not a string is refused without quoting it.
	if _, err := parseEvent([]byte(`{"action":"labeled","label":{"name":["CANARY-s3cr3t"]},"pull_request":{"number":1,"base":{"repo":{"full_name":"a/b"}},"head":{"repo":{"full_name":"a/b"}}}}`)); err == nil || err.Error() != "field label.name is not a string" {
		t.Errorf("a label name that is not a string: %v", err)
	}
}
