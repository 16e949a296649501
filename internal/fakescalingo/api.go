package fakescalingo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

const (
	fakeUserID         = "us-fake-00000000-0000-0000-0000-000000000000"
	collaboratorUserID = "us-fake-c011ab00-0000-0000-0000-000000000000"
)

type userKey struct{}

// userOf returns the user whose JWT authenticated r.
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

type regionKey struct{}

// regionOf returns the region whose API server got r.
func regionOf(r *http.Request) string {
	rg, _ := r.Context().Value(regionKey{}).(string)
	return rg
}

// timeLayout is the API's date format: ISO 8601 with milliseconds and an offset.
const timeLayout = "2006-01-02T15:04:05.000-07:00"

var paris = time.FixedZone("CET", 3600)

// gitRefRE is the Docker tag grammar: git_ref ends up in an image tag, so
// "it cannot start with a dash" (CLI) [INFERRED: the real API's check is undocumented].
var gitRefRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func (s *Server) apiHandler(region string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps/{app}", s.withApp(s.getApp))
	mux.HandleFunc("POST /v1/apps", s.createApp)
	mux.HandleFunc("DELETE /v1/apps/{app}", s.withApp(s.deleteApp))
	mux.HandleFunc("POST /v1/apps/{app}/child_apps", s.withApp(s.createChildApp))
	mux.HandleFunc("GET /v1/apps/{app}/child_apps", s.withApp(s.listChildApps))
	mux.HandleFunc("GET /v1/apps/{app}/variables", s.withApp(s.listVariables))
	mux.HandleFunc("PUT /v1/apps/{app}/variables", s.withApp(s.putVariables))
	mux.HandleFunc("POST /v1/apps/{app}/variables", s.withApp(s.postVariable))
	mux.HandleFunc("DELETE /v1/apps/{app}/variables/{id}", s.withApp(s.deleteVariable))
	mux.HandleFunc("GET /v1/addon_providers/{provider}/plans", s.listPlans)
	mux.HandleFunc("GET /v1/apps/{app}/addons", s.withApp(s.listAddons))
	mux.HandleFunc("GET /v1/apps/{app}/addons/{id}", s.withApp(s.getAddon))
	mux.HandleFunc("POST /v1/apps/{app}/addons", s.withApp(s.provisionAddon))
	mux.HandleFunc("DELETE /v1/apps/{app}/addons/{id}", s.withApp(s.deleteAddon))
	mux.HandleFunc("POST /v1/apps/{app}/scale", s.withApp(s.scale))
	mux.HandleFunc("GET /v1/apps/{app}/containers", s.withApp(s.listContainers))
	mux.HandleFunc("GET /v1/apps/{app}/operations/{id}", s.withApp(s.getOperation))
	mux.HandleFunc("POST /v1/sources", s.createSource)
	mux.HandleFunc("POST /v1/apps/{app}/deployments", s.withApp(s.createDeployment))
	mux.HandleFunc("GET /v1/apps/{app}/deployments", s.withApp(s.listDeployments))
	mux.HandleFunc("GET /v1/apps/{app}/deployments/{id}", s.withDeployment(s.getDeployment))
	mux.HandleFunc("GET /v1/apps/{app}/deployments/{id}/output", s.withDeployment(s.getOutput))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := s.checkBearer(w, r)
		if !ok {
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, user)
		ctx = context.WithValue(ctx, regionKey{}, region)
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) withApp(h func(http.ResponseWriter, *http.Request, *app)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.apps[r.PathValue("app")]
		s.mu.Unlock()
		// An app lives in one region: elsewhere it is not found, as on Scalingo.
		if a == nil || a.region != regionOf(r) {
			writeJSON(w, http.StatusNotFound, map[string]any{"resource": "app", "error": "not found"})
			return
		}
		h(w, r, a)
	}
}

func (s *Server) withDeployment(h func(http.ResponseWriter, *http.Request, *deployment)) http.HandlerFunc {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, a *app) {
		s.mu.Lock()
		var d *deployment
		for _, x := range a.deps {
			if x.id == r.PathValue("id") {
				d = x
			}
		}
		s.mu.Unlock()
		if d == nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"resource": "deployment", "error": "not found"})
			return
		}
		h(w, r, d)
	})
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"app": s.appJSON(a)})
}

// appJSON renders a as the API does. The caller holds s.mu.
func (s *Server) appJSON(a *app) map[string]any {
	status := "running"
	if a.isNew && len(a.deps) == 0 {
		status = "new"
	}
	m := map[string]any{
		"id":         a.id,
		"name":       a.name,
		"region":     a.region,
		"url":        s.appURL(a),
		"base_url":   s.appURL(a),
		"git_url":    "git@ssh." + a.region + ".scalingo.com:" + a.name + ".git",
		"status":     status,
		"created_at": a.created.In(paris).Format(timeLayout),
		"updated_at": a.created.In(paris).Format(timeLayout),
		"owner":      map[string]any{"id": fakeUserID, "username": "fake-user", "email": "fake-user@example.com"},
		"links":      map[string]any{"deployments_stream": s.StreamURL + "/apps/" + a.name},
		"flags":      map[string]any{},
		"limits":     map[string]any{},
	}
	if a.parent != "" {
		m["parent_app_name"] = a.parent
	}
	m["last_deployed_at"], m["last_deployment_id"] = nil, nil
	if n := len(a.deps); n > 0 {
		last := a.deps[n-1]
		m["last_deployed_at"] = last.createdAt.In(paris).Format(timeLayout)
		m["last_deployment_id"] = last.id
	}
	return m
}

