package annotate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Failure is one app's failed build and the repository locations its log blamed (File
// relative to the repository).
type Failure struct {
	App       string
	Locations []Location
}

// issue is one entry of GitLab's Code Quality report (a subset of Code Climate's issue:
// the fields GitLab reads).
type issue struct {
	Description string   `json:"description"`
	CheckName   string   `json:"check_name"`
	Fingerprint string   `json:"fingerprint"`
	Severity    string   `json:"severity"`
	Location    location `json:"location"`
}

type location struct {
	Path  string `json:"path"`
	Lines struct {
		Begin int `json:"begin"`
	} `json:"lines"`
}

// CheckName names this program's findings in the report.
const CheckName = "scalingo-deploy/build-failed"

// CodeQuality renders failures as a GitLab Code Quality report: a JSON array, empty when
// nothing was found (a successful run then clears the merge request's findings). A build
// failure is a blocker: nothing was deployed.
func CodeQuality(failures []Failure) []byte {
	issues := []issue{}
	for _, f := range failures {
		for _, l := range f.Locations {
			is := issue{Description: f.App + " build failed: " + l.Message, CheckName: CheckName, Severity: "blocker"}
			is.Location.Path = l.File
			is.Location.Lines.Begin = l.Line
			// Unique per place and message, and the same on a rerun, as GitLab compares
			// reports by fingerprint.
			sum := sha256.Sum256([]byte(f.App + "\x00" + l.File + "\x00" + strconv.Itoa(l.Line) + "\x00" + strconv.Itoa(l.Col) + "\x00" + l.Message))
			is.Fingerprint = hex.EncodeToString(sum[:16])
			issues = append(issues, is)
		}
	}
	out, _ := json.MarshalIndent(issues, "", "  ") // strings and ints only: cannot fail
	return append(out, '\n')
}
