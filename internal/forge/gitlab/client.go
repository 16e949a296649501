// Package gitlab is the client of GitLab's merge-request notes, for feedback on a
// merge request. The token (a project or group access token with the api scope) goes
// as "Authorization: Bearer", only to the API's origin (httpapi refuses a redirect out
// of it; net/http would carry a PRIVATE-TOKEN header to another host).
package gitlab

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
	// APIURL is the v4 API base (CI_API_V4_URL), e.g. https://gitlab.com/api/v4.
	APIURL string
	// Project is the project's number (CI_PROJECT_ID) or its path.
	Project   string
	Token     string
	UserAgent string
	// Transport carries the requests; nil means httpapi.NewTransport(Getenv).
	Transport http.RoundTripper
	Getenv    func(string) string
	Clock     clock.Clock
	Logf      func(format string, args ...any)
	Policy    httpapi.Policy
}

// Client talks to one project.
type Client struct {
	base    *url.URL
	project string
	token   string
	api     *httpapi.Client
}

// New returns a client; it sends no request.
func New(o Options) (*Client, error) {
	base, err := httpapi.ParseBaseURL(o.APIURL)
	if err != nil {
		return nil, fmt.Errorf("GitLab API URL: %w", err)
	}
	if o.Project == "" || strings.ContainsAny(o.Project, "?#\\") || strings.Contains(o.Project, "..") {
		return nil, fmt.Errorf("project %q is not a project id or path", o.Project)
	}
	tr := o.Transport
	if tr == nil {
		tr = httpapi.NewTransport(o.Getenv)
	}
	c := &Client{base: base, project: o.Project, token: o.Token}
	c.api = httpapi.New(httpapi.Config{
		Transport:       tr,
		Policy:          o.Policy,
		Clock:           o.Clock,
		UserAgent:       o.UserAgent,
		Logf:            o.Logf,
		ErrorBody:       errorBody,
		RequestIDHeader: "X-Request-Id",
	})
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.api.CloseIdleConnections() }

// errorBody reads GitLab's {"message": "…" | {field: […]}} and {"error", "error_description"}.
func errorBody(body []byte) (string, string) {
	var e struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
		Desc    string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return httpapi.TextMessage(body), ""
	}
	var parts []string
	switch m := e.Message.(type) {
	case string:
		parts = append(parts, m)
	case map[string]any:
		for k, v := range m {
			b, _ := json.Marshal(v)
			parts = append(parts, k+" "+string(b))
		}
	}
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	if e.Desc != "" {
		parts = append(parts, e.Desc)
	}
	if len(parts) == 0 {
		return httpapi.TextMessage(body), ""
	}
	return httpapi.OneLine(strings.Join(parts, "; ")), ""
}

func (c *Client) do(ctx context.Context, r httpapi.Request, out any) error {
	r.Authorize = func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return nil
	}
	err := c.api.Do(ctx, r, out)
	var e *httpapi.APIError
	if errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusUnauthorized:
			e.Hint = "gitlab-token must be a project or group access token with the api scope (the job token cannot write notes)"
		case http.StatusForbidden:
			e.Hint = "gitlab-token needs the api scope and at least the Reporter role on the project"
		}
	}
	return err
}

// notesPath is /projects/:id/merge_requests/:iid/notes[/:note_id]; the project's path
// is one escaped segment.
func (c *Client) notesURL(iid int, noteID int64) *url.URL {
	u := c.base.JoinPath("projects")
	seg := url.PathEscape(c.project)
	u.RawPath = u.EscapedPath() + "/" + seg + "/merge_requests/" + strconv.Itoa(iid) + "/notes"
	u.Path = u.Path + "/" + c.project + "/merge_requests/" + strconv.Itoa(iid) + "/notes"
	if noteID != 0 {
		id := strconv.FormatInt(noteID, 10)
		u.RawPath += "/" + id
		u.Path += "/" + id
	}
	return u
}

// Author is a note's author.
type Author struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// Note is a merge request note.
type Note struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Author Author `json:"author"`
	System bool   `json:"system"`
}

// Me returns the token's user.
func (c *Client) Me(ctx context.Context) (Author, error) {
	var a Author
	err := c.do(ctx, httpapi.Request{Method: http.MethodGet, URL: c.base.JoinPath("user"), Idempotent: true}, &a)
	return a, err
}

const maxPages = 100

// Notes returns every note of merge request iid, oldest first. Pages are asked by
// number (X-Next-Page), on the API's own origin.
func (c *Client) Notes(ctx context.Context, iid int) ([]Note, error) {
	var all []Note
	page := "1"
	for i := 0; page != ""; i++ {
		if i == maxPages {
			return all, fmt.Errorf("list the notes of !%d: more than %d pages", iid, maxPages)
		}
		u := c.notesURL(iid, 0)
		u.RawQuery = url.Values{"per_page": {"100"}, "page": {page}, "sort": {"asc"}, "order_by": {"created_at"}}.Encode()
		var list []Note
		var next string
		err := c.do(ctx, httpapi.Request{Method: http.MethodGet, URL: u, Idempotent: true,
			Header: func(h http.Header) { next = strings.TrimSpace(h.Get("X-Next-Page")) }}, &list)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if n, err := strconv.Atoi(next); next != "" && (err != nil || n <= i+1) {
			return nil, fmt.Errorf("list the notes of !%d: X-Next-Page %q does not move forward", iid, httpapi.OneLine(next))
		}
		page = next
	}
	return all, nil
}

// CreateNote adds a note to merge request iid; sent once (a retry could post two).
func (c *Client) CreateNote(ctx context.Context, iid int, body string) (Note, error) {
	var n Note
	err := c.do(ctx, httpapi.Request{Method: http.MethodPost, URL: c.notesURL(iid, 0), Body: map[string]string{"body": body},
		Accept: []int{http.StatusCreated}}, &n)
	return n, err
}

// EditNote replaces a note's body; retried, as the same body twice is one result.
func (c *Client) EditNote(ctx context.Context, iid int, id int64, body string) error {
	return c.do(ctx, httpapi.Request{Method: http.MethodPut, URL: c.notesURL(iid, id), Body: map[string]string{"body": body},
		Idempotent: true, Accept: []int{http.StatusOK}}, nil)
}

// MergeRequestClosed tells whether merge request iid is closed or merged (the sweep of
// review apps): GET /projects/:id/merge_requests/:iid, state opened, locked, closed or
// merged.
func (c *Client) MergeRequestClosed(ctx context.Context, iid int) (bool, error) {
	u := c.base.JoinPath("projects")
	u.RawPath = u.EscapedPath() + "/" + url.PathEscape(c.project) + "/merge_requests/" + strconv.Itoa(iid)
	u.Path = u.Path + "/" + c.project + "/merge_requests/" + strconv.Itoa(iid)
	var mr struct {
		State string `json:"state"`
	}
	if err := c.do(ctx, httpapi.Request{Method: http.MethodGet, URL: u, Idempotent: true}, &mr); err != nil {
		return false, err
	}
	switch mr.State {
	case "opened", "locked":
		return false, nil
	case "closed", "merged":
		return true, nil
	}
	return false, fmt.Errorf("merge request !%d: state %q is not one GitLab documents", iid, httpapi.OneLine(mr.State))
}
