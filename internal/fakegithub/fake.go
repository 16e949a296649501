// Package fakegithub is an in-process fake of the part of GitHub's REST API that
// pull-request feedback uses, keeping the real API's rules so that a client that
// passes against it is right against GitHub (and against Forgejo and Gitea, whose
// API follows GitHub's for these routes):
//
//   - GET /user: the token's user; 403 "Resource not accessible by integration"
//     for an Actions token (GITHUB_TOKEN has no user), as GitHub answers.
//   - POST and GET /repos/{owner}/{repo}/deployments; POST and GET
//     /repos/{owner}/{repo}/deployments/{id}/statuses.
//   - GET and POST /repos/{owner}/{repo}/issues/{number}/comments, PATCH
//     /repos/{owner}/{repo}/issues/comments/{id}.
//
// Rules kept: every request needs a User-Agent (403 otherwise) and
// "Authorization: Bearer|token <token>" (401 "Bad credentials" for another token;
// without one, 401 "Requires authentication" on a write and 404 on a read, the
// repository being private); a write without its permission is 403 "Resource not
// accessible by integration" with X-Accepted-GitHub-Permissions; bodies are
// validated as GitHub does (422 with its messages: a ref that does not exist, a
// state not in the enum, a description over 140 characters, a comment body empty
// or over 65536 characters); a deployment without required_contexts is checked
// against the commit's statuses, and the job's own check is always pending, so
// it is 409 (GitHub's answer to a workflow that forgets required_contexts: []);
// lists are paginated with per_page (default 30, at most 100) and a Link header.
// A success status marks the environment's earlier successful deployments
// inactive unless auto_inactive is false; transient or production flags are kept.
//
// Faults: SecondaryRateLimit answers the next requests 403 with Retry-After as
// GitHub's secondary rate limit does; FailNext answers them with a status.
package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token the fake accepts unless Options.Token says otherwise.
const DefaultToken = "ghs_fakegithub000000000000000000000000000"

// DefaultRepository is the repository served unless Options.Repository says otherwise.
const DefaultRepository = "octo-org/octo-repo"

// Permission levels of a token, per GitHub's fine-grained names.
const (
	None  = ""
	Read  = "read"
	Write = "write"
)

// Options configures Start. The zero value is a working fake whose token has the
// permissions an Actions job gets with deployments: write and pull-requests: write.
type Options struct {
	// Token is the only token accepted; default DefaultToken.
	Token string
	// Repository is "owner/repo"; default DefaultRepository. Any other is 404.
	Repository string
	// Permissions of the token by name ("deployments", "issues", "pull_requests");
	// nil means deployments, issues and pull_requests write. A fork's pull request
	// gets a read-only token: set every one to Read.
	Permissions map[string]string
	// User is the token's user as GET /user answers; "" means an Actions token,
	// which has none (403). Comments and deployments are created by User, else by
	// github-actions[bot].
	User string
	// PullRequests are the numbers of the repository's pull requests; their
	// comments are served, any other number is 404. Default: 1.
	PullRequests []int
	// Closed are the numbers of PullRequests that are closed (merged or not): GET
	// /repos/{owner}/{repo}/pulls/{n} says "closed" for them, "open" for the others.
	Closed []int
	// Refs are the branch and tag names that exist; any 40-hex SHA exists too.
	Refs []string
	// Now is the fake's clock for created_at and updated_at; default time.Now.
	Now func() time.Time
}

// User is a comment's or deployment's author.
type User struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

