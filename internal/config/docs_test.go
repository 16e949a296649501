package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The docs' consistency with the inputs table (TestInputs_Documented holds --help,
// action.yml and the README's table to it): every page that lists inputs lists each input of
// the table, and no page says again what issue 18 found contradicting another.

func readRepo(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of a markdown section, from its heading to the next heading of
// the same level or higher.
func section(t *testing.T, doc, path, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("%s has no section %q", path, heading)
	}
	rest := doc[i+len(heading)+2:]
	level := strings.Count(strings.Fields(heading)[0], "#")
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} `).FindAllStringIndex(rest, -1) {
		if strings.Count(rest[m[0]:m[1]], "#") <= level {
			return rest[:m[0]]
		}
	}
	return rest
}

// tableNames returns the first cell of each row of the markdown tables of text, without
// backticks: `app` → app.
func tableNames(text string) []string {
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_-]+)` \\|").FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	return names
}

// inputNames returns the table's inputs, spelled by spell.
func inputNames(spell func(string) string) []string {
	var names []string
	for _, in := range inputs {
		names = append(names, spell(in.name))
	}
	return names
}

func snake(name string) string { return strings.ReplaceAll(name, "-", "_") }

// sameSet reports each name of want missing from got, and each name of got not in want.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %s is missing", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: %s should not be there", what, g)
		}
	}
}

// TestDocs_InputsTables: docs/github.md's and docs.md's tables have one row per input, and
// docs/gitlab.md names every input's variable.
func TestDocs_InputsTables(t *testing.T) {
	t.Parallel()
	github := readRepo(t, "docs/github.md")
	sameSet(t, "docs/github.md's inputs table", tableNames(section(t, github, "docs/github.md", "## Inputs")), inputNames(func(n string) string { return n }))
	plugin := readRepo(t, "docs.md")
	sameSet(t, "docs.md's settings table", tableNames(section(t, plugin, "docs.md", "## Settings")), inputNames(snake))

	gitlab := readRepo(t, "docs/gitlab.md")
	i := strings.Index(gitlab, "Inputs are `SCALINGO_*` variables")
	if i < 0 {
		t.Fatal("docs/gitlab.md has no paragraph starting \"Inputs are `SCALINGO_*` variables\"")
	}
	para, _, _ := strings.Cut(gitlab[i:], "\n\n")
	var vars []string
	for _, m := range regexp.MustCompile("`(SCALINGO_[A-Z_]+)`").FindAllStringSubmatch(para, -1) {
		vars = append(vars, m[1])
	}
	sameSet(t, "docs/gitlab.md's list of variables", vars, inputNames(envName))
}

// componentInputs returns the spec inputs of a GitLab component.
func componentInputs(t *testing.T, path string) []string {
	t.Helper()
	var spec struct {
		Spec struct {
			Inputs map[string]any `yaml:"inputs"`
		} `yaml:"spec"`
	}
	doc, _, _ := strings.Cut(readRepo(t, path), "\n---\n")
	if err := yaml.Unmarshal([]byte(doc), &spec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var names []string
	for n := range spec.Spec.Inputs {
		names = append(names, n)
	}
	return names
}

// TestDocs_Components: each component's page says which tool inputs the component lacks,
// in one sentence, "Every tool input but the token, `a` and `b` is a component input of the
// same name", and that sentence is right: the token and those inputs are all the component
// lacks. An input added to the table is added to the component or to the sentence.
func TestDocs_Components(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, template string }{
		{"docs/gitlab.md", "templates/deploy.yml"},
		{"docs/review-apps.md", "templates/review-app.yml"},
	} {
		t.Run(tc.template, func(t *testing.T) {
			t.Parallel()
			text := strings.Join(strings.Fields(readRepo(t, tc.doc)), " ")
			m := regexp.MustCompile(`Every tool input but the token, (.*?) is a component input of the same name`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("%s has no sentence \"Every tool input but the token, … is a component input of the same name\"", tc.doc)
			}
			var said []string
			for _, n := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(m[1], -1) {
				said = append(said, n[1])
			}
			have := componentInputs(t, tc.template)
			var lacks []string
			for _, in := range inputs {
				if in.name != tokenInput && !slices.Contains(have, in.name) {
					lacks = append(lacks, in.name)
				}
			}
			sameSet(t, fmt.Sprintf("the tool inputs that %s says %s lacks", tc.doc, tc.template), said, lacks)
			if slices.Contains(have, tokenInput) {
				t.Errorf("%s has an api-token input: it would be written in the pipeline file", tc.template)
			}
		})
	}
}

