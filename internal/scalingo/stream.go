package scalingo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"golang.org/x/net/publicsuffix"
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
//
// The JWT goes only where the API's own token would: over wss:// when the API is https,
// and to the API's host or another host of its site (Scalingo's stream lives at
// deployments.scalingo.com beside api.osc-fr1.scalingo.com). Any other URL is refused
// before a connection is opened; the caller then follows by polling.
func (c *Client) Stream(ctx context.Context, rawURL string) (*Stream, error) {
	if err := c.streamAllowed(rawURL); err != nil {
		return nil, err
	}
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

// ErrStreamRefused marks a stream URL the JWT may not go to: retrying cannot change it.
var ErrStreamRefused = errors.New("the token is not sent there")

// streamAllowed refuses a stream URL out of the API's site or in clear beside an https
// API (see Stream).
func (c *Client) streamAllowed(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Hostname() == "" {
		return fmt.Errorf("the API gave an unusable log stream URL %q: %w", Redact(rawURL), ErrStreamRefused)
	}
	if c.apiURL == nil {
		return fmt.Errorf("no API URL to check the log stream URL against: %w", ErrStreamRefused)
	}
	if c.apiURL.Scheme == "https" && u.Scheme != "wss" {
		return fmt.Errorf("the log stream %s is not wss:// while the API is https: %w in clear", Redact(rawURL), ErrStreamRefused)
	}
	if !sameSite(u.Hostname(), c.apiURL.Hostname()) {
		return fmt.Errorf("the log stream %s is not on the API's site %s: %w", Redact(u.Scheme+"://"+u.Host), c.apiURL.Hostname(), ErrStreamRefused)
	}
	return nil
}

// sameSite tells whether two host names are one, or two names under one registrable
// domain (eTLD+1 by the public suffix list). An IP address is only itself.
func sameSite(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	if a == b {
		return true
	}
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return false
	}
	sa, errA := publicsuffix.EffectiveTLDPlusOne(a)
	sb, errB := publicsuffix.EffectiveTLDPlusOne(b)
	return errA == nil && errB == nil && sa == sb
}
