package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

var commitSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// PR is the pull or merge request a run belongs to.
type PR struct {
	// Number is the request's number; 0 when the run is not for a request.
	Number int
	// Fork is true when the request comes from another repository than the one the
	// pipeline belongs to (its code would run with this repository's secrets).
	Fork bool
	// ForkKnown is true when the CI told, for this run, whether the request comes from a
	// fork (see "How each CI tells a fork's request" below). Otherwise Fork is false and
	// means nothing.
	ForkKnown bool
	// Closed is true for a GitHub pull_request(_target) event whose action is "closed".
	Closed bool
	// Labeled is the label a GitHub pull_request(_target) event of action "labeled"
	// added (its label.name); "" for any other event.
	Labeled string
	// Event is the GitHub event the run is for ("pull_request" or "pull_request_target");
	// "" on other CIs.
	Event string
	// HeadSHA is the GitHub pull request's head commit (pull_request.head.sha), "" when
	// the payload gives none that reads as a commit SHA, and on other CIs.
	HeadSHA string
}

// MaxEventSize bounds the GitHub event payload read. GitHub caps webhook payloads at
// 25 MB, so a real event never comes near; anything larger is refused unread.
const MaxEventSize = 25 << 20

// maxNumber bounds request numbers: forges store them as 32-bit integers.
const maxNumber = 1<<31 - 1

