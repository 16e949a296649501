package fakescalingo

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// Region names the default region: the one APIURL serves, where AddApp
	// puts apps unless their Scenario says otherwise, flagged "default" in
	// /v1/regions; default "osc-fr1".
	Region string
	// OtherRegions are more regions, each served by its own API server
	// (RegionAPIURL) and listed by /v1/regions after Region. One JWT is valid
	// in every region; an app lives in one region and is 404 in the others.
	OtherRegions []string
	// ListedAPIURLs, by region name, is the API URL that /v1/regions gives for a
	// region instead of its server's: a host that does not resolve, say.
	ListedAPIURLs map[string]string
	// CollaboratorToken, when set, is a second API token the auth server
	// exchanges. Its user is a collaborator of every app, not its owner: it
	// can do everything but delete an app (403), as roles.md says.
	CollaboratorToken string
	// ChildNameMax is the longest name POST /v1/apps/{parent}/child_apps
	// accepts; default 48 (POST /v1/apps's rule since 2021). The child_apps
	// doc still says 32; set 32 to hold a client to that stale limit.
	ChildNameMax int
	// MaxArchiveSize is the builder's limit on uncompressed bytes; default DefaultMaxArchiveSize.
	MaxArchiveSize int64
	// RateLimit, when positive, is how many API calls (api host only) are
	// answered per minute of Now, as the real API's 60/min; the rest get
	// 429 "Retry later". 0 means no limit. One budget is shared by every
	// region's API server (the strict reading: a user's limit).
	RateLimit int
	// RateLimitRetryAfter adds a Retry-After header (seconds until a call
	// leaves the window) to rate-limit 429s. The real API documents none, so
	// by default there is none.
	RateLimitRetryAfter bool
	// TLS serves the auth, API and stream listeners over TLS (https://,
	// wss://) with httptest's certificate, which TLSClientConfig trusts.
	TLS bool
	// PlainStream keeps the stream listener plain under TLS: the apps'
	// links.deployments_stream says ws:// beside an https API, the downgrade
	// a client must refuse.
	PlainStream bool
	// RateLimitLag makes the rate limit count each API call when it arrives, later than
	// the client sent it by up to this much (a request in flight, a connection being set
	// up, clocks a little apart), by an amount that varies from call to call as real
	// latency does: the n-th call counts RateLimitLag·(n mod 7)/6 after Options.Now.
	RateLimitLag time.Duration
	// StreamConn, when set, wraps every connection the stream listener accepts: a test
	// that moves a fake clock counts there the bytes in transit (see StreamBusy).
	StreamConn func(net.Conn) net.Conn
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
	// elsewhere is another port of 127.0.0.1 that Fault.OtherPort redirects to:
	// whatever reaches it is logged as Server "elsewhere".
	elsewhere *httptest.Server
	regions   []*region // Region first, then OtherRegions
	blobs     *blobStore
	transport *http.Transport // for forwarding uploads and fetching sources

	mu      sync.Mutex
	apps    map[string]*app    // by name and by id
	sources map[string]*source // by upload path
	wsConns map[*websocket.Conn]struct{}
	planned map[string]Scenario // scenarios of apps a client will create
	deleted []string

	rateMu  sync.Mutex
	calls   []time.Time // API calls within the last minute of Now, as counted
	callN   int         // API calls so far
	limited int         // 429s answered by the rate limit

	vanished atomic.Bool // Vanish was called

	faultMu sync.Mutex
	faults  []*faultState

	logMu sync.Mutex
	reqs  []Request

	streamTokensElsewhere atomic.Int32 // stream auth frames that reached the other port
	streamBusy            atomic.Int64 // see StreamBusy
}

