package platform

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestOutputs_Documented: every output a run writes is where outputs are listed: action.yml's
// outputs (with a description), the README's outputs table, docs/github.md's outputs and
// docs/gitlab.md's dotenv variables.
func TestOutputs_Documented(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	action, readme, github, gitlab := read("action.yml"), read("README.md"), read("docs/github.md"), read("docs/gitlab.md")
	_, outputs, ok := strings.Cut(action, "\noutputs:\n")
	if !ok {
		t.Fatal("action.yml has no outputs")
	}
	outputs, _, _ = strings.Cut(outputs, "\nruns:")
	for _, o := range (Outputs{}).list() {
		if o.github == "" {
			continue
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(o.github) + `:\n    description: \S`).MatchString(outputs) {
			t.Errorf("action.yml: no output %s with a description", o.github)
		}
		if !strings.Contains(readme, "| "+o.github+" | "+o.dotenv+" |") {
			t.Errorf("README.md: no row | %s | %s |", o.github, o.dotenv)
		}
		if !strings.Contains(github, "| `"+o.github+"` |") {
			t.Errorf("docs/github.md: no row for %s", o.github)
		}
		if !strings.Contains(gitlab, "| `"+o.dotenv+"` |") {
			t.Errorf("docs/gitlab.md: no row for %s", o.dotenv)
		}
	}
}
