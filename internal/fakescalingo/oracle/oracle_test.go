package oracle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	scalingo "github.com/Scalingo/go-scalingo/v10"
	scalingohttp "github.com/Scalingo/go-scalingo/v10/http"
	"github.com/Scalingo/go-utils/pagination"
	"github.com/gorilla/websocket"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func start(t *testing.T, sc fakescalingo.Scenario) (*fakescalingo.Server, *scalingo.Client) {
	t.Helper()
	s, err := fakescalingo.Start(fakescalingo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddApp("my-app", sc)
	c, err := scalingo.New(context.Background(), scalingo.ClientConfig{
		APIToken:     s.APIToken,
		APIEndpoint:  s.APIURL,
		AuthEndpoint: s.AuthURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func archive(t *testing.T) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "app/Procfile", Mode: 0o644, Size: 6})
	io.WriteString(tw, "web: x")
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// TestOfficialClient_deploy drives a whole deployment through go-scalingo.
func TestOfficialClient_deploy(t *testing.T) {
	ctx := context.Background()
	s, c := start(t, fakescalingo.Scenario{Log: []string{"one", "two", "three", "four"}})

	jwt, err := c.TokenExchange(ctx, s.APIToken)
	if err != nil || strings.Count(jwt, ".") != 2 {
		t.Fatalf("TokenExchange: %q, %v", jwt, err)
	}

	app, err := c.AppsShow(ctx, "my-app")
	if err != nil {
		t.Fatalf("AppsShow: %v", err)
	}
	if app.Name != "my-app" || app.URL != "https://my-app.osc-fr1.scalingo.io" || app.Links == nil || app.Links.DeploymentsStream == "" {
		t.Fatalf("AppsShow: %+v", app)
	}

	conn, err := c.DeploymentStream(ctx, app.Links.DeploymentsStream)
	if err != nil {
		t.Fatalf("DeploymentStream: %v", err)
	}
	defer conn.Close()
	var first scalingo.DeploymentEvent
	if err := conn.ReadJSON(&first); err != nil || first.Type != scalingo.DeploymentEventTypePing {
		t.Fatalf("first stream event %+v, %v", first, err)
	}

	src, err := c.SourcesCreate(ctx)
	if err != nil || src.UploadURL == "" || src.DownloadURL == "" {
		t.Fatalf("SourcesCreate: %+v, %v", src, err)
	}
	req, _ := http.NewRequest(http.MethodPut, src.UploadURL, bytes.NewReader(archive(t)))
	req.Header.Set("Content-Type", "application/x-gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %v %v", resp, err)
	}
	resp.Body.Close()

	ref := "0123abcd"
	d, err := c.DeploymentsCreate(ctx, "my-app", &scalingo.DeploymentsCreateParams{SourceURL: src.DownloadURL, GitRef: &ref})
	if err != nil {
		t.Fatalf("DeploymentsCreate: %v", err)
	}
	if d.ID == "" || d.AppID == "" || d.GitRef != ref || d.Status != scalingo.StatusBuilding || d.CreatedAt == nil || d.Links == nil || d.Links.Output == "" || d.User == nil || d.User.Username == "" {
		t.Fatalf("DeploymentsCreate: %+v", d)
	}

	var last *scalingo.Deployment
	for range 10 {
		last, err = c.Deployment(ctx, "my-app", d.ID)
		if err != nil {
			t.Fatalf("Deployment: %v", err)
		}
		if scalingo.IsFinishedString(last.Status) {
			break
		}
	}
	if last.Status != scalingo.StatusSuccess || last.HasFailed() {
		t.Fatalf("final deployment %+v", last)
	}

	// The stream, as the CLI reads it: new (both shapes), log, status.
	var logs, statuses []string
	var news int
	for !(len(statuses) > 0 && statuses[len(statuses)-1] == "success") {
		var ev scalingo.DeploymentEvent
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatalf("stream read: %v (logs %q, statuses %q)", err, logs, statuses)
		}
		switch ev.Type {
		case scalingo.DeploymentEventTypeNew:
			news++
			// The CLI reads data as map[string]*Deployment; the docs'
			// {"deployment":"<id>"} shape does not fit it, the other must.
			var m map[string]*scalingo.Deployment
			if json.Unmarshal(ev.Data, &m) == nil {
				if dep := m["deployment"]; dep == nil || dep.ID != d.ID || dep.User == nil || dep.User.Username == "" {
					t.Errorf("CLI-shape new event %s", ev.Data)
				}
			} else if docID := ""; json.Unmarshal(ev.Data, &struct{ Deployment *string }{&docID}) != nil || docID != d.ID {
				t.Errorf("doc-shape new event %s", ev.Data)
			}
		case scalingo.DeploymentEventTypeLog:
			var l scalingo.DeploymentEventDataLog
			if err := json.Unmarshal(ev.Data, &l); err != nil || ev.ID != d.ID {
				t.Fatalf("log event %s: %v", ev.Data, err)
			}
			logs = append(logs, strings.TrimSpace(l.Content))
		case scalingo.DeploymentEventTypeStatus:
			var st scalingo.DeploymentEventDataStatus
			if err := json.Unmarshal(ev.Data, &st); err != nil || ev.ID != d.ID {
				t.Fatalf("status event %s: %v", ev.Data, err)
			}
			statuses = append(statuses, string(st.Status))
		}
	}
	if strings.Join(logs, ",") != "one,two,three,four" || strings.Join(statuses, ",") != "pushing,starting,success" || news != 2 {
		t.Errorf("stream: logs %q, statuses %q, %d new events", logs, statuses, news)
	}

	res, err := c.DeploymentLogs(ctx, last.Links.Output)
	if err != nil {
		t.Fatalf("DeploymentLogs: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "one\ntwo\nthree\nfour\n" {
		t.Errorf("DeploymentLogs: %d %q", res.StatusCode, body)
	}

	list, err := c.DeploymentList(ctx, "my-app")
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Fatalf("DeploymentList: %v, %v", list, err)
	}
	page, meta, err := c.DeploymentListWithPagination(ctx, "my-app", pagination.NewRequest(1, 5))
	if err != nil || len(page) != 1 || meta.CurrentPage != 1 || meta.PerPage != 5 || meta.TotalCount != 1 || meta.TotalPages != 1 {
		t.Fatalf("DeploymentListWithPagination: %v, %+v, %v", page, meta, err)
	}
}

