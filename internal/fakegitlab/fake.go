// Package fakegitlab is an in-process fake of the part of GitLab's REST API (v4)
// that merge-request feedback uses, keeping the real API's rules:
//
//   - GET /api/v4/user: the token's user (a project access token's is a bot).
//   - GET and POST /api/v4/projects/:id/merge_requests/:iid/notes, PUT
//     /api/v4/projects/:id/merge_requests/:iid/notes/:note_id. :id is the
//     project's number or its URL-encoded path (group%2Fproject).
//
// Rules kept: the token goes in PRIVATE-TOKEN or "Authorization: Bearer" (401
// "401 Unauthorized" without one or with another; a JOB-TOKEN cannot use the
// notes API, 401 too); a token without the api scope reads but cannot write (403
// insufficient_scope); a note is edited only by its author (403 "403 Forbidden");
// the body is required (400 "body is missing"), not blank and at most 1,000,000
// characters (400 with the model's message); bodies may be JSON or form-encoded;
// lists are paginated with page and per_page (default 20, at most 100), sorted
// by created_at descending unless sort=asc, with X-Page, X-Per-Page, X-Total,
// X-Total-Pages, X-Next-Page, X-Prev-Page and a Link header.
//
// Faults: RateLimit answers the next requests 429 with Retry-After; FailNext
// answers them with a status.
package fakegitlab

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token the fake accepts unless Options.Token says otherwise.
const DefaultToken = "glpat-fakegitlab00000000000"

// Defaults of Options.
const (
	DefaultProjectID   = 42
	DefaultProjectPath = "group/project"
)

// Options configures Start. The zero value is a working fake.
type Options struct {
	// Token is the only token accepted; default DefaultToken.
	Token string
	// Scopes of the token; nil means ["api"]. ["read_api"] reads but cannot write.
	Scopes []string
	// ProjectID and ProjectPath name the one project served.
	ProjectID   int
	ProjectPath string
	// MergeRequests are the project's merge request IIDs; default [1].
	MergeRequests []int
	// Merged are those of MergeRequests that are merged: GET
	// /projects/:id/merge_requests/:iid says "merged" for them, "opened" for the others.
	Merged []int
	// Now is the fake's clock; default time.Now.
	Now func() time.Time
}

// Author is a note's author.
type Author struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Bot      bool   `json:"bot"`
}