// readJSONBody enforces what a strict JSON API does: a JSON content type and
// a well-formed body. empty reports an absent body.
func readJSONBody(w http.ResponseWriter, r *http.Request, v any) (empty, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "There was a problem reading the request body"})
		return false, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true, true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "There was a problem in the JSON you submitted: Content-Type must be application/json"})
		return false, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "There was a problem in the JSON you submitted: " + err.Error()})
		return false, false
	}
	return false, true
}

type source struct {
	key    string
	put    *url.URL
	getURL string
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	// The docs send no body, go-scalingo sends "{}": both are fine.
	var body map[string]any
	if _, ok := readJSONBody(w, r, &body); !ok {
		return
	}
	id := newUUID()
	key := id[:2] + "/" + id
	putURL, getURL, err := s.opts.Storage.Presign(r.Context(), key, s.opts.SourceTTL)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal error occured, we're on it!"})
		return
	}
	put, err := url.Parse(putURL)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal error occured, we're on it!"})
		return
	}
	upload := putURL
	if !s.opts.DirectUpload {
		upload = s.StorageURL + put.RequestURI()
	}
	s.mu.Lock()
	s.sources[put.Path] = &source{key: key, put: put, getURL: getURL}
	s.mu.Unlock()
	src := map[string]any{"upload_url": upload, "download_url": getURL}
	if s.opts.UnwrappedSources {
		writeJSON(w, http.StatusCreated, src)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"source": src})
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Deployment *struct {
			SourceURL      json.RawMessage `json:"source_url"`
			GitRef         json.RawMessage `json:"git_ref"`
			PostdeployHook json.RawMessage `json:"postdeploy_hook"`
		} `json:"deployment"`
	}
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.Deployment == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"deployment": []string{"missing field"}}})
		return
	}
	errs := map[string][]string{}
	var sourceURL string
	if len(body.Deployment.SourceURL) == 0 || string(body.Deployment.SourceURL) == "null" {
		errs["source_url"] = []string{"can't be blank"}
	} else if json.Unmarshal(body.Deployment.SourceURL, &sourceURL) != nil || sourceURL == "" {
		errs["source_url"] = []string{"can't be blank"}
	} else if u, err := url.Parse(sourceURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs["source_url"] = []string{"is invalid"}
	}
	var gitRef *string
	if len(body.Deployment.GitRef) > 0 && string(body.Deployment.GitRef) != "null" {
		var ref string
		if json.Unmarshal(body.Deployment.GitRef, &ref) != nil || !gitRefRE.MatchString(ref) {
			errs["git_ref"] = []string{"is invalid"}
		} else {
			gitRef = &ref
		}
	}
	// postdeploy_hook is scalingo.js's undocumented field: a string command.
	var hook *string
	if raw := body.Deployment.PostdeployHook; len(raw) > 0 && string(raw) != "null" {
		var h string
		if json.Unmarshal(raw, &h) != nil {
			errs["postdeploy_hook"] = []string{"is invalid"}
		} else {
			hook = &h
		}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": errs})
		return
	}

	s.mu.Lock()
	sc := a.sc
	lines := sc.Log
	if lines == nil {
		lines = defaultLog(a.name, s.appURL(a), sc.final())
	}
	d := &deployment{id: newUUID(), app: a, sourceURL: sourceURL, gitRef: gitRef, hook: hook,
		env: a.env(), addons: addonsOf(a), createdAt: s.now(), buildTime: sc.BuildTime}
	d.states, d.chunks = plan(sc, lines)
	d.status = d.states[0]
	if n := len(a.deps); n > 0 {
		d.prevRef = a.deps[n-1].gitRef
	}
	d.advance.Lock()
	a.deps = append(a.deps, d)
	s.publish(a, event{Type: "new", ID: d.id, Data: s.deploymentJSON(d)})
	s.mu.Unlock()

	s.enter(d)
	d.advance.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"deployment": s.deploymentJSON(d)})
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, d *deployment) {
	d.advance.Lock()
	switch {
	case d.buildTime > 0:
		s.moveByTime(d)
	case d.state < len(d.states)-1:
		d.state++
		s.enter(d)
	}
	s.mu.Lock()
	d.polls++
	s.mu.Unlock()
	d.advance.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"deployment": s.deploymentJSON(d)})
}