// Deployment is one deployment as GitHub stores it.
type Deployment struct {
	ID                    int64           `json:"id"`
	SHA                   string          `json:"sha"`
	Ref                   string          `json:"ref"`
	Task                  string          `json:"task"`
	Environment           string          `json:"environment"`
	OriginalEnvironment   string          `json:"original_environment"`
	Description           *string         `json:"description"`
	Payload               json.RawMessage `json:"payload"`
	TransientEnvironment  bool            `json:"transient_environment"`
	ProductionEnvironment bool            `json:"production_environment"`
	Creator               User            `json:"creator"`
	CreatedAt             string          `json:"created_at"`
	UpdatedAt             string          `json:"updated_at"`
	URL                   string          `json:"url"`
	StatusesURL           string          `json:"statuses_url"`
	RepositoryURL         string          `json:"repository_url"`
	NodeID                string          `json:"node_id"`

	// Request is the body the deployment was created with, for tests.
	Request map[string]any `json:"-"`
	// Statuses, oldest first.
	Statuses []Status `json:"-"`
}

// Status is one deployment status.
type Status struct {
	ID             int64  `json:"id"`
	State          string `json:"state"`
	Description    string `json:"description"`
	Environment    string `json:"environment"`
	TargetURL      string `json:"target_url"`
	LogURL         string `json:"log_url"`
	EnvironmentURL string `json:"environment_url"`
	Creator        User   `json:"creator"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
	URL            string `json:"url"`
	DeploymentURL  string `json:"deployment_url"`
	RepositoryURL  string `json:"repository_url"`
	NodeID         string `json:"node_id"`
}

// Comment is one issue (pull request) comment.
type Comment struct {
	ID        int64  `json:"id"`
	Body      string `json:"body"`
	User      User   `json:"user"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	IssueURL  string `json:"issue_url"`
	NodeID    string `json:"node_id"`

	// Edits counts the PATCHes the comment received.
	Edits int `json:"-"`
	issue int
}

// Request is one request the fake received, for tests.
type Request struct {
	Method, Path, Query string
	Authorization       string
}

// Server is a running fake.
type Server struct {
	// URL is the API base (GITHUB_API_URL); Token the accepted token.
	URL, Token string

	opts Options
	srv  *httptest.Server

	mu          sync.Mutex
	nextID      int64
	deployments []*Deployment // oldest first
	comments    []*Comment    // oldest first
	requests    []Request
	faults      []fault
	linkBase    string
}

type fault struct {
	status     int
	retryAfter int
	secondary  bool
}

// Start runs a fake on 127.0.0.1; Close stops it.
func Start(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Repository == "" {
		opts.Repository = DefaultRepository
	}
	if opts.Permissions == nil {
		opts.Permissions = map[string]string{"deployments": Write, "issues": Write, "pull_requests": Write}
	}
	if opts.PullRequests == nil {
		opts.PullRequests = []int{1}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, Token: opts.Token, nextID: 1000}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SecondaryRateLimit answers the next n requests as GitHub's secondary rate limit:
// 403, Retry-After: retryAfter seconds, and its documentation_url.
func (s *Server) SecondaryRateLimit(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: http.StatusForbidden, retryAfter: retryAfter, secondary: true})
	}
}

// FailNext answers the next n requests with status and GitHub's error body.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status})
	}
}

// LinkBase makes the Link headers of lists point at base instead of the fake, as a
// hostile or misconfigured proxy would: a client must not follow them with its token.
func (s *Server) LinkBase(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linkBase = base
}

// AddComment adds a comment by user (a login; type "Bot" when it ends in "[bot]")
// to pull request n, as someone else's comment would be.
func (s *Server) AddComment(n int, login, body string) *Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addComment(n, userOf(login), body)
}

// Deployments returns a copy of every deployment, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deployment, len(s.deployments))
	for i, d := range s.deployments {
		out[i] = *d
		out[i].Statuses = append([]Status(nil), d.Statuses...)
	}
	return out
}

// Comments returns a copy of pull request n's comments, oldest first.
func (s *Server) Comments(n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.issue == n {
			out = append(out, *c)
		}
	}
	return out
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

const (
	docsURL          = "https://docs.github.com/rest"
	secondaryDocsURL = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	notAccessible    = "Resource not accessible by integration"
	actionsBot       = "github-actions[bot]"
)

