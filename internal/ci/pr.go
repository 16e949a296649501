package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// PR is the pull or merge request a run belongs to.
type PR struct {
	// Number is the request's number; 0 when the run is not for a request.
	Number int
	// Fork is true when the request comes from another repository than the one the
	// pipeline belongs to (its code would run with this repository's secrets).
	Fork bool
	// ForkKnown is true when the CI tells forks apart (GitHub and its forges, GitLab).
	// Elsewhere Fork is false and means nothing.
	ForkKnown bool
	// Closed is true for a GitHub pull_request(_target) event whose action is "closed".
	Closed bool
	// Labeled is the label a GitHub pull_request(_target) event of action "labeled"
	// added (its label.name); "" for any other event.
	Labeled string
}

// MaxEventSize bounds the GitHub event payload read. GitHub caps webhook payloads at
// 25 MB, so a real event never comes near; anything larger is refused unread.
const MaxEventSize = 25 << 20

// maxNumber bounds request numbers: forges store them as 32-bit integers.
const maxNumber = 1<<31 - 1

// githubPR reads the pull-request context from the event payload, for the two events that
// carry one.
func githubPR(getenv func(string) string) (PR, error) {
	switch getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return PR{}, nil
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return PR{}, errors.New("read the pull request event: GITHUB_EVENT_PATH is not set")
	}
	pr, err := readEvent(path)
	if err != nil {
		return PR{}, fmt.Errorf("read the pull request event %s: %w", path, err)
	}
	return pr, nil
}

// event is the part of a pull_request payload used. Raw fields are checked by hand, so
// that no decoding error can quote the payload back.
type event struct {
	Action      json.RawMessage `json:"action"`
	PullRequest *struct {
		Number json.RawMessage `json:"number"`
		Head   struct {
			Repo *repo `json:"repo"`
		} `json:"head"`
		Base struct {
			Repo *repo `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	// Label is the label added, on a labeled event.
	Label *struct {
		Name json.RawMessage `json:"name"`
	} `json:"label"`
}

type repo struct {
	FullName json.RawMessage `json:"full_name"`
}

func readEvent(path string) (PR, error) {
	// A FIFO or a device would block or never end: only a regular file is read.
	fi, err := os.Stat(path)
	if err != nil {
		return PR{}, err
	}
	if !fi.Mode().IsRegular() {
		return PR{}, errors.New("not a regular file")
	}
	if fi.Size() > MaxEventSize {
		return PR{}, fmt.Errorf("larger than %d bytes", MaxEventSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return PR{}, err
	}
	defer f.Close()
	// The file may grow after Stat: the limit holds on what is actually read.
	data, err := io.ReadAll(io.LimitReader(f, MaxEventSize+1))
	if err != nil {
		return PR{}, err
	}
	if len(data) > MaxEventSize {
		return PR{}, fmt.Errorf("larger than %d bytes", MaxEventSize)
	}
	return parseEvent(data)
}

func parseEvent(data []byte) (PR, error) {
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil {
		// json's messages quote the offending character or value: say only where.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return PR{}, fmt.Errorf("not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ) && typ.Field == "":
			return PR{}, errors.New("not a JSON object")
		case errors.As(err, &typ):
			return PR{}, fmt.Errorf("field %s has the wrong type", typ.Field)
		}
		return PR{}, errors.New("not a JSON object of the expected shape")
	}
	if ev.PullRequest == nil {
		return PR{}, errors.New("field pull_request is missing")
	}
	n, ok := jsonNumber(ev.PullRequest.Number)
	if !ok {
		return PR{}, errors.New("field pull_request.number is not a positive integer")
	}
	action, ok := jsonString(ev.Action)
	if !ok {
		return PR{}, errors.New("field action is not a string")
	}
	if ev.PullRequest.Base.Repo == nil {
		return PR{}, errors.New("field pull_request.base.repo is missing")
	}
	base, ok := jsonString(ev.PullRequest.Base.Repo.FullName)
	if !ok || base == "" {
		return PR{}, errors.New("field pull_request.base.repo.full_name is not a non-empty string")
	}
	// head.repo is null when the fork was deleted: it cannot be shown to be this
	// repository, so it counts as a fork.
	head := ""
	if ev.PullRequest.Head.Repo != nil {
		if head, ok = jsonString(ev.PullRequest.Head.Repo.FullName); !ok {
			return PR{}, errors.New("field pull_request.head.repo.full_name is not a string")
		}
	}
	labeled := ""
	if action == "labeled" && ev.Label != nil {
		if labeled, ok = jsonString(ev.Label.Name); !ok {
			return PR{}, errors.New("field label.name is not a string")
		}
	}
	return PR{Number: n, Fork: head != base, ForkKnown: true, Closed: action == "closed", Labeled: labeled}, nil
}

// jsonNumber accepts a JSON integer in 1..maxNumber, written as digits only: no sign,
// fraction, exponent or quotes.
func jsonNumber(raw json.RawMessage) (int, bool) {
	return positive(string(raw))
}

// jsonString decodes a JSON string; absent or null is "".
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// positive parses a request number: decimal digits only, 1..maxNumber.
func positive(s string) (int, bool) {
	if s == "" || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxNumber {
		return 0, false
	}
	return n, true
}

// number reads the request number from one variable; empty, or equal to none (the
// "false" some CIs write for "not a pull request"), means no request.
func number(name, none string) func(getenv func(string) string) (PR, error) {
	return func(getenv func(string) string) (PR, error) {
		return numberFrom(name, strings.TrimSpace(getenv(name)), none)
	}
}

func numberFrom(name, v, none string) (PR, error) {
	if v == "" || (none != "" && v == none) {
		return PR{}, nil
	}
	n, ok := positive(v)
	if !ok {
		return PR{}, fmt.Errorf("read the pull request number: %s is not a positive integer", name)
	}
	return PR{Number: n}, nil
}

// gitlabPR tells a fork by the source project differing from the pipeline's project.
func gitlabPR(getenv func(string) string) (PR, error) {
	pr, err := number("CI_MERGE_REQUEST_IID", "")(getenv)
	if err != nil || pr.Number == 0 {
		return pr, err
	}
	src := strings.TrimSpace(getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"))
	dst := strings.TrimSpace(getenv("CI_MERGE_REQUEST_PROJECT_ID"))
	if src != "" && dst != "" {
		pr.Fork, pr.ForkKnown = src != dst, true
	}
	return pr, nil
}

// circlePR takes the number from the request's URL (…/pull/123).
func circlePR(getenv func(string) string) (PR, error) {
	const name = "CIRCLE_PULL_REQUEST"
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return PR{}, nil
	}
	last := v[strings.LastIndexByte(v, '/')+1:]
	if last == "" {
		return PR{}, fmt.Errorf("read the pull request number: %s does not end with a number", name)
	}
	return numberFrom(name, last, "")
}

// azurePR prefers the number (GitHub, Bitbucket) to the id (Azure Repos).
func azurePR(getenv func(string) string) (PR, error) {
	const num, id = "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "SYSTEM_PULLREQUEST_PULLREQUESTID"
	if strings.TrimSpace(getenv(num)) != "" {
		return number(num, "")(getenv)
	}
	return number(id, "")(getenv)
}
