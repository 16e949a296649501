package feedback

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scalingo-deploy/scalingo-deploy/internal/annotate"
	"github.com/scalingo-deploy/scalingo-deploy/internal/markdown"
)

// State is how one target ended, as the comment and a deployment status say it.
type State int

const (
	// Deployed: the new version runs (and answered the health check if one ran).
	Deployed State = iota
	// Started: created and not waited for (wait=false).
	Started
	// Failed: the deployment ended with a failing status.
	Failed
	// Unhealthy: the deployment succeeded; the health check did not pass.
	Unhealthy
	// TimedOut: still running at Scalingo when the run stopped waiting.
	TimedOut
	// Errored: stopped by an error of the run (API, upload, interrupted).
	Errored
	// Deleted: the review app was deleted by this run.
	Deleted
	// Absent: a destroy found no review app to delete.
	Absent
)

// mark is the state as one glance reads it.
func (s State) mark() string {
	switch s {
	case Deployed:
		return "✅ deployed"
	case Started:
		return "🚀 started (not waited for)"
	case Failed:
		return "❌ failed"
	case Unhealthy:
		return "❌ health check failed"
	case TimedOut:
		return "⏳ still running at Scalingo"
	case Deleted:
		return "🗑️ deleted"
	case Absent:
		return "🗑️ deleted (was already gone)"
	}
	return "⚠️ error"
}

// Entry is one target of the run, as the feedback shows it.
type Entry struct {
	// App is the app deployed: the review app of Parent, or the app itself.
	App, Parent, Region string
	// URL is the app's URL (from the API: checked before it becomes a link).
	URL          string
	State        State
	Status       string // the deployment's last Scalingo status
	DeploymentID string
	// Commit is the git ref deployed.
	Commit   string
	Duration time.Duration
	// Cause is the failure in one line, for the states that failed.
	Cause string
	// LogTail is the end of the build log, for a failed deployment.
	LogTail string
	// Dashboard is the app's page on Scalingo's dashboard; "" for none.
	Dashboard string
	// Blamed are the repository's lines a failed build's log blames, as "path:line[:col]"
	// with what the log said there.
	Blamed []Blame
}

// Blame is a repository line that a failed build's log blames.
type Blame struct{ Place, Message string }

// Marker is the hidden line that finds the comment of a set of apps again: two
// workflows deploying different apps keep two comments.
func Marker(key string) string { return "<!-- scalingo-deploy:" + key + " -->" }

// Key names a set of parent apps: each app@region, sorted, joined by commas. Names
// hold letters, digits, '-' and '_' only (config checks them), so it cannot end the
// HTML comment it sits in.
func Key(parents []string) string {
	s := append([]string(nil), parents...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// maxLogLines and maxLogBytes bound the build lines shown per target, so that even 20
// failing targets stay under GitHub's 65536 characters.
const (
	maxLogLines = 25
	maxLogBytes = 2500
)

// maxComment keeps a comment under GitHub's 65536 characters, with room to spare.
const maxComment = 60000

// Render is the comment's Markdown: the marker, a table with one row per target, and
// for each failure its cause and last build lines. runURL links the job ("" for none).
// The build lines are left out when the comment would be too long with them.
func Render(key string, entries []Entry, runURL string) string {
	if body := render(key, entries, runURL, true); utf8.RuneCountInString(body) <= maxComment {
		return body
	}
	return render(key, entries, runURL, false)
}

func render(key string, entries []Entry, runURL string, logs bool) string {
	var b strings.Builder
	b.WriteString(Marker(key) + "\n")
	b.WriteString("### Scalingo deployment\n\n")
	b.WriteString("| App | Status | URL | Commit | Duration |\n|---|---|---|---|---|\n")
	for _, e := range entries {
		app := markdown.Text(e.App)
		if e.Dashboard != "" {
			app = fmt.Sprintf("[%s](%s)", app, e.Dashboard)
		}
		if e.Parent != "" {
			app += " (review app of " + markdown.Text(e.Parent) + ")"
		}
		status := e.State.mark()
		if e.Status != "" && e.State != Deployed && e.State != Deleted && e.State != Absent {
			status += " " + markdown.CodeCell(e.Status)
		}
		link := "—"
		switch {
		case e.State == Deleted || e.State == Absent:
		case markdown.SafeURL(e.URL):
			link = "<" + e.URL + ">"
		}
		dur := "—"
		if e.Duration > 0 {
			dur = e.Duration.Round(time.Second).String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", app, status, link, commit(e.Commit), dur)
	}
	for _, e := range entries {
		if e.Cause == "" && e.LogTail == "" {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**: %s\n", markdown.Text(e.App), markdown.Text(cut(e.Cause, maxCause)))
		if len(e.Blamed) > 0 {
			b.WriteString("\nWhere the build broke:\n")
			for _, l := range e.Blamed {
				// Outside the table a | needs no escape: only code's backticks and controls go.
				fmt.Fprintf(&b, "- %s %s\n", markdown.Code(l.Place), markdown.Text(cut(l.Message, maxCause)))
			}
		}
		if tail := lastLines(e.LogTail); tail != "" && !logs {
			b.WriteString("\n(Its last build lines are in the job's log: with every app's, this comment would be too long.)\n")
		} else if tail != "" {
			fence := markdown.Fence(tail)
			fmt.Fprintf(&b, "\n<details><summary>Last build lines</summary>\n\n%stext\n%s\n%s\n\n</details>\n", fence, tail, fence)
		}
	}
	if runURL != "" && markdown.SafeURL(runURL) {
		fmt.Fprintf(&b, "\n<sub>Updated by scalingo-deploy · [job log](%s)</sub>\n", runURL)
	}
	return b.String()
}

// maxCause bounds a cause, in characters: it is one line of an error.
const maxCause = 1000

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

var hexRef = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

func commit(ref string) string {
	switch {
	case ref == "":
		return "—"
	case hexRef.MatchString(ref):
		return "`" + ref[:7] + "`"
	}
	return markdown.CodeCell(ref)
}

// lastLines keeps the end of a build log, colours and controls removed, within bounds.
func lastLines(log string) string {
	log = annotate.StripANSI(log)
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(log, "\r\n", "\n"), "\n"), "\n")
	if len(lines) > maxLogLines {
		lines = lines[len(lines)-maxLogLines:]
	}
	for i, l := range lines {
		lines[i] = strings.Map(func(r rune) rune {
			if r == '\t' {
				return r
			}
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, l)
	}
	out := strings.Join(lines, "\n")
	for len(out) > maxLogBytes {
		i := strings.IndexByte(out, '\n')
		if i < 0 {
			out = out[len(out)-maxLogBytes:]
			break
		}
		out = out[i+1:]
	}
	return strings.TrimSpace(out)
}