// TestOfficialClient_errors checks that the client understands the fake's
// error answers the way it understands the real ones.
func TestOfficialClient_errors(t *testing.T) {
	ctx := context.Background()
	s, c := start(t, fakescalingo.Scenario{})

	_, err := c.AppsShow(ctx, "other-app")
	var rfe *scalingohttp.RequestFailedError
	if !errors.As(err, &rfe) || rfe.Code != 404 {
		t.Fatalf("unknown app: %v", err)
	}
	var nf scalingohttp.NotFoundError
	if !errors.As(rfe.APIError, &nf) || nf.Resource != "app" || nf.Err != "not found" {
		t.Errorf("unknown app: APIError %#v", rfe.APIError)
	}

	_, err = c.DeploymentsCreate(ctx, "my-app", &scalingo.DeploymentsCreateParams{})
	if !errors.As(err, &rfe) || rfe.Code != 422 {
		t.Fatalf("missing source_url: %v", err)
	}
	var ue scalingohttp.UnprocessableEntity
	if !errors.As(rfe.APIError, &ue) || len(ue.Errors["source_url"]) == 0 {
		t.Errorf("missing source_url: APIError %#v", rfe.APIError)
	}

	bad, err := scalingo.New(ctx, scalingo.ClientConfig{APIToken: "tk-us-wrong", APIEndpoint: s.APIURL, AuthEndpoint: s.AuthURL})
	if err != nil {
		t.Fatal(err)
	}
	// The client maps a 401 from the exchange to its own "unauthorized" error.
	if _, err := bad.AppsShow(ctx, "my-app"); err == nil || !strings.Contains(err.Error(), "tokens/exchange: unauthorized") {
		t.Errorf("wrong token: %v", err)
	}

	// 429 is plain text "Retry later", which go-scalingo tries to parse as
	// JSON, as it does against the real API (scalingo-api.md §5).
	s.Inject(fakescalingo.Fault{Path: "/v1/apps/my-app", Status: 429})
	if _, err := c.AppsShow(ctx, "my-app"); err == nil || !strings.Contains(err.Error(), "invalid character 'R'") {
		t.Errorf("429: %v", err)
	}
}

// TestOfficialClient_streamEnds checks how the stream ends, as the vendor's
// WebSocket library reports it: a refused auth frame is a 1008 close on the
// first read, a dropped stream is 1006 (never io.EOF, which the CLI expects).
func TestOfficialClient_streamEnds(t *testing.T) {
	ctx := context.Background()
	s, c := start(t, fakescalingo.Scenario{DropStreamAfter: 1})
	app, err := c.AppsShow(ctx, "my-app")
	if err != nil {
		t.Fatal(err)
	}

	raw, _, err := websocket.DefaultDialer.DialContext(ctx, app.Links.DeploymentsStream, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.WriteJSON(map[string]any{"type": "auth", "data": map[string]any{"token": s.APIToken}})
	if _, _, err := raw.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("raw API token in the auth frame: %v, want close 1008", err)
	}

	conn, err := c.DeploymentStream(ctx, app.Links.DeploymentsStream)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var ev scalingo.DeploymentEvent
	if err := conn.ReadJSON(&ev); err != nil || ev.Type != scalingo.DeploymentEventTypePing {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	src, err := c.SourcesCreate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No upload needed: the "new" event is all the stream sends before dropping.
	if _, err := c.DeploymentsCreate(ctx, "my-app", &scalingo.DeploymentsCreateParams{SourceURL: src.DownloadURL}); err != nil {
		t.Fatal(err)
	}
	if err := conn.ReadJSON(&ev); err != nil || ev.Type != scalingo.DeploymentEventTypeNew {
		t.Fatalf("event %+v, %v", ev, err)
	}
	err = conn.ReadJSON(&ev)
	if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) || errors.Is(err, io.EOF) {
		t.Errorf("dropped stream: %v, want close 1006", err)
	}
}
