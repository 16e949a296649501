package platform

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// dialect is how one CI's log reads commands: one type per ci.Dialect. Each writes to the
// run's Redactor; the Reporter holds its lock around every call and has escaped the text
// it passes (Escape, EscapeLines, EscapeLog), so a dialect adds only its own syntax.
type dialect interface {
	// Annotate prints an annotation. level is "error", "warning" or "notice"; title
	// names what speaks ("scalingo-deploy", "my-app build failed"); file is a path
	// relative to the repository, "" for none, and line and col are 0 when unknown.
	Annotate(level, title, file string, line, col int, msg string)
	// group starts a collapsible section and returns what ends it.
	group(title string) (end func())
	// mask tells the runner to mask secret, where it can be told.
	mask(secret string)
	// untrusted prints text this program does not control, already escaped.
	untrusted(text string)
}

// newDialect returns the dialect d speaks, writing to out.
func newDialect(d ci.Dialect, out *Redactor, now func() time.Time) dialect {
	p := &plainText{out: out}
	switch d {
	case ci.GitHubCommands:
		return &githubCommands{plainText: p}
	case ci.GitLabSections:
		return &gitlabSections{plainText: p, now: now}
	case ci.AzureLogging:
		return &azureLogging{plainText: p}
	}
	return p
}

// plainText is a log with no commands: annotations are marked lines, groups a title line.
type plainText struct {
	out       *Redactor
	lastTitle string // the last group title printed
}

func (p *plainText) Annotate(level, _, file string, line, _ int, msg string) {
	if file != "" {
		msg = location(file, line) + ": " + msg
	}
	fmt.Fprintln(p.out, level+": "+msg)
}

// location is file:line, or file when the line is unknown.
func location(file string, line int) string {
	if line <= 0 {
		return Escape(file)
	}
	return Escape(file) + ":" + strconv.Itoa(line)
}

func (p *plainText) group(title string) func() {
	// Plain logs cannot fold; a title repeated after a status line would only be noise.
	if title != p.lastTitle {
		fmt.Fprintf(p.out, "--- %s\n", title)
		p.lastTitle = title
	}
	return func() {}
}

func (p *plainText) mask(string) {}

func (p *plainText) untrusted(text string) { io.WriteString(p.out, text) }

// githubCommands is GitHub's workflow commands, also spoken by Forgejo and Gitea.
type githubCommands struct{ *plainText }

func (g *githubCommands) Annotate(level, title, file string, line, col int, msg string) {
	props := githubactions.CommandProperties{"title": title}
	if file != "" {
		props["file"] = Escape(file)
		if line > 0 {
			props["line"] = strconv.Itoa(line)
			if col > 0 {
				props["col"] = strconv.Itoa(col)
			}
		}
	}
	command(g.out, level, msg, props)
}

func (g *githubCommands) group(title string) func() {
	command(g.out, "group", title, nil)
	return func() { command(g.out, "endgroup", "", nil) }
}

func (g *githubCommands) mask(secret string) {
	// Straight to the underlying writer: through the redactor the command would arrive
	// masked, and mean nothing.
	command(g.out.w, "add-mask", secret, nil)
}

// command writes one workflow command, escaped by go-githubactions as actions/toolkit
// escapes it (its Action methods panic when the write fails; a log line that cannot be
// written is not worth a crash).
func command(w io.Writer, name, msg string, props githubactions.CommandProperties) {
	cmd := githubactions.Command{Name: name, Message: msg, Properties: props}
	io.WriteString(w, cmd.String()+"\n")
}

// untrusted puts the text between ::stop-commands:: and a random resume token, so that a
// line such as "::set-env" or "::add-mask" cannot run as a workflow command.
func (g *githubCommands) untrusted(text string) {
	token := randomToken()
	fmt.Fprintf(g.out, "::stop-commands::%s\n", token)
	io.WriteString(g.out, text)
	fmt.Fprintf(g.out, "::%s::\n", token)
}

// gitlabSections is GitLab's collapsible sections; annotations are marked lines.
type gitlabSections struct {
	*plainText
	now func() time.Time
	seq int // numbers the sections
}

func (g *gitlabSections) group(title string) func() {
	g.seq++
	name := fmt.Sprintf("scalingo_deploy_%d", g.seq)
	fmt.Fprintf(g.out, "\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n", g.now().Unix(), name, title)
	return func() { fmt.Fprintf(g.out, "\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", g.now().Unix(), name) }
}

// azureLogging is Azure Pipelines' logging commands. An annotation at a file is a
// task.logissue, which the run's summary lists with its place; one without a file stays
// a marked line.
type azureLogging struct{ *plainText }

func (a *azureLogging) Annotate(level, title, file string, line, col int, msg string) {
	if file == "" || (level != "error" && level != "warning") {
		a.plainText.Annotate(level, title, file, line, col, msg)
		return
	}
	props := "type=" + level + ";sourcepath=" + escapeAzure(Escape(file))
	if line > 0 {
		props += ";linenumber=" + strconv.Itoa(line)
		if col > 0 {
			props += ";columnnumber=" + strconv.Itoa(col)
		}
	}
	fmt.Fprintf(a.out, "##vso[task.logissue %s]%s\n", props, escapeAzureData(title+": "+msg))
}

// escapeAzure escapes a logging command's property value as the agent reads it.
func escapeAzure(s string) string {
	return strings.NewReplacer("%", "%AZP25", ";", "%3B", "\r", "%0D", "\n", "%0A", "]", "%5D").Replace(s)
}

// escapeAzureData escapes a logging command's message.
func escapeAzureData(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(s)
}
