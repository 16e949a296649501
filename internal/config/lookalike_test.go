package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLookalikes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
		want []string // fragments, one warning each, in order
	}{
		{"every spelling read is quiet", func() (env []string) {
			for _, in := range inputs {
				for _, s := range spellings(in.name) {
					env = append(env, s+"=x")
				}
			}
			return env
		}(), nil},
		{"outputs of an earlier step and other tools' variables are quiet", []string{
			"SCALINGO_APP_URL=x", "SCALINGO_DEPLOYMENT_STATUS_MY_API=x", "SCALINGO_APP_URL_MY_WORKER_OSC_SECNUM_FR1=x",
			"SCALINGO_DEPLOYMENTS=[]", "GITHUB_TOKEN=x", "INPUTRC=/etc/inputrc", "PATH=/bin", "SCALINGO_DB_URL=x", "PLUGIN_DEBUG=true",
		}, nil},
		{"a value is never shown", []string{"SCALINGO_APPP=tk-us-secret"}, []string{"SCALINGO_APPP is set but is not read: it looks like the input app; set SCALINGO_APP"}},
		{"underscore for GitHub's dash", []string{"INPUT_HEALTH_CHECK=/"}, []string{"INPUT_HEALTH_CHECK is set but is not read: it looks like the input health-check; set SCALINGO_HEALTH_CHECK (GitHub Actions passes the input health-check as INPUT_HEALTH-CHECK"}},
		{"an input without a dash under INPUT_ in lower case", []string{"input_app=x"}, []string{"input_app is set but is not read: it looks like the input app; set SCALINGO_APP or INPUT_APP"}},
		{"a plugin setting misspelt", []string{"PLUGIN_DRYRUN=true"}, []string{"PLUGIN_DRYRUN is set but is not read: it looks like the input dry-run; set PLUGIN_DRY_RUN (the setting dry_run)"}},
		{"a short form", []string{"SCALINGO_TOKEN=x", "SCALINGO_APPS=x"}, []string{"SCALINGO_APPS", "SCALINGO_TOKEN is set but is not read: it looks like the input api-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Lookalikes(tc.env)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want %q", got[i], w)
				}
				if strings.Contains(got[i], "tk-us") {
					t.Errorf("warning %q shows a value", got[i])
				}
			}
		})
	}
}

// TestLookalikes_outputsKnown: every dotenv name the tool writes is known not to be an
// input's lookalike, so that a later step reading the outputs gets no warning.
func TestLookalikes_outputsKnown(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../platform/outputs.go")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`"(SCALINGO_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(names) < 8 {
		t.Fatalf("found %d output names in platform/outputs.go", len(names))
	}
	for _, m := range names {
		name := m[1]
		if !slices.Contains(notInputs, name) && !hasAnyPrefix(name, notInputPrefixes) && name != "SCALINGO_GIT_REF" {
			t.Errorf("output %s is not in notInputs or notInputPrefixes", name)
		}
	}
}
