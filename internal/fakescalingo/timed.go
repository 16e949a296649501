package fakescalingo

import "time"

// due is the state index d may be in at now under Scenario.Duration: its states are
// spread evenly over Duration from its creation, the final one due at createdAt+Duration.
// Without a Duration every state is due (GETs alone move it, one state each).
// The caller holds d.advance.
func (d *deployment) due(sc Scenario, now time.Time) int {
	last := len(d.states) - 1
	if sc.Duration <= 0 || last <= 0 {
		return last
	}
	elapsed := now.Sub(d.createdAt)
	if elapsed >= sc.Duration {
		return last
	}
	return int(int64(last) * int64(elapsed) / int64(sc.Duration))
}

// AdvanceDue moves every deployment of an app with a Scenario.Duration to the state due on
// Options.Now, streaming its log and status as a GET would. The fake command calls it on a
// ticker, so that deployments end by the clock as they do on Scalingo; tests call it after
// moving their clock.
func (s *Server) AdvanceDue() {
	s.mu.Lock()
	var deps []*deployment
	seen := map[*app]bool{}
	for _, a := range s.apps {
		if seen[a] || a.sc.Duration <= 0 {
			continue
		}
		seen[a] = true
		deps = append(deps, a.deps...)
	}
	s.mu.Unlock()
	for _, d := range deps {
		s.advanceTo(d, -1)
	}
}

// advanceTo moves d by at most max states (all that are due when max < 0), no further
// than what its scenario's Duration lets be due now.
func (s *Server) advanceTo(d *deployment, max int) {
	d.advance.Lock()
	defer d.advance.Unlock()
	s.mu.Lock()
	sc := d.app.sc
	s.mu.Unlock()
	target := d.due(sc, s.now())
	for moved := 0; d.state < target && (max < 0 || moved < max); moved++ {
		d.state++
		s.enter(d)
	}
}
