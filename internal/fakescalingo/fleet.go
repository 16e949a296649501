package fakescalingo

import (
	"archive/tar"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// seed applies an added app's Scenario.Formation and Scenario.Deployed. The
// caller holds s.mu.
func (s *Server) seed(a *app, sc Scenario) {
	if sc.Formation != nil {
		a.formation = maps.Clone(sc.Formation)
	}
	if !sc.Deployed {
		return
	}
	types := slices.Sorted(maps.Keys(a.formation))
	if len(types) == 0 {
		types = []string{"web"}
	}
	var procfile strings.Builder
	for _, t := range types {
		procfile.WriteString(t + ": bin/" + t + "\n")
	}
	now := s.now().Add(-sc.Age)
	d := &deployment{id: newUUID(), app: a, createdAt: now, finishedAt: now, status: "success",
		states: []string{"success"}, chunks: [][]string{nil}, fetched: true, env: a.env(), addons: addonsOf(a),
		archive: &Archive{ContentType: "application/x-gzip", Entries: []Entry{
			{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755},
			{Name: "app/Procfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(procfile.Len()), Content: []byte(procfile.String())},
		}}}
	if n := len(a.deps); n > 0 {
		d.prevRef = a.deps[n-1].gitRef
	}
	a.deps = append(a.deps, d)
}

// listContainers answers GET /v1/apps/{app}/containers: every process type
// of the last deployed Procfile, and any other the formation holds, with
// its amount and size (amount 0 for a type never scaled).
func (s *Server) listContainers(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	types := a.containerTypes()
	for t := range a.formation {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	list := []any{}
	for _, t := range types {
		c, ok := a.formation[t]
		if !ok {
			c = Container{Size: "M"}
		}
		list = append(list, map[string]any{"name": t, "amount": c.Amount, "size": c.Size, "command": "bin/" + t})
	}
	writeJSON(w, http.StatusOK, map[string]any{"containers": list})
}
