package annotate

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestCodeQuality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures []Failure
	}{
		{name: "none", failures: nil},
		{name: "two apps", failures: []Failure{
			{App: "my-api", Locations: []Location{
				{"api/internal/api/handler.go", 8, 2, "undefined: Serve"},
				{"api/internal/api/handler.go", 12, 6, "declared and not used: count"},
			}},
			{App: "my-worker", Locations: []Location{
				{"worker/jobs/report.py", 7, 0, "NameError: name 'totl' is not defined <script>\x00\xff"},
			}},
			{App: "my-web"}, // failed where no line was blamed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := CodeQuality(tt.failures)
			golden := filepath.Join("testdata", "codequality-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestCodeQuality -update writes it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("report differs from %s:\n%s", golden, got)
			}
			var issues []issue
			if err := json.Unmarshal(got, &issues); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			seen := map[string]bool{}
			for _, is := range issues {
				if seen[is.Fingerprint] || len(is.Fingerprint) != 32 {
					t.Errorf("fingerprint %q repeated or malformed", is.Fingerprint)
				}
				seen[is.Fingerprint] = true
				if is.Location.Path == "" || is.Location.Lines.Begin < 1 || is.Severity != "blocker" || is.CheckName != CheckName {
					t.Errorf("issue %+v", is)
				}
			}
		})
	}
}
