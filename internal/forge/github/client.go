// Package github is the client of the few GitHub REST routes pull-request feedback
// uses: deployments and their statuses, and a pull request's comments. Forgejo and
// Gitea serve the comment routes the same way under their own API URL.
//
// The token goes only to the API's origin (scheme, host and port of APIURL): a Link
// to another origin is not followed, and httpapi refuses a redirect to one.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// Options configures New.
type Options struct {
	// APIURL is the API base (GITHUB_API_URL): https://api.github.com, or a Forgejo's
	// https://host/api/v1.
	APIURL string
	// Repository is "owner/repo" (GITHUB_REPOSITORY).
	Repository string
	Token      string
	UserAgent  string
	// Transport carries the requests; nil means httpapi.NewTransport(Getenv).
	Transport http.RoundTripper
	Getenv    func(string) string
	Clock     clock.Clock
	Logf      func(format string, args ...any)
	// Policy is the retry policy; zero means httpapi's default.
	Policy httpapi.Policy
}

// Client talks to one repository.
type Client struct {
	base  *url.URL
	repo  string
	token string
	api   *httpapi.Client
}

// New returns a client; it sends no request.
func New(o Options) (*Client, error) {
	base, err := httpapi.ParseBaseURL(o.APIURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL: %w", err)
	}
	owner, name, ok := strings.Cut(o.Repository, "/")
	if !ok || !validName(owner) || !validName(name) {
		return nil, fmt.Errorf("repository %q is not owner/name", o.Repository)
	}
	tr := o.Transport
	if tr == nil {
		tr = httpapi.NewTransport(o.Getenv)
	}
	c := &Client{base: base, repo: owner + "/" + name, token: o.Token}
	c.api = httpapi.New(httpapi.Config{
		Transport:       tr,
		Policy:          o.Policy,
		Clock:           o.Clock,
		UserAgent:       o.UserAgent,
		Logf:            o.Logf,
		ErrorBody:       errorBody,
		RequestIDHeader: "X-GitHub-Request-Id",
	})
	return c, nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// Close releases idle connections.
func (c *Client) Close() { c.api.CloseIdleConnections() }

// errorBody reads GitHub's {"message","errors":[…]} on one line.
func errorBody(body []byte) (string, string) {
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Field   string `json:"field"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
		return httpapi.TextMessage(body), ""
	}
	parts := []string{e.Message}
	for _, fe := range e.Errors {
		if fe.Message != "" {
			parts = append(parts, fe.Message)
		} else {
			parts = append(parts, fe.Field+" "+fe.Code)
		}
	}
	return httpapi.OneLine(strings.Join(parts, "; ")), ""
}

// IsSecondaryRateLimit tells GitHub's secondary rate limit: a 403 or 429 that says so.
func IsSecondaryRateLimit(err error) bool {
	var e *httpapi.APIError
	return errors.As(err, &e) && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusTooManyRequests) &&
		strings.Contains(strings.ToLower(e.Message), "secondary rate limit")
}

// call is one route: what it needs, for the hint of a 403.
type call struct {
	method, path string
	query        url.Values
	body         any
	idempotent   bool
	accept       []int
	permission   string // the workflow permission it needs, e.g. "deployments: write"
}

// do sends one call. A secondary rate limit is waited out once, when its Retry-After
// is within the policy's cap; a 403 names the permission the call needs.
func (c *Client) do(ctx context.Context, k call, out any, header func(http.Header)) error {
	u := c.base.JoinPath(k.path)
	u.RawQuery = k.query.Encode()
	return c.doURL(ctx, k, u, out, header)
}

func (c *Client) doURL(ctx context.Context, k call, u *url.URL, out any, header func(http.Header)) error {
	req := httpapi.Request{Method: k.method, URL: u, Body: k.body, Idempotent: k.idempotent, Accept: k.accept, Header: header,
		Authorize: func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+c.token)
			r.Header.Set("Accept", "application/vnd.github+json")
			r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
			return nil
		}}
	err := c.api.Do(ctx, req, out)
	var e *httpapi.APIError
	if IsSecondaryRateLimit(err) && errors.As(err, &e) && e.RetryAfter > 0 && e.RetryAfter <= c.api.Policy().RetryAfterMax {
		if serr := c.api.Sleep(ctx, e.RetryAfter); serr != nil {
			return serr
		}
		err = c.api.Do(ctx, req, out)
	}
	if errors.As(err, &e) && e.StatusCode == http.StatusForbidden && !IsSecondaryRateLimit(err) && k.permission != "" {
		e.Hint = "the token needs " + k.permission
	}
	return err
}

func (c *Client) repoPath(parts ...string) string {
	return "repos/" + c.repo + "/" + strings.Join(parts, "/")
}

// DeploymentRequest is the body of POST /repos/{owner}/{repo}/deployments.
type DeploymentRequest struct {
	Ref                   string         `json:"ref"`
	Task                  string         `json:"task,omitempty"`
	AutoMerge             bool           `json:"auto_merge"`
	RequiredContexts      []string       `json:"required_contexts"`
	Payload               map[string]any `json:"payload,omitempty"`
	Environment           string         `json:"environment"`
	Description           string         `json:"description,omitempty"`
	TransientEnvironment  bool           `json:"transient_environment"`
	ProductionEnvironment bool           `json:"production_environment"`
}

// Deployment is what is read back of a deployment.
type Deployment struct {
	ID          int64  `json:"id"`
	Environment string `json:"environment"`
	SHA         string `json:"sha"`
}

// CreateDeployment creates a deployment. It is sent once: a retry could create two.
func (c *Client) CreateDeployment(ctx context.Context, r DeploymentRequest) (Deployment, error) {
	if r.RequiredContexts == nil {
		// Omitted, GitHub checks every status of the commit, and this job's own is
		// still running: the creation would be refused with 409.
		r.RequiredContexts = []string{}
	}
	var d Deployment
	err := c.do(ctx, call{method: http.MethodPost, path: c.repoPath("deployments"), body: r,
		accept: []int{http.StatusCreated}, permission: "deployments: write"}, &d, nil)
	if err == nil && d.ID == 0 {
		err = errors.New("create a deployment: the answer has no id")
	}
	return d, err
}

// StatusRequest is the body of POST …/deployments/{id}/statuses.
type StatusRequest struct {
	State          string `json:"state"`
	LogURL         string `json:"log_url,omitempty"`
	EnvironmentURL string `json:"environment_url,omitempty"`
	Description    string `json:"description,omitempty"`
	AutoInactive   *bool  `json:"auto_inactive,omitempty"`
}

// MaxDescription is GitHub's limit on a status description, in characters.
const MaxDescription = 140

// CreateStatus adds a status to deployment id. A status is a new record each time, so
// it is sent once too; the description is cut to GitHub's limit.
func (c *Client) CreateStatus(ctx context.Context, id int64, r StatusRequest) error {
	if rs := []rune(r.Description); len(rs) > MaxDescription {
		r.Description = string(rs[:MaxDescription-1]) + "…"
	}
	return c.do(ctx, call{method: http.MethodPost, path: c.repoPath("deployments", strconv.FormatInt(id, 10), "statuses"),
		body: r, accept: []int{http.StatusCreated}, permission: "deployments: write"}, nil, nil)
}

// ListDeployments returns the deployments of an environment, newest first (one page
// of 100: the latest are the ones a destroy marks inactive).
func (c *Client) ListDeployments(ctx context.Context, environment string) ([]Deployment, error) {
	var out []Deployment
	err := c.do(ctx, call{method: http.MethodGet, path: c.repoPath("deployments"),
		query: url.Values{"environment": {environment}, "per_page": {"100"}}, idempotent: true, permission: "deployments: write"}, &out, nil)
	return out, err
}

// User is a comment's author.
type User struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

// Comment is a pull request (issue) comment.
type Comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	User    User   `json:"user"`
	HTMLURL string `json:"html_url"`
}

// Me returns the login of the token's user, or "" when the token has none (an Actions
// or app token, which GitHub answers 403).
func (c *Client) Me(ctx context.Context) (string, error) {
	var u User
	err := c.do(ctx, call{method: http.MethodGet, path: "user", idempotent: true}, &u, nil)
	var e *httpapi.APIError
	if errors.As(err, &e) && e.StatusCode == http.StatusForbidden && !IsSecondaryRateLimit(err) {
		return "", nil
	}
	return u.Login, err
}

// maxPages bounds a listing: 100 pages of 100 comments.
const maxPages = 100

// Comments returns every comment of pull request n, oldest first, following the Link
// header's next page on the API's own origin only.
func (c *Client) Comments(ctx context.Context, n int) ([]Comment, error) {
	k := call{method: http.MethodGet, path: c.repoPath("issues", strconv.Itoa(n), "comments"),
		query: url.Values{"per_page": {"100"}}, idempotent: true, permission: "pull-requests: write (or issues: write)"}
	u := c.base.JoinPath(k.path)
	u.RawQuery = k.query.Encode()
	want := "/" + strings.TrimPrefix(u.Path, "/")
	var all []Comment
	for page := 0; ; page++ {
		if page == maxPages {
			return all, fmt.Errorf("list the comments of #%d: more than %d pages", n, maxPages)
		}
		var list []Comment
		var link string
		if err := c.doURL(ctx, k, u, &list, func(h http.Header) { link = h.Get("Link") }); err != nil {
			return nil, err
		}
		all = append(all, list...)
		next := nextLink(link)
		if next == "" {
			return all, nil
		}
		nu, err := url.Parse(next)
		if err != nil || !httpapi.SameOrigin(c.base, nu) || nu.Path != want {
			return nil, fmt.Errorf("list the comments of #%d: the next page %s is not on the API's origin %s; not followed", n, httpapi.Redact(next), httpapi.Redact(c.base.Scheme+"://"+c.base.Host))
		}
		u = nu
	}
}

// nextLink returns the rel="next" URL of a Link header, or "".
func nextLink(h string) string {
	for part := range strings.SplitSeq(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if strings.ReplaceAll(strings.TrimSpace(p), " ", "") == `rel="next"` {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// CreateComment adds a comment to pull request n. Sent once: a retry could post two.
func (c *Client) CreateComment(ctx context.Context, n int, body string) (Comment, error) {
	var out Comment
	err := c.do(ctx, call{method: http.MethodPost, path: c.repoPath("issues", strconv.Itoa(n), "comments"),
		body: map[string]string{"body": body}, accept: []int{http.StatusCreated}, permission: "pull-requests: write (or issues: write)"}, &out, nil)
	return out, err
}

// EditComment replaces a comment's body; the same body twice is the same result, so it
// is retried.
func (c *Client) EditComment(ctx context.Context, id int64, body string) error {
	return c.do(ctx, call{method: http.MethodPatch, path: c.repoPath("issues", "comments", strconv.FormatInt(id, 10)),
		body: map[string]string{"body": body}, idempotent: true, accept: []int{http.StatusOK}, permission: "pull-requests: write (or issues: write)"}, nil, nil)
}

// PullRequestClosed tells whether pull request n is closed, merged or not (the sweep
// of review apps): GET /repos/{owner}/{repo}/pulls/{n}, state "open" or "closed".
func (c *Client) PullRequestClosed(ctx context.Context, n int) (bool, error) {
	var pr struct {
		State string `json:"state"`
	}
	k := call{method: http.MethodGet, path: c.repoPath("pulls", strconv.Itoa(n)), idempotent: true, permission: "pull-requests: read"}
	if err := c.do(ctx, k, &pr, nil); err != nil {
		return false, err
	}
	switch pr.State {
	case "open":
		return false, nil
	case "closed":
		return true, nil
	}
	return false, fmt.Errorf("pull request #%d: state %q is neither open nor closed", n, httpapi.OneLine(pr.State))
}