// moveByTime moves d (Scenario.BuildTime) to the state the fake's clock says, through
// every state in between. The caller holds d.advance, not s.mu.
func (s *Server) moveByTime(d *deployment) {
	last := len(d.states) - 1
	if last <= 0 {
		return
	}
	target := min(last, int(s.now().Sub(d.createdAt)*time.Duration(last)/d.buildTime))
	for d.state < target && d.state < len(d.states)-1 {
		d.state++
		s.enter(d)
	}
}

// Tick moves every deployment that follows the clock (Scenario.BuildTime) to where
// Options.Now says, sending their log lines and status changes on the stream. The fake
// does it on every API request; a test that moves the clock calls it so that the stream
// speaks at the right time whether or not a request comes.
func (s *Server) Tick() {
	s.mu.Lock()
	var timed []*deployment
	for key, a := range s.apps {
		if key != a.name {
			continue // the same app, by its id
		}
		for _, d := range a.deps {
			if d.buildTime > 0 && !isTerminal(d.status) {
				timed = append(timed, d)
			}
		}
	}
	s.mu.Unlock()
	for _, d := range timed {
		d.advance.Lock()
		s.moveByTime(d)
		d.advance.Unlock()
	}
}

// enter makes d enter d.states[d.state]: the builder fetches the source on
// entering "building", then the state's log lines go out, then its status.
// The caller holds d.advance, not s.mu.
func (s *Server) enter(d *deployment) {
	st := d.states[d.state]
	lines := d.chunks[d.state]
	if st == "building" && !d.fetched {
		d.fetched = true
		arch := s.fetchSource(d.sourceURL)
		s.mu.Lock()
		d.archive = arch
		s.mu.Unlock()
		if arch.Err != "" {
			lines = []string{arch.Err}
			d.states = append(d.states[:d.state+1:d.state+1], "build-error")
			d.chunks = append(d.chunks[:d.state+1:d.state+1], nil)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		d.log = append(d.log, l)
		s.publish(d.app, event{Type: "log", ID: d.id, Data: map[string]any{"content": l + "\n"}})
	}
	if st != d.status {
		d.status = st
		if isTerminal(st) {
			d.finishedAt = s.now()
		}
		s.publish(d.app, event{Type: "status", ID: d.id, Data: map[string]any{"status": st}})
	}
}

func (s *Server) getOutput(w http.ResponseWriter, r *http.Request, d *deployment) {
	s.mu.Lock()
	text := logText(d.log)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, a *app) {
	page := queryInt(r, "page", 1, 1, 1<<30)
	perPage := queryInt(r, "per_page", 20, 1, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	total := len(a.deps)
	list := []any{}
	for i := total - 1 - (page-1)*perPage; i >= 0 && len(list) < perPage; i-- {
		list = append(list, s.deploymentJSON(a.deps[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deployments": list, "meta": pagination(page, perPage, total)})
}

// queryInt reads a positive integer parameter; bad values get the default,
// as a lenient paginator does.
func queryInt(r *http.Request, name string, def, lo, hi int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < lo {
		return def
	}
	return min(v, hi)
}

// deploymentJSON renders d as the API does. The caller holds s.mu.
func (s *Server) deploymentJSON(d *deployment) map[string]any {
	end := s.now()
	var finished any
	if !d.finishedAt.IsZero() {
		end = d.finishedAt
		finished = d.finishedAt.In(paris).Format(timeLayout)
	}
	var imageSize int64
	if d.status == "success" {
		imageSize = 104857600
	}
	var gitRef, prevRef, hook any
	if d.hook != nil {
		hook = *d.hook
	}
	if d.gitRef != nil {
		gitRef = *d.gitRef
	}
	if d.prevRef != nil {
		prevRef = *d.prevRef
	}
	return map[string]any{
		"id":               d.id,
		"app_id":           d.app.id,
		"created_at":       d.createdAt.In(paris).Format(timeLayout),
		"finished_at":      finished,
		"status":           d.status,
		"git_ref":          gitRef,
		"previous_git_ref": prevRef,
		"type":             "archive",
		"duration":         int(end.Sub(d.createdAt) / time.Second),
		"image_size":       imageSize,
		"stack_base_image": "scalingo/scalingo-22",
		"postdeploy_hook":  hook,
		"pusher": map[string]any{
			"id": fakeUserID, "username": "fake-user", "fullname": "Fake User", "email": "fake-user@example.com",
		},
		"links": map[string]any{
			"output": fmt.Sprintf("%s/v1/apps/%s/deployments/%s/output", s.RegionAPIURL(d.app.region), d.app.id, d.id),
		},
	}
}

// pagination is the "meta" of a paginated list, as the API answers it.
func pagination(page, perPage, total int) map[string]any {
	totalPages := (total + perPage - 1) / perPage
	var prev, next any
	if page > 1 {
		prev = page - 1
	}
	if page < totalPages {
		next = page + 1
	}
	return map[string]any{"pagination": map[string]any{
		"current_page": page, "per_page": perPage, "prev_page": prev, "next_page": next,
		"total_pages": totalPages, "total_count": total,
	}}
}
