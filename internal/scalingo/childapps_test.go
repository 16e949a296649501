package scalingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
)

// recorded is what a handler saw of the one request a test sends.
type recorded struct {
	method, path, query, body string
}

// record answers every request under pattern with status, headers and body, and keeps
// what it received.
func record(mux *http.ServeMux, pattern string, status int, header map[string]string, body string) *[]recorded {
	var got []recorded
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, recorded{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
	return &got
}

func TestReviewEndpoints_WireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pattern  string
		status   int
		header   map[string]string
		answer   string
		call     func(c *Client) (any, error)
		wantReq  recorded // body compared as JSON
		want     string   // fmt %+v of the result
		wantErr  error
		wantText string // in the error
	}{
		{name: "create a child app", pattern: "POST /v1/apps/parent-app/child_apps", status: 201,
			answer: `{"app":{"id":"1","name":"parent-app-pr7","url":"https://x","base_url":"https://parent-app-pr7.osc-fr1.scalingo.io","parent_app_name":"parent-app"}}`,
			call: func(c *Client) (any, error) {
				return c.CreateChildApp(context.Background(), "parent-app", "parent-app-pr7")
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app/child_apps", body: `{"app":{"name":"parent-app-pr7"}}`},
			want:    "parent-app-pr7 https://parent-app-pr7.osc-fr1.scalingo.io parent-app"},
		{name: "free trial", pattern: "POST /v1/apps/parent-app/child_apps", status: 402,
			answer: `{"name":"free-trial-exceeded","error":"You can't create more than one application during your free trial","url":"https://dashboard"}`,
			call: func(c *Client) (any, error) {
				return c.CreateChildApp(context.Background(), "parent-app", "parent-app-pr7")
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app/child_apps", body: `{"app":{"name":"parent-app-pr7"}}`},
			wantErr: ErrPaidAccount, wantText: "review apps need a paid account"},
		{name: "a name refused", pattern: "POST /v1/apps/parent-app/child_apps", status: 422,
			answer: `{"errors":{"name":["has already been taken"]}}`,
			call: func(c *Client) (any, error) {
				return c.CreateChildApp(context.Background(), "parent-app", "parent-app-pr7")
			},
			wantReq:  recorded{method: "POST", path: "/v1/apps/parent-app/child_apps", body: `{"app":{"name":"parent-app-pr7"}}`},
			wantText: "name has already been taken"},
		{name: "delete sends current_name", pattern: "DELETE /v1/apps/parent-app-pr7", status: 204,
			call:    func(c *Client) (any, error) { return nil, c.DeleteApp(context.Background(), "parent-app-pr7") },
			wantReq: recorded{method: "DELETE", path: "/v1/apps/parent-app-pr7", query: "current_name=parent-app-pr7"},
			want:    "<nil>"},
		{name: "delete by a collaborator", pattern: "DELETE /v1/apps/parent-app-pr7", status: 403, answer: `{"error":"not allowed"}`,
			call:    func(c *Client) (any, error) { return nil, c.DeleteApp(context.Background(), "parent-app-pr7") },
			wantReq: recorded{method: "DELETE", path: "/v1/apps/parent-app-pr7", query: "current_name=parent-app-pr7"},
			wantErr: ErrNotOwner, wantText: "use the owner's API token"},
		{name: "variables", pattern: "GET /v1/apps/parent-app/variables", status: 200,
			answer: `{"variables":[{"id":"v1","name":"A","value":"1"},{"id":"v2","name":"DATABASE_URL","value":"$SCALINGO_POSTGRESQL_URL"}]}`,
			call:   func(c *Client) (any, error) { return c.Variables(context.Background(), "parent-app") },
			// aliases=true: a copied alias must point at the copy's own addon.
			wantReq: recorded{method: "GET", path: "/v1/apps/parent-app/variables", query: "aliases=true"},
			want:    "[{ID:v1 Name:A Value:1} {ID:v2 Name:DATABASE_URL Value:$SCALINGO_POSTGRESQL_URL}]"},
		{name: "delete a variable", pattern: "DELETE /v1/apps/parent-app-pr7/variables/v1", status: 204,
			call: func(c *Client) (any, error) {
				return nil, c.DeleteVariable(context.Background(), "parent-app-pr7", "v1")
			},
			wantReq: recorded{method: "DELETE", path: "/v1/apps/parent-app-pr7/variables/v1"}, want: "<nil>"},
		{name: "addon plans", pattern: "GET /v1/addon_providers/postgresql/plans", status: 200,
			answer:  `{"plans":[{"id":"p1","name":"postgresql-sandbox"},{"id":"p2","name":"postgresql-starter-512"}]}`,
			call:    func(c *Client) (any, error) { return c.AddonPlans(context.Background(), "postgresql") },
			wantReq: recorded{method: "GET", path: "/v1/addon_providers/postgresql/plans"},
			want:    "[{ID:p1 Name:postgresql-sandbox} {ID:p2 Name:postgresql-starter-512}]"},
		{name: "provision an addon", pattern: "POST /v1/apps/parent-app-pr7/addons", status: 201,
			answer: `{"addon":{"id":"ad-1","status":"provisioning","plan":{"id":"p2","name":"postgresql-starter-512"},"addon_provider":{"id":"postgresql"}},"message":"…","variables":["SCALINGO_POSTGRESQL_URL"]}`,
			call: func(c *Client) (any, error) {
				a, err := c.ProvisionAddon(context.Background(), "parent-app-pr7", "postgresql", "p2", "")
				if err != nil {
					return nil, err
				}
				return fmt.Sprintf("%s %s %s %s", a.ID, a.Status, a.Provider.ID, a.Plan.Name), nil
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app-pr7/addons", body: `{"addon":{"addon_provider_id":"postgresql","plan_id":"p2"}}`},
			want:    "ad-1 provisioning postgresql postgresql-starter-512"},
		{name: "provision an addon of a given version", pattern: "POST /v1/apps/parent-app-pr7/addons", status: 201,
			answer: `{"addon":{"id":"ad-1","status":"provisioning"}}`,
			call: func(c *Client) (any, error) {
				a, err := c.ProvisionAddon(context.Background(), "parent-app-pr7", "postgresql", "p2", "14")
				if err != nil {
					return nil, err
				}
				return a.ID, nil
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app-pr7/addons", body: `{"addon":{"addon_provider_id":"postgresql","plan_id":"p2","options":{"version":"14"}}}`},
			want:    "ad-1"},
		{name: "addons", pattern: "GET /v1/apps/parent-app-pr7/addons", status: 200,
			answer: `{"addons":[{"id":"ad-1","status":"running","addon_provider":{"id":"redis"}}]}`,
			call: func(c *Client) (any, error) {
				l, err := c.Addons(context.Background(), "parent-app-pr7")
				if err != nil {
					return nil, err
				}
				return fmt.Sprintf("%d %s %s", len(l), l[0].Status, l[0].Provider.ID), nil
			},
			wantReq: recorded{method: "GET", path: "/v1/apps/parent-app-pr7/addons"},
			want:    "1 running redis"},
		{name: "scale, then an operation to follow", pattern: "POST /v1/apps/parent-app-pr7/scale", status: 202,
			header: map[string]string{"Location": "/v1/apps/parent-app-pr7/operations/op-1"}, answer: `{"containers":[]}`,
			call: func(c *Client) (any, error) {
				u, err := c.Scale(context.Background(), "parent-app-pr7", []Container{{Name: "web", Amount: 2, Size: "S"}})
				return strings.TrimPrefix(u, c.APIURL()), err
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app-pr7/scale", body: `{"containers":[{"name":"web","amount":2,"size":"S"}]}`},
			want:    "/v1/apps/parent-app-pr7/operations/op-1"},
		{name: "scale of an app never deployed is done at once", pattern: "POST /v1/apps/parent-app-pr7/scale", status: 200,
			answer: `{"containers":[]}`,
			call: func(c *Client) (any, error) {
				return c.Scale(context.Background(), "parent-app-pr7", []Container{{Name: "web", Amount: 0}})
			},
			wantReq: recorded{method: "POST", path: "/v1/apps/parent-app-pr7/scale", body: `{"containers":[{"name":"web","amount":0}]}`},
			want:    ""},
		{name: "a scale Location on another host is refused", pattern: "POST /v1/apps/parent-app-pr7/scale", status: 202,
			header: map[string]string{"Location": "https://attacker.example/v1/operations/op-1?sig=x"}, answer: `{}`,
			call: func(c *Client) (any, error) {
				return c.Scale(context.Background(), "parent-app-pr7", []Container{{Name: "web", Amount: 1}})
			},
			wantReq:  recorded{method: "POST", path: "/v1/apps/parent-app-pr7/scale", body: `{"containers":[{"name":"web","amount":1}]}`},
			wantText: "is not on the API's host"},
		{name: "operation", pattern: "GET /v1/apps/parent-app-pr7/operations/op-1", status: 200,
			answer: `{"operation":{"id":"op-1","status":"error","error":"boom"}}`,
			call: func(c *Client) (any, error) {
				op, err := c.Operation(context.Background(), c.APIURL()+"/v1/apps/parent-app-pr7/operations/op-1")
				if err != nil {
					return nil, err
				}
				return *op, nil
			},
			wantReq: recorded{method: "GET", path: "/v1/apps/parent-app-pr7/operations/op-1"},
			want:    "{ID:op-1 Status:error Error:boom}"},
		{name: "app shows its parent and base URL", pattern: "GET /v1/apps/parent-app-pr7", status: 200,
			answer: `{"app":{"id":"1","name":"parent-app-pr7","url":"https://custom.example","base_url":"https://parent-app-pr7.osc-fr1.scalingo.io","parent_app_name":"parent-app"}}`,
			call: func(c *Client) (any, error) {
				a, err := c.App(context.Background(), "parent-app-pr7")
				if err != nil {
					return nil, err
				}
				return a.URL + " " + a.BaseURL + " " + a.ParentAppName, nil
			},
			wantReq: recorded{method: "GET", path: "/v1/apps/parent-app-pr7"},
			want:    "https://custom.example https://parent-app-pr7.osc-fr1.scalingo.io parent-app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk, done := setup(t)
			defer done()
			handleExchange(t, mux, clk, time.Hour)
			got := record(mux, tt.pattern, tt.status, tt.header, tt.answer)
			res, err := tt.call(c)
			if len(*got) != 1 {
				t.Fatalf("%d requests, want 1", len(*got))
			}
			req := (*got)[0]
			if req.method != tt.wantReq.method || req.path != tt.wantReq.path || req.query != tt.wantReq.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", req.method, req.path, req.query, tt.wantReq.method, tt.wantReq.path, tt.wantReq.query)
			}
			if !sameJSON(req.body, tt.wantReq.body) {
				t.Errorf("body %s, want %s", req.body, tt.wantReq.body)
			}
			if tt.wantErr != nil || tt.wantText != "" {
				if err == nil {
					t.Fatalf("no error, got %+v", res)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error %q lacks %q", err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s string
			switch v := res.(type) {
			case *App:
				s = v.Name + " " + v.BaseURL + " " + v.ParentAppName
			case nil:
				s = "<nil>"
			default:
				s = fmt.Sprintf("%+v", v)
			}
			if s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// An attacker-controlled operation URL must not receive the bearer token.
func TestOperation_RefusesAnotherHost(t *testing.T) {
	t.Parallel()
	c, mux, clk, done := setup(t)
	defer done()
	handleExchange(t, mux, clk, time.Hour)
	for _, u := range []string{"https://attacker.example/v1/apps/a/operations/1", "//attacker.example/x", "http://127.0.0.1:1/v1/x"} {
		if _, err := c.Operation(context.Background(), u); err == nil || !strings.Contains(err.Error(), "not on the API's host") {
			t.Errorf("Operation(%q) = %v, want a refusal", u, err)
		}
	}
}

// Calls that create something are sent once, but a 429 refused them before any work:
// those are sent again.
func TestCreateChildApp_RetriesOnlyRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		first     int
		wantCalls int32
		wantErr   bool
	}{
		{"429 is sent again", 429, 2, false},
		{"500 may have created it: sent once", 500, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var inst instant
			c, mux, _, done := setup(t, func(o *Options) {
				inst = instant{clock.NewFake(epoch)}
				o.Clock = inst
			})
			defer done()
			handleExchange(t, mux, inst, time.Hour)
			var n atomic.Int32
			mux.HandleFunc("POST /v1/apps/parent-app/child_apps", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.WriteHeader(tt.first)
					io.WriteString(w, "Retry later")
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"app":{"name":"parent-app-pr7","parent_app_name":"parent-app"}}`)
			})
			_, err := c.CreateChildApp(context.Background(), "parent-app", "parent-app-pr7")
			if (err != nil) != tt.wantErr || n.Load() != tt.wantCalls {
				t.Errorf("err %v after %d calls, want error %v after %d", err, n.Load(), tt.wantErr, tt.wantCalls)
			}
		})
	}
}
