package run

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/annotate"
	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/httpapi"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
)

// runReport is the run's own observer of the deploy: it keeps each target's first build
// error line for the verdict, and on GitHub tells the app's URL as a notice once a
// target is deployed.
type runReport struct {
	r *platform.Reporter

	mu          sync.Mutex
	firstErrors map[target]*firstError
}

type target struct{ app, region string }

func newRunReport(r *platform.Reporter) *runReport {
	return &runReport{r: r, firstErrors: map[target]*firstError{}}
}

// Event implements deploy.Observer.
func (o *runReport) Event(e deploy.Event) {
	switch e.Kind {
	case deploy.EventLog:
		o.mu.Lock()
		defer o.mu.Unlock()
		t := target{e.App, e.Region}
		if o.firstErrors[t] == nil {
			o.firstErrors[t] = &firstError{}
		}
		o.firstErrors[t].see(e.Line)
	case deploy.EventDone:
		if e.Result.Outcome() == deploy.OutcomeDeployed && e.Result.AppURL != "" && o.r.Annotates() {
			o.r.Notice("deployed %s: %s", e.App, e.Result.AppURL)
		}
	}
}

// firstError returns the first error line of the target's build log, "" if none.
func (o *runReport) firstError(app, region string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f := o.firstErrors[target{app, region}]; f != nil {
		return f.line()
	}
	return ""
}

// firstError finds, line by line, the first line of a build log that says what broke: a
// location as annotate's scanner reads one (the summary prefers the repository's line
// annotate maps it to), else an error word on a line without one (npm ERR!, Traceback),
// preferred to the buildpack's own " !" lines (which come after, saying that the build
// failed).
type firstError struct{ strong, weak string }

var (
	// An error word, for the lines that name no location.
	errorWord = regexp.MustCompile(`(?i)\b(error|errors|fatal|failed|failure|exception|traceback)\b|ERR!|[A-Za-z]Error\b`)
	// The buildpack's own lines: " !     Push rejected…".
	buildpackLine = regexp.MustCompile(`^!\s`)
)

func (f *firstError) see(line string) {
	if f.strong != "" {
		return
	}
	text := strings.TrimSpace(annotate.StripANSI(line))
	switch {
	case buildpackLine.MatchString(text):
		if f.weak == "" {
			f.weak = strings.TrimSpace(strings.TrimPrefix(text, "!"))
		}
	case errorWord.MatchString(text) || annotate.Locates(text):
		f.strong = text
	}
}

// maxFirstError bounds the first error line where it is quoted (one line of a verdict).
const maxFirstError = 200

func (f *firstError) line() string {
	l := f.strong
	if l == "" {
		l = f.weak
	}
	if r := []rune(l); len(r) > maxFirstError {
		l = string(r[:maxFirstError-1]) + "…"
	}
	return l
}

// summaries are the facts and the verdict in words of each target of a finished run.
func (o *runReport) summaries(results []*deploy.Result, size int64) []platform.Summary {
	rows := make([]platform.Summary, len(results))
	for i, res := range results {
		s := platform.Summary{App: res.App, Region: res.Region, DeploymentID: res.DeploymentID, GitRef: res.GitRef,
			Status: string(res.Status), Health: string(res.Health), Duration: res.Duration, ArchiveSize: size, AppURL: res.AppURL}
		if s.DashboardURL = res.DashboardURL(); s.DashboardURL != "" {
			s.DeploymentsURL = deploy.DeploymentsURL(res.Region, res.App)
		}
		verdictOf(&s, res)
		// The build log's end, for a target that did not deploy; not after a good build
		// whose app then failed its health check.
		if res.Err != nil && res.Outcome() != deploy.OutcomeUnhealthy {
			s.LogTail = res.LogTail
		}
		switch {
		case len(res.Blamed) > 0:
			// At the repository's line, as the annotations point at it.
			s.FirstError = blamed(res.Blamed[0])
		case res.Status == deploy.StatusBuildError || res.Status == deploy.StatusHookError:
			s.FirstError = o.firstError(res.App, res.Region)
		}
		rows[i] = s
	}
	return rows
}

// verdictOf fills what s says of how res ended: its mark, what happened in words, and
// what to do when it did not deploy.
func verdictOf(s *platform.Summary, res *deploy.Result) {
	app := res.App
	var (
		he *deploy.HealthError
		te *deploy.TimeoutError
	)
	switch res.Outcome() {
	case deploy.OutcomeDeployed:
		s.Verdict = platform.Deployed
		s.Said = fmt.Sprintf("deployed %s in %s", app, seconds(res.Duration))
		if res.AppURL != "" {
			s.Said += ": " + res.AppURL
		}
	case deploy.OutcomeStarted:
		s.Verdict = platform.Started
		s.Said = fmt.Sprintf("started deployment %s of %s, not waited for (wait=false): it goes on at Scalingo", res.DeploymentID, app)
	case deploy.OutcomeFailed:
		s.Verdict = platform.Failed
		s.Said = fmt.Sprintf("%s %s (%s)", app, failedTo(res.Status), res.Status)
		s.Todo = res.Status.Reason(app)
	case deploy.OutcomeUnhealthy:
		s.Verdict = platform.Failed
		s.Said = fmt.Sprintf("%s was deployed in %s but failed its health check", app, seconds(res.Duration))
		s.Todo = "the new version stays in place: see why it does not answer with `scalingo --app " + app + " logs`"
		if errors.As(res.Err, &he) {
			s.Said += fmt.Sprintf(": GET %s got no 2xx or 3xx answer within %s (last: %s)", httpapi.MaskUserinfo(he.URL), he.After, he.Last)
		}
	case deploy.OutcomeTimedOut:
		s.Verdict = platform.TimedOut
		s.Said = fmt.Sprintf("%s is still running at Scalingo", app)
		if errors.As(res.Err, &te) {
			s.Said = fmt.Sprintf("%s is still %s at Scalingo after %s: this run stopped waiting", app, te.LastStatus, te.After)
		}
		s.Todo = fmt.Sprintf("follow it with `scalingo --app %s deployment-follow`, or on the dashboard: %s", app, deploy.DeploymentsURL(res.Region, app))
	default:
		s.Verdict = platform.Failed
		switch {
		case res.Err == nil:
			s.Said = fmt.Sprintf("%s was not deployed", app)
		case res.DeploymentID != "":
			s.Said = fmt.Sprintf("%s: stopped following deployment %s: %s", app, res.DeploymentID, firstLine(res.Err))
			s.Todo = fmt.Sprintf("it may go on at Scalingo: see `scalingo --app %s deployments`", app)
		default:
			s.Said = fmt.Sprintf("%s was not deployed: %s", app, firstLine(res.Err))
		}
	}
}

