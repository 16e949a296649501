package fakescalingo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
)

// AppServer is a deployed app answering on 127.0.0.1 (Scenario.Serve), for
// health checks. With the zero value every request gets 200. A healthy app
// answers GET /env/NAME with its variable NAME as its running deployment got it
// (404 when unset), as a demo app showing its configuration would, so that a
// person trying the fake sees what a deployment set (%URL:…% resolved, say).
type AppServer struct {
	// HealthyAfter answers UnhealthyStatus to the first HealthyAfter
	// requests, then as healthy.
	HealthyAfter int
	// NeverHealthy answers UnhealthyStatus to every request.
	NeverHealthy bool
	// UnhealthyStatus is what an unhealthy app answers; default 503.
	UnhealthyStatus int
	// RedirectTo, when set, makes a healthy app answer 302 with this Location.
	RedirectTo string
}

// startWeb starts or stops a's app server as its scenario says. The caller
// holds s.mu.
func (s *Server) startWeb(a *app) {
	if a.sc.Serve == nil || a.web != nil {
		return
	}
	name := a.name
	a.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := s.logRequest("app", name, r)
		status := s.serveApp(a, w, r)
		s.setStatus(i, status)
	}))
}

func (s *Server) serveApp(a *app, w http.ResponseWriter, r *http.Request) int {
	s.mu.Lock()
	a.webHits++
	hits := a.webHits
	var cfg AppServer
	if a.sc.Serve != nil {
		cfg = *a.sc.Serve
	}
	var env map[string]string
	for _, d := range slices.Backward(a.deps) {
		if d.status == "success" {
			env = d.env
			break
		}
	}
	s.mu.Unlock()
	if cfg.NeverHealthy || hits <= cfg.HealthyAfter {
		status := cfg.UnhealthyStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<h1>Application not ready</h1>\n")
		return status
	}
	if cfg.RedirectTo != "" {
		w.Header().Set("Location", cfg.RedirectTo)
		w.WriteHeader(http.StatusFound)
		return http.StatusFound
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/env/"); ok {
		v, set := env[name]
		if !set {
			http.Error(w, name+" is not set", http.StatusNotFound)
			return http.StatusNotFound
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, v+"\n")
		return http.StatusOK
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, "<h1>"+a.name+"</h1>\n")
	return http.StatusOK
}

// AppRequests returns how many requests the app server of app (Scenario.Serve) got.
func (s *Server) AppRequests(appName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appName]; a != nil {
		return a.webHits
	}
	return 0
}
