package scalingo

import (
	"context"
	"net/http"
	"net/url"
)

// DeleteAddon removes an addon from app, by its id; its variables go with it. A
// review app's set-up removes what it did not provision (shared/docs/review-apps.md
// §1.2).
func (c *Client) DeleteAddon(ctx context.Context, app, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: appPath(app) + "/addons/" + url.PathEscape(id),
		idempotent: true, accept: []int{http.StatusNoContent, http.StatusOK}}, nil)
}
