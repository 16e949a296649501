package fakescalingo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Fault makes matching requests misbehave. Set one effect (Status, Redirect,
// DropResponse, ResetMidBody, Expired); Delay and Block may be combined with
// one or used alone (the request then proceeds normally after the wait).
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path is a prefix of the URL path ("/v1/sources", "/v1/apps/x/deployments"),
	// or "storage" for any request to the upload host.
	Path string
	// Times is how many matching requests the fault hits: 0 means 1, negative means all.
	Times int
	// After lets this many matching requests through before the fault starts.
	After int

	// Status answers with this status: 429 as plain text "Retry later" (with
	// Retry-After if set), anything else as a JSON {"error":…} on the API or
	// an S3 XML error on the storage (301 there is S3's PermanentRedirect,
	// with no Location header).
	Status     int
	RetryAfter string
	// Redirect ("301", "302", "307" or "308") answers an upload with a
	// redirect to the storage's own signed URL (Location set), as S3 or a proxy would.
	Redirect string
	// OtherPort, with Redirect, answers any request (auth, API, stream) with
	// a redirect to the same path and query on another port of 127.0.0.1,
	// plain HTTP, as a hostile or misconfigured front would. What arrives there
	// is logged as Server "elsewhere"; a client that keeps credentials in
	// their origin sends nothing there.
	OtherPort bool
	// DropResponse does the work (creates the deployment, stores the upload…)
	// then closes the connection without answering.
	DropResponse bool
	// ResetMidBody reads half of the request body then resets the connection.
	ResetMidBody bool
	// Expired answers 403 AccessDenied "Request has expired" (S3 XML), as if
	// the signed URL had expired.
	Expired bool
	// Delay waits this long before handling the request. Prefer Block.
	// The request is handled after the wait even if its client gave up
	// meanwhile, as a real server would: a POST still creates.
	Delay time.Duration
	// Block waits until the channel is closed before handling the request
	// (same rule as Delay): a slow server without real waiting in tests.
	// Close releases blocked requests with a 503 and without handling them.
	Block <-chan struct{}
}

type faultState struct {
	Fault
	seen, used int
}

func (f *faultState) describe() string {
	var parts []string
	switch {
	case f.Status != 0:
		parts = append(parts, "status "+strconv.Itoa(f.Status))
	case f.Redirect != "" && f.OtherPort:
		parts = append(parts, "redirect "+f.Redirect+" to another port")
	case f.Redirect != "":
		parts = append(parts, "redirect "+f.Redirect)
	case f.DropResponse:
		parts = append(parts, "drop-response")
	case f.ResetMidBody:
		parts = append(parts, "reset-mid-body")
	case f.Expired:
		parts = append(parts, "expired")
	}
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	if f.Block != nil {
		parts = append(parts, "block")
	}
	return strings.Join(parts, ", ")
}

// Vanish makes the API go away, as when the network to Scalingo is lost mid-run: open
// log streams are cut, and every later request to the auth, API and stream hosts has
// its connection closed unanswered. The storage and the app servers stay.
func (s *Server) Vanish() {
	s.vanished.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.wsConns {
		c.CloseNow()
	}
}

// Inject adds a fault; faults are tried in the order they were injected.
func (s *Server) Inject(f Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f})
}

func (s *Server) takeFault(role string, r *http.Request) *faultState {
	if r.Header.Get(forwardedHeader) != "" {
		return nil
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path == "storage" {
			if role != "storage" {
				continue
			}
		} else if !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		times := f.Times
		if times == 0 {
			times = 1
		}
		if times > 0 && f.used >= times {
			continue
		}
		f.seen++
		if f.seen <= f.After {
			continue
		}
		f.used++
		return f
	}
	return nil
}

// applyFault acts out f. It returns true when the request should then be
// handled normally (a pure delay).
func (s *Server) applyFault(role string, f *faultState, w *statusWriter, r *http.Request, h http.Handler) bool {
	if f.Delay > 0 || f.Block != nil {
		var timer <-chan time.Time
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			timer = t.C
		}
		// A real server goes on with a request whose client gave up, so only
		// the fault's own end or the fake's closing stop the wait.
		select {
		case <-timer:
		case <-f.Block:
		case <-s.closing:
			http.Error(w, "fake closing", http.StatusServiceUnavailable)
			return false
		}
	}
	switch {
	case f.Status != 0:
		writeFaultStatus(role, w, f.Status, f.RetryAfter)
	case f.Redirect != "":
		code, err := strconv.Atoi(f.Redirect)
		if err != nil || code < 300 || code > 399 {
			http.Error(w, "fakescalingo: bad Fault.Redirect "+f.Redirect, http.StatusInternalServerError)
			return false
		}
		if f.OtherPort {
			w.Header().Set("Location", s.elsewhere.URL+r.URL.RequestURI())
			w.WriteHeader(code)
			return false
		}
		target, ok := s.storageTarget(r)
		if !ok {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "Unknown upload URL")
			return false
		}
		w.Header().Set("Location", target)
		w.WriteHeader(code)
	case f.DropResponse:
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		hijackAndClose(w, false)
	case f.ResetMidBody:
		n := r.ContentLength / 2
		if n <= 0 {
			n = 1
		}
		io.CopyN(io.Discard, r.Body, n)
		hijackAndClose(w, true)
	case f.Expired:
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
	default:
		return true
	}
	return false
}

func hijackAndClose(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		tc.SetLinger(0) // close with RST, not FIN
	}
	conn.Close()
}

func writeFaultStatus(role string, w http.ResponseWriter, status int, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	if status == http.StatusTooManyRequests {
		// The real API answers 429 in plain text (scalingo-api.md §5).
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "Retry later")
		return
	}
	if role == "storage" {
		switch status {
		case http.StatusMovedPermanently:
			// S3's wrong-region answer (Scalingo/cli#825): XML, no Location.
			writeS3Error(w, status, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
			return
		case http.StatusInternalServerError:
			writeS3Error(w, status, "InternalError", "We encountered an internal error. Please try again.")
			return
		case http.StatusServiceUnavailable:
			writeS3Error(w, status, "SlowDown", "Please reduce your request rate.")
			return
		}
		writeS3Error(w, status, strings.ReplaceAll(http.StatusText(status), " ", ""), http.StatusText(status))
		return
	}
	msg := http.StatusText(status)
	if status == http.StatusInternalServerError {
		msg = "Internal error occured, we're on it!"
	}
	writeJSON(w, status, map[string]any{"error": msg})
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", randomHex(8))
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>", code, msg, randomHex(8))
}

// serveElsewhere is the other port Fault.OtherPort redirects to, ready to take what a
// client would wrongly bring: it answers any request 200 {}, and accepts a WebSocket
// to read the stream's auth frame (StreamTokensElsewhere counts those).
func (s *Server) serveElsewhere(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, msg, err := c.Read(ctx); err == nil && strings.Contains(string(msg), `"token"`) {
		s.streamTokensElsewhere.Add(1)
	}
}

// StreamTokensElsewhere returns how many stream auth frames (which carry the JWT)
// reached the other port of Fault.OtherPort.
func (s *Server) StreamTokensElsewhere() int { return int(s.streamTokensElsewhere.Load()) }
