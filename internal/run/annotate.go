package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/annotate"
	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
)

// pointAtFailures finds, for each target whose build or postdeploy hook failed, the lines
// of the repository its build log blames (annotate), for showBlamed and the verdict, and
// writes them in the Code Quality report when there is one to write. It never changes the verdict: a report that cannot
// be written is a warning.
func pointAtFailures(r *platform.Reporter, cfg *config.Config, arc *archive.Result, results []*deploy.Result) {
	var failures []annotate.Failure
	if prefix, ok := repoPrefix(cfg, arc); ok {
		var shipped *annotate.Shipped
		for _, res := range results {
			if len(res.LogLocations) == 0 {
				continue
			}
			if shipped == nil {
				names := make([]string, len(arc.Entries))
				for i, e := range arc.Entries {
					names[i] = e.Name
				}
				shipped = annotate.NewShipped(names)
			}
			locs := annotate.Locate(res.LogLocations, shipped, annotate.MaxPerTarget)
			if len(locs) == 0 {
				continue
			}
			for i := range locs {
				locs[i].File = prefix + locs[i].File
			}
			// For the annotations (printed with the verdict, showBlamed), the summary, the
			// verdict and the pull request's comment.
			res.Blamed = locs
			failures = append(failures, annotate.Failure{App: res.App, Locations: locs})
		}
	}
	if cfg.CodeQualityReport == "" {
		return
	}
	report := r.Redact(string(annotate.CodeQuality(failures)))
	if err := os.WriteFile(cfg.CodeQualityReport, []byte(report), 0o644); err != nil {
		r.Warning("could not write the Code Quality report: %v", err)
	}
}

// repoPrefix is the folder deployed, relative to the repository (the workspace), with a
// trailing slash ("" for the whole workspace): archive entries are relative to it, a CI's
// annotations to the repository. ok is false for a prebuilt archive (its files are not
// the repository's) and for a folder outside the workspace.
func repoPrefix(cfg *config.Config, arc *archive.Result) (prefix string, ok bool) {
	if arc.Prebuilt {
		return "", false
	}
	rel, err := filepath.Rel(cfg.Workspace, cfg.Path)
	switch {
	case err != nil, rel == "..", strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		return "", false
	case rel == ".":
		return "", true
	}
	return fmt.Sprintf("%s/", filepath.ToSlash(rel)), true
}

// showBlamed shows the lines that the failed builds blame in the CI's dialect: at the line
// on GitHub, Forgejo, Gitea and Azure; elsewhere a short list "error: path:line: msg",
// printed between the records and the verdict, as the verdict's detail.
func showBlamed(r *platform.Reporter, results []*deploy.Result) {
	for _, res := range results {
		out := r
		if len(results) > 1 {
			out = r.For(res.App)
		}
		for _, l := range res.Blamed {
			out.Annotate("error", res.App+" build failed", l.File, l.Line, l.Col, l.Message)
		}
	}
}