// Request is one request the fake received, for assertions such as "nothing
// was sent before X" or "no Authorization header went to the storage".
type Request struct {
	// Server is "auth", "api", "stream", "storage" (the upload host) or
	// "blob" (the built-in storage itself, reached directly after a redirect),
	// "app" (an app server, Scenario.Serve), or "elsewhere" (another port,
	// Fault.OtherPort).
	Server string
	// Region is the region of the API server that got it ("api" only); for
	// "app", the app's name.
	Region           string
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
	if opts.ChildNameMax == 0 {
		opts.ChildNameMax = 48
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
		planned:  map[string]Scenario{},
		transport: &http.Transport{
			DialContext:       dialLoopback,
			DisableKeepAlives: true, // no idle connection outlives a test
		},
	}
	seen := map[string]bool{}
	for _, name := range append([]string{opts.Region}, opts.OtherRegions...) {
		if name == "" || seen[name] {
			return nil, fmt.Errorf("fakescalingo: region %q is empty or given twice", name)
		}
		seen[name] = true
		rg := &region{name: name}
		rg.srv = s.startServer(s.middleware("api", name, s.apiHandler(name)), opts.TLS)
		rg.url = rg.srv.URL
		s.regions = append(s.regions, rg)
	}
	s.api = s.regions[0].srv
	s.auth = s.startServer(s.middleware("auth", "", s.authHandler()), opts.TLS)
	s.stream = s.startStreamServer(s.middleware("stream", "", http.HandlerFunc(s.serveStream)), opts.TLS && !opts.PlainStream)
	s.storage = s.newServer("storage", http.HandlerFunc(s.serveStorageFront))
	s.elsewhere = s.newServer("elsewhere", http.HandlerFunc(s.serveElsewhere))
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
		servers := []*httptest.Server{s.auth, s.stream, s.storage, s.blob, s.elsewhere}
		for _, rg := range s.regions {
			servers = append(servers, rg.srv)
		}
		s.mu.Lock()
		for _, a := range s.apps {
			if a.web != nil {
				servers = append(servers, a.web)
				a.web = nil
			}
		}
		s.mu.Unlock()
		for _, h := range servers {
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
	return httptest.NewServer(s.middleware(role, "", h))
}

// startStreamServer starts the stream listener, its connections wrapped by
// Options.StreamConn when set.
func (s *Server) startStreamServer(h http.Handler, useTLS bool) *httptest.Server {
	if s.opts.StreamConn == nil {
		return s.startServer(h, useTLS)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = wrappedListener{Listener: srv.Listener, wrap: s.opts.StreamConn}
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}

type wrappedListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l wrappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// startServer starts h on 127.0.0.1, over TLS when asked.
func (s *Server) startServer(h http.Handler, useTLS bool) *httptest.Server {
	if !useTLS {
		return httptest.NewServer(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	return srv
}

// TLSClientConfig returns a TLS configuration that trusts the fake's
// certificate (Options.TLS), or nil when the fake speaks plain HTTP.
func (s *Server) TLSClientConfig() *tls.Config {
	if !s.opts.TLS {
		return nil
	}
	return s.api.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

// forwardedHeader marks the fake's own requests (upload forwarding, source
// fetching) so that they are not logged as a client's.
const forwardedHeader = "X-Fakescalingo-Internal"

// middleware logs every request, sets X-Request-Id and applies faults.
func (s *Server) middleware(role, region string, h http.Handler) http.Handler {
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
		i := s.logRequest(role, region, r)
		if s.vanished.Load() && (role == "api" || role == "auth" || role == "stream") {
			s.setFault(i, "vanished")
			hijackAndClose(w, false)
			return
		}
		if role == "api" {
			s.Tick()
		}
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
		if role == "api" {
			if ok, wait := s.allowCall(); !ok {
				s.setFault(i, "rate limit")
				retryAfter := ""
				if s.opts.RateLimitRetryAfter {
					retryAfter = strconv.Itoa(int((wait + time.Second - 1) / time.Second))
				}
				writeFaultStatus(role, rec, http.StatusTooManyRequests, retryAfter)
				s.setStatus(i, rec.status)
				return
			}
		}
		h.ServeHTTP(rec, r)
		s.setStatus(i, rec.status)
	})
}

// allowCall applies Options.RateLimit over a sliding minute of Options.Now.
// When it refuses, wait is how long until the oldest call leaves the window.
func (s *Server) allowCall() (ok bool, wait time.Duration) {
	if s.opts.RateLimit <= 0 {
		return true, 0
	}
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	now := s.now().Add(s.opts.RateLimitLag * time.Duration(s.callN%7) / 6)
	s.callN++
	kept := s.calls[:0]
	oldest := now
	for _, c := range s.calls {
		if now.Sub(c) < time.Minute {
			kept = append(kept, c)
			if c.Before(oldest) {
				oldest = c
			}
		}
	}
	s.calls = kept
	if len(s.calls) >= s.opts.RateLimit {
		s.limited++
		return false, time.Minute - now.Sub(oldest)
	}
	s.calls = append(s.calls, now)
	return true, 0
}

// RateLimited returns how many requests the rate limit (Options.RateLimit)
// answered 429, over every region.
func (s *Server) RateLimited() int {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	return s.limited
}

func (s *Server) logRequest(role, region string, r *http.Request) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	chunked := len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"
	s.reqs = append(s.reqs, Request{
		Server:           role,
		Region:           region,
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
