package imagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The tests in this file read files only: they need no podman and always run.

// workflow is the part of a GitHub workflow these tests read.
type workflow struct {
	On struct {
		Push struct {
			Tags []string `yaml:"tags"`
		} `yaml:"push"`
	} `yaml:"on"`
	Jobs map[string]struct {
		Steps []struct {
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// tagScheme is what a release pushes: the image name, patterns its tags match, and patterns the
// action's git tags match.
type tagScheme struct {
	image   string
	tags    []*regexp.Regexp
	gitTags []*regexp.Regexp
}

// releaseScheme derives the tag scheme from release.yml: the metadata-action step's images,
// tags and flavor (which the build step must push), and the tag filter that starts a release.
// repo is owner/name, as ${{ github.repository }} would be.
func releaseScheme(t *testing.T, releaseYML []byte, repo string) tagScheme {
	t.Helper()
	var wf workflow
	if err := yaml.Unmarshal(releaseYML, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	var s tagScheme
	metaID, pushed := "", false
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			switch {
			case strings.HasPrefix(st.Uses, "docker/metadata-action@"):
				if metaID != "" {
					t.Fatal("release.yml: two docker/metadata-action steps")
				}
				metaID = st.ID
				s.image = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(st.With["images"]), "${{ github.repository }}", repo))
				if strings.ContainsAny(s.image, "\n$") {
					t.Fatalf("release.yml: images %q: want one name, with ${{ github.repository }} at most", s.image)
				}
				for _, line := range strings.Split(st.With["tags"], "\n") {
					if line = strings.TrimSpace(line); line != "" {
						s.tags = append(s.tags, semverTag(t, line))
					}
				}
				switch flavor := strings.ReplaceAll(st.With["flavor"], " ", ""); {
				case strings.Contains(flavor, "latest=false"):
				case flavor == "" || strings.Contains(flavor, "latest=auto") || strings.Contains(flavor, "latest=true"):
					s.tags = append(s.tags, regexp.MustCompile(`^latest$`))
				default:
					t.Fatalf("release.yml: flavor %q: this test knows latest=false|auto|true only", flavor)
				}
			case strings.HasPrefix(st.Uses, "docker/build-push-action@"):
				pushed = metaID != "" && st.With["push"] == "true" &&
					strings.TrimSpace(st.With["tags"]) == "${{ steps."+metaID+".outputs.tags }}"
			}
		}
	}
	if metaID == "" || s.image == "" || len(s.tags) == 0 {
		t.Fatal("release.yml: no docker/metadata-action step with an id, images and tags")
	}
	if !pushed {
		t.Fatalf("release.yml: the build-push-action step must push ${{ steps.%s.outputs.tags }} (after the metadata step)", metaID)
	}
	// Git tags: the release tags (v1.2.3) and the major tag the workflow moves (v1).
	for _, glob := range wf.On.Push.Tags {
		re := strings.NewReplacer(".", `\.`, "[0-9]+", `[0-9]+`).Replace(glob)
		s.gitTags = append(s.gitTags, regexp.MustCompile("^"+re+"$"))
		if major, _, ok := strings.Cut(glob, "."); ok {
			s.gitTags = append(s.gitTags, regexp.MustCompile("^"+major+"$"))
		}
	}
	if len(s.gitTags) == 0 {
		t.Fatal("release.yml: no on.push.tags filter")
	}
	return s
}

