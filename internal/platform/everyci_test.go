package platform

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// want per CI, written out rather than read from ci's table, so that a wrong entry
// there shows here: the golden log its dialect prints, and the files a run writes
// (GITHUB_OUTPUT and GITHUB_STEP_SUMMARY in GitHub's dialect, DRONE_OUTPUT on Drone).
var everyCI = map[string]struct {
	golden string
	files  []string
}{
	"Forgejo Actions":     {"github", []string{"gh-output", "summary"}},
	"Gitea Actions":       {"github", []string{"gh-output", "summary"}},
	"GitHub Actions":      {"github", []string{"gh-output", "summary"}},
	"GitLab CI":           {"gitlab", nil},
	"Woodpecker":          {"local", nil},
	"Drone":               {"local", []string{"drone-output"}},
	"Bitbucket Pipelines": {"local", nil},
	"CircleCI":            {"local", nil},
	"Jenkins":             {"local", nil},
	"Azure Pipelines":     {"local", nil},
	"Buildkite":           {"local", nil},
	"Travis CI":           {"local", nil},
	"Semaphore":           {"local", nil},
	"a local shell":       {"local", nil},
}

// TestReporter_EveryCI: each CI's reporter speaks its dialect (Forgejo and Gitea as
// GitHub, the CIs of issue 11 in plain lines), and writes outputs and a step summary
// only where its CI reads them.
func TestReporter_EveryCI(t *testing.T) {
	t.Parallel()
	all := ci.All()
	if len(all) != len(everyCI) {
		t.Errorf("%d CIs, %d rows here: give the new CI a row", len(all), len(everyCI))
	}
	for _, c := range all {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			want, ok := everyCI[c.Name]
			if !ok {
				t.Fatalf("no row for %s", c.Name)
			}
			kind := c

			var out bytes.Buffer
			r := New(kind, &out, env(), fixed)
			if r.Annotates() != (want.golden == "github") {
				t.Errorf("Annotates = %v", r.Annotates())
			}
			script(r)
			golden, err := os.ReadFile(filepath.Join("testdata", want.golden+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if got := untrustedToken.ReplaceAllString(out.String(), "TOKEN"); got != string(golden) {
				t.Errorf("log differs from %s.golden:\n%s", want.golden, got)
			}

			dir := t.TempDir()
			e := env("GITHUB_OUTPUT", filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY", filepath.Join(dir, "summary"),
				"DRONE_OUTPUT", filepath.Join(dir, "drone-output"))
			r = New(kind, &bytes.Buffer{}, e, fixed)
			if err := r.CheckDestinations(""); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteOutputs(Outputs{DeploymentID: "d-1", Status: "success"}, ""); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteSummary(Summary{App: "a", Status: "success"}); err != nil {
				t.Fatal(err)
			}
			var files []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				files = append(files, e.Name())
			}
			slices.Sort(files)
			if !slices.Equal(files, want.files) {
				t.Errorf("files written %q, want %q", files, want.files)
			}
			if slices.Contains(files, "drone-output") {
				if got, _ := os.ReadFile(filepath.Join(dir, "drone-output")); !strings.Contains(string(got), "SCALINGO_DEPLOYMENT_ID=d-1\n") {
					t.Errorf("DRONE_OUTPUT holds %q", got)
				}
			}
		})
	}
}