func userOf(login string) User {
	u := User{Login: login, ID: int64(len(login)) * 7919, Type: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.Type = "Bot"
	}
	if login == actionsBot {
		u.ID = 41898282
	}
	return u
}

func (s *Server) now() string { return s.opts.Now().UTC().Format(time.RFC3339) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

// validation answers 422 "Validation Failed" with one error, as GitHub's model
// validations do.
func validation(w http.ResponseWriter, resource, field, code, msg string) {
	e := map[string]string{"resource": resource, "field": field, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed", "errors": []any{e}, "documentation_url": docsURL, "status": "422"})
}

// invalid answers 422 "Invalid request." as GitHub's JSON-schema check does.
func invalid(w http.ResponseWriter, detail string) {
	apiError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n"+detail, docsURL)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization")})
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")

	if r.Header.Get("User-Agent") == "" {
		apiError(w, http.StatusForbidden, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.", docsURL)
		return
	}
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f.secondary {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			apiError(w, f.status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE.", secondaryDocsURL)
			return
		}
		apiError(w, f.status, http.StatusText(f.status), docsURL)
		return
	}

	auth := r.Header.Get("Authorization")
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	switch tok, ok := cutAuth(auth); {
	case !ok && write:
		apiError(w, http.StatusUnauthorized, "Requires authentication", docsURL)
		return
	case !ok:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	case tok != s.opts.Token:
		apiError(w, http.StatusUnauthorized, "Bad credentials", docsURL)
		return
	}

	if r.URL.Path == "/user" && r.Method == http.MethodGet {
		if s.opts.User == "" {
			apiError(w, http.StatusForbidden, notAccessible, "https://docs.github.com/rest/users/users#get-the-authenticated-user")
			return
		}
		writeJSON(w, http.StatusOK, userOf(s.opts.User))
		return
	}

	rest, ok := strings.CutPrefix(r.URL.Path, "/repos/"+s.opts.Repository+"/")
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && parts[0] == "deployments":
		s.deploymentsRoute(w, r)
	case len(parts) == 3 && parts[0] == "deployments" && parts[2] == "statuses":
		s.statusesRoute(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "pulls" && r.Method == http.MethodGet:
		s.pullRoute(w, parts[1])
	case len(parts) == 3 && parts[0] == "issues" && parts[2] == "comments":
		s.commentsRoute(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "issues" && parts[1] == "comments":
		s.commentRoute(w, r, parts[2])
	default:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
	}
}

// cutAuth reads "Bearer X" or "token X", the two forms GitHub accepts.
func cutAuth(h string) (string, bool) {
	for _, p := range []string{"Bearer ", "token ", "bearer "} {
		if tok, ok := strings.CutPrefix(h, p); ok && tok != "" {
			return tok, true
		}
	}
	return "", false
}

// allowed tells whether the token has level on one of the permissions; else it
// answers 403 with the header that names the permissions accepted.
func (s *Server) allowed(w http.ResponseWriter, level string, perms ...string) bool {
	for _, p := range perms {
		have := s.opts.Permissions[p]
		if have == Write || (level == Read && have == Read) {
			return true
		}
	}
	accepted := make([]string, len(perms))
	for i, p := range perms {
		accepted[i] = p + "=" + level
	}
	w.Header().Set("X-Accepted-GitHub-Permissions", strings.Join(accepted, "; "))
	apiError(w, http.StatusForbidden, notAccessible, docsURL)
	return false
}

func (s *Server) creator() User {
	if s.opts.User != "" {
		return userOf(s.opts.User)
	}
	return userOf(actionsBot)
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// decodeObject reads a JSON object body; a body that is not one is 400 "Problems
// parsing JSON", as GitHub answers.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var body map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		apiError(w, http.StatusBadRequest, "Problems parsing JSON", docsURL)
		return nil, false
	}
	return body, true
}

