package fakescalingo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// event is one stream message: {"id":…,"type":…,"data":…}.
type event struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type"`
	Data any    `json:"data"`
}

// subscriber is one stream connection's unbounded queue, so that publishing
// (under Server.mu) never blocks on a slow client.
type subscriber struct {
	mu     sync.Mutex
	q      []event
	notify chan struct{}
	busy   *atomic.Int64 // Server.streamBusy
	owed   int64         // events queued and not yet written, counted in busy
}

func newSubscriber(busy *atomic.Int64) *subscriber {
	return &subscriber{notify: make(chan struct{}, 1), busy: busy}
}

func (sub *subscriber) push(e event) {
	sub.mu.Lock()
	sub.q = append(sub.q, e)
	sub.owed++
	sub.busy.Add(1)
	sub.mu.Unlock()
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

// written settles n events taken and written; -1 settles every one left, which never
// will be.
func (sub *subscriber) written(n int64) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if n < 0 || n > sub.owed {
		n = sub.owed
	}
	sub.owed -= n
	sub.busy.Add(-n)
}

// StreamBusy returns how many stream events the fake has queued and not yet written to
// their connection, plus the stream connections being opened (from the handshake to
// the first frames written). With what Options.StreamConn sees in transit, it tells a
// test that moves a fake clock whether the stream still has something to say.
func (s *Server) StreamBusy() int { return int(s.streamBusy.Load()) }

func (sub *subscriber) take() []event {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	q := sub.q
	sub.q = nil
	return q
}

// publish sends e to every stream of a. The caller holds s.mu.
func (s *Server) publish(a *app, e event) {
	for sub := range a.subs {
		sub.push(e)
	}
}

const pingInterval = 30 * time.Second

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	s.streamBusy.Add(1)
	var openOnce sync.Once
	opened := func() { openOnce.Do(func() { s.streamBusy.Add(-1) }) }
	defer opened()
	name, ok := strings.CutPrefix(r.URL.Path, "/apps/")
	s.mu.Lock()
	a := s.apps[name]
	s.mu.Unlock()
	if !ok || a == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	noStream := a.sc.NoStream
	s.mu.Unlock()
	if noStream {
		http.Error(w, "websocket upgrade refused", http.StatusServiceUnavailable)
		return
	}
	// go-scalingo sends Origin: http://scalingo-cli.local/1; any origin is fine.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		c.CloseNow()
		return
	default:
	}
	s.wsConns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.wsConns, c)
		s.mu.Unlock()
		c.CloseNow()
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
		case <-ctx.Done():
		}
		cancel()
	}()

	// "On authentication error, the websocket will be ended immediately."
	authCtx, authCancel := context.WithTimeout(ctx, 30*time.Second)
	_, msg, err := c.Read(authCtx)
	authCancel()
	if err != nil {
		return
	}
	var auth struct {
		Type string `json:"type"`
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if json.Unmarshal(msg, &auth) != nil || auth.Type != "auth" || !s.validJWT(auth.Data.Token) {
		c.Close(websocket.StatusPolicyViolation, "authentication failed")
		return
	}
	readCtx := c.CloseRead(ctx) // handles the client's close and pings

	sub := newSubscriber(&s.streamBusy)
	s.mu.Lock()
	sc := a.sc
	for _, d := range a.deps {
		for _, l := range d.log {
			sub.push(event{Type: "log", ID: d.id, Data: map[string]any{"content": l + "\n"}})
		}
	}
	a.subs[sub] = struct{}{}
	drop := sc.DropStreamAfter > 0 && !a.dropped
	if drop {
		a.dropped = true
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(a.subs, sub)
		s.mu.Unlock()
		sub.written(-1) // no more pushes: what is left is never written
	}()

	sent := 0
	write := func(e event) bool {
		b, _ := json.Marshal(e)
		if c.Write(readCtx, websocket.MessageText, b) != nil {
			return false
		}
		if e.Type != "ping" {
			sent++
			if drop && sent >= sc.DropStreamAfter {
				c.CloseNow() // abnormal: no close frame, the client sees 1006
				return false
			}
		}
		return true
	}
	ping := func() bool {
		return write(event{Type: "ping", Data: map[string]any{"ts": s.now().Unix()}})
	}
	if !ping() {
		return
	}
	other := "00000000-0000-4000-8000-" + a.id[:12] // another deployment of the same app
	if sc.OtherDeploymentEvents {
		if !write(event{Type: "new", Data: map[string]any{"deployment": other}}) {
			return
		}
	}
	opened()
	ticker := time.NewTicker(pingInterval)
	defer ticker.Stop()
	for {
		for _, e := range sub.take() {
			for _, out := range s.expand(sc, e, other) {
				if !write(out) {
					return
				}
			}
			sub.written(1)
		}
		select {
		case <-sub.notify:
		case <-ticker.C:
			if !ping() {
				return
			}
		case <-readCtx.Done():
			return
		}
	}
}

// expand applies the scenario's stream knobs to one event.
func (s *Server) expand(sc Scenario, e event, other string) []event {
	switch e.Type {
	case "new":
		doc := event{Type: "new", Data: map[string]any{"deployment": e.ID}}
		cli := event{Type: "new", Data: map[string]any{"deployment": e.Data}}
		switch sc.NewEventShape {
		case "doc":
			return []event{doc}
		case "cli":
			return []event{cli}
		}
		return []event{doc, cli}
	case "log":
		if sc.OtherDeploymentEvents {
			content := e.Data.(map[string]any)["content"].(string)
			return []event{{Type: "log", ID: other, Data: map[string]any{"content": "[other deployment] " + content}}, e}
		}
	case "status":
		st := e.Data.(map[string]any)["status"].(string)
		if isTerminal(st) && sc.NoFinalStreamStatus {
			return nil
		}
		if isTerminal(st) && sc.OtherDeploymentEvents {
			opposite := "success"
			if st == "success" {
				opposite = "build-error"
			}
			return []event{{Type: "status", ID: other, Data: map[string]any{"status": opposite}}, e}
		}
	}
	return []event{e}
}
