package manifest

import (
	"slices"
	"strings"
	"testing"
)

func TestLinks(t *testing.T) {
	t.Parallel()
	siblings := map[string]Sibling{
		"api":   {App: "api-pr7", URL: "https://api-pr7.osc-fr1.scalingo.io"},
		"front": {App: "front-pr7", URL: "https://x.example/%APP:api%"}, // a URL that looks like a reference
	}
	tests := []struct {
		in, want string
		names    []string
	}{
		{"%URL:api%/v1", "https://api-pr7.osc-fr1.scalingo.io/v1", []string{"api"}},
		{"%APP:api%,%APP:front%,%URL:api%", "api-pr7,front-pr7,https://api-pr7.osc-fr1.scalingo.io", []string{"api", "front"}},
		{"one pass: %URL:front%", "one pass: https://x.example/%APP:api%", []string{"front"}},
		{"unknown %URL:nope% stays", "unknown %URL:nope% stays", []string{"nope"}},
		{"100% and %URL% are not links", "100% and %URL% are not links", nil},
		{"%url:api% is not one either", "%url:api% is not one either", nil},
		{"%URL:% names nothing", "%URL:% names nothing", []string{""}},
	}
	for _, tt := range tests {
		if got := Link(tt.in, siblings); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := LinkNames(tt.in); !slices.Equal(got, tt.names) {
			t.Errorf("LinkNames(%q) = %q, want %q", tt.in, got, tt.names)
		}
	}
}

func TestManifestLinks(t *testing.T) {
	t.Parallel()
	m, err := Parse([]byte(`{"env": {
		"A": {"generator": "template", "template": "%URL:api%/v1 for %APP%"},
		"B": {"generator": "url", "template": "%URL%?peer=%APP:front%"},
		"C": {"value": "%URL:ignored%"}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.LinkNames(); !slices.Equal(got, []string{"api", "front"}) {
		t.Errorf("LinkNames = %q: want the templates' references only", got)
	}
	vars, err := m.Values(Context{App: "front-pr7", URL: "https://front", Siblings: map[string]Sibling{
		"api": {App: "api-pr7", URL: "https://api"}, "front": {App: "front-pr7", URL: "https://front"},
	}}, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{{"A", "https://api/v1 for front-pr7"}, {"B", "https://front?peer=front-pr7"}, {"C", "%URL:ignored%"}}
	if !slices.Equal(vars, want) {
		t.Errorf("Values = %q, want %q", vars, want)
	}
}
