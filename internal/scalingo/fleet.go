package scalingo

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// The endpoints of the review-app fleet modes (sweep, sleep, wake): a parent's children
// and an app's formation (shared/docs/review-apps.md §4).

// maxChildPages bounds the child listing: 100 pages of 100 apps is far beyond any
// owner's review apps, and a listing that never ends must not loop forever.
const maxChildPages = 100

// ChildApp is a child app as the listing gives it, with the dates the sweep ages it by.
// They are decoded here only: a date the API wrote oddly fails the listing, never a
// deploy's lookup of an app.
type ChildApp struct {
	App
	// CreatedAt is when the app was created; LastDeployedAt when its last deployment
	// was, nil when it was never deployed.
	CreatedAt      time.Time  `json:"created_at"`
	LastDeployedAt *time.Time `json:"last_deployed_at"`
}

// ChildApps lists every child app of parent, following the pagination.
func (c *Client) ChildApps(ctx context.Context, parent string) ([]ChildApp, error) {
	var all []ChildApp
	for page := 1; ; page++ {
		var res struct {
			ChildApps []ChildApp `json:"child_apps"`
			Meta      struct {
				Pagination struct {
					NextPage *int `json:"next_page"`
				} `json:"pagination"`
			} `json:"meta"`
		}
		path := fmt.Sprintf("%s/child_apps?page=%d&per_page=100", appPath(parent), page)
		// The docs say 201 for this GET (a typo, surely): any 2xx.
		if err := c.do(ctx, call{method: http.MethodGet, path: path, idempotent: true}, &res); err != nil {
			return nil, err
		}
		all = append(all, res.ChildApps...)
		next := res.Meta.Pagination.NextPage
		if next == nil || *next <= page || len(res.ChildApps) == 0 {
			return all, nil
		}
		if page >= maxChildPages {
			return nil, fmt.Errorf("the child apps of %s run past %d pages", parent, maxChildPages)
		}
	}
}

// Containers reads an app's formation: each process type's amount and size
// (go-scalingo's AppsContainerTypes).
func (c *Client) Containers(ctx context.Context, app string) ([]Container, error) {
	var res struct {
		Containers []Container `json:"containers"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: appPath(app) + "/containers", idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Containers, nil
}
