package fakescalingo

import (
	"archive/tar"
	"bufio"
	"bytes"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// appNameRE is Scalingo's app name rule without the length (apps.md).
var appNameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// checkAppName returns the 422 messages for name, nil when it is valid.
func checkAppName(name string, maxLen int) []string {
	switch {
	case name == "":
		return []string{"can't be blank"}
	case !appNameRE.MatchString(name):
		return []string{"should contain only lowercap letters, digits and hyphens"}
	case len(name) < 6:
		return []string{"is too short (minimum is 6 characters)"}
	case len(name) > maxLen:
		return []string{"is too long (maximum is " + strconv.Itoa(maxLen) + " characters)"}
	}
	return nil
}

type appParams struct {
	App *struct {
		Name     string `json:"name"`
		ParentID string `json:"parent_id"`
	} `json:"app"`
}

// createChildApp answers POST /v1/apps/{parent}/child_apps: 201 {"app":{…}}
// with parent_app_name; the child lives in the parent's region and belongs
// to the parent's owner, whoever asked (a collaborator may).
func (s *Server) createChildApp(w http.ResponseWriter, r *http.Request, parent *app) {
	var body appParams
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.App == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"app": []string{"missing field"}}})
		return
	}
	s.createAppAnswer(w, body.App.Name, parent, s.opts.ChildNameMax, regionOf(r))
}

// createApp answers POST /v1/apps, with go-scalingo's parent_id (a name or
// an id) for a child.
func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	var body appParams
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.App == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"app": []string{"missing field"}}})
		return
	}
	var parent *app
	if id := body.App.ParentID; id != "" {
		s.mu.Lock()
		parent = s.apps[id]
		s.mu.Unlock()
		if parent == nil || parent.region != regionOf(r) {
			writeJSON(w, http.StatusNotFound, map[string]any{"resource": "app", "error": "not found"})
			return
		}
	}
	s.createAppAnswer(w, body.App.Name, parent, 48, regionOf(r))
}

func (s *Server) createAppAnswer(w http.ResponseWriter, name string, parent *app, maxLen int, region string) {
	if msgs := checkAppName(name, maxLen); msgs != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"name": msgs}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if parent != nil && parent.sc.FreeTrialExceeded {
		// Review apps count as apps; the trial allows one (free-trial.md);
		// the CLI matches "name" ending in free-trial-exceeded.
		writeJSON(w, http.StatusPaymentRequired, map[string]any{
			"name":  "free-trial-exceeded",
			"error": "You can't create more than one application during your free trial",
			"url":   "https://dashboard.scalingo.com/billing",
		})
		return
	}
	// Names are DNS labels under the region's domain: unique across the fake.
	if s.apps[name] != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"name": []string{"has already been taken"}}})
		return
	}
	parentName := ""
	if parent != nil {
		parentName = parent.name
	}
	sc, ok := s.planned[name]
	if !ok {
		sc = s.planned[""]
	}
	a := s.newApp(name, region, parentName, sc)
	a.isNew = true
	if parent != nil {
		s.inherit(parent, a)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"app": s.appJSON(a)})
}

// listChildApps answers GET /v1/apps/{parent}/child_apps, paginated.
func (s *Server) listChildApps(w http.ResponseWriter, r *http.Request, parent *app) {
	page := queryInt(r, "page", 1, 1, 1<<30)
	perPage := queryInt(r, "per_page", 20, 1, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	var children []*app
	for key, a := range s.apps {
		if a.parent == parent.name && key == a.name {
			children = append(children, a)
		}
	}
	slices.SortFunc(children, func(x, y *app) int { return strings.Compare(x.name, y.name) })
	total := len(children)
	list := []any{}
	for i := (page - 1) * perPage; i < total && len(list) < perPage; i++ {
		list = append(list, s.appJSON(children[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"child_apps": list, "meta": pagination(page, perPage, total)})
}

// deleteApp answers DELETE /v1/apps/{app}?current_name={app}: 204, owner only.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, a *app) {
	if r.URL.Query().Get("current_name") != a.name {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{
			"current_name": []string{"should be the name of the application"}}})
		return
	}
	if userOf(r) != fakeUserID {
		// roles.md: "Delete app: Collaborator No".
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "You are not allowed to delete this application: only its owner can"})
		return
	}
	s.mu.Lock()
	if s.apps[a.name] == a {
		delete(s.apps, a.name)
		delete(s.apps, a.id)
		s.deleted = append(s.deleted, a.name)
	}
	web := a.web
	a.web = nil
	s.mu.Unlock()
	if web != nil {
		web.CloseClientConnections()
		web.Close()
	}
	w.WriteHeader(http.StatusNoContent)
}

