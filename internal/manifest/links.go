package manifest

import (
	"regexp"
	"slices"
	"strings"
)

// A review app may name another review app of the same run: %URL:api% is the URL of
// the review app of parent api, %APP:api% its name. They are resolved once every
// review app of the run exists, before any is deployed.

// linkToken is one reference; the name is checked against the run's parents, so that
// anything between the colon and the next % is caught.
var linkToken = regexp.MustCompile(`%(URL|APP):([^%\s]*)%`)

// Sibling is another review app of the run, as its references resolve.
type Sibling struct{ App, URL string }

// LinkNames returns the parent names s refers to, in order, each once.
func LinkNames(s string) []string {
	var out []string
	for _, m := range linkToken.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[2]) {
			out = append(out, m[2])
		}
	}
	return out
}

// Link resolves the references of s in one pass (a resolved value is never resolved
// again); a name not in siblings is left as written.
func Link(s string, siblings map[string]Sibling) string {
	return linkReplacer(siblings).Replace(s)
}

func linkReplacer(siblings map[string]Sibling) *strings.Replacer {
	return strings.NewReplacer(linkPairs(siblings)...)
}

func linkPairs(siblings map[string]Sibling) []string {
	var pairs []string
	for name, sib := range siblings {
		pairs = append(pairs, "%URL:"+name+"%", sib.URL, "%APP:"+name+"%", sib.App)
	}
	return pairs
}

// LinkNames returns the parent names the manifest's templates refer to, each once.
func (m *Manifest) LinkNames() []string {
	var out []string
	for _, v := range m.Env {
		if v.Generator != "template" && v.Generator != "url" {
			continue
		}
		for _, n := range LinkNames(v.Template) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}