// field checks one optional field's JSON type; it answers 422 as GitHub's schema
// check does when the type is wrong.
func field[T any](w http.ResponseWriter, body map[string]any, name, typ string) (T, bool, bool) {
	var zero T
	v, present := body[name]
	if !present {
		return zero, false, true
	}
	t, ok := v.(T)
	if !ok {
		invalid(w, fmt.Sprintf("For 'properties/%s', %s is not %s.", name, jsonText(v), typ))
		return zero, true, false
	}
	return t, true, true
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) refExists(ref string) (string, bool) {
	if len(ref) == 40 && strings.Trim(ref, "0123456789abcdef") == "" {
		return ref, true
	}
	for _, r := range s.opts.Refs {
		if r == ref {
			return fmt.Sprintf("%040x", len(ref)), true
		}
	}
	return "", false
}

func (s *Server) deploymentsRoute(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		if !s.allowed(w, Read, "deployments") {
			return
		}
		q := r.URL.Query()
		var list []any
		for i := len(s.deployments) - 1; i >= 0; i-- {
			d := s.deployments[i]
			if (q.Get("sha") == "" || q.Get("sha") == d.SHA) && (q.Get("ref") == "" || q.Get("ref") == d.Ref) &&
				(q.Get("task") == "" || q.Get("task") == d.Task) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) {
				list = append(list, d)
			}
		}
		s.page(w, r, list)
	case http.MethodPost:
		if !s.allowed(w, Write, "deployments") {
			return
		}
		s.createDeployment(w, r)
	default:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
	}
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	ref, present, ok := field[string](w, body, "ref", "a string")
	if !ok {
		return
	}
	if !present {
		invalid(w, `"ref" wasn't supplied.`)
		return
	}
	task, _, ok := field[string](w, body, "task", "a string")
	if !ok {
		return
	}
	if task == "" {
		task = "deploy"
	}
	autoMerge, amSet, ok := field[bool](w, body, "auto_merge", "a boolean")
	if !ok {
		return
	}
	if !amSet {
		autoMerge = true
	}
	contexts, ctxSet, ok := field[[]any](w, body, "required_contexts", "an array")
	if !ok {
		return
	}
	for _, c := range contexts {
		if _, isString := c.(string); !isString {
			invalid(w, fmt.Sprintf("For 'items', %s is not a string.", jsonText(c)))
			return
		}
	}
	env, envSet, ok := field[string](w, body, "environment", "a string")
	if !ok {
		return
	}
	if !envSet {
		env = "production"
	}
	var desc *string
	if v, present := body["description"]; present && v != nil {
		d, isString := v.(string)
		if !isString {
			invalid(w, fmt.Sprintf("For 'properties/description', %s is not a string or null.", jsonText(v)))
			return
		}
		desc = &d
	}
	transient, _, ok := field[bool](w, body, "transient_environment", "a boolean")
	if !ok {
		return
	}
	production, prodSet, ok := field[bool](w, body, "production_environment", "a boolean")
	if !ok {
		return
	}
	if !prodSet {
		production = env == "production"
	}
	payload := json.RawMessage("{}")
	if v, present := body["payload"]; present {
		switch v.(type) {
		case map[string]any, string:
			payload = json.RawMessage(jsonText(v))
		default:
			invalid(w, fmt.Sprintf("For 'properties/payload', %s is not an object or string.", jsonText(v)))
			return
		}
	}
	sha, exists := s.refExists(ref)
	if !exists {
		apiError(w, http.StatusUnprocessableEntity, "No ref found for: "+ref, docsURL)
		return
	}
	if !ctxSet {
		// The job that asks for the deployment has its own check still running.
		apiError(w, http.StatusConflict, "Conflict: Commit status checks failed for "+ref+".", docsURL)
		return
	}
	if len(contexts) > 0 {
		apiError(w, http.StatusConflict, "Conflict: Commit status checks failed for "+ref+".", docsURL)
		return
	}
	_ = autoMerge // a SHA or tag is never merged into; branches are out of this fake's scope
	id := s.id()
	now := s.now()
	base := s.URL + "/repos/" + s.opts.Repository
	d := &Deployment{ID: id, SHA: sha, Ref: ref, Task: task, Environment: env, OriginalEnvironment: env, Description: desc,
		Payload: payload, TransientEnvironment: transient, ProductionEnvironment: production, Creator: s.creator(),
		CreatedAt: now, UpdatedAt: now, URL: fmt.Sprintf("%s/deployments/%d", base, id),
		StatusesURL: fmt.Sprintf("%s/deployments/%d/statuses", base, id), RepositoryURL: base,
		NodeID: fmt.Sprintf("DE_fake%d", id), Request: body}
	s.deployments = append(s.deployments, d)
	writeJSON(w, http.StatusCreated, d)
}