type operation struct {
	id        string
	created   time.Time
	finished  time.Time
	polls     int
	status    string // pending, running, done, error
	errText   string
	formation map[string]Container // applied when done
}

// containerSizes are Scalingo's container sizes.
var containerSizes = []string{"XS", "S", "M", "L", "XL", "2XL", "3XL", "4XL"}

// containerTypes are the process types of a's last deployed archive's
// Procfile, or "web" when there is none. The caller holds s.mu.
func (a *app) containerTypes() []string {
	types := []string{}
	for i := len(a.deps) - 1; i >= 0; i-- {
		arch := a.deps[i].archive
		if arch == nil || arch.Err != "" {
			continue
		}
		for _, e := range arch.Entries {
			if e.Typeflag != tar.TypeReg || strings.Count(e.Name, "/") != 1 || !strings.HasSuffix(e.Name, "/Procfile") {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(e.Content))
			for sc.Scan() {
				name, _, ok := strings.Cut(sc.Text(), ":")
				if name = strings.TrimSpace(name); ok && name != "" && name != "postdeploy" && !strings.HasPrefix(name, "#") {
					types = append(types, name)
				}
			}
		}
		break
	}
	if len(types) == 0 {
		types = []string{"web"}
	}
	return types
}

// scale answers POST /v1/apps/{app}/scale. An app never deployed is scaled
// at once (200, as go-scalingo's comment says); otherwise 202 with a
// Location to the operation to poll.
func (s *Server) scale(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Containers *[]struct {
			Name   string `json:"name"`
			Amount *int   `json:"amount"`
			Size   string `json:"size"`
		} `json:"containers"`
	}
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.Containers == nil || len(*body.Containers) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"containers": []string{"missing field"}}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range a.ops {
		if op.status == "pending" || op.status == "running" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{
				"app": []string{"is scaling, no other operation is doable until it is running again"}}})
			return
		}
	}
	types := a.containerTypes()
	next := maps.Clone(a.formation)
	var answer []any
	for _, c := range *body.Containers {
		if !slices.Contains(types, c.Name) {
			writeJSON(w, http.StatusNotFound, map[string]any{"resource": "container_type", "error": "not found"})
			return
		}
		cur, had := a.formation[c.Name]
		if !had {
			cur = Container{Size: "M"}
		}
		if c.Amount != nil {
			if *c.Amount < 0 || *c.Amount > 10 {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"amount": []string{"must be between 0 and 10"}}})
				return
			}
			cur.Amount = *c.Amount
		}
		if c.Size != "" {
			if !slices.Contains(containerSizes, c.Size) {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"size": []string{"is invalid"}}})
				return
			}
			cur.Size = c.Size
		}
		next[c.Name] = cur
		answer = append(answer, map[string]any{"name": c.Name, "amount": cur.Amount, "size": cur.Size})
	}
	if maps.Equal(next, a.formation) {
		// scalingo-review-app-manager treats this 422 as benign.
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"containers": []string{"no change in containers formation"}}})
		return
	}
	if len(a.deps) == 0 {
		a.formation = next
		writeJSON(w, http.StatusOK, map[string]any{"containers": answer})
		return
	}
	op := &operation{id: newUUID(), created: s.now(), status: "pending", errText: a.sc.ScaleError, formation: next}
	a.ops = append(a.ops, op)
	w.Header().Set("Location", s.RegionAPIURL(a.region)+"/v1/apps/"+a.name+"/operations/"+op.id)
	writeJSON(w, http.StatusAccepted, map[string]any{"containers": answer})
}

// getOperation answers GET /v1/apps/{app}/operations/{id}; each GET moves a
// scale operation: "running" for Scenario.ScalePolls GETs, then done (or
// error with Scenario.ScaleError).
func (s *Server) getOperation(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var op *operation
	for _, o := range a.ops {
		if o.id == r.PathValue("id") {
			op = o
		}
	}
	if op == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "operation", "error": "not found"})
		return
	}
	if op.status == "pending" || op.status == "running" {
		op.polls++
		switch {
		case op.polls <= a.sc.ScalePolls:
			op.status = "running"
		case op.errText != "":
			op.status = "error"
			op.finished = s.now()
		default:
			op.status = "done"
			op.finished = s.now()
			a.formation = op.formation
		}
	}
	var finished any
	if !op.finished.IsZero() {
		finished = op.finished.In(paris).Format(timeLayout)
	}
	errText := ""
	if op.status == "error" {
		errText = op.errText
	}
	writeJSON(w, http.StatusOK, map[string]any{"operation": map[string]any{
		"id": op.id, "app_id": a.id, "type": "scale", "status": op.status, "error": errText,
		"created_at": op.created.In(paris).Format(timeLayout), "finished_at": finished,
	}})
}