// failedTo says what a failing status means, as a verb.
func failedTo(s deploy.Status) string {
	switch s {
	case deploy.StatusBuildError:
		return "failed to build"
	case deploy.StatusCrashedError:
		return "built but did not start"
	case deploy.StatusTimeoutError:
		return "built but did not listen on $PORT in time"
	case deploy.StatusHookError:
		return "built but its postdeploy hook failed"
	case deploy.StatusAborted:
		return "was not deployed: the deployment was aborted"
	}
	return "failed to deploy"
}

// seconds is a duration as a person reads it: "42 s", "3 min 5 s".
func seconds(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// finish tells what a run that reached Scalingo did: the outputs, the step summary, the
// records that scripts read, the error if any, and last, in words, what happened to each
// target. Before any deployment was created (a look-up failed) the error alone says it.
func (o *runReport) finish(errOut io.Writer, outputFile string, results []*deploy.Result, size int64, err error) error {
	r := o.r
	if werr := r.WriteOutputs(outputsOf(results, size), outputFile); werr != nil {
		err = errors.Join(err, &outputsError{werr})
	}
	rows := o.summaries(results, size)
	created := false
	for _, res := range results {
		created = created || res.DeploymentID != ""
	}
	if created || err != nil {
		if serr := r.WriteSummary(rows...); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if !created {
		if err != nil {
			report(r, errOut, results, err)
		}
		return err
	}
	for _, row := range rows {
		r.Printf("%s", row.Line())
	}
	showBlamed(r, results)
	verdict := verdictLines(rows, results)
	// Each target's failure is said once, by its sentence; the error adds only what no
	// sentence says (interrupted, a deployment that may exist, outputs not written).
	notes := runMessage(results, untold(err, results))
	if r.Annotates() && err != nil {
		// On GitHub the verdict itself is the step's one red annotation.
		r.Error("%s", strings.Join(append(verdict, notes...), "\n"))
		return err
	}
	verdict[0] = "scalingo-deploy: " + verdict[0]
	if err == nil {
		for _, l := range verdict {
			r.Printf("%s", l)
		}
		return nil
	}
	// The run's error, printed once on stderr: the notes, then the verdict, last.
	for i := range notes {
		notes[i] = "scalingo-deploy: " + notes[i]
	}
	for _, l := range append(notes, verdict...) {
		// A sentence may quote an API answer: escaped, as the reporter does.
		fmt.Fprintf(errOut, "%s\n", platform.EscapeLines(l))
	}
	return err
}

// verdictLines say in words what happened to each target: one sentence for one target,
// else a count and a line each.
func verdictLines(rows []platform.Summary, results []*deploy.Result) []string {
	if len(rows) == 1 {
		return []string{plainSentence(rows[0], results[0])}
	}
	deployed, started := 0, 0
	for _, row := range rows {
		switch row.Verdict {
		case platform.Deployed:
			deployed++
		case platform.Started:
			started++
		}
	}
	head := fmt.Sprintf("%d of %d deployed:", deployed, len(rows))
	if started == len(rows) {
		head = fmt.Sprintf("%d of %d started, not waited for:", started, len(rows))
	}
	lines := []string{head}
	for i, row := range rows {
		lines = append(lines, fmt.Sprintf("  %s %s", row.Verdict.Mark(), plainSentence(row, results[i])))
	}
	return lines
}

// plainSentence is the row's sentence, and what to do when that is not in the log
// already: a failing status's reason is, on the status line.
func plainSentence(row platform.Summary, res *deploy.Result) string {
	if row.Todo == "" || res.Outcome() == deploy.OutcomeFailed {
		return row.Sentence()
	}
	return row.Sentence() + "; " + row.Todo
}

// untold is what of err no target's sentence says: err less each target's own error.
func untold(err error, results []*deploy.Result) error {
	var keep []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if _, ok := e.(*deploy.TargetsError); ok {
			return // the targets' errors, each in its sentence
		}
		for _, res := range results {
			if res.Err != nil && sameError(res.Err, e) {
				return
			}
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		keep = append(keep, e)
	}
	walk(err)
	var sig *SignalError
	if errors.As(err, &sig) && !errors.As(errors.Join(keep...), &sig) {
		// Interrupted while following: the run's own news, with what goes on at Scalingo.
		keep = append(keep, sig)
	}
	return errors.Join(keep...)
}

// sameError is a == b, false where == would panic (an uncomparable error type).
func sameError(a, b error) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// blamed is a repository line that a build log blames, as compilers print one.
func blamed(l annotate.Location) string { return place(l) + ": " + l.Message }

// place is where a location is: path:line[:col].
func place(l annotate.Location) string {
	if l.Col > 0 {
		return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Col)
	}
	return fmt.Sprintf("%s:%d", l.File, l.Line)
}
