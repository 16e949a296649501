package platform

import (
	"fmt"
	"strings"
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
