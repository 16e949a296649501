package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// autoClock fires every wait at once and records it, so retries take no real time.
type autoClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *autoClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func newClient(t *testing.T, s *fakegithub.Server, clk *autoClock) *Client {
	t.Helper()
	if clk == nil {
		clk = &autoClock{t: time.Unix(1e9, 0)}
	}
	c, err := New(Options{APIURL: s.URL, Repository: fakegithub.DefaultRepository, Token: s.Token, UserAgent: "test", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestClient_deployment(t *testing.T) {
	ctx := context.Background()
	s := fakegithub.Start(fakegithub.Options{})
	defer s.Close()
	c := newClient(t, s, nil)
	d, err := c.CreateDeployment(ctx, DeploymentRequest{Ref: sha, Environment: "my-app-pr1", TransientEnvironment: true,
		Payload: map[string]any{"app": "my-app-pr1"}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 200)
	for _, st := range []string{"in_progress", "success"} {
		if err := c.CreateStatus(ctx, d.ID, StatusRequest{State: st, Description: long}); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	got := s.Deployments()
	if len(got) != 1 || len(got[0].Statuses) != 2 || got[0].Statuses[1].State != "success" || len([]rune(got[0].Statuses[0].Description)) != MaxDescription {
		t.Fatalf("%+v", got)
	}
	if v, ok := got[0].Request["auto_merge"].(bool); !ok || v {
		t.Fatalf("auto_merge sent as %v", got[0].Request["auto_merge"])
	}
	list, err := c.ListDeployments(ctx, "my-app-pr1")
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
}

func TestClient_comments(t *testing.T) {
	ctx := context.Background()
	s := fakegithub.Start(fakegithub.Options{PullRequests: []int{5}})
	defer s.Close()
	for range 230 {
		s.AddComment(5, "someone", "x")
	}
	c := newClient(t, s, nil)
	mine, err := c.CreateComment(ctx, 5, "mine")
	if err != nil || mine.User.Type != "Bot" {
		t.Fatalf("%v %+v", err, mine)
	}
	all, err := c.Comments(ctx, 5)
	if err != nil || len(all) != 231 || all[230].ID != mine.ID {
		t.Fatalf("%v: %d comments", err, len(all))
	}
	if err := c.EditComment(ctx, mine.ID, "edited"); err != nil {
		t.Fatal(err)
	}
	if got := s.Comments(5); got[230].Body != "edited" {
		t.Fatalf("%+v", got[230])
	}
	if login, err := c.Me(ctx); err != nil || login != "" {
		t.Fatalf("an Actions token has no user: %q %v", login, err)
	}
}

// TestClient_refusals: what the feedback turns into one warning must say why.
func TestClient_refusals(t *testing.T) {
	ctx := context.Background()
	t.Run("no permission names it", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{Permissions: map[string]string{"issues": fakegithub.Read, "pull_requests": fakegithub.Read}})
		defer s.Close()
		_, err := newClient(t, s, nil).CreateDeployment(ctx, DeploymentRequest{Ref: sha, Environment: "e"})
		var e *httpapi.APIError
		if !errors.As(err, &e) || e.StatusCode != 403 || e.Hint != "the token needs deployments: write" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("secondary rate limit waited out once", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		s.SecondaryRateLimit(1, 7)
		clk := &autoClock{}
		if _, err := newClient(t, s, clk).Comments(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if len(clk.waits) != 1 || clk.waits[0] != 7*time.Second {
			t.Fatalf("waits %v", clk.waits)
		}
	})
	t.Run("secondary rate limit twice is the error", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		s.SecondaryRateLimit(2, 7)
		_, err := newClient(t, s, nil).Comments(ctx, 1)
		if !IsSecondaryRateLimit(err) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("secondary rate limit past the cap is not waited", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		s.SecondaryRateLimit(1, 3600)
		clk := &autoClock{}
		_, err := newClient(t, s, clk).Comments(ctx, 1)
		if !IsSecondaryRateLimit(err) || len(clk.waits) != 0 {
			t.Fatalf("%v, waits %v", err, clk.waits)
		}
	})
	t.Run("a creation is sent once", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		s.FailNext(1, 502)
		if _, err := newClient(t, s, nil).CreateComment(ctx, 1, "x"); err == nil {
			t.Fatal("no error")
		}
		if n := len(s.Requests()); n != 1 {
			t.Fatalf("%d requests", n)
		}
	})
	t.Run("an edit is retried", func(t *testing.T) {
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		c := newClient(t, s, nil)
		cm, err := c.CreateComment(ctx, 1, "x")
		if err != nil {
			t.Fatal(err)
		}
		s.FailNext(2, 503)
		if err := c.EditComment(ctx, cm.ID, "y"); err != nil {
			t.Fatal(err)
		}
	})
}

// thief is a server of another origin that records every credential it is sent.
type thief struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newThief(t *testing.T) *thief {
	th := &thief{}
	th.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		th.mu.Lock()
		th.seen = append(th.seen, r.Header.Get("Authorization"))
		th.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("[]"))
	}))
	t.Cleanup(th.Close)
	return th
}

func (th *thief) credentials() []string {
	th.mu.Lock()
	defer th.mu.Unlock()
	var out []string
	for _, s := range th.seen {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestClient_tokenStaysOnOrigin: as an attacker would try it, a Link header or a
// redirect to another host (here another port of the same host) must not get the token.
func TestClient_tokenStaysOnOrigin(t *testing.T) {
	ctx := context.Background()
	t.Run("Link to another origin", func(t *testing.T) {
		th := newThief(t)
		s := fakegithub.Start(fakegithub.Options{})
		defer s.Close()
		for range 101 {
			s.AddComment(1, "someone", "x")
		}
		s.LinkBase(th.URL)
		_, err := newClient(t, s, nil).Comments(ctx, 1)
		if err == nil || !strings.Contains(err.Error(), "not on the API's origin") {
			t.Fatalf("followed: %v", err)
		}
		if len(th.seen) != 0 {
			t.Fatalf("the other origin was asked: %v", th.seen)
		}
	})
	t.Run("redirect to another origin", func(t *testing.T) {
		th := newThief(t)
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, th.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}))
		defer api.Close()
		c, err := New(Options{APIURL: api.URL, Repository: "o/r", Token: "ghs_secret", UserAgent: "t"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Comments(ctx, 1)
		if got := th.credentials(); len(got) != 0 {
			t.Fatalf("the token reached another origin: %v", got)
		}
		// Refused before a byte is sent there, and said so (not retried as a failure
		// that may pass).
		var re *httpapi.RedirectError
		if !errors.As(err, &re) || len(th.seen) != 0 {
			t.Fatalf("the redirect: %v (%d requests elsewhere)", err, len(th.seen))
		}
	})
}

func TestNew_refuses(t *testing.T) {
	for _, tt := range []struct{ name, url, repo string }{
		{"no URL", "", "o/r"},
		{"not http", "ftp://x", "o/r"},
		{"no repository", "https://api.github.com", ""},
		{"path in repository", "https://api.github.com", "o/../r"},
		{"three parts", "https://api.github.com", "o/r/x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(Options{APIURL: tt.url, Repository: tt.repo}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
