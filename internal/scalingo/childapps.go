package scalingo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// The endpoints review apps need: child apps, variables, addons, scale and its
// operations, and deleting an app (shared/docs/review-apps.md §1, §4, §5).

// ErrPaidAccount is a child app refused because the owner is on the free trial, which
// allows one app: a review app is one.
var ErrPaidAccount = errors.New("review apps need a paid account: the free trial allows a single app, and a review app counts as one")

// ErrNotOwner is a deletion refused because the token's user is not the app's owner.
var ErrNotOwner = errors.New("only the owner of the parent app can delete its review apps: use the owner's API token")

// CreateChildApp creates the app name as a child of parent. It is sent once but for a
// 429 (refused before any work): a lost answer may still have created the app.
func (c *Client) CreateChildApp(ctx context.Context, parent, name string) (*App, error) {
	var res struct {
		App *App `json:"app"`
	}
	cl := call{method: http.MethodPost, path: appPath(parent) + "/child_apps",
		body: map[string]any{"app": map[string]string{"name": name}}, retryRefused: true}
	if err := c.do(ctx, cl, &res); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusPaymentRequired {
			return nil, fmt.Errorf("%w: %w", ErrPaidAccount, err)
		}
		return nil, err
	}
	if res.App == nil || res.App.Name == "" {
		return nil, errors.New("the answer holds no app")
	}
	return res.App, nil
}

// DeleteApp deletes the app name; the API wants its name again as current_name. Only
// the app's owner may: a 403 is ErrNotOwner.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	cl := call{method: http.MethodDelete, path: appPath(name) + "?current_name=" + url.QueryEscape(name), retryRefused: true}
	err := c.do(ctx, cl, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrNotOwner, err)
	}
	return err
}

// Variables lists an app's environment variables. Aliases are kept as written
// ($SCALINGO_POSTGRESQL_URL), so that a copy points at the copy's own addon.
func (c *Client) Variables(ctx context.Context, app string) ([]Variable, error) {
	var res struct {
		Variables []Variable `json:"variables"`
	}
	// Without aliases=true the API resolves $SCALINGO_POSTGRESQL_URL to the parent's
	// own database URL, which a copy would then point at.
	if err := c.do(ctx, call{method: http.MethodGet, path: appPath(app) + "/variables?aliases=true", idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Variables, nil
}

// DeleteVariable deletes one of an app's variables by its id.
func (c *Client) DeleteVariable(ctx context.Context, app, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: appPath(app) + "/variables/" + url.PathEscape(id),
		idempotent: true, accept: []int{http.StatusNoContent, http.StatusOK}}, nil)
}

// AddonPlan is one plan of an addon provider.
type AddonPlan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AddonPlans lists a provider's plans (to resolve a plan name to its id).
func (c *Client) AddonPlans(ctx context.Context, provider string) ([]AddonPlan, error) {
	var res struct {
		Plans []AddonPlan `json:"plans"`
	}
	path := "/v1/addon_providers/" + url.PathEscape(provider) + "/plans"
	if err := c.do(ctx, call{method: http.MethodGet, path: path, idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Plans, nil
}

// Addon is an app's addon.
type Addon struct {
	ID     string `json:"id"`
	Status string `json:"status"` // provisioning, running, suspended
	Plan   struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"plan"`
	Provider struct {
		ID string `json:"id"`
	} `json:"addon_provider"`
}

// ProvisionAddon adds an addon of provider with the plan planID (an id, not a name) to
// app; a non-empty version is sent as options.version. It is sent once but for a 429: a
// lost answer may still have provisioned it.
func (c *Client) ProvisionAddon(ctx context.Context, app, provider, planID, version string) (*Addon, error) {
	var res struct {
		Addon *Addon `json:"addon"`
	}
	params := map[string]any{"addon_provider_id": provider, "plan_id": planID}
	if version != "" {
		params["options"] = map[string]string{"version": version}
	}
	cl := call{method: http.MethodPost, path: appPath(app) + "/addons",
		body: map[string]any{"addon": params}, retryRefused: true}
	if err := c.do(ctx, cl, &res); err != nil {
		return nil, err
	}
	if res.Addon == nil {
		return nil, errors.New("the answer holds no addon")
	}
	return res.Addon, nil
}

// Addons lists an app's addons.
func (c *Client) Addons(ctx context.Context, app string) ([]Addon, error) {
	var res struct {
		Addons []Addon `json:"addons"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: appPath(app) + "/addons", idempotent: true}, &res); err != nil {
		return nil, err
	}
	return res.Addons, nil
}

// Container is one process type's formation.
type Container struct {
	Name   string `json:"name"`
	Amount int    `json:"amount"`
	Size   string `json:"size,omitempty"`
}

// Scale sets app's formation. It returns the URL of the operation to follow, or "" when
// the API applied it at once (an app never deployed). It is sent once but for a 429.
func (c *Client) Scale(ctx context.Context, app string, containers []Container) (string, error) {
	var loc string
	cl := call{method: http.MethodPost, path: appPath(app) + "/scale",
		body: map[string]any{"containers": containers}, accept: []int{http.StatusOK, http.StatusAccepted},
		retryRefused: true, header: func(h http.Header) { loc = h.Get("Location") }}
	if err := c.do(ctx, cl, nil); err != nil {
		return "", err
	}
	if loc == "" {
		return "", nil
	}
	u, err := c.sameAPI(loc)
	if err != nil {
		return "", fmt.Errorf("the scale answer's Location: %w", err)
	}
	return u, nil
}

// sameAPI resolves a URL the API gave (a Location may be relative) against the API's
// own, refusing one on another host (onAPI).
func (c *Client) sameAPI(raw string) (string, error) {
	if c.apiURL == nil {
		return "", errors.New("no API URL")
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", Redact(raw))
	}
	u := c.apiURL.ResolveReference(ref)
	if err := c.onAPI(u); err != nil {
		return "", err
	}
	return u.String(), nil
}

// Operation is an asynchronous operation (a scale).
type Operation struct {
	ID     string `json:"id"`
	Status string `json:"status"` // pending, running, done, error
	Error  string `json:"error"`
}

// Operation fetches the operation at opURL, as Scale returned it.
func (c *Client) Operation(ctx context.Context, opURL string) (*Operation, error) {
	u, err := c.sameAPI(opURL)
	if err != nil {
		return nil, err
	}
	var res struct {
		Operation *Operation `json:"operation"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, abs: u, idempotent: true}, &res); err != nil {
		return nil, err
	}
	if res.Operation == nil {
		return nil, errors.New("the answer holds no operation")
	}
	return res.Operation, nil
}