var states = map[string]bool{"error": true, "failure": true, "inactive": true, "in_progress": true, "queued": true, "pending": true, "success": true}

func (s *Server) deployment(raw string) *Deployment {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil
	}
	for _, d := range s.deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (s *Server) statusesRoute(w http.ResponseWriter, r *http.Request, rawID string) {
	d := s.deployment(rawID)
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	case r.Method == http.MethodGet && !s.allowed(w, Read, "deployments"):
		return
	case r.Method == http.MethodPost && !s.allowed(w, Write, "deployments"):
		return
	case d == nil:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	if r.Method == http.MethodGet {
		list := make([]any, 0, len(d.Statuses))
		for i := len(d.Statuses) - 1; i >= 0; i-- {
			list = append(list, d.Statuses[i])
		}
		s.page(w, r, list)
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	state, present, ok := field[string](w, body, "state", "a string")
	if !ok {
		return
	}
	if !present {
		invalid(w, `"state" wasn't supplied.`)
		return
	}
	if !states[state] {
		invalid(w, fmt.Sprintf("For 'properties/state', %s is not a member of [\"error\", \"failure\", \"inactive\", \"in_progress\", \"queued\", \"pending\", \"success\"].", jsonText(state)))
		return
	}
	st := Status{State: state}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"target_url", &st.TargetURL}, {"log_url", &st.LogURL}, {"description", &st.Description}, {"environment", &st.Environment}, {"environment_url", &st.EnvironmentURL}} {
		v, _, ok := field[string](w, body, f.name, "a string")
		if !ok {
			return
		}
		*f.dst = v
	}
	autoInactive, aiSet, ok := field[bool](w, body, "auto_inactive", "a boolean")
	if !ok {
		return
	}
	if !aiSet {
		autoInactive = true
	}
	if n := len([]rune(st.Description)); n > 140 {
		validation(w, "DeploymentStatus", "description", "custom", "description is too long (maximum is 140 characters)")
		return
	}
	if st.Environment == "" {
		st.Environment = d.Environment
	} else {
		d.Environment = st.Environment
	}
	if st.LogURL == "" {
		st.LogURL = st.TargetURL
	}
	s.addStatus(d, st)
	if state == "success" && autoInactive {
		for _, other := range s.deployments {
			if other != d && other.Environment == d.Environment && !other.TransientEnvironment && !other.ProductionEnvironment && hadSuccess(other) {
				s.addStatus(other, Status{State: "inactive", Environment: other.Environment})
			}
		}
	}
	writeJSON(w, http.StatusCreated, d.Statuses[len(d.Statuses)-1])
}

func hadSuccess(d *Deployment) bool {
	for _, st := range d.Statuses {
		if st.State == "success" {
			return true
		}
	}
	return false
}

func (s *Server) addStatus(d *Deployment, st Status) {
	st.ID = s.id()
	st.Creator = s.creator()
	st.CreatedAt, st.UpdatedAt = s.now(), s.now()
	st.DeploymentURL = d.URL
	st.RepositoryURL = d.RepositoryURL
	st.URL = fmt.Sprintf("%s/statuses/%d", d.URL, st.ID)
	st.NodeID = fmt.Sprintf("DES_fake%d", st.ID)
	d.Statuses = append(d.Statuses, st)
	d.UpdatedAt = st.UpdatedAt
}

