package oracle

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v84/github"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub"
)

const (
	owner = "octo-org"
	repo  = "octo-repo"
	sha   = "0123456789abcdef0123456789abcdef01234567"
)

func start(t *testing.T, opts fakegithub.Options) (*fakegithub.Server, *github.Client) {
	t.Helper()
	s := fakegithub.Start(opts)
	t.Cleanup(s.Close)
	c := github.NewClient(nil).WithAuthToken(s.Token)
	base, err := url.Parse(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = base
	return s, c
}

// TestOfficialClient_deployment creates a deployment and its statuses in order, and
// lists them back, through go-github.
func TestOfficialClient_deployment(t *testing.T) {
	ctx := context.Background()
	s, c := start(t, fakegithub.Options{})
	d, resp, err := c.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{
		Ref:                   github.Ptr(sha),
		Environment:           github.Ptr("my-app-pr1"),
		AutoMerge:             github.Ptr(false),
		RequiredContexts:      &[]string{},
		TransientEnvironment:  github.Ptr(true),
		ProductionEnvironment: github.Ptr(false),
		Payload:               map[string]any{"app": "my-app-pr1", "region": "osc-fr1"},
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v (%v)", err, resp)
	}
	if d.GetID() == 0 || d.GetSHA() != sha || d.GetEnvironment() != "my-app-pr1" {
		t.Fatalf("deployment %+v", d)
	}
	for _, st := range []string{"in_progress", "success"} {
		got, _, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{
			State: github.Ptr(st), LogURL: github.Ptr("https://github.com/o/r/actions/runs/1"), EnvironmentURL: github.Ptr("https://my-app-pr1.osc-fr1.scalingo.io"),
		})
		if err != nil || got.GetState() != st {
			t.Fatalf("status %s: %v %+v", st, err, got)
		}
	}
	list, _, err := c.Repositories.ListDeploymentStatuses(ctx, owner, repo, d.GetID(), nil)
	if err != nil || len(list) != 2 || list[0].GetState() != "success" || list[1].GetState() != "in_progress" {
		t.Fatalf("statuses (newest first): %v %+v", err, list)
	}
	deps, _, err := c.Repositories.ListDeployments(ctx, owner, repo, &github.DeploymentsListOptions{Environment: "my-app-pr1"})
	if err != nil || len(deps) != 1 || deps[0].GetID() != d.GetID() {
		t.Fatalf("list: %v %+v", err, deps)
	}
	if got := s.Deployments()[0]; len(got.Statuses) != 2 || !got.TransientEnvironment || got.ProductionEnvironment {
		t.Fatalf("fake holds %+v", got)
	}
}

// TestOfficialClient_deploymentRules: what GitHub refuses, go-github sees refused.
func TestOfficialClient_deploymentRules(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, fakegithub.Options{})
	tests := []struct {
		name   string
		req    *github.DeploymentRequest
		status int
	}{
		{"required contexts omitted: the job's own check is pending", &github.DeploymentRequest{Ref: github.Ptr(sha)}, http.StatusConflict},
		{"ref that does not exist", &github.DeploymentRequest{Ref: github.Ptr("nope"), RequiredContexts: &[]string{}}, http.StatusUnprocessableEntity},
		{"no ref", &github.DeploymentRequest{RequiredContexts: &[]string{}}, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := c.Repositories.CreateDeployment(ctx, owner, repo, tt.req)
			var er *github.ErrorResponse
			if !errors.As(err, &er) || resp.StatusCode != tt.status {
				t.Fatalf("got %v (%T), want %d", err, err, tt.status)
			}
		})
	}
	d, _, err := c.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.Ptr(sha), RequiredContexts: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.Ptr("done")})
	if err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("state not in the enum: %v", err)
	}
	_, resp, err = c.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.Ptr("success"), Description: github.Ptr(strings.Repeat("x", 141))})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || resp.StatusCode != http.StatusUnprocessableEntity || len(er.Errors) != 1 || er.Errors[0].Field != "description" {
		t.Fatalf("description over 140: %v", err)
	}
}

