package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestActionlint lints the repository's workflows and the GitHub workflows in docs/github.md and
// docs/review-apps.md.
// actionlint v1.7.12 is what .ci/container-setup.sh installs.
func TestActionlint(t *testing.T) {
	t.Parallel()
	lint := tool(t, "actionlint")
	root := repoRoot(t)

	workflows, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(workflows) < 2 {
		t.Fatalf("want ci.yml and release.yml in .github/workflows, found %q", workflows)
	}

	// The documented workflows, as a user would paste them.
	dir := t.TempDir()
	for _, name := range []string{"github", "review-apps"} {
		doc, err := os.ReadFile(filepath.Join(root, "docs", name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlocks(string(doc))
		if len(blocks) == 0 {
			t.Fatalf("docs/%s.md has no ```yaml block", name)
		}
		for i, b := range blocks {
			if !strings.Contains(b, "jobs:") || !strings.Contains(b, "runs-on:") {
				continue // a fragment, or another CI's pipeline
			}
			p := filepath.Join(dir, "docs-"+name+"-"+string(rune('a'+i))+".yml")
			if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
			workflows = append(workflows, p)
		}
	}

	tests := []struct {
		name  string
		files []string
		ok    bool
	}{
		{name: "workflows and docs", files: workflows, ok: true},
		// Proves a broken workflow fails this test: an unknown output of a known step.
		{name: "broken workflow", files: []string{writeFile(t, dir, "broken.yml", `on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - id: s
        run: echo hi
      - run: echo ${{ steps.s.output.x }}
`)}, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(lint, append([]string{"-no-color"}, tt.files...)...)
			cmd.Dir = root // so that `uses: ./` resolves to this repository's action.yml
			out, err := cmd.CombinedOutput()
			if tt.ok && err != nil {
				t.Errorf("actionlint: %v\n%s", err, out)
			}
			if !tt.ok && err == nil {
				t.Errorf("actionlint accepted %s", strings.Join(tt.files, " "))
			}
		})
	}
}

var yamlBlock = regexp.MustCompile("(?s)```ya?ml\n(.*?)```")

// yamlBlocks returns the contents of the ```yaml blocks of a Markdown text.
func yamlBlocks(md string) []string {
	var out []string
	for _, m := range yamlBlock.FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
