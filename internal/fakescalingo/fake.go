package fakescalingo

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// DefaultAPIToken is the API token the fake accepts unless Options.APIToken says otherwise.
const DefaultAPIToken = "tk-us-fakescalingo-0000000000000000000000000000"

// DefaultMaxArchiveSize is Scalingo's limit on the uncompressed archive: 300 MB.
const DefaultMaxArchiveSize = 314_572_800

// Storage signs the URLs of a source's archive, like Scalingo's object store.
// s3test.Server implements it on a real S3 server; nil Options.Storage means
// the fake's built-in one.
type Storage interface {
	// Presign returns a PUT URL and a GET URL for key, both valid for ttl.
	Presign(ctx context.Context, key string, ttl time.Duration) (putURL, getURL string, err error)
}

// Options configures Start. The zero value is a working fake.
type Options struct {
	// APIToken is the only API token the auth server exchanges; default DefaultAPIToken.
	APIToken string
	// Storage signs upload and download URLs; nil means the built-in storage.
	Storage Storage
	// DirectUpload hands out the Storage's own PUT URL as upload_url instead
	// of one on the fake's storage host; storage faults then do not apply.
	DirectUpload bool
	// UnwrappedSources makes POST /v1/sources answer the pre-2023 form
	// {"upload_url":…,"download_url":…} instead of {"source":{…}}.
	UnwrappedSources bool
	// JWTLifetime is how long an exchanged JWT is valid; default 1h.
	JWTLifetime time.Duration
	// SourceTTL is how long signed source URLs are valid; default 10m.
	SourceTTL time.Duration
	// Now is the fake's clock (JWT expiry, built-in storage expiry, dates);
	// default time.Now. Tests inject it to expire things without sleeping.
	Now func() time.Time
	// Region names the region in app URLs and /v1/regions; default "osc-fr1".
	Region string
	// MaxArchiveSize is the builder's limit on uncompressed bytes; default DefaultMaxArchiveSize.
	MaxArchiveSize int64
	// RateLimit, when positive, is how many API calls (api host only) are
	// answered per minute of Now, as the real API's 60/min; the rest get
	// 429 "Retry later". 0 means no limit.
	RateLimit int
}

// Server is a running fake. Its fields are read-only.
type Server struct {
	APIURL     string // e.g. http://127.0.0.1:1234, without /v1
	AuthURL    string
	StreamURL  string // base of links.deployments_stream (ws://…)
	StorageURL string // host of upload URLs
	APIToken   string

	opts    Options
	now     func() time.Time
	jwtKey  []byte
	closing chan struct{}
	once    sync.Once

	auth, api, stream, storage, blob *httptest.Server
	blobs                            *blobStore
	transport                        *http.Transport // for forwarding uploads and fetching sources

	mu      sync.Mutex
	apps    map[string]*app // by name and by id
	appList []*app
	sources map[string]*source // by upload path
	wsConns map[*websocket.Conn]struct{}
	nextSrc int

	faultMu sync.Mutex
	faults  []*faultState

	logMu sync.Mutex
	reqs  []Request

	rateMu sync.Mutex
	calls  []time.Time // API calls within the last minute of Now
}

// Request is one request the fake received, for assertions such as "nothing
// was sent before X" or "no Authorization header went to the storage".
type Request struct {
	// Server is "auth", "api", "stream", "storage" (the upload host) or
	// "blob" (the built-in storage itself, reached directly after a redirect).
	Server           string
	Method           string
	Host             string // the Host header
	Path             string
	Query            string // raw query
	Status           int    // 0 when the connection was dropped or reset
	HadAuthorization bool
	ContentType      string
	ContentLength    int64 // -1 when unknown (chunked)
	Chunked          bool
	Fault            string // what fault hit it, "" for none
	Time             time.Time
}

