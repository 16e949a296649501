package fakescalingo

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// What a review app's set-up needs of the fake beyond creating a child: a child that
// inherits its parent's addons, and removing an addon.

// inherit gives child what Scenario.ChildrenInheritVariables and
// ChildrenInheritAddons say a new child of parent gets. An inherited addon is a new
// resource of the same plan, running at once; its variable is the parent's value, as a
// copy of the parent's variables would carry it. The caller holds s.mu.
func (s *Server) inherit(parent, child *app) {
	if parent.sc.ChildrenInheritVariables {
		for _, v := range parent.vars {
			child.setVar(v.name, v.value)
		}
	}
	if !parent.sc.ChildrenInheritAddons {
		return
	}
	for _, pa := range parent.addons {
		ad := &addon{id: "ad-" + newUUID(), provider: pa.provider, prov: pa.prov, plan: pa.plan, created: s.now(),
			resourceID: strings.ReplaceAll(child.name, "-", "_") + "_" + randomHex(4)}
		child.addons = append(child.addons, ad)
		if v, ok := parent.env()[pa.prov.varName]; ok {
			child.setVar(pa.prov.varName, v)
		}
	}
}

// deleteAddon answers DELETE /v1/apps/{app}/addons/{id}: 204, and the addon's
// variable goes with it.
func (s *Server) deleteAddon(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(a.addons, func(ad *addon) bool { return ad.id == r.PathValue("id") })
	if i < 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "addon", "error": "not found"})
		return
	}
	ad := a.addons[i]
	if ad.removing > 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"resource": "addon", "error": "not found"})
		return
	}
	if ad.removing = a.sc.AddonRemovalPolls; ad.removing == 0 {
		a.dropAddon(ad)
	}
	w.WriteHeader(http.StatusNoContent)
}

// dropAddon removes ad and its variable. The caller holds s.mu.
func (a *app) dropAddon(ad *addon) {
	a.addons = slices.DeleteFunc(a.addons, func(x *addon) bool { return x == ad })
	a.vars = slices.DeleteFunc(a.vars, func(v *variable) bool { return v.name == ad.prov.varName })
}

// settleRemovals counts one listing for each addon being removed, and drops those
// whose removal is done. The caller holds s.mu.
func (a *app) settleRemovals() {
	for _, ad := range slices.Clone(a.addons) {
		if ad.removing > 0 {
			if ad.removing--; ad.removing == 0 {
				a.dropAddon(ad)
			}
		}
	}
}

// addonsOf is the snapshot of a's addons. The caller holds s.mu.
func addonsOf(a *app) []Addon {
	var out []Addon
	for _, ad := range a.addons {
		out = append(out, Addon{ID: ad.id, Provider: ad.provider, PlanID: ad.plan.id,
			PlanName: ad.plan.name, Status: ad.status(a.sc), Polls: ad.polls})
	}
	return out
}

// AddAddon gives app an addon of provider with the plan named plan, running at once,
// and sets the provider's variable, as provisioning does: a parent's addons for a child
// to inherit.
func (s *Server) AddAddon(appName, provider, plan string) error {
	p := providers[provider]
	if p == nil {
		return fmt.Errorf("fakescalingo: no addon provider %q", provider)
	}
	i := slices.IndexFunc(p.plans, func(pl addonPlan) bool { return pl.name == plan })
	if i < 0 {
		return fmt.Errorf("fakescalingo: %s has no plan %q", provider, plan)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appName]
	if a == nil {
		return fmt.Errorf("fakescalingo: no app %q", appName)
	}
	ad := &addon{id: "ad-" + newUUID(), provider: p.id, prov: p, plan: p.plans[i], created: s.now(),
		resourceID: strings.ReplaceAll(a.name, "-", "_") + "_" + randomHex(4)}
	a.addons = append(a.addons, ad)
	a.setVar(p.varName, p.scheme+"://"+ad.resourceID+":"+randomHex(10)+"@127.0.0.1:1/"+ad.resourceID)
	return nil
}

// ClearFaults removes every injected fault: the next run meets a working API.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}
