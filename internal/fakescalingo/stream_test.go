package fakescalingo_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

type wsEvent struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// newDeploymentID returns the id a "new" event names, in either shape.
func (e wsEvent) newDeploymentID() string {
	var doc struct{ Deployment string }
	if json.Unmarshal(e.Data, &doc) == nil && doc.Deployment != "" {
		return doc.Deployment
	}
	var cli struct{ Deployment struct{ ID string } }
	json.Unmarshal(e.Data, &cli)
	return cli.Deployment.ID
}

func (e wsEvent) field(name string) string {
	var m map[string]any
	json.Unmarshal(e.Data, &m)
	s, _ := m[name].(string)
	return s
}

func dialStream(t *testing.T, s *fakescalingo.Server, app, jwt string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.StreamURL+"/apps/"+app, nil)
	if err != nil {
		t.Fatalf("dial stream: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"auth","data":{"token":"`+jwt+`"}}`)); err != nil {
		t.Fatal(err)
	}
	// The first frame, a ping, comes once the fake has subscribed this
	// connection: from then on no event can be missed.
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("first frame: %v", err)
	}
	var e wsEvent
	if json.Unmarshal(b, &e); e.Type != "ping" {
		t.Fatalf("first frame %s, want a ping", b)
	}
	return c
}

// readUntil reads events until stop returns true or the connection ends.
func readUntil(t *testing.T, c *websocket.Conn, stop func(wsEvent) bool) ([]wsEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var evs []wsEvent
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return evs, err
		}
		var e wsEvent
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("frame %q: %v", b, err)
		}
		evs = append(evs, e)
		if stop(e) {
			return evs, nil
		}
	}
}

// runDeployment uploads, creates and polls a deployment to its end, then
// creates a second one whose "new" event marks the end of the first's events.
func runDeployment(t *testing.T, s *fakescalingo.Server, jwt string) (id, marker string) {
	t.Helper()
	_, id = deployOKWith(t, s, jwt)
	pollToEnd(t, s, jwt, "my-app", id)
	_, marker = deployOKWith(t, s, jwt)
	return id, marker
}

func deployOKWith(t *testing.T, s *fakescalingo.Server, jwt string) (string, string) {
	src := createSource(t, s, jwt)
	upload(t, src.upload, goodArchive(t), "application/x-gzip")
	return jwt, createDeployment(t, s, jwt, "my-app", src.download)["id"].(string)
}

// summary renders events compactly for comparison.
func summary(evs []wsEvent, id string) []string {
	var out []string
	for _, e := range evs {
		who := "other"
		if e.ID == id || e.newDeploymentID() == id {
			who = "mine"
		}
		switch e.Type {
		case "ping":
			out = append(out, "ping")
		case "new":
			shape := "doc"
			if strings.HasPrefix(string(e.Data), `{"deployment":{`) {
				shape = "cli"
			}
			out = append(out, "new "+shape+" "+who)
		case "log":
			out = append(out, "log "+who+" "+strings.TrimSpace(e.field("content")))
		case "status":
			out = append(out, "status "+who+" "+e.field("status"))
		}
	}
	return out
}