// semverTag turns one metadata-action tag rule into the pattern of the tags it makes. Only
// type=semver rules are known: anything else fails, so that a new kind of tag is looked at here.
func semverTag(t *testing.T, rule string) *regexp.Regexp {
	t.Helper()
	attrs := map[string]string{}
	for _, kv := range strings.Split(rule, ",") {
		k, v, _ := strings.Cut(kv, "=")
		attrs[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if attrs["type"] != "semver" || attrs["pattern"] == "" || attrs["value"] != "" || attrs["prefix"] != "" || attrs["suffix"] != "" {
		t.Fatalf("release.yml: tag rule %q: this test knows type=semver,pattern=... only", rule)
	}
	num := `(0|[1-9][0-9]*)`
	re := regexp.QuoteMeta(attrs["pattern"])
	re = strings.NewReplacer(
		regexp.QuoteMeta("{{version}}"), num+`\.`+num+`\.`+num,
		regexp.QuoteMeta("{{raw}}"), `v`+num+`\.`+num+`\.`+num,
		regexp.QuoteMeta("{{major}}"), num,
		regexp.QuoteMeta("{{minor}}"), num,
		regexp.QuoteMeta("{{patch}}"), num,
	).Replace(re)
	if strings.Contains(re, "{{") {
		t.Fatalf("release.yml: tag rule %q: unknown expression", rule)
	}
	return regexp.MustCompile("^" + re + "$")
}

// badReferences returns, for one file's text, each image or action reference that names a tag the
// release does not make. A bare image name is fine in prose but not where an image is pulled.
func (s tagScheme) badReferences(text, actionRepo string) []string {
	var bad []string
	imageRef := regexp.MustCompile(regexp.QuoteMeta(s.image) + `(:[A-Za-z0-9_.-]*[A-Za-z0-9_-]|@sha256:[0-9a-f]{64})?`)
	actionRef := regexp.MustCompile(`(?:^|[^/\w.-]|https://github\.com/)` + regexp.QuoteMeta(actionRepo) + `@([A-Za-z0-9_.-]*[A-Za-z0-9_-])`)
	for n, line := range strings.Split(text, "\n") {
		for _, m := range imageRef.FindAllStringSubmatch(line, -1) {
			ref := m[1]
			switch {
			case strings.HasPrefix(ref, "@sha256:"):
			case ref == "":
				if regexp.MustCompile(`image:|docker://|docker run|podman run`).MatchString(line) {
					bad = append(bad, fmt.Sprintf("line %d: %s without a tag pulls :latest, which no release pushes", n+1, m[0]))
				}
			case !anyMatch(s.tags, ref[1:]):
				bad = append(bad, fmt.Sprintf("line %d: %s: no release pushes the tag %q", n+1, m[0], ref[1:]))
			}
		}
		for _, m := range actionRef.FindAllStringSubmatch(line, -1) {
			// main: the default branch, which the docs name on purpose (it builds the Dockerfile).
			if m[1] != "main" && !anyMatch(s.gitTags, m[1]) {
				bad = append(bad, fmt.Sprintf("line %d: %s: no release makes the git tag %q", n+1, m[0], m[1]))
			}
		}
	}
	return bad
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// moduleRepo is owner/name from go.mod's module path (github.com/owner/name).
func moduleRepo(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module github\.com/([^/\s]+/[^/\s]+)\s*$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("go.mod: module path is not github.com/OWNER/NAME")
	}
	return m[1]
}

// userFacingFiles are the files whose image and action references people paste.
func userFacingFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"README.md", "docs.md", "SECURITY.md", "action.yml", "docs/*.md", "templates/*.yml", "templates/*/template.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// TestImageTags checks that the docs, the README and the GitLab component name only image tags
// (and action git tags) that the release workflow makes, reading the scheme from release.yml so
// that the test fails when either side drifts.
func TestImageTags(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	repo := moduleRepo(t, root)
	release, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := releaseScheme(t, release, repo)
	if want := "ghcr.io/" + strings.ToLower(repo); s.image != want {
		t.Errorf("release.yml pushes %s, want %s", s.image, want)
	}

	t.Run("scheme", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			ref  string
			ok   bool
		}{
			{name: "exact version", ref: s.image + ":1.2.3", ok: true},
			{name: "minor", ref: s.image + ":1.2", ok: true},
			{name: "major", ref: s.image + ":1", ok: true},
			{name: "digest", ref: s.image + "@sha256:" + strings.Repeat("ab", 32), ok: true},
			{name: "docker:// step", ref: "uses: docker://" + s.image + ":2", ok: true},
			{name: "action major tag", ref: "uses: " + repo + "@v1", ok: true},
			{name: "action release tag", ref: "uses: " + repo + "@v1.2.3", ok: true},
			{name: "v-prefixed image tag", ref: "image: " + s.image + ":v1", ok: false},
			{name: "v-prefixed exact image tag", ref: "image: " + s.image + ":v1.2.3", ok: false},
			{name: "latest", ref: "image: " + s.image + ":latest", ok: false},
			{name: "no tag where pulled", ref: "    image: " + s.image, ok: false},
			{name: "pre-release", ref: s.image + ":1.2.3-rc.1", ok: false},
			{name: "leading zero", ref: s.image + ":01", ok: false},
			{name: "action tag without v", ref: "uses: " + repo + "@1", ok: false},
			{name: "action by URL (Forgejo)", ref: "uses: https://github.com/" + repo + "@v1", ok: true},
			{name: "action by URL, tag without v", ref: "uses: https://github.com/" + repo + "@1.2.3", ok: false},
			{name: "action minor tag", ref: "uses: " + repo + "@v1.2", ok: false},
		}
		for _, tt := range tests {
			bad := s.badReferences(tt.ref, repo)
			if tt.ok && len(bad) > 0 {
				t.Errorf("%s: %q refused: %v", tt.name, tt.ref, bad)
			}
			if !tt.ok && len(bad) == 0 {
				t.Errorf("%s: %q accepted", tt.name, tt.ref)
			}
		}
	})

	t.Run("files", func(t *testing.T) {
		t.Parallel()
		files := userFacingFiles(t, root)
		refs := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			refs += strings.Count(string(data), s.image+":")
			rel, _ := filepath.Rel(root, f)
			for _, b := range s.badReferences(string(data), repo) {
				t.Errorf("%s %s", rel, b)
			}
		}
		// The docs show the image on every platform; finding none means the pattern is wrong.
		if refs < 5 {
			t.Errorf("found %d tagged image references in %d files, want the docs' examples", refs, len(files))
		}
	})
}
