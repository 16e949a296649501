package fakescalingo

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

type variable struct {
	id, name, value string
}

// varNameRE is the CLI's check of variable names (review-apps.md §5); the
// fake applies it on the server side, the strict reading.
var varNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

const (
	maxVarName  = 64
	maxVarValue = 8192
)

// env returns a's variables by name. The caller holds s.mu.
func (a *app) env() map[string]string {
	m := map[string]string{}
	for _, v := range a.vars {
		m[v.name] = v.value
	}
	return m
}

// setVar creates or updates a variable. The caller holds s.mu.
func (a *app) setVar(name, value string) *variable {
	for _, v := range a.vars {
		if v.name == name {
			v.value = value
			return v
		}
	}
	v := &variable{id: randomHex(12), name: name, value: value}
	a.vars = append(a.vars, v)
	return v
}

func varJSON(v *variable) map[string]any {
	return map[string]any{"id": v.id, "name": v.name, "value": v.value}
}

type varParam struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

// check returns the 422 errors of one variable, nil when it is fine.
func (p varParam) check() map[string][]string {
	errs := map[string][]string{}
	switch {
	case p.Name == nil || *p.Name == "":
		errs["name"] = []string{"can't be blank"}
	case utf8.RuneCountInString(*p.Name) > maxVarName:
		errs["name"] = []string{"is too long (maximum is 64 characters)"}
	case !varNameRE.MatchString(*p.Name):
		errs["name"] = []string{"should contain only letters, digits, hyphens and underscores"}
	}
	switch {
	case p.Value == nil:
		errs["value"] = []string{"can't be blank"}
	case utf8.RuneCountInString(*p.Value) > maxVarValue:
		errs["value"] = []string{"is too long (maximum is 8192 characters)"}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// listVariables answers GET /v1/apps/{app}/variables. A value that is an
// alias of another variable of the app ($SCALINGO_POSTGRESQL_URL) is answered
// as written with ?aliases=true, and resolved otherwise (environment.md): a
// client that copies variables must ask for the aliases.
func (s *Server) listVariables(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := r.URL.Query().Get("aliases") == "true"
	list := []any{}
	for _, v := range a.vars {
		out := *v
		if name, ok := strings.CutPrefix(v.value, "$"); ok && !keep {
			for _, target := range a.vars {
				if target.name == name {
					out.value = target.value
				}
			}
		}
		list = append(list, varJSON(&out))
	}
	writeJSON(w, http.StatusOK, map[string]any{"variables": list})
}

// putVariables is the bulk upsert: it creates or updates every variable
// sent, leaves the others, and answers the ones sent with their ids.
func (s *Server) putVariables(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Variables *[]varParam `json:"variables"`
	}
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.Variables == nil || len(*body.Variables) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"variables": []string{"missing field"}}})
		return
	}
	for _, p := range *body.Variables {
		if errs := p.check(); errs != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": errs})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, p := range *body.Variables {
		list = append(list, varJSON(a.setVar(*p.Name, *p.Value)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"variables": list})
}

// postVariable creates (or updates) one variable: 201 {"variable":{…}}.
func (s *Server) postVariable(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Variable *varParam `json:"variable"`
	}
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.Variable == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"variable": []string{"missing field"}}})
		return
	}
	if errs := body.Variable.check(); errs != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": errs})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := a.setVar(*body.Variable.Name, *body.Variable.Value)
	writeJSON(w, http.StatusCreated, map[string]any{"variable": varJSON(v)})
}

func (s *Server) deleteVariable(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, v := range a.vars {
		if v.id == r.PathValue("id") {
			a.vars = append(a.vars[:i], a.vars[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"resource": "variable", "error": "not found"})
}
