package platform

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
	"github.com/scalingo-deploy/scalingo-deploy/internal/markdown"
)

// Summary is the facts of one target of a finished run, and what they mean.
type Summary struct {
	App          string
	Region       string
	DeploymentID string
	GitRef       string
	Status       string
	// Health is "ok" or "failed" once a health check ran, else empty.
	Health      string
	Duration    time.Duration
	ArchiveSize int64
	AppURL      string
	// DashboardURL is the app's page on Scalingo's dashboard; DeploymentsURL, its
	// deployments' page.
	DashboardURL, DeploymentsURL string
	// Verdict gives the mark; Said says in words what happened ("deployed my-app in
	// 42 s: https://…"), FirstError is the build's first error line, if one was found,
	// and Todo what to do when the target did not deploy.
	Verdict    Verdict
	Said       string
	FirstError string
	Todo       string
	// LogTail is the end of the build log, shown on failure.
	LogTail string
}

// Verdict is how a target ended, as its mark shows it.
type Verdict int

const (
	// Deployed: the new version runs (and answered its health check).
	Deployed Verdict = iota
	// Started: created, not waited for.
	Started
	// Failed: a failing status, a failed health check, or an error (exit code 1).
	Failed
	// TimedOut: still running at Scalingo when the wait ran out (exit code 3).
	TimedOut
)

// Mark is the verdict's sign.
func (v Verdict) Mark() string {
	switch v {
	case Deployed:
		return "✅"
	case Started:
		return "▶️"
	case TimedOut:
		return "⏳"
	}
	return "❌"
}

// Line is the record that scripts read, one per target, just above the verdict in words.
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

// Sentence is the verdict in words, on one line: what Said, and the first error.
func (s Summary) Sentence() string {
	if s.FirstError == "" {
		return s.Said
	}
	return s.Said + " — first error: " + s.FirstError
}

// Markdown renders the summary as a GitHub step summary: the mark of the verdict, what
// happened and what to do when it did not deploy, the facts, the end of a failed build's
// log.
func (s Summary) Markdown() string {
	var b strings.Builder
	heading := "Scalingo deployment of " + markdown.Code(s.App)
	if s.Verdict == TimedOut {
		heading = markdown.Code(s.App) + " still running at Scalingo"
	}
	fmt.Fprintf(&b, "### %s %s\n\n", s.Verdict.Mark(), heading)
	if s.Verdict != Deployed {
		b.WriteString(s.said(false) + "\n\n")
	}
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
	row("Health", s.Health)
	row("Duration", s.Duration.Round(time.Second).String())
	if s.ArchiveSize > 0 {
		row("Archive size", HumanBytes(s.ArchiveSize))
	}
	if s.AppURL != "" {
		fmt.Fprintf(&b, "| App URL | %s |\n", urlCell(s.AppURL))
	}
	if s.DashboardURL != "" {
		fmt.Fprintf(&b, "| Dashboard | %s |\n", s.links())
	}
	if s.LogTail != "" {
		fmt.Fprintf(&b, "\n<details><summary>Build log (last lines)</summary>\n\n%s\n\n</details>\n", markdown.Fenced(s.LogTail))
	}
	return b.String()
}

// said is the verdict in words as Markdown, what to do after it; marked, it starts with
// the verdict's mark and the app's name stands out.
func (s Summary) said(marked bool) string {
	said := markdown.TextWithCode(s.Said)
	if marked {
		said = s.Verdict.Mark() + " " + strings.Replace(said, mdCell(s.App), "**"+mdCell(s.App)+"**", 1)
	} else {
		said = "**" + said + "**"
	}
	if s.FirstError != "" {
		said += " — first error: " + markdown.Code(s.FirstError)
	}
	if s.Todo != "" {
		said += ". " + upperFirst(markdown.TextWithCode(s.Todo)) + "."
	}
	return said
}

// links are the dashboard's pages of the app and of its deployments, as Markdown.
func (s Summary) links() string {
	l := fmt.Sprintf("[%s](%s)", mdCell(s.App), mdURL(s.DashboardURL))
	if s.DeploymentsURL != "" {
		l += fmt.Sprintf(" · [deployments](%s)", mdURL(s.DeploymentsURL))
	}
	return l
}

// Table renders the summaries of a run with several targets as one GitHub step summary:
// how many deployed, what happened to each that did not and what to do, a row per
// target, then the end of the build log of each that failed.
func Table(rows []Summary) string {
	var b strings.Builder
	verdict, deployed, health := Deployed, 0, false
	for _, s := range rows {
		switch {
		case s.Verdict == Deployed:
			deployed++
		case s.Verdict == Failed || verdict == Failed:
			verdict = Failed
		case s.Verdict == TimedOut || verdict == TimedOut:
			verdict = TimedOut
		default:
			verdict = Started
		}
		health = health || s.Health != ""
	}
	what := "deployed"
	if verdict == Started && deployed == 0 {
		what, deployed = "started, not waited for", len(rows)
	}
	fmt.Fprintf(&b, "### %s %d of %d %s to Scalingo\n\n", verdict.Mark(), deployed, len(rows), what)
	for _, s := range rows {
		if s.Verdict != Deployed && s.Verdict != Started {
			fmt.Fprintf(&b, "- %s\n", s.said(true))
		}
	}
	if verdict != Deployed && verdict != Started {
		b.WriteString("\n")
	}
	healthCol, healthSep := "", ""
	if health {
		healthCol, healthSep = " Health |", "---|"
	}
	fmt.Fprintf(&b, "| App | Region | Status |%s Duration | Deployment | URL | Dashboard |\n|---|---|---|%s---|---|---|---|\n", healthCol, healthSep)
	for _, s := range rows {
		cell := ""
		if health {
			cell = " " + mdCell(orNone(s.Health)) + " |"
		}
		dash := "—"
		if s.DashboardURL != "" {
			dash = s.links()
		}
		fmt.Fprintf(&b, "| %s | %s | %s %s |%s %s | %s | %s | %s |\n", mdCell(s.App), mdCell(s.Region), s.Verdict.Mark(), mdCell(orDash(s.Status)), cell,
			s.Duration.Round(time.Second), mdCell(orDash(s.DeploymentID)), urlCell(orDash(s.AppURL)), dash)
	}
	for _, s := range rows {
		if s.LogTail != "" {
			fmt.Fprintf(&b, "\n<details><summary>Build log of %s (last lines)</summary>\n\n%s\n\n</details>\n", mdCell(s.App), markdown.Fenced(s.LogTail))
		}
	}
	return b.String()
}

// urlCell is an app's URL as a link when nothing in it is Markdown, else as text.
func urlCell(u string) string {
	if markdown.SafeURL(u) {
		return "<" + u + ">"
	}
	return mdCell(u)
}

// mdURL is u as a Markdown link target: no space nor parenthesis can end it early.
func mdURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(Escape(u))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
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

// WriteSummary appends the summary of a run to GITHUB_STEP_SUMMARY in GitHub's dialect
// (GitHub, Forgejo, Gitea): one target's facts, or a table of several; elsewhere it does
// nothing. The plain lines are
// printed by the caller on every platform.
func (r *Reporter) WriteSummary(rows ...Summary) error {
	if len(rows) == 1 {
		return r.AppendSummary(rows[0].Markdown())
	}
	return r.AppendSummary(Table(rows))
}

// mdCell is text this program does not control (an API's answer, a name) as Markdown
// that can become no link, mention, tag or cell: markdown's strong escaper, for the
// step summary as for the pull request's comment.
func mdCell(s string) string { return markdown.Text(s) }

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
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
