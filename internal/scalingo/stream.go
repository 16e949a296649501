package scalingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Event is one message of an app's deployments stream.
type Event struct {
	Type    string // "log", "status", "new", "ping", …
	ID      string // the deployment it is about
	Content string // log: the text
	Status  string // status: the new status
}

// Stream is an open deployments stream. The stream is per app: it carries every
// deployment's events, and replays the existing logs on connect.
type Stream struct {
	conn *websocket.Conn
}

// StreamHTTPError is a stream the server would not open: it answered the handshake
// with this status.
type StreamHTTPError struct{ StatusCode int }

func (e *StreamHTTPError) Error() string {
	return fmt.Sprintf("open the log stream: HTTP %d", e.StatusCode)
}

// ErrStreamTokenRefused is a stream closed because it refused the bearer token.
var ErrStreamTokenRefused = errors.New("the log stream refused the token")

// Stream opens the deployments stream at rawURL (the app's links.deployments_stream) and
// authenticates with the current bearer token, as the official clients do.
func (c *Client) Stream(ctx context.Context, rawURL string) (*Stream, error) {
	jwt, err := c.bearer(ctx)
	if err != nil {
		return nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dialCtx, rawURL, &websocket.DialOptions{
		HTTPClient: c.ws,
		HTTPHeader: http.Header{"User-Agent": {c.opts.UserAgent}},
	})
	if err != nil {
		if resp != nil {
			return nil, &StreamHTTPError{StatusCode: resp.StatusCode}
		}
		return nil, fmt.Errorf("open the log stream: %w", redactErr(err))
	}
	conn.SetReadLimit(4 << 20)
	auth := map[string]any{"type": "auth", "data": map[string]string{"token": jwt}}
	if err := wsjson.Write(dialCtx, conn, auth); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("authenticate on the log stream: %w", err)
	}
	return &Stream{conn: conn}, nil
}

// Next waits for the next event. A refused authentication shows here, as a close.
func (s *Stream) Next(ctx context.Context) (Event, error) {
	var msg struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := wsjson.Read(ctx, s.conn, &msg); err != nil {
		if websocket.CloseStatus(err) == websocket.StatusPolicyViolation {
			return Event{}, fmt.Errorf("%w: %w", ErrStreamTokenRefused, err)
		}
		// A malformed frame also ends here: wsjson closes the connection on it, and the
		// caller reconnects.
		return Event{}, redactErr(err)
	}
	ev := Event{Type: msg.Type, ID: msg.ID}
	switch msg.Type {
	case "log":
		var d struct {
			Content string `json:"content"`
		}
		json.Unmarshal(msg.Data, &d)
		ev.Content = d.Content
	case "status":
		var d struct {
			Status string `json:"status"` // the CLI's tag is "Status": JSON matches either case
		}
		json.Unmarshal(msg.Data, &d)
		ev.Status = d.Status
	case "new":
		// The docs send {"deployment":"<id>"}; the API sends the whole deployment.
		var d struct {
			Deployment json.RawMessage `json:"deployment"`
		}
		json.Unmarshal(msg.Data, &d)
		var id string
		if json.Unmarshal(d.Deployment, &id) != nil {
			var obj struct {
				ID string `json:"id"`
			}
			json.Unmarshal(d.Deployment, &obj)
			id = obj.ID
		}
		if ev.ID == "" {
			ev.ID = strings.TrimSpace(id)
		}
	}
	return ev, nil
}

// Close closes the stream.
func (s *Stream) Close() error { return s.conn.Close(websocket.StatusNormalClosure, "") }
