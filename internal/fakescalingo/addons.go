package fakescalingo

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

type addonPlan struct {
	id, name, display string
	price             float64
}

type provider struct {
	id, name string
	varName  string // the variable provisioning sets, e.g. SCALINGO_POSTGRESQL_URL
	scheme   string
	plans    []addonPlan
}

// providers is the fake's addon catalogue; plan ids are stable 24-hex ids,
// as the real ones look, so that a client must resolve names to ids.
var providers = func() map[string]*provider {
	mk := func(id, name, varName, scheme string, plans ...string) *provider {
		p := &provider{id: id, name: name, varName: varName, scheme: scheme}
		for i, n := range plans {
			sum := sha256.Sum256([]byte(id + "/" + n))
			p.plans = append(p.plans, addonPlan{id: hex.EncodeToString(sum[:12]), name: n,
				display: strings.ToUpper(n[:1]) + n[1:], price: float64(i) * 15})
		}
		return p
	}
	m := map[string]*provider{}
	for _, p := range []*provider{
		mk("postgresql", "Scalingo for PostgreSQL®", "SCALINGO_POSTGRESQL_URL", "postgres",
			"postgresql-sandbox", "postgresql-starter-512", "postgresql-starter-1024", "postgresql-business-1024"),
		mk("redis", "Scalingo for Caching", "SCALINGO_REDIS_URL", "redis",
			"redis-sandbox", "redis-starter-256", "redis-starter-512"),
		mk("mongodb", "Scalingo for MongoDB®", "SCALINGO_MONGO_URL", "mongodb",
			"mongo-sandbox", "mongo-starter-256", "mongo-starter-512"),
		mk("mysql", "Scalingo for MySQL®", "SCALINGO_MYSQL_URL", "mysql",
			"mysql-sandbox", "mysql-starter-512"),
	} {
		m[p.id] = p
		// go-scalingo's AddonProviderPlansList corrects names into "scalingo-<id>".
		m["scalingo-"+p.id] = p
	}
	return m
}()

type addon struct {
	id         string
	provider   string
	prov       *provider
	plan       addonPlan
	polls      int
	resourceID string
	created    time.Time
	// removing counts the listings a removed addon still appears in (Scenario.AddonRemovalPolls).
	removing int
}

// status is "provisioning" for Scenario.AddonPolls GETs, then "running".
func (ad *addon) status(sc Scenario) string {
	if ad.polls < sc.AddonPolls {
		return "provisioning"
	}
	return "running"
}

func planJSON(p addonPlan) map[string]any {
	return map[string]any{
		"id": p.id, "name": p.name, "display_name": p.display, "description": p.display + " plan",
		"price": p.price, "position": 0, "on_demand": false, "disabled": false,
		"disabled_alternative_plan_id": "", "sku": "sku-" + p.name, "hds_available": false,
		"to_be_discontinued": false, "trial_available": false,
	}
}

// addonJSON renders ad. The caller holds s.mu.
func (s *Server) addonJSON(a *app, ad *addon) map[string]any {
	return map[string]any{
		"id": ad.id, "app_id": a.id, "resource_id": ad.resourceID, "status": ad.status(a.sc),
		"plan":           planJSON(ad.plan),
		"addon_provider": map[string]any{"id": ad.prov.id, "name": ad.prov.name},
		"provisioned_at": ad.created.In(paris).Format(timeLayout), "deprovisioned_at": nil,
	}
}

// listPlans answers GET /v1/addon_providers/{provider}/plans.
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request) {
	p := providers[r.PathValue("provider")]
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "addon_provider", "error": "not found"})
		return
	}
	list := []any{}
	for _, pl := range p.plans {
		list = append(list, planJSON(pl))
	}
	writeJSON(w, http.StatusOK, map[string]any{"plans": list})
}

// pollAddons counts one GET for each of a's addons. The caller holds s.mu.
func (a *app) pollAddons() {
	for _, ad := range a.addons {
		ad.polls++
	}
}

func (s *Server) listAddons(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, ad := range a.addons {
		list = append(list, s.addonJSON(a, ad))
	}
	a.pollAddons()
	a.settleRemovals()
	writeJSON(w, http.StatusOK, map[string]any{"addons": list})
}

func (s *Server) getAddon(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ad := range a.addons {
		if ad.id == r.PathValue("id") {
			m := s.addonJSON(a, ad)
			ad.polls++
			writeJSON(w, http.StatusOK, map[string]any{"addon": m})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"resource": "addon", "error": "not found"})
}

// provisionAddon answers POST /v1/apps/{app}/addons with
// {"addon":{"addon_provider_id","plan_id","options"}}: plan_id must be a
// plan's id (not its name), one addon per provider. It sets the provider's
// SCALINGO_*_URL variable and answers 201 {addon, message, variables}.
func (s *Server) provisionAddon(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Addon *struct {
			ProviderID string            `json:"addon_provider_id"`
			PlanID     string            `json:"plan_id"`
			Options    map[string]string `json:"options"`
		} `json:"addon"`
	}
	empty, ok := readJSONBody(w, r, &body)
	if !ok {
		return
	}
	if empty || body.Addon == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"addon": []string{"missing field"}}})
		return
	}
	errs := map[string][]string{}
	if body.Addon.ProviderID == "" {
		errs["addon_provider_id"] = []string{"can't be blank"}
	}
	if body.Addon.PlanID == "" {
		errs["plan_id"] = []string{"can't be blank"}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": errs})
		return
	}
	prov := providers[body.Addon.ProviderID]
	if prov == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "addon_provider", "error": "not found"})
		return
	}
	var pl *addonPlan
	for i := range prov.plans {
		if prov.plans[i].id == body.Addon.PlanID {
			pl = &prov.plans[i]
		}
	}
	if pl == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "plan", "error": "not found"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ad := range a.addons {
		if ad.prov == prov {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{
				"addon_provider_id": []string{"an addon of this provider already exists on this app"}}})
			return
		}
	}
	ad := &addon{id: "ad-" + newUUID(), provider: prov.id, prov: prov, plan: *pl, created: s.now()}
	ad.resourceID = strings.ReplaceAll(a.name, "-", "_") + "_" + randomHex(4)
	a.addons = append(a.addons, ad)
	a.setVar(prov.varName, prov.scheme+"://"+ad.resourceID+":"+randomHex(10)+"@127.0.0.1:1/"+ad.resourceID)
	writeJSON(w, http.StatusCreated, map[string]any{
		"addon":     s.addonJSON(a, ad),
		"message":   "Your addon is being provisioned",
		"variables": []string{prov.varName},
	})
}