func (s *Server) pullRequest(raw string) (int, bool) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false
	}
	for _, p := range s.opts.PullRequests {
		if p == n {
			return n, true
		}
	}
	return 0, false
}

func (s *Server) commentsRoute(w http.ResponseWriter, r *http.Request, rawN string) {
	switch r.Method {
	case http.MethodGet:
		if !s.allowed(w, Read, "issues", "pull_requests") {
			return
		}
	case http.MethodPost:
		if !s.allowed(w, Write, "issues", "pull_requests") {
			return
		}
	default:
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	n, ok := s.pullRequest(rawN)
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	if r.Method == http.MethodGet {
		var list []any
		for _, c := range s.comments {
			if c.issue == n {
				list = append(list, c)
			}
		}
		s.page(w, r, list)
		return
	}
	body, ok := s.commentBody(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusCreated, s.addComment(n, s.creator(), body))
}

func (s *Server) commentBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return "", false
	}
	body, present, ok := field[string](w, obj, "body", "a string")
	switch {
	case !ok:
		return "", false
	case !present:
		invalid(w, `"body" wasn't supplied.`)
		return "", false
	case strings.TrimSpace(body) == "":
		validation(w, "IssueComment", "body", "missing_field", "")
		return "", false
	case len([]rune(body)) > 65536:
		validation(w, "IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
		return "", false
	}
	return body, true
}

func (s *Server) addComment(n int, u User, body string) *Comment {
	id := s.id()
	now := s.now()
	base := s.URL + "/repos/" + s.opts.Repository
	c := &Comment{ID: id, Body: body, User: u, CreatedAt: now, UpdatedAt: now, issue: n,
		URL:      fmt.Sprintf("%s/issues/comments/%d", base, id),
		HTMLURL:  fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", s.opts.Repository, n, id),
		IssueURL: fmt.Sprintf("%s/issues/%d", base, n), NodeID: fmt.Sprintf("IC_fake%d", id)}
	s.comments = append(s.comments, c)
	return c
}

func (s *Server) commentRoute(w http.ResponseWriter, r *http.Request, rawID string) {
	if r.Method != http.MethodPatch && r.Method != http.MethodGet {
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	level := Write
	if r.Method == http.MethodGet {
		level = Read
	}
	if !s.allowed(w, level, "issues", "pull_requests") {
		return
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	var c *Comment
	for _, x := range s.comments {
		if err == nil && x.ID == id {
			c = x
		}
	}
	if c == nil {
		apiError(w, http.StatusNotFound, "Not Found", docsURL)
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, c)
		return
	}
	body, ok := s.commentBody(w, r)
	if !ok {
		return
	}
	c.Body = body
	c.UpdatedAt = s.now()
	c.Edits++
	writeJSON(w, http.StatusOK, c)
}

// page answers one page of list (per_page default 30, at most 100; page from 1)
// with GitHub's Link header: first, prev, next and last where they apply.
func (s *Server) page(w http.ResponseWriter, r *http.Request, list []any) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (len(list)+per-1)/per)
	from := min(len(list), (page-1)*per)
	to := min(len(list), from+per)
	base := s.URL
	if s.linkBase != "" {
		base = s.linkBase
	}
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", base, r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := list[from:to]
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, out)
}

// pullRoute answers GET /repos/{owner}/{repo}/pulls/{n}: the part of a pull request the
// tool reads, its state.
func (s *Server) pullRoute(w http.ResponseWriter, rawN string) {
	if !s.allowed(w, Read, "pull_requests") {
		return
	}
	n, ok := s.pullRequest(rawN)
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
		return
	}
	state := "open"
	if slices.Contains(s.opts.Closed, n) {
		state = "closed"
	}
	writeJSON(w, http.StatusOK, map[string]any{"number": n, "state": state})
}
