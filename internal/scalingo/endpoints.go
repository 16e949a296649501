package scalingo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// App is the part of an app a deploy needs.
type App struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	// BaseURL is the address Scalingo generated (*.scalingo.io); URL may be a custom
	// canonical domain.
	BaseURL string `json:"base_url"`
	// ParentAppName is set on a child app (a review app): its parent's name.
	ParentAppName string `json:"parent_app_name"`
	Links         struct {
		DeploymentsStream string `json:"deployments_stream"`
	} `json:"links"`
}

// Source is a pair of signed URLs to upload an archive and let Scalingo fetch it.
type Source struct {
	UploadURL   string `json:"upload_url"`
	DownloadURL string `json:"download_url"`
	// CreatedAt is when this client received it: the URLs expire ten minutes later.
	CreatedAt time.Time `json:"-"`
}

// Deployment is a deployment as the API returns it.
type Deployment struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Status    string    `json:"status"`
	GitRef    string    `json:"git_ref"`
	CreatedAt time.Time `json:"created_at"`
	Links     struct {
		Output string `json:"output"`
	} `json:"links"`
}

// Region is one entry of the regions list.
type Region struct {
	Name string `json:"name"`
	API  string `json:"api"`
}

func appPath(app string) string { return "/v1/apps/" + url.PathEscape(app) }

// App fetches an app: its URL and its deployments stream.
func (c *Client) App(ctx context.Context, app string) (*App, error) {
	var res struct {
		App *App `json:"app"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: appPath(app), idempotent: true}, &res)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			switch apiErr.StatusCode {
			case http.StatusNotFound:
				apiErr.Hint = fmt.Sprintf("app %q was not found at %s: check its name, or it may live in another region (set region, e.g. osc-secnum-fr1, or api-url)", app, c.APIURL())
				if lower := strings.ToLower(app); lower != app {
					apiErr.Hint = fmt.Sprintf("app %q was not found at %s: Scalingo app names are lower-case; did you mean %q?", app, c.APIURL(), lower)
				}
			case http.StatusUnauthorized, http.StatusForbidden:
				apiErr.Hint = fmt.Sprintf("the token was refused for app %q: is its owner a collaborator of the app?", app)
			}
		}
		return nil, err
	}
	if res.App == nil {
		return nil, errors.New("the answer holds no app")
	}
	return res.App, nil
}

// CreateSource asks for a pair of signed URLs. The API answers {"source":{…}}; old
// versions answered the object unwrapped, which is accepted too.
func (c *Client) CreateSource(ctx context.Context) (*Source, error) {
	var res struct {
		Source      *Source `json:"source"`
		UploadURL   string  `json:"upload_url"`
		DownloadURL string  `json:"download_url"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/sources", body: struct{}{}, idempotent: true}, &res); err != nil {
		return nil, err
	}
	src := res.Source
	if src == nil {
		src = &Source{UploadURL: res.UploadURL, DownloadURL: res.DownloadURL}
	}
	// Use neither URL unless both are absolute: a relative or empty URL would send the
	// archive somewhere unintended.
	for _, u := range []string{src.UploadURL, src.DownloadURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, errors.New("the answer holds no usable upload_url and download_url")
		}
	}
	src.CreatedAt = c.clk.Now()
	return src, nil
}

// CreateDeployment starts a deployment of sourceURL. It is sent once: a lost answer may
// still have created the deployment (see deploy for how that is handled). A non-empty
// postdeployHook runs after this deployment's build instead of the Procfile's
// postdeploy (a review app's scripts.first-deploy).
func (c *Client) CreateDeployment(ctx context.Context, app, sourceURL, gitRef, postdeployHook string) (*Deployment, error) {
	params := map[string]any{"source_url": sourceURL}
	if gitRef != "" {
		params["git_ref"] = gitRef
	}
	if postdeployHook != "" {
		params["postdeploy_hook"] = postdeployHook
	}
	var res struct {
		Deployment *Deployment `json:"deployment"`
	}
	cl := call{method: http.MethodPost, path: appPath(app) + "/deployments",
		body: map[string]any{"deployment": params}, accept: []int{http.StatusCreated, http.StatusOK}}
	if err := c.do(ctx, cl, &res); err != nil {
		return nil, err
	}
	if res.Deployment == nil || res.Deployment.ID == "" {
		return nil, errors.New("the answer holds no deployment")
	}
	return res.Deployment, nil
}

// Deployment fetches one deployment.
func (c *Client) Deployment(ctx context.Context, app, id string) (*Deployment, error) {
	var res struct {
		Deployment *Deployment `json:"deployment"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: appPath(app) + "/deployments/" + url.PathEscape(id), idempotent: true}, &res); err != nil {
		return nil, err
	}
	if res.Deployment == nil {
		return nil, errors.New("the answer holds no deployment")
	}
	return res.Deployment, nil
}

// Deployments lists an app's most recent deployments, newest first.
func (c *Client) Deployments(ctx context.Context, app string, perPage int) ([]Deployment, error) {
	var res struct {
		Deployments []Deployment `json:"deployments"`
	}
	path := fmt.Sprintf("%s/deployments?page=1&per_page=%d", appPath(app), perPage)
	if err := c.do(ctx, call{method: http.MethodGet, path: path, idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Deployments, nil
}

// Output fetches a deployment's build log so far from its links.output URL. A 404 means
// there is no log yet.
func (c *Client) Output(ctx context.Context, outputURL string) (string, error) {
	var text string
	err := c.do(ctx, call{method: http.MethodGet, abs: outputURL, idempotent: true}, &text)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	return text, err
}

// Regions lists the regions the token can use, from the auth service.
func (c *Client) Regions(ctx context.Context) ([]Region, error) {
	var res struct {
		Regions []Region `json:"regions"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, base: c.authURL, path: "/v1/regions", idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Regions, nil
}

// Variable is one environment variable of an app.
type Variable struct {
	ID    string `json:"id,omitempty"` // set by the API; never sent
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SetVariables creates or updates vars on app with one bulk PUT (what `scalingo env-set`
// does); variables not named are left as they are. A PUT of the same values is
// idempotent, so it is retried like a read. Errors never hold a value: the API's answer
// is not echoed beyond its message, and a value the message quotes back is cut out of it
// (values are not masks, so nothing else would hide it).
func (c *Client) SetVariables(ctx context.Context, app string, vars []Variable) error {
	cl := call{method: http.MethodPut, path: appPath(app) + "/variables",
		body: map[string]any{"variables": vars}, idempotent: true}
	err := c.do(ctx, cl, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		// Longest first, so that a value holding another is cut whole. A value of three
		// bytes or fewer would cut ordinary words, and is no secret anyway.
		values := make([]string, 0, len(vars))
		for _, v := range vars {
			if len(v.Value) > 3 {
				values = append(values, v.Value)
			}
		}
		sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
		for _, v := range values {
			apiErr.Message = strings.ReplaceAll(apiErr.Message, v, "<value>")
		}
	}
	return err
}
