package ci

import (
	"encoding/json"
	"regexp"
)

var commitSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// HeadSHA returns the head commit of the GitHub pull request the run belongs to (the
// pull_request event's pull_request.head.sha), "" when the run is not for one or the
// payload does not say. GITHUB_SHA is then a merge commit that the pull request does not
// show; a deployment of the head commit is shown on it.
func (c CI) HeadSHA(getenv func(string) string) string {
	if c.Platform != GitHub {
		return ""
	}
	switch getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return ""
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return ""
	}
	data, err := readEventFile(path)
	if err != nil {
		return ""
	}
	var ev struct {
		PullRequest struct {
			Head struct {
				SHA json.RawMessage `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return ""
	}
	sha, ok := jsonString(ev.PullRequest.Head.SHA)
	if !ok || !commitSHA.MatchString(sha) {
		return ""
	}
	return sha
}
