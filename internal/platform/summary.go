package platform

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// Summary is the facts of a finished run.
type Summary struct {
	App          string
	Region       string
	DeploymentID string
	GitRef       string
	Status       string
	Duration     time.Duration
	ArchiveSize  int64
	AppURL       string
	// LogTail is the end of the build log, shown on failure.
	LogTail string
}

// Line is the one plain line that ends every run, on every platform.
func (s Summary) Line() string {
	parts := []string{"app=" + Escape(s.App), "region=" + Escape(s.Region)}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+Escape(v)) // API values on one line
		}
	}
	add("deployment", s.DeploymentID)
	add("git-ref", s.GitRef)
	add("status", s.Status)
	parts = append(parts, "duration="+s.Duration.Round(time.Second).String())
	if s.ArchiveSize > 0 {
		add("archive", HumanBytes(s.ArchiveSize))
	}
	add("url", s.AppURL)
	return "scalingo-deploy: " + strings.Join(parts, " ")
}

// Markdown renders the summary as a GitHub step summary.
func (s Summary) Markdown() string {
	var b strings.Builder
	icon := "❌"
	switch s.Status {
	case "success":
		icon = "✅"
	case "":
		icon = "⚠️"
	}
	fmt.Fprintf(&b, "### %s Scalingo deployment of `%s`\n\n", icon, mdCell(s.App))
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, mdCell(v))
		}
	}
	row("App", s.App)
	row("Region", s.Region)
	row("Deployment", s.DeploymentID)
	row("Git ref", s.GitRef)
	row("Status", orDash(s.Status))
	row("Duration", s.Duration.Round(time.Second).String())
	if s.ArchiveSize > 0 {
		row("Archive size", HumanBytes(s.ArchiveSize))
	}
	row("App URL", s.AppURL)
	if s.LogTail != "" {
		// A fence longer than any run of backticks in the log keeps the log inside it.
		fence := strings.Repeat("`", max(3, longestRun(s.LogTail, '`')+1))
		fmt.Fprintf(&b, "\n<details><summary>Build log (last lines)</summary>\n\n%s\n%s\n%s\n\n</details>\n", fence, strings.TrimRight(s.LogTail, "\n"), fence)
	}
	return b.String()
}

// Table renders the summaries of a run with several targets as one GitHub step summary:
// a row per target, then the end of the build log of each that failed.
func Table(rows []Summary) string {
	var b strings.Builder
	icon := "✅"
	for _, s := range rows {
		if s.Status != "success" {
			icon = "❌"
		}
	}
	fmt.Fprintf(&b, "### %s Scalingo deployment of %d apps\n\n", icon, len(rows))
	b.WriteString("| App | Region | Status | Duration | Deployment | URL |\n|---|---|---|---|---|---|\n")
	for _, s := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdCell(s.App), mdCell(s.Region), mdCell(orDash(s.Status)),
			s.Duration.Round(time.Second), mdCell(orDash(s.DeploymentID)), mdCell(orDash(s.AppURL)))
	}
	for _, s := range rows {
		if s.LogTail != "" {
			fence := strings.Repeat("`", max(3, longestRun(s.LogTail, '`')+1))
			fmt.Fprintf(&b, "\n<details><summary>Build log of %s (last lines)</summary>\n\n%s\n%s\n%s\n\n</details>\n", mdCell(s.App), fence, strings.TrimRight(s.LogTail, "\n"), fence)
		}
	}
	return b.String()
}

// WriteSummary appends the summary of a run to GITHUB_STEP_SUMMARY in GitHub's dialect
// (GitHub, Forgejo, Gitea): one target's facts, or a table of several; elsewhere it does
// nothing. The plain lines are
// printed by the caller on every platform.
func (r *Reporter) WriteSummary(rows ...Summary) error {
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
	md := ""
	if len(rows) == 1 {
		md = rows[0].Markdown()
	} else {
		md = Table(rows)
	}
	_, err = f.WriteString(r.out.Redact(md))
	return errors.Join(err, f.Close())
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(Escape(s))
}

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// HumanBytes formats n in binary units, e.g. 12.3 MiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
