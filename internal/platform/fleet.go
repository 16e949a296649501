package platform

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// FleetRow is one child app in the summary of a sweep, sleep or wake.
type FleetRow struct {
	App, Parent, Status, Reason string
}

// Line is the row as the plain line every platform prints.
func (f FleetRow) Line() string {
	return fmt.Sprintf("scalingo-deploy: review-app=%s parent=%s status=%s reason=%s", Escape(f.App), Escape(f.Parent), Escape(f.Status), Escape(f.Reason))
}

// FleetTable renders the rows as a GitHub step summary under title.
func FleetTable(title string, rows []FleetRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", mdCell(title))
	if len(rows) == 0 {
		b.WriteString("No child app.\n")
		return b.String()
	}
	b.WriteString("| Review app | Parent | Status | Why |\n|---|---|---|---|\n")
	for _, f := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(f.App), mdCell(f.Parent), mdCell(f.Status), mdCell(f.Reason))
	}
	return b.String()
}

// AppendSummary appends md to GITHUB_STEP_SUMMARY in GitHub's dialect; elsewhere it
// does nothing. It opens the file as every destination is opened (openDestination): a
// FIFO or a symlink there is refused at once rather than hang the run or be followed.
func (r *Reporter) AppendSummary(md string) error {
	if r.dialect != ci.GitHubCommands {
		return nil
	}
	path := r.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	f, err := openDestination(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	if err != nil {
		return fmt.Errorf("write the step summary: %w", err)
	}
	_, err = f.WriteString(r.out.Redact(md))
	return errors.Join(err, f.Close())
}
