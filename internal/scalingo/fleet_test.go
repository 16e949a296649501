package scalingo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// TestChildApps follows the pagination and reads the dates the sweep ages by.
func TestChildApps(t *testing.T) {
	t.Parallel()
	c, mux, clk, done := setup(t)
	defer done()
	handleExchange(t, mux, clk, time.Hour)
	var queries []string
	mux.HandleFunc("GET /v1/apps/my-app/child_apps", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("page") {
		case "1":
			fmt.Fprint(w, `{"child_apps":[{"name":"my-app-pr1","parent_app_name":"my-app","created_at":"2026-11-01T10:00:00.000+01:00","last_deployed_at":"2026-11-03T10:00:00.000+01:00"}],
				"meta":{"pagination":{"current_page":1,"next_page":2,"total_pages":2}}}`)
		default:
			fmt.Fprint(w, `{"child_apps":[{"name":"my-app-pr2","parent_app_name":"my-app","created_at":"2026-11-02T10:00:00.000+01:00","last_deployed_at":null}],
				"meta":{"pagination":{"current_page":2,"next_page":null,"total_pages":2}}}`)
		}
	})
	kids, err := c.ChildApps(context.Background(), "my-app")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(queries, " ") != "page=1&per_page=100 page=2&per_page=100" {
		t.Errorf("queries %q", queries)
	}
	if len(kids) != 2 || kids[0].Name != "my-app-pr1" || kids[0].ParentAppName != "my-app" || kids[0].LastDeployedAt == nil ||
		!kids[0].LastDeployedAt.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)) || kids[1].LastDeployedAt != nil ||
		!kids[1].CreatedAt.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("children %+v", kids)
	}
}

// TestChildApps_Endless: a listing whose next page never ends is cut, not followed forever.
func TestChildApps_Endless(t *testing.T) {
	t.Parallel()
	// A hundred requests go past the client's own rate limit: its waits end at once.
	var inst instant
	c, mux, _, done := setup(t, func(o *Options) {
		inst = instant{clock.NewFake(epoch)}
		o.Clock = inst
	})
	defer done()
	handleExchange(t, mux, inst, time.Hour)
	n := 0
	mux.HandleFunc("GET /v1/apps/my-app/child_apps", func(w http.ResponseWriter, r *http.Request) {
		n++
		fmt.Fprintf(w, `{"child_apps":[{"name":"my-app-pr%d"}],"meta":{"pagination":{"next_page":%d}}}`, n, n+1)
	})
	if _, err := c.ChildApps(context.Background(), "my-app"); err == nil || !strings.Contains(err.Error(), "past 100 pages") || n != 100 {
		t.Errorf("err %v after %d pages", err, n)
	}
}

func TestContainers(t *testing.T) {
	t.Parallel()
	c, mux, clk, done := setup(t)
	defer done()
	handleExchange(t, mux, clk, time.Hour)
	got := record(mux, "GET /v1/apps/my-app-pr1/containers", 200, nil,
		`{"containers":[{"name":"web","amount":2,"size":"M","command":"bin/web"},{"name":"worker","amount":0,"size":"S"}]}`)
	cs, err := c.Containers(context.Background(), "my-app-pr1")
	if err != nil || len(*got) != 1 {
		t.Fatal(err)
	}
	if fmt.Sprint(cs) != "[{web 2 M} {worker 0 S}]" {
		t.Errorf("containers %v", cs)
	}
}
