package oracle

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
)

func start(t *testing.T, opts fakegitlab.Options, token string) (*fakegitlab.Server, *gitlab.Client) {
	t.Helper()
	s := fakegitlab.Start(opts)
	t.Cleanup(s.Close)
	if token == "" {
		token = s.Token
	}
	c, err := gitlab.NewClient(token, gitlab.WithBaseURL(s.URL), gitlab.WithCustomRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// TestOfficialClient_notes lists a merge request's notes page by page through
// client-go's own header parsing, creates a note and edits it.
func TestOfficialClient_notes(t *testing.T) {
	s, c := start(t, fakegitlab.Options{MergeRequests: []int{3}}, "")
	for i := range 4 {
		s.AddNote(3, "alice", "hello", i%2 == 0)
	}
	me, _, err := c.Users.CurrentUser()
	if err != nil || me.ID != s.Bot.ID || !me.Bot {
		t.Fatalf("current user: %v %+v", err, me)
	}
	n, resp, err := c.Notes.CreateMergeRequestNote(fakegitlab.DefaultProjectPath, 3, &gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr("<!-- m -->\none")})
	if err != nil || resp.StatusCode != http.StatusCreated || n.Author.ID != s.Bot.ID || n.NoteableIID != 3 {
		t.Fatalf("create: %v %+v", err, n)
	}
	var all []*gitlab.Note
	opts := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: 2}, Sort: gitlab.Ptr("asc")}
	pages := 0
	for {
		page, resp, err := c.Notes.ListMergeRequestNotes(fakegitlab.DefaultProjectID, 3, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page...)
		if resp.TotalItems != 5 || resp.TotalPages != 3 {
			t.Fatalf("totals %d/%d", resp.TotalItems, resp.TotalPages)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 5 || all[4].ID != n.ID || !all[0].System {
		t.Fatalf("%d pages, %d notes", pages, len(all))
	}
	edited, _, err := c.Notes.UpdateMergeRequestNote(fakegitlab.DefaultProjectID, 3, n.ID, &gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr("<!-- m -->\ntwo")})
	if err != nil || edited.Body != "<!-- m -->\ntwo" {
		t.Fatalf("edit: %v", err)
	}
	if got := s.Notes(3); got[4].Edits != 1 {
		t.Fatalf("fake: %+v", got[4])
	}
}

// TestOfficialClient_refusals: what GitLab refuses, client-go sees refused.
func TestOfficialClient_refusals(t *testing.T) {
	s, c := start(t, fakegitlab.Options{}, "")
	other := s.AddNote(1, "alice", "hers", false)
	_, _, err := c.Notes.UpdateMergeRequestNote(fakegitlab.DefaultProjectID, 1, other.ID, &gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr("x")})
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != http.StatusForbidden {
		t.Fatalf("edit someone else's note: %v", err)
	}
	_, _, err = c.Notes.CreateMergeRequestNote(fakegitlab.DefaultProjectID, 1, &gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr(strings.Repeat("x", 1_000_001))})
	if !errors.As(err, &er) || er.StatusCode != http.StatusBadRequest || !strings.Contains(er.Message, "too long") {
		t.Fatalf("body too long: %v", err)
	}
	_, _, err = c.Notes.CreateMergeRequestNote(fakegitlab.DefaultProjectID, 1, &gitlab.CreateMergeRequestNoteOptions{})
	if !errors.As(err, &er) || er.StatusCode != http.StatusBadRequest || !strings.Contains(er.Message, "body is missing") {
		t.Fatalf("no body: %v", err)
	}
	_, _, err = c.Notes.CreateMergeRequestNote(fakegitlab.DefaultProjectID, 2, &gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr("x")})
	if !errors.Is(err, gitlab.ErrNotFound) {
		t.Fatalf("unknown merge request: %v", err)
	}

	_, ro := start(t, fakegitlab.Options{Scopes: []string{"read_api"}}, "")
	if _, _, err := ro.Notes.ListMergeRequestNotes(fakegitlab.DefaultProjectID, 1, nil); err != nil {
		t.Fatalf("read_api reads: %v", err)
	}
	_, _, err = ro.Notes.CreateMergeRequestNote(fakegitlab.DefaultProjectID, 1, &gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr("x")})
	if !errors.As(err, &er) || er.StatusCode != http.StatusForbidden || !strings.Contains(er.Message, "insufficient_scope") {
		t.Fatalf("read_api writes: %v", err)
	}

	_, bad := start(t, fakegitlab.Options{}, "glpat-wrong")
	_, _, err = bad.Notes.ListMergeRequestNotes(fakegitlab.DefaultProjectID, 1, nil)
	if !errors.As(err, &er) || er.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}

	s.RateLimit(1, 7)
	_, resp, err := c.Notes.ListMergeRequestNotes(fakegitlab.DefaultProjectID, 1, nil)
	if err == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("rate limit: %v", err)
	}
}