// Note is one merge request note.
type Note struct {
	ID           int64   `json:"id"`
	Type         *string `json:"type"`
	Body         string  `json:"body"`
	Attachment   *string `json:"attachment"`
	Author       Author  `json:"author"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	System       bool    `json:"system"`
	NoteableID   int64   `json:"noteable_id"`
	NoteableType string  `json:"noteable_type"`
	ProjectID    int     `json:"project_id"`
	NoteableIID  int     `json:"noteable_iid"`
	Resolvable   bool    `json:"resolvable"`
	Confidential bool    `json:"confidential"`
	Internal     bool    `json:"internal"`

	// Edits counts the PUTs the note received.
	Edits int `json:"-"`
}

// Request is one request the fake received, for tests.
type Request struct {
	Method, Path, Query string
	PrivateToken        string
	Authorization       string
}

// Server is a running fake.
type Server struct {
	// URL is the API base, as CI_API_V4_URL (…/api/v4); Token the accepted token.
	URL, Token string
	// Bot is the token's user.
	Bot Author

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	nextID   int64
	notes    []*Note // oldest first
	requests []Request
	faults   []fault
}

type fault struct {
	status, retryAfter int
}

// Start runs a fake on 127.0.0.1; Close stops it.
func Start(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Scopes == nil {
		opts.Scopes = []string{"api"}
	}
	if opts.ProjectID == 0 {
		opts.ProjectID = DefaultProjectID
	}
	if opts.ProjectPath == "" {
		opts.ProjectPath = DefaultProjectPath
	}
	if opts.MergeRequests == nil {
		opts.MergeRequests = []int{1}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, Token: opts.Token, nextID: 5000,
		Bot: Author{ID: 900, Username: fmt.Sprintf("project_%d_bot_fake", opts.ProjectID), Name: "scalingo-deploy", State: "active", Bot: true}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/api/v4"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// RateLimit answers the next n requests 429 with Retry-After: retryAfter seconds.
func (s *Server) RateLimit(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{http.StatusTooManyRequests, retryAfter})
	}
}

// FailNext answers the next n requests with status.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status})
	}
}

// AddNote adds a note by username (not the token's user) to merge request iid;
// system notes are the ones GitLab writes itself ("added 1 commit").
func (s *Server) AddNote(iid int, username, body string, system bool) *Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addNote(iid, Author{ID: int64(len(username)) + 10, Username: username, Name: username, State: "active"}, body, system)
}

// Notes returns a copy of merge request iid's notes, oldest first.
func (s *Server) Notes(iid int) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes {
		if n.NoteableIID == iid {
			out = append(out, *n)
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, status int, msg any) {
	writeJSON(w, status, map[string]any{"message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		PrivateToken: r.Header.Get("PRIVATE-TOKEN"), Authorization: r.Header.Get("Authorization")})

	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(f.status)
			fmt.Fprint(w, "Retry later\n")
			return
		}
		message(w, f.status, fmt.Sprintf("%d %s", f.status, http.StatusText(f.status)))
		return
	}

	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if tok == "" || tok != s.opts.Token {
		message(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4/")
	if !ok {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	if path == "user" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, s.Bot)
		return
	}
	parts := strings.Split(path, "/")
	if len(parts) == 4 && parts[0] == "projects" && parts[2] == "merge_requests" && r.Method == http.MethodGet {
		s.mergeRequestRoute(w, parts[1], parts[3])
		return
	}
	if len(parts) < 5 || parts[0] != "projects" || parts[2] != "merge_requests" || parts[4] != "notes" || len(parts) > 6 {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	if !s.project(parts[1]) {
		message(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	iid, ok := s.mergeRequest(parts[3])
	if !ok {
		message(w, http.StatusNotFound, "404 Not found")
		return
	}
	write := r.Method != http.MethodGet
	if write && !s.hasScope("api") {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "insufficient_scope",
			"error_description": "The request requires higher privileges than provided by the access token.", "scope": "api"})
		return
	}
	switch {
	case len(parts) == 5 && r.Method == http.MethodGet:
		s.list(w, r, iid)
	case len(parts) == 5 && r.Method == http.MethodPost:
		body, ok := noteBody(w, r)
		if ok {
			writeJSON(w, http.StatusCreated, s.addNote(iid, s.Bot, body, false))
		}
	case len(parts) == 6 && (r.Method == http.MethodPut || r.Method == http.MethodGet):
		s.note(w, r, iid, parts[5])
	default:
		message(w, http.StatusNotFound, "404 Not Found")
	}
}

func (s *Server) hasScope(want string) bool {
	for _, sc := range s.opts.Scopes {
		if sc == want {
			return true
		}
	}
	return false
}

func (s *Server) project(raw string) bool {
	if raw == strconv.Itoa(s.opts.ProjectID) {
		return true
	}
	p, err := url.PathUnescape(raw)
	return err == nil && p == s.opts.ProjectPath
}

func (s *Server) mergeRequest(raw string) (int, bool) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false
	}
	for _, m := range s.opts.MergeRequests {
		if m == n {
			return n, true
		}
	}
	return 0, false
}

// noteBody reads "body" from a JSON or form-encoded request, as Grape does.
func noteBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	var body *string
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var obj map[string]any
		if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
			message(w, http.StatusBadRequest, "400 Bad request - Invalid JSON")
			return "", false
		}
		if v, ok := obj["body"]; ok {
			str, isString := v.(string)
			if !isString {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is invalid"})
				return "", false
			}
			body = &str
		}
	default:
		if err := r.ParseForm(); err != nil {
			message(w, http.StatusBadRequest, "400 Bad request")
			return "", false
		}
		if r.PostForm.Has("body") {
			v := r.PostForm.Get("body")
			body = &v
		}
	}
	switch {
	case body == nil:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is missing"})
		return "", false
	case strings.TrimSpace(*body) == "":
		message(w, http.StatusBadRequest, map[string][]string{"note": {"can't be blank"}})
		return "", false
	case len([]rune(*body)) > 1_000_000:
		message(w, http.StatusBadRequest, map[string][]string{"note": {"is too long (maximum is 1000000 characters)"}})
		return "", false
	}
	return *body, true
}

func (s *Server) addNote(iid int, a Author, body string, system bool) *Note {
	s.nextID++
	now := s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	n := &Note{ID: s.nextID, Body: body, Author: a, CreatedAt: now, UpdatedAt: now, System: system,
		NoteableID: int64(iid) + 7000, NoteableType: "MergeRequest", ProjectID: s.opts.ProjectID, NoteableIID: iid}
	s.notes = append(s.notes, n)
	return n
}

func (s *Server) note(w http.ResponseWriter, r *http.Request, iid int, raw string) {
	id, err := strconv.ParseInt(raw, 10, 64)
	var n *Note
	for _, x := range s.notes {
		if err == nil && x.ID == id && x.NoteableIID == iid {
			n = x
		}
	}
	if n == nil {
		message(w, http.StatusNotFound, "404 Note Not Found")
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, n)
		return
	}
	if n.Author.ID != s.Bot.ID {
		message(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	body, ok := noteBody(w, r)
	if !ok {
		return
	}
	n.Body = body
	n.UpdatedAt = s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	n.Edits++
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, iid int) {
	q := r.URL.Query()
	per := 20
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	var all []*Note
	for _, n := range s.notes {
		if n.NoteableIID == iid {
			all = append(all, n)
		}
	}
	if q.Get("sort") != "asc" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	pages := max(1, (len(all)+per-1)/per)
	from := min(len(all), (page-1)*per)
	to := min(len(all), from+per)
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(all)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", s.srv.URL, r.URL.EscapedPath(), q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, link(page-1, "prev"))
	}
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(1, "first"), link(pages, "last"))
	h.Set("Link", strings.Join(links, ", "))
	out := all[from:to]
	if out == nil {
		out = []*Note{}
	}
	writeJSON(w, http.StatusOK, out)
}

// mergeRequestRoute answers GET /projects/:id/merge_requests/:iid: the part the tool
// reads, its state.
func (s *Server) mergeRequestRoute(w http.ResponseWriter, rawProject, rawIID string) {
	if !s.project(rawProject) {
		message(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	iid, ok := s.mergeRequest(rawIID)
	if !ok {
		message(w, http.StatusNotFound, "404 Not found")
		return
	}
	state := "opened"
	if slices.Contains(s.opts.Merged, iid) {
		state = "merged"
	}
	writeJSON(w, http.StatusOK, map[string]any{"iid": iid, "project_id": s.opts.ProjectID, "state": state})
}
