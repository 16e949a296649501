package config

import (
	"fmt"
	"slices"
	"strings"
)

// The prefixes of the variables inputs are read from.
var familyPrefixes = []string{"INPUT_", "PLUGIN_", "SCALINGO_"}

// notInputs are SCALINGO_* variables that are no input and not a mistake either: the
// outputs (a later GitLab, Drone or Woodpecker step sees them, platform/outputs.go) and
// the scalingo CLI's own settings.
var notInputs = []string{
	"SCALINGO_DEPLOYMENT_ID", "SCALINGO_DEPLOYMENT_STATUS", "SCALINGO_APP_URL", "SCALINGO_ARCHIVE_SIZE",
	"SCALINGO_APP_NAME", "SCALINGO_HEALTH", "SCALINGO_DASHBOARD_URL", "SCALINGO_DEPLOYMENTS", "SCALINGO_DB_URL", "SCALINGO_SSH_HOST",
}

// notInputPrefixes are the per-target outputs, SCALINGO_DEPLOYMENT_STATUS_MY_API and so on.
var notInputPrefixes = []string{"SCALINGO_DEPLOYMENT_ID_", "SCALINGO_DEPLOYMENT_STATUS_", "SCALINGO_APP_URL_"}

// Spellings returns every variable name an input is read from, in the order they are
// tried (after its flag).
func spellings(name string) []string {
	upper := strings.ToUpper(name)
	snake := strings.ReplaceAll(upper, "-", "_")
	out := []string{"INPUT_" + upper, "PLUGIN_" + snake}
	if snake != upper {
		out = append(out, "PLUGIN_"+upper)
	}
	return append(out, "SCALINGO_"+snake)
}

// Lookalikes returns a warning for each variable of environ ("NAME=value" items, as
// os.Environ gives) that looks like an input's but is not read: a typo (SCALINGO_APPP), a
// wrong separator (INPUT_API_TOKEN), a lower-case name, an extra word (PLUGIN_APP_NAME).
// Each names the input it resembles and the spelling to use. Values are never read.
func Lookalikes(environ []string) []string {
	read := map[string]bool{}
	for _, in := range inputs {
		for _, s := range spellings(in.name) {
			read[s] = true
		}
	}
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if read[name] || slices.Contains(notInputs, name) || hasAnyPrefix(name, notInputPrefixes) {
			continue
		}
		if w := lookalike(name); w != "" {
			warnings = append(warnings, w)
		}
	}
	slices.Sort(warnings)
	return slices.Compact(warnings)
}

// lookalike explains name, a variable that is not read, when it resembles an input's.
func lookalike(name string) string {
	upper := strings.ToUpper(name)
	var prefix string
	for _, p := range familyPrefixes {
		if strings.HasPrefix(upper, p) {
			prefix = p
		}
	}
	if prefix == "" {
		return ""
	}
	rest := strings.ReplaceAll(upper[len(prefix):], "-", "_")
	in, ok := resembled(rest, prefix != "SCALINGO_")
	if !ok {
		return ""
	}
	snake := strings.ReplaceAll(strings.ToUpper(in.name), "-", "_")
	use := "SCALINGO_" + snake
	switch prefix {
	case "INPUT_":
		// INPUT_API-TOKEN is what GitHub sets; a shell cannot name a variable with '-'.
		if strings.Contains(in.name, "-") {
			use = fmt.Sprintf("SCALINGO_%s (GitHub Actions passes the input %s as INPUT_%s, with its dash)", snake, in.name, strings.ToUpper(in.name))
		} else {
			use = fmt.Sprintf("SCALINGO_%s or INPUT_%s", snake, snake)
		}
	case "PLUGIN_":
		use = fmt.Sprintf("PLUGIN_%s (the setting %s) or SCALINGO_%s", snake, strings.ToLower(snake), snake)
	}
	return fmt.Sprintf("%s is set but is not read: it looks like the input %s; set %s", name, in.name, use)
}

// resembled returns the input whose variable suffix rest looks like: the same, a typo of it,
// a longer form of a short name (TOKEN for API_TOKEN), or, when extraWord, it followed by
// a word (APP_NAME for APP).
func resembled(rest string, extraWord bool) (input, bool) {
	best, bestDist := input{}, -1
	for _, in := range inputs {
		snake := strings.ReplaceAll(strings.ToUpper(in.name), "-", "_")
		switch {
		case rest == snake:
			return in, true
		case len(rest) >= 3 && strings.HasSuffix(snake, "_"+rest):
			return in, true
		case extraWord && strings.HasPrefix(rest, snake+"_"):
			return in, true
		}
		if d := distance(rest, snake); bestDist < 0 || d < bestDist {
			best, bestDist = in, d
		}
	}
	return best, bestDist >= 0 && bestDist <= maxTypo(best.name)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