// docPages are the pages a user reads: the README, the plugin page and docs/.
func docPages(t *testing.T) map[string]string {
	t.Helper()
	pages := map[string]string{"README.md": readRepo(t, "README.md"), "docs.md": readRepo(t, "docs.md"),
		"action.yml": readRepo(t, "action.yml"), "templates/deploy.yml": readRepo(t, "templates/deploy.yml"),
		"templates/review-app.yml": readRepo(t, "templates/review-app.yml")}
	entries, err := os.ReadDir("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			pages["docs/"+e.Name()] = readRepo(t, "docs/"+e.Name())
		}
	}
	if len(pages) < 15 {
		t.Fatalf("read %d pages", len(pages))
	}
	return pages
}

const releasesURL = "https://github.com/scalingo-deploy/scalingo-deploy/releases"

// TestDocs_NoContradiction fails on each contradiction issue 18 found, if it comes back.
func TestDocs_NoContradiction(t *testing.T) {
	t.Parallel()
	pages := docPages(t)
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	checkoutRef := regexp.MustCompile(`actions/checkout@(\S+)`)
	refs := map[string][]string{}
	for path, text := range pages {
		f := flat(text)
		for _, bad := range []struct{ re, why string }{
			// The token's place: one wording, the README's "Where the token comes from".
			{`(Account|Profile) → API [Tt]okens`, "the dashboard's menu is User settings → API Tokens (README, Where the token comes from)"},
			// A protected variable never reaches the merge-request pipelines of review apps.
			{`(?i)masked\*{0,2},? and \*{0,2}protected|masked, protected`, "a protected token does not reach merge-request pipelines (docs/review-apps.md); say when to protect it"},
			// Every archive format works.
			{"(?i)folder or `?\\.?tar\\.gz|folder \\(or \\.tar\\.gz", "path takes a folder or any archive format (README's inputs table)"},
			// Outputs not written are not empty ones on dotenv pages.
			{"SCALINGO_HEALTH[^.]*or empty", "SCALINGO_HEALTH is not written when no health check ran"},
			// A version the release does not make.
			{`\b1\.2\.3\b`, "a placeholder is written X.Y.Z, with a link to the releases"},
		} {
			if path == "docs/github.md" && bad.re == `\b1\.2\.3\b` {
				// It explains the tag scheme (v1.2.3 and the moving v1); it pins nothing.
				f = strings.Replace(f, "Each release tag (`v1.2.3`, and the moving `v1`)", "", 1)
			}
			if loc := regexp.MustCompile(bad.re).FindStringIndex(f); loc != nil {
				t.Errorf("%s says %q: %s", path, f[loc[0]:loc[1]], bad.why)
			}
		}
		if strings.Contains(text, "X.Y.Z") && !strings.Contains(text, releasesURL) {
			t.Errorf("%s writes the placeholder X.Y.Z without a link to %s", path, releasesURL)
		}
		if path == "docs/forgejo.md" {
			continue // Forgejo resolves actions/checkout on its own mirror, with its own tags
		}
		for _, m := range checkoutRef.FindAllStringSubmatch(text, -1) {
			refs[m[1]] = append(refs[m[1]], path)
		}
	}
	if len(refs) > 1 {
		t.Errorf("the pages use several versions of actions/checkout: %v", refs)
	}
	// review-apps.md once said env was no input of the review-app component; the sentence
	// is checked by TestDocs_Components, and env must stay one.
	if !slices.Contains(componentInputs(t, "templates/review-app.yml"), "env") {
		t.Error("templates/review-app.yml has no env input")
	}
}

// TestDocs_TokenPlace: the README says where the token comes from, for deploys and for
// merge-request pipelines, and the pages that create one link there.
func TestDocs_TokenPlace(t *testing.T) {
	t.Parallel()
	readme := readRepo(t, "README.md")
	place := section(t, readme, "README.md", "### Where the token comes from")
	for _, want := range []string{"User settings", "API Tokens", "GitHub Actions", "GitLab CI", "protected", "merge-request pipeline", "review apps"} {
		if !strings.Contains(flatText(place), want) {
			t.Errorf("README's \"Where the token comes from\" does not say %q", want)
		}
	}
	for _, path := range []string{"docs/github.md", "docs/gitlab.md", "docs/review-apps.md"} {
		if !strings.Contains(readRepo(t, path), "README.md#where-the-token-comes-from") {
			t.Errorf("%s does not link to the README's \"Where the token comes from\"", path)
		}
	}
}

func flatText(s string) string { return strings.Join(strings.Fields(s), " ") }