// Start starts a fake on 127.0.0.1. Close it when done.
func Start(opts Options) (*Server, error) {
	if opts.APIToken == "" {
		opts.APIToken = DefaultAPIToken
	}
	if opts.JWTLifetime == 0 {
		opts.JWTLifetime = time.Hour
	}
	if opts.SourceTTL == 0 {
		opts.SourceTTL = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Region == "" {
		opts.Region = "osc-fr1"
	}
	if opts.MaxArchiveSize == 0 {
		opts.MaxArchiveSize = DefaultMaxArchiveSize
	}
	s := &Server{
		APIToken: opts.APIToken,
		opts:     opts,
		now:      opts.Now,
		jwtKey:   []byte(randomHex(32)),
		closing:  make(chan struct{}),
		apps:     map[string]*app{},
		sources:  map[string]*source{},
		wsConns:  map[*websocket.Conn]struct{}{},
		transport: &http.Transport{
			DialContext:       dialLoopback,
			DisableKeepAlives: true, // no idle connection outlives a test
		},
	}
	s.auth = s.newServer("auth", s.authHandler())
	s.api = s.newServer("api", s.apiHandler())
	s.stream = s.newServer("stream", http.HandlerFunc(s.serveStream))
	s.storage = s.newServer("storage", http.HandlerFunc(s.serveStorageFront))
	s.AuthURL = s.auth.URL
	s.APIURL = s.api.URL
	s.StreamURL = "ws" + strings.TrimPrefix(s.stream.URL, "http")
	s.StorageURL = s.storage.URL
	if opts.Storage == nil {
		s.blobs = &blobStore{now: s.now, key: []byte(randomHex(16)), objects: map[string]blob{}}
		s.blob = s.newServer("blob", s.blobs)
		s.blobs.url = s.blob.URL
		s.opts.Storage = s.blobs
	}
	return s, nil
}

// Close stops every server and drops open WebSocket connections.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.mu.Lock()
		for c := range s.wsConns {
			c.CloseNow()
		}
		s.mu.Unlock()
		for _, h := range []*httptest.Server{s.auth, s.api, s.stream, s.storage, s.blob} {
			if h != nil {
				h.CloseClientConnections()
				h.Close()
			}
		}
		s.transport.CloseIdleConnections()
	})
}

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) newServer(role string, h http.Handler) *httptest.Server {
	return httptest.NewServer(s.middleware(role, h))
}

// forwardedHeader marks the fake's own requests (upload forwarding, source
// fetching) so that they are not logged as a client's.
const forwardedHeader = "X-Fakescalingo-Internal"

// middleware logs every request, sets X-Request-Id and applies faults.
func (s *Server) middleware(role string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(forwardedHeader) != "" {
			// The fake's own hop (upload forwarding, builder fetch): not a client request.
			h.ServeHTTP(w, r)
			return
		}
		reqID := newUUID()
		if role == "api" || role == "auth" {
			w.Header().Set("X-Request-Id", reqID)
		}
		i := s.logRequest(role, r)
		rec := &statusWriter{ResponseWriter: w}
		f := s.takeFault(role, r)
		if f != nil {
			s.setFault(i, f.describe())
			if !s.applyFault(role, f, rec, r, h) {
				status := rec.status
				if f.DropResponse || f.ResetMidBody {
					status = 0 // nothing reached the client
				}
				s.setStatus(i, status)
				return
			}
		}
		if role == "api" && !s.allowCall() {
			s.setFault(i, "rate limit")
			writeFaultStatus(role, rec, http.StatusTooManyRequests, "")
			s.setStatus(i, rec.status)
			return
		}
		h.ServeHTTP(rec, r)
		s.setStatus(i, rec.status)
	})
}

// allowCall applies Options.RateLimit over a sliding minute of Options.Now.
func (s *Server) allowCall() bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	now := s.now()
	kept := s.calls[:0]
	for _, c := range s.calls {
		if now.Sub(c) < time.Minute {
			kept = append(kept, c)
		}
	}
	s.calls = kept
	if len(s.calls) >= s.opts.RateLimit {
		return false
	}
	s.calls = append(s.calls, now)
	return true
}

func (s *Server) logRequest(role string, r *http.Request) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	chunked := len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"
	s.reqs = append(s.reqs, Request{
		Server:           role,
		Method:           r.Method,
		Host:             r.Host,
		Path:             r.URL.Path,
		Query:            r.URL.RawQuery,
		HadAuthorization: r.Header.Get("Authorization") != "",
		ContentType:      r.Header.Get("Content-Type"),
		ContentLength:    r.ContentLength,
		Chunked:          chunked,
		Time:             s.now(),
	})
	return len(s.reqs) - 1
}

func (s *Server) setStatus(i, status int) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.reqs[i].Status = status
}

func (s *Server) setFault(i int, f string) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.reqs[i].Fault = f
}

// statusWriter remembers the status and keeps the writer hijackable (for
// WebSocket and for dropped responses).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer cannot hijack")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return hj.Hijack()
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dialLoopback refuses anything but 127.0.0.1/::1, so that neither the
// builder nor the upload forwarding can reach beyond this machine.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("fakescalingo: refusing to connect to %s: only 127.0.0.1 is allowed", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
