package deploy

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
)

// HealthError is a health check that got no good answer in time (exit code 1); the
// deployment itself succeeded and is not undone.
type HealthError struct {
	URL   string
	Last  string // the last HTTP status, or the last network error
	After time.Duration
}

func (e *HealthError) Error() string {
	return fmt.Sprintf("health check failed: GET %s got no 2xx or 3xx answer within %s (last: %s); the deployment succeeded and stays in place", httpapi.MaskUserinfo(e.URL), e.After, e.Last)
}

// healthURL joins a health check path to the app's URL; an absolute URL is used as is.
func healthURL(check, appURL string) (string, error) {
	if strings.HasPrefix(check, "http://") || strings.HasPrefix(check, "https://") {
		return check, nil
	}
	base, err := url.Parse(appURL)
	if err != nil || base.Host == "" {
		return "", fmt.Errorf("health check: the app's URL %q cannot take the path %s", httpapi.MaskUserinfo(appURL), check)
	}
	ref, err := url.Parse(check)
	if err != nil {
		return "", fmt.Errorf("health check path %q: %w", check, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// checkHealth GETs the health check URL until it answers 2xx or 3xx, at most every
// HealthInterval, for at most HealthCheckTimeout on the run's clock.
func (d *deployer) checkHealth(ctx context.Context) error {
	target, err := healthURL(d.set.HealthCheck, d.app.URL)
	if err != nil {
		return err
	}
	d.Reporter.Printf("Health check: GET %s until it answers 2xx or 3xx (at most %s).", httpapi.MaskUserinfo(target), d.set.HealthCheckTimeout)
	start := d.Now()
	last := ""
	for try := 1; ; try++ {
		// One request may not outlast the check: a hanging app is given what is left.
		left := d.set.HealthCheckTimeout - d.Now().Sub(start)
		status, err := d.Client.Probe(ctx, target, left)
		switch {
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case err != nil:
			last = err.Error()
		case status >= 200 && status < 400:
			d.Reporter.Printf("Health check: HTTP %d after %s.", status, plural(try, "request"))
			return nil
		default:
			last = fmt.Sprintf("HTTP %d", status)
		}
		if d.Now().Sub(start)+d.HealthInterval > d.set.HealthCheckTimeout {
			return &HealthError{URL: target, Last: last, After: d.set.HealthCheckTimeout}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-d.After(d.HealthInterval):
		}
	}
}
