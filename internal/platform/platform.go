// Package platform speaks each CI system's dialect (ci.Dialect, one type each in
// dialect.go): GitHub workflow commands, outputs and step summary (also on Forgejo and
// Gitea); GitLab collapsible sections; Azure logging commands; plain lines elsewhere; and
// dotenv files where the CI's pipeline reads them.
package platform

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// Reporter writes a run's output in the platform's dialect. Its methods are safe for
// concurrent use: log lines can come from the log stream and from the poller, and from
// several targets at once. A target's view (For) shares the output, the masks and the
// lock, and prefixes its lines.
type Reporter struct {
	*core
	// prefix starts each line of a target's view ("[my-api] "); empty for the run's own.
	prefix string
}

type core struct {
	// dialect and outputEnv are the CI's: every decision below is one of them, never
	// the CI's name. speak is the dialect's type, which writes what the log reads.
	dialect   ci.Dialect
	speak     dialect
	outputEnv string
	getenv    func(string) string
	now       func() time.Time

	mu             sync.Mutex
	out            *Redactor
	warnedNoOutput bool // the missing GITHUB_OUTPUT was told
}

// New returns a Reporter writing to out in c's dialect. Every line goes through a
// Redactor, so a secret registered with Mask never reaches the log in clear, on any
// platform.
func New(c ci.CI, out io.Writer, getenv func(string) string, now func() time.Time) *Reporter {
	if now == nil {
		now = time.Now
	}
	red := NewRedactor(out)
	return &Reporter{core: &core{dialect: c.Dialect, speak: newDialect(c.Dialect, red, now), outputEnv: c.OutputEnv,
		getenv: getenv, now: now, out: red}}
}

// For returns the view of one target among several: every line it prints starts with
// "[app] ", so that the interleaved logs of targets deployed together stay readable,
// and it folds nothing (groups of targets running at once would swallow each other's
// lines). Masks, output and lock are shared with r.
func (r *Reporter) For(app string) *Reporter {
	return &Reporter{core: r.core, prefix: "[" + Escape(app) + "] "}
}

// prefixed starts each line of s with the view's prefix.
func (r *Reporter) prefixed(s string) string {
	if r.prefix == "" {
		return s
	}
	return r.prefix + strings.ReplaceAll(s, "\n", "\n"+r.prefix)
}

// Stderr returns w wrapped so that every secret registered with Mask, before or after,
// is replaced there too.
func (r *Reporter) Stderr(w io.Writer) io.Writer { return r.out.Wrap(w) }

// Redact returns s with every secret registered with Mask replaced by ***: for a file
// this program writes from text it does not control (a report the CI uploads).
func (r *Reporter) Redact(s string) string { return r.out.Redact(s) }

// Annotates tells whether Error reaches the CI as an annotation of its own (GitHub's
// workflow commands), so that a caller need not also print the error as a plain line.
func (r *Reporter) Annotates() bool { return r.dialect == ci.GitHubCommands }

// Mask registers a secret: on GitHub the runner is told to mask it, and everywhere it is
// replaced by *** in what this program prints. Call it before anything could print it.
//
// A value shorter than MinSecretLen is not masked, on the runner either: an env value
// such as DEBUG=1 would otherwise turn every "1" of the job's log into ***. Only secrets
// are registered (the token, JWTs, signed URLs' queries, a review app's variables marked
// secret): other env values are not masked, as this program never prints them.
func (r *Reporter) Mask(secret string) {
	if len(strings.TrimSpace(secret)) < MinSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.speak.mask(secret)
	r.out.Add(secret)
}

// Printf prints one line.
func (r *Reporter) Printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.line(fmt.Sprintf(format, args...))
}

// line prints s, escaped line by line (EscapeLines): a file name or an API value quoted
// in it cannot start a command on any platform.
func (r *Reporter) line(s string) {
	fmt.Fprintln(r.out, r.prefixed(EscapeLines(strings.TrimRight(s, "\n"))))
}

// Warning prints a warning: an annotation on GitHub, a marked line elsewhere.
func (r *Reporter) Warning(format string, args ...any) { r.annotate("warning", format, args...) }

// Notice prints a notice: an annotation on GitHub, a marked line elsewhere.
func (r *Reporter) Notice(format string, args ...any) { r.annotate("notice", format, args...) }

// Error prints an error: an annotation on GitHub, a marked line elsewhere.
func (r *Reporter) Error(format string, args ...any) { r.annotate("error", format, args...) }

func (r *Reporter) annotate(level, format string, args ...any) {
	r.Annotate(level, "scalingo-deploy", "", 0, 0, fmt.Sprintf(format, args...))
}

// Annotate prints an annotation at a place in the repository: level is "error",
// "warning" or "notice", title says what speaks, file is relative to the repository (""
// for none), line and col are 0 when unknown. On GitHub it is a workflow command shown
// at that line; on Azure a logged issue; elsewhere a line "level: file:line: msg". msg
// and file may be untrusted: they are escaped.
func (r *Reporter) Annotate(level, title, file string, line, col int, msg string) {
	msg = r.prefixed(EscapeLines(msg))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.speak.Annotate(level, Escape(title), file, line, col, msg)
}

// Group starts a collapsible section of the log and returns the function that ends it.
func (r *Reporter) Group(title string) (end func()) {
	title = Escape(title)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prefix != "" {
		fmt.Fprintf(r.out, "%s--- %s\n", r.prefix, title)
		return func() {}
	}
	stop := r.speak.group(title)
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		stop()
	}
}

// Untrusted prints text that this program does not control (an app's build log, a
// listing of file names), each line escaped (EscapeLog: colours and tabs kept). On GitHub
// it also goes between ::stop-commands:: and its resume token, so that a line such as
// "::set-env" or "::add-mask" cannot run as a workflow command; on GitLab the escaping
// keeps a line from opening or closing a section (that needs \r).
func (r *Reporter) Untrusted(text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	text = r.prefixed(EscapeLog(text)) + "\n"
	r.mu.Lock()
	defer r.mu.Unlock()
	r.speak.untrusted(text)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
