package gitlab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

type autoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *autoClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func newClient(t *testing.T, s *fakegitlab.Server, project string) *Client {
	t.Helper()
	c, err := New(Options{APIURL: s.URL, Project: project, Token: s.Token, UserAgent: "t", Clock: &autoClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestClient_notes(t *testing.T) {
	for _, project := range []string{"42", fakegitlab.DefaultProjectPath} {
		t.Run(project, func(t *testing.T) {
			ctx := context.Background()
			s := fakegitlab.Start(fakegitlab.Options{MergeRequests: []int{9}})
			defer s.Close()
			for i := range 230 {
				s.AddNote(9, "alice", "x", i%3 == 0)
			}
			c := newClient(t, s, project)
			me, err := c.Me(ctx)
			if err != nil || me.ID != s.Bot.ID {
				t.Fatalf("%v %+v", err, me)
			}
			n, err := c.CreateNote(ctx, 9, "mine")
			if err != nil || n.Author.ID != me.ID {
				t.Fatalf("%v %+v", err, n)
			}
			all, err := c.Notes(ctx, 9)
			if err != nil || len(all) != 231 || all[230].ID != n.ID {
				t.Fatalf("%v: %d notes", err, len(all))
			}
			s.FailNext(1, 502)
			if err := c.EditNote(ctx, 9, n.ID, "edited"); err != nil {
				t.Fatal(err)
			}
			if got := s.Notes(9); got[230].Body != "edited" || got[230].Edits != 1 {
				t.Fatalf("%+v", got[230])
			}
		})
	}
}

func TestClient_refusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		opts   fakegitlab.Options
		token  string
		status int
		hint   string
	}{
		{"read_api token", fakegitlab.Options{Scopes: []string{"read_api"}}, "", 403, "api scope"},
		{"wrong token", fakegitlab.Options{}, "glpat-wrong", 401, "project or group access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakegitlab.Start(tt.opts)
			defer s.Close()
			tok := tt.token
			if tok == "" {
				tok = s.Token
			}
			c, _ := New(Options{APIURL: s.URL, Project: "42", Token: tok, UserAgent: "t"})
			_, err := c.CreateNote(ctx, 1, "x")
			var e *httpapi.APIError
			if !errors.As(err, &e) || e.StatusCode != tt.status || !strings.Contains(e.Hint, tt.hint) {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("a creation is sent once", func(t *testing.T) {
		s := fakegitlab.Start(fakegitlab.Options{})
		defer s.Close()
		s.FailNext(1, 500)
		if _, err := newClient(t, s, "42").CreateNote(ctx, 1, "x"); err == nil || len(s.Requests()) != 1 {
			t.Fatalf("%v, %d requests", err, len(s.Requests()))
		}
	})
}

// TestClient_tokenStaysOnOrigin: a redirect to another origin must not carry the token.
func TestClient_tokenStaysOnOrigin(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+r.Header.Get("Private-Token"))
		mu.Unlock()
		w.Write([]byte("[]"))
	}))
	defer thief.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()
	c, err := New(Options{APIURL: api.URL + "/api/v4", Project: "42", Token: "glpat-secret", UserAgent: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Notes(context.Background(), 1)
	mu.Lock()
	defer mu.Unlock()
	var re *httpapi.RedirectError
	if !errors.As(err, &re) || len(seen) != 0 {
		t.Fatalf("the redirect: %v; the other origin got %q", err, seen)
	}
}