// githubPR reads the pull-request context from the event payload, for the two events that
// carry one.
func githubPR(getenv func(string) string) (PR, error) {
	name := getenv("GITHUB_EVENT_NAME")
	switch name {
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
	pr.Event = name
	return pr, nil
}

// event is the part of a pull_request payload used. Raw fields are checked by hand, so
// that no decoding error can quote the payload back.
type event struct {
	Action      json.RawMessage `json:"action"`
	PullRequest *struct {
		Number json.RawMessage `json:"number"`
		Head   struct {
			Repo *repo           `json:"repo"`
			SHA  json.RawMessage `json:"sha"`
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
	data, err := readEventFile(path)
	if err != nil {
		return PR{}, err
	}
	return parseEvent(data)
}

// readEventFile reads an event payload: a regular file, at most MaxEventSize bytes.
func readEventFile(path string) ([]byte, error) {
	// A FIFO or a device would block or never end: only a regular file is read. The open
	// never blocks (O_NONBLOCK), and the check is on what was opened (fstat), so a path
	// swapped for a FIFO after a look at it changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > MaxEventSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxEventSize)
	}
	// The file may grow after Stat: the limit holds on what is actually read.
	data, err := io.ReadAll(io.LimitReader(f, MaxEventSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxEventSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxEventSize)
	}
	return data, nil
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
	// A head.sha that is no commit SHA is left out rather than refused: it only names
	// commits (the GitHub deployment's ref, a pull_request_target run's git ref), and
	// nothing else in the payload depends on it. It never reaches a log or an API unchecked.
	sha, ok := jsonString(ev.PullRequest.Head.SHA)
	if !ok || !commitSHA.MatchString(sha) {
		sha = ""
	}
	return PR{Number: n, Fork: head != base, ForkKnown: true, Closed: action == "closed", Labeled: labeled, HeadSHA: sha}, nil
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

// How each CI tells a fork's request, with the documentation it rests on. A CI that sets
// the variables tells every request (ForkKnown); when a run lacks them, it counts as not
// told, and the run warns. A value that cannot be read as a repository cannot be shown to
// be this one: it counts as a fork, as GitHub's deleted head repository does.
//
//   - GitHub, Forgejo, Gitea: the event's pull_request.head.repo.full_name against
//     pull_request.base.repo.full_name (githubPR).
//   - GitLab: CI_MERGE_REQUEST_SOURCE_PROJECT_ID against CI_MERGE_REQUEST_PROJECT_ID, or
//     CI_PROJECT_ID when that is absent (the pipeline's own project).
//     https://docs.gitlab.com/ci/variables/predefined_variables/
//   - Azure Pipelines: SYSTEM_PULLREQUEST_ISFORK, "True" when the pull request comes from a
//     fork, else "False".
//     https://learn.microsoft.com/azure/devops/pipelines/build/variables#system-variables
//   - Jenkins (multibranch): CHANGE_FORK, set to the fork's name when the change request
//     comes from a fork, else unset; CHANGE_ID marks a change request.
//     https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables
//   - CircleCI: CIRCLE_PR_USERNAME, CIRCLE_PR_REPONAME (and CIRCLE_PR_NUMBER), "only
//     available on forked PRs". https://circleci.com/docs/reference/variables/
//   - Travis CI: TRAVIS_PULL_REQUEST_SLUG (the repository the pull request comes from)
//     against TRAVIS_REPO_SLUG. https://docs.travis-ci.com/user/environment-variables/
//   - Buildkite: BUILDKITE_PULL_REQUEST_REPO (the pull request's repository URL) against
//     BUILDKITE_REPO (the pipeline's). https://buildkite.com/docs/pipelines/environment-variables
//   - Semaphore: SEMAPHORE_GIT_PR_SLUG (the repository the pull request comes from) against
//     SEMAPHORE_GIT_REPO_SLUG. https://docs.semaphoreci.com/reference/env-vars
//   - Bitbucket Pipelines, Drone, Woodpecker: no variable says; the pipeline's rules must
//     keep forks out.

// gitlabPR tells a fork by the source project differing from the target project, or from
// the pipeline's own project when the target's id is not given.
func gitlabPR(getenv func(string) string) (PR, error) {
	pr, err := number("CI_MERGE_REQUEST_IID", "")(getenv)
	if err != nil || pr.Number == 0 {
		return pr, err
	}
	src := strings.TrimSpace(getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"))
	dst := strings.TrimSpace(getenv("CI_MERGE_REQUEST_PROJECT_ID"))
	if dst == "" {
		dst = strings.TrimSpace(getenv("CI_PROJECT_ID"))
	}
	if src != "" && dst != "" {
		pr.Fork, pr.ForkKnown = src != dst, true
	}
	return pr, nil
}

// circlePR takes the number from the request's URL (…/pull/123), else from
// CIRCLE_PR_NUMBER; CircleCI sets CIRCLE_PR_USERNAME and CIRCLE_PR_REPONAME (and
// CIRCLE_PR_NUMBER) only when the pull request comes from a fork.
func circlePR(getenv func(string) string) (PR, error) {
	const name = "CIRCLE_PULL_REQUEST"
	v := strings.TrimSpace(getenv(name))
	var pr PR
	var err error
	switch {
	case v != "":
		last := v[strings.LastIndexByte(v, '/')+1:]
		if last == "" {
			return PR{}, fmt.Errorf("read the pull request number: %s does not end with a number", name)
		}
		pr, err = numberFrom(name, last, "")
	default:
		pr, err = number("CIRCLE_PR_NUMBER", "")(getenv)
	}
	if err != nil || pr.Number == 0 {
		return pr, err
	}
	pr.ForkKnown = true
	for _, n := range []string{"CIRCLE_PR_USERNAME", "CIRCLE_PR_REPONAME", "CIRCLE_PR_NUMBER"} {
		if strings.TrimSpace(getenv(n)) != "" {
			pr.Fork = true
		}
	}
	return pr, nil
}

// jenkinsPR reads a multibranch pipeline's change request: CHANGE_FORK is set, to the
// fork's name, only when the change comes from a fork.
func jenkinsPR(getenv func(string) string) (PR, error) {
	pr, err := number("CHANGE_ID", "")(getenv)
	if err != nil || pr.Number == 0 {
		return pr, err
	}
	pr.Fork, pr.ForkKnown = strings.TrimSpace(getenv("CHANGE_FORK")) != "", true
	return pr, nil
}

// azurePR prefers the number (GitHub, Bitbucket) to the id (Azure Repos), and reads
// SYSTEM_PULLREQUEST_ISFORK ("True" or "False"; Azure's booleans have no fixed case).
func azurePR(getenv func(string) string) (PR, error) {
	const num, id, isFork = "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "SYSTEM_PULLREQUEST_PULLREQUESTID", "SYSTEM_PULLREQUEST_ISFORK"
	name := id
	if strings.TrimSpace(getenv(num)) != "" {
		name = num
	}
	pr, err := number(name, "")(getenv)
	if err != nil || pr.Number == 0 {
		return pr, err
	}
	switch v := strings.TrimSpace(getenv(isFork)); {
	case v == "":
	case strings.EqualFold(v, "true"):
		pr.Fork, pr.ForkKnown = true, true
	case strings.EqualFold(v, "false"):
		pr.ForkKnown = true
	default:
		return PR{}, fmt.Errorf("read the pull request: %s is neither True nor False", isFork)
	}
	return pr, nil
}

// slugPR reads the number from numberVar (none meaning no request) and tells a fork by
// the request's repository (prRepo) differing from the pipeline's (repo), each a slug
// (owner/name) or a clone URL.
func slugPR(numberVar, none, prRepo, repo string) func(getenv func(string) string) (PR, error) {
	return func(getenv func(string) string) (PR, error) {
		pr, err := number(numberVar, none)(getenv)
		if err != nil || pr.Number == 0 {
			return pr, err
		}
		from, to := strings.TrimSpace(getenv(prRepo)), strings.TrimSpace(getenv(repo))
		if from != "" && to != "" {
			pr.Fork, pr.ForkKnown = !SameRepository(from, to), true
		}
		return pr, nil
	}
}

// SameRepository tells whether two names of a repository name the same one, however
// each is written: a slug (acme/shop), an scp-like address (git@github.com:acme/shop.git)
// or a URL (https://github.com/acme/shop, git://github.com/acme/shop.git,
// ssh://git@github.com:22/acme/shop). The host is compared when both name one, ports and
// user names aside; the path without a trailing ".git" or slash, case aside (GitHub,
// GitLab and Bitbucket names are case-insensitive). A name that cannot be read is never
// the same as anything.
func SameRepository(a, b string) bool {
	ha, pa, oka := repository(a)
	hb, pb, okb := repository(b)
	if !oka || !okb || pa != pb {
		return false
	}
	return ha == "" || hb == "" || ha == hb
}

// repository splits a repository's name into its host ("" for a slug) and its path,
// both lower-cased.
func repository(s string) (host, path string, ok bool) {
	s = strings.TrimSpace(s)
	switch i := strings.Index(s, "://"); {
	case i > 0:
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", "", false
		}
		host, path = u.Hostname(), u.Path
	case strings.Contains(s, ":"):
		// scp-like: [user@]host:path, where the host holds no slash.
		h, p, _ := strings.Cut(s, ":")
		if strings.Contains(h, "/") {
			return "", "", false
		}
		host, path = h[strings.LastIndexByte(h, '@')+1:], p
	default:
		path = s
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	path = strings.ToLower(strings.Trim(path, "/"))
	host = strings.ToLower(strings.TrimPrefix(strings.ToLower(host), "www."))
	// owner/name at least, and nothing that walks the path.
	parts := strings.Split(path, "/")
	if len(parts) < 2 {
		return "", "", false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", "", false
		}
	}
	if strings.ContainsAny(host, "/@ ") || (host == "" && strings.Contains(s, "://")) {
		return "", "", false
	}
	return host, path, true
}
