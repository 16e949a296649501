package scalingo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// probeTimeout bounds one health check request.
const probeTimeout = 10 * time.Second

// Probe GETs rawURL once, as a health check does: no Authorization (the app is not
// Scalingo's API), redirects not followed (a 3xx is an answer), not counted in the API's
// request budget. It returns the HTTP status; the body is read a little and dropped.
// It waits at most max(1 s, min(10 s, limit)).
func (c *Client) Probe(ctx context.Context, rawURL string, limit time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, max(time.Second, min(probeTimeout, limit)))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, fmt.Errorf("health check URL: %w", redactErr(err))
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.storage.Do(req)
	if err != nil {
		return 0, redactErr(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}