func TestServer_streamAuth(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startFake(t, fakescalingo.Options{Now: clk.Now})
	s.AddApp("my-app", fakescalingo.Scenario{})
	jwt := exchange(t, s)
	tests := []struct {
		name  string
		frame string
	}{
		{"raw API token", `{"type":"auth","data":{"token":"` + s.APIToken + `"}}`},
		{"not an auth frame", `{"type":"ping","data":{}}`},
		{"not JSON", `hello`},
		{"tampered JWT", `{"type":"auth","data":{"token":"` + jwt + `x"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, s.StreamURL+"/apps/my-app", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.Write(ctx, websocket.MessageText, []byte(tc.frame))
			_, _, err = c.Read(ctx)
			if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
				t.Errorf("close status %v (%v), want 1008", got, err)
			}
		})
	}
	t.Run("valid JWT", func(t *testing.T) {
		dialStream(t, s, "my-app", jwt) // fails unless a ping comes first
	})
}

func TestServer_stream(t *testing.T) {
	t.Parallel()
	log := []string{"step 1", "step 2", "step 3", "step 4"}
	tests := []struct {
		name string
		sc   fakescalingo.Scenario
		want []string
	}{
		{
			name: "both new shapes, logs, statuses",
			sc:   fakescalingo.Scenario{Log: log},
			want: []string{"new doc mine", "new cli mine", "log mine step 1",
				"log mine step 2", "status mine pushing", "log mine step 3", "status mine starting", "log mine step 4", "status mine success"},
		},
		{
			name: "doc shape only, queued first",
			sc:   fakescalingo.Scenario{Log: log, NewEventShape: "doc", QueuedPolls: 1, FinalStatus: "build-error"},
			want: []string{"new doc mine", "log mine step 1", "log mine step 2", "status mine building",
				"log mine step 3", "log mine step 4", "status mine build-error"},
		},
		{
			name: "cli shape, no final status",
			sc:   fakescalingo.Scenario{Log: log, NewEventShape: "cli", NoFinalStreamStatus: true},
			want: []string{"new cli mine", "log mine step 1", "log mine step 2", "status mine pushing",
				"log mine step 3", "status mine starting", "log mine step 4"},
		},
		{
			name: "other deployment's events",
			sc:   fakescalingo.Scenario{Log: log[:2], NewEventShape: "doc", OtherDeploymentEvents: true, FinalStatus: "crashed-error"},
			want: []string{"new doc other", "new doc mine", "log other [other deployment] step 1", "log mine step 1",
				"status mine pushing", "status mine starting", "log other [other deployment] step 2", "log mine step 2",
				"status other success", "status mine crashed-error"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, fakescalingo.Options{})
			s.AddApp("my-app", tc.sc)
			jwt := exchange(t, s)
			c := dialStream(t, s, "my-app", jwt)
			id, marker := runDeployment(t, s, jwt)
			evs, err := readUntil(t, c, func(e wsEvent) bool { return e.Type == "new" && e.newDeploymentID() == marker })
			if err != nil {
				t.Fatal(err)
			}
			got := summary(evs[:len(evs)-1], id)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.want)
			}
			for _, e := range evs {
				if e.Type == "log" && !strings.HasSuffix(e.field("content"), "\n") {
					t.Errorf("log content %q does not end with a newline", e.field("content"))
				}
				if e.Type == "new" && strings.HasPrefix(string(e.Data), `{"deployment":{`) {
					var d struct {
						Deployment struct{ Pusher struct{ Username string } }
					}
					json.Unmarshal(e.Data, &d)
					if d.Deployment.Pusher.Username == "" {
						t.Errorf("cli-shape new event without pusher.username: %s", e.Data)
					}
				}
			}
		})
	}
}

func TestServer_streamReplaysExistingLogs(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{Log: []string{"a", "b", "c", "d"}})
	jwt := exchange(t, s)
	id, marker := runDeployment(t, s, jwt)
	c := dialStream(t, s, "my-app", jwt)
	// The marker deployment has logged "a" on creation.
	evs, err := readUntil(t, c, func(e wsEvent) bool { return e.ID == marker && e.field("content") == "a\n" })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"log mine a", "log mine b", "log mine c", "log mine d", "log other a"}
	if got := summary(evs, id); !reflect.DeepEqual(got, want) {
		t.Errorf("replay %q, want %q", got, want)
	}
}

func TestServer_streamDrop(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{DropStreamAfter: 2, NewEventShape: "doc", Log: []string{"a", "b", "c", "d"}})
	jwt := exchange(t, s)
	c := dialStream(t, s, "my-app", jwt)
	_, id := deployOKWith(t, s, jwt)
	evs, err := readUntil(t, c, func(wsEvent) bool { return false })
	if got, want := summary(evs, id), []string{"new doc mine", "log mine a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("before the drop: %q, want %q", got, want)
	}
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Errorf("read error %v, want an abnormal end without a close frame", err)
	}
	// Only the first connection drops; the next one replays and goes on.
	c2 := dialStream(t, s, "my-app", jwt)
	pollToEnd(t, s, jwt, "my-app", id)
	evs, err = readUntil(t, c2, func(e wsEvent) bool { return e.Type == "status" && e.field("status") == "success" })
	if err != nil {
		t.Fatalf("second connection: %v after %q", err, summary(evs, id))
	}
	want := []string{"log mine a", "log mine b", "status mine pushing", "log mine c", "status mine starting", "log mine d", "status mine success"}
	if got := summary(evs, id); !reflect.DeepEqual(got, want) {
		t.Errorf("second connection %q, want %q", got, want)
	}
}

func TestServer_noStream(t *testing.T) {
	t.Parallel()
	s := startFake(t, fakescalingo.Options{})
	s.AddApp("my-app", fakescalingo.Scenario{NoStream: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.StreamURL+"/apps/my-app", nil)
	if err == nil {
		c.CloseNow()
		t.Fatal("upgrade accepted, want it refused")
	}
	if resp == nil || resp.StatusCode != 503 {
		t.Errorf("response %v, want 503", resp)
	}
	_, _, err = websocket.Dial(ctx, s.StreamURL+"/apps/unknown-app", nil)
	var ce websocket.CloseError
	if err == nil || errors.As(err, &ce) {
		t.Errorf("unknown app: %v", err)
	}
}