// TestOfficialClient_comments lists comments page by page with go-github's own
// Link parsing, creates one and edits it.
func TestOfficialClient_comments(t *testing.T) {
	ctx := context.Background()
	s, c := start(t, fakegithub.Options{PullRequests: []int{7}})
	for range 5 {
		s.AddComment(7, "someone", "hello")
	}
	mine, _, err := c.Issues.CreateComment(ctx, owner, repo, 7, &github.IssueComment{Body: github.Ptr("<!-- marker -->\nfirst")})
	if err != nil || mine.GetUser().GetLogin() != "github-actions[bot]" || mine.GetUser().GetType() != "Bot" {
		t.Fatalf("create: %v %+v", err, mine)
	}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	pages := 0
	for {
		page, resp, err := c.Issues.ListComments(ctx, owner, repo, 7, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page...)
		if resp.NextPage == 0 {
			if resp.LastPage != 0 || resp.FirstPage != 1 {
				t.Fatalf("last page links: first=%d last=%d", resp.FirstPage, resp.LastPage)
			}
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 6 || all[5].GetID() != mine.GetID() {
		t.Fatalf("%d pages, %d comments", pages, len(all))
	}
	edited, _, err := c.Issues.EditComment(ctx, owner, repo, mine.GetID(), &github.IssueComment{Body: github.Ptr("<!-- marker -->\nsecond")})
	if err != nil || edited.GetBody() != "<!-- marker -->\nsecond" {
		t.Fatalf("edit: %v", err)
	}
	if got := s.Comments(7); len(got) != 6 || got[5].Edits != 1 {
		t.Fatalf("fake: %+v", got)
	}
	_, resp, err := c.Issues.CreateComment(ctx, owner, repo, 8, &github.IssueComment{Body: github.Ptr("x")})
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown pull request: %v", err)
	}
	_, resp, err = c.Issues.CreateComment(ctx, owner, repo, 7, &github.IssueComment{Body: github.Ptr(strings.Repeat("é", 65537))})
	if err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("body over 65536 characters: %v", err)
	}
}

// TestOfficialClient_refusals: a read-only token, a wrong token, the secondary rate
// limit, each as go-github classifies GitHub's.
func TestOfficialClient_refusals(t *testing.T) {
	ctx := context.Background()
	readOnly := map[string]string{"deployments": fakegithub.Read, "issues": fakegithub.Read, "pull_requests": fakegithub.Read}
	s, c := start(t, fakegithub.Options{Permissions: readOnly})

	_, resp, err := c.Issues.CreateComment(ctx, owner, repo, 1, &github.IssueComment{Body: github.Ptr("x")})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || resp.StatusCode != http.StatusForbidden || er.Message != "Resource not accessible by integration" {
		t.Fatalf("read-only token: %v", err)
	}
	if got := resp.Header.Get("X-Accepted-GitHub-Permissions"); got != "issues=write; pull_requests=write" {
		t.Fatalf("accepted permissions %q", got)
	}
	if _, _, err := c.Issues.ListComments(ctx, owner, repo, 1, nil); err != nil {
		t.Fatalf("read-only token reads: %v", err)
	}

	_, _, err = c.Users.Get(ctx, "")
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /user with an Actions token: %v", err)
	}

	// Last: go-github then refuses to send anything for Retry-After.
	s.SecondaryRateLimit(1, 42)
	_, _, err = c.Issues.ListComments(ctx, owner, repo, 1, nil)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || abuse.RetryAfter.Seconds() != 42 {
		t.Fatalf("secondary rate limit: %v (%T)", err, err)
	}

	bad := github.NewClient(nil).WithAuthToken("ghs_wrong")
	bad.BaseURL = c.BaseURL
	_, resp, err = bad.Issues.ListComments(ctx, owner, repo, 1, nil)
	if err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
}
