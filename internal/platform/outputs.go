package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sethvargo/go-githubactions"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// Outputs are what a run tells later steps. Empty fields are not known (yet), or not
// meant for this run, and are not written.
type Outputs struct {
	DeploymentID string
	Status       string
	AppURL       string
	GitRef       string
	ArchiveSize  int64
	// App is the name of the app deployed (one target).
	App string
	// Health is "ok" or "failed" once a health check ran.
	Health string
	// DashboardURL is the app's page on Scalingo's dashboard (one target; with several,
	// each target's is in Deployments).
	DashboardURL string
	// Deployments is the one-line JSON array of every target's outcome. It is written
	// as is: JSON encoding already keeps it on one line and escapes control characters.
	Deployments string
	// PerApp holds, with several targets, each target's own dotenv variables.
	PerApp []AppOutputs
}

// AppOutputs are one target's dotenv variables in a run with several:
// SCALINGO_DEPLOYMENT_ID_<Suffix> and so on.
type AppOutputs struct {
	Suffix                       string // MY_API, or MY_API_OSC_FR1 for a name deployed in two regions
	DeploymentID, Status, AppURL string
}

// output is one output: its GitHub name ("" for dotenv only), its dotenv name, its value.
type output struct {
	github, dotenv, value string
	json                  bool // encoded already: not escaped again
}

// list gives the outputs in a fixed order.
func (o Outputs) list() []output {
	size := ""
	if o.ArchiveSize > 0 {
		size = strconv.FormatInt(o.ArchiveSize, 10)
	}
	l := []output{
		{"deployment-id", "SCALINGO_DEPLOYMENT_ID", o.DeploymentID, false},
		{"status", "SCALINGO_DEPLOYMENT_STATUS", o.Status, false},
		{"app-url", "SCALINGO_APP_URL", o.AppURL, false},
		{"git-ref", "SCALINGO_GIT_REF", o.GitRef, false},
		{"archive-size", "SCALINGO_ARCHIVE_SIZE", size, false},
		{"app", "SCALINGO_APP_NAME", o.App, false},
		{"health", "SCALINGO_HEALTH", o.Health, false},
		{"deployments", "SCALINGO_DEPLOYMENTS", o.Deployments, true},
		{"dashboard-url", "SCALINGO_DASHBOARD_URL", o.DashboardURL, false},
	}
	for _, a := range o.PerApp {
		l = append(l,
			output{"", "SCALINGO_DEPLOYMENT_ID_" + a.Suffix, a.DeploymentID, false},
			output{"", "SCALINGO_DEPLOYMENT_STATUS_" + a.Suffix, a.Status, false},
			output{"", "SCALINGO_APP_URL_" + a.Suffix, a.AppURL, false})
	}
	return l
}

// value is o's value as written: redacted, and on one line.
func (r *Reporter) value(o output) string {
	v := r.out.Redact(o.value)
	if o.json {
		return v
	}
	return outputValue(v)
}

// WriteOutputs hands the outputs to the platform: GITHUB_OUTPUT in GitHub's dialect; the
// dotenv file (GitLab's artifacts:reports:dotenv rules: NAME=value, no quotes, no empty
// lines); and the file the CI's OutputEnv names where it is set (Harness's DRONE_OUTPUT).
// file may be "" for none.
func (r *Reporter) WriteOutputs(o Outputs, file string) error {
	var errs []error
	if r.dialect == ci.GitHubCommands {
		errs = append(errs, r.githubOutputs(o))
	}
	if file != "" {
		errs = append(errs, r.writeDotenv(file, o, os.O_CREATE|os.O_TRUNC|os.O_WRONLY))
	}
	if f := r.outputEnvFile(); f != "" {
		errs = append(errs, r.writeDotenv(f, o, os.O_CREATE|os.O_APPEND|os.O_WRONLY))
	}
	return errors.Join(errs...)
}

// outputEnvFile is the file named by the CI's OutputEnv variable, or "".
func (r *Reporter) outputEnvFile() string {
	if r.outputEnv == "" {
		return ""
	}
	return r.getenv(r.outputEnv)
}

func (r *Reporter) githubOutputs(o Outputs) (err error) {
	if r.getenv("GITHUB_OUTPUT") == "" {
		// go-githubactions panics on an unset GITHUB_OUTPUT (it opens ""). The run goes on
		// without outputs: CheckDestinations has warned already, or warns now.
		r.warnNoGitHubOutput()
		return nil
	}
	// It also panics when the file cannot be written: turn that into an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write outputs: %v", p)
		}
	}()
	gha := githubactions.New(githubactions.WithGetenv(r.getenv), githubactions.WithWriter(r.out))
	for _, p := range o.list() {
		if p.github != "" && p.value != "" {
			// One line, whatever the value: go-githubactions writes a heredoc with a fixed
			// delimiter, which a value holding a newline and that delimiter would close,
			// to add outputs of its own after it.
			gha.SetOutput(p.github, r.value(p))
		}
	}
	return nil
}

func (r *Reporter) writeDotenv(path string, o Outputs, flag int) error {
	var b strings.Builder
	for _, p := range o.list() {
		if v := strings.TrimSpace(r.value(p)); v != "" {
			fmt.Fprintf(&b, "%s=%s\n", p.dotenv, v)
		}
	}
	f, err := openDestination(path, flag)
	if err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write outputs to %s: %w", path, err)
	}
	return nil
}

// outputValue is v on one line: no newline, no \r, no other control character nor line
// separator (Escape shows them as \n, \r, \u2028…). An honest value has none of them.
func outputValue(v string) string { return Escape(v) }

// warnNoGitHubOutput tells, once, that GitHub gave no GITHUB_OUTPUT file.
func (r *Reporter) warnNoGitHubOutput() {
	r.mu.Lock()
	warned := r.warnedNoOutput
	r.warnedNoOutput = true
	r.mu.Unlock()
	if !warned {
		r.Warning("GITHUB_OUTPUT is not set: the step outputs (deployment-id, status, app-url, git-ref, archive-size, deployments…) are not written; the deployment goes on")
	}
}

// DestinationError is an output destination that cannot be written: invalid input,
// found before any request.
type DestinationError struct {
	What string // "the output file", "GITHUB_OUTPUT"…
	Path string
	Err  error
}

func (e *DestinationError) Error() string {
	err := e.Err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is named already
	}
	return fmt.Sprintf("%s %s cannot be written: %v", e.What, Escape(e.Path), err)
}

func (e *DestinationError) Unwrap() error { return e.Err }

// InvalidInput marks the error as invalid input (exit code 2).
func (e *DestinationError) InvalidInput() bool { return true }

// CheckDestinations checks, before any request, that every file the run will write
// (outputFile unless "", GITHUB_OUTPUT and GITHUB_STEP_SUMMARY in GitHub's dialect, the
// file the CI's OutputEnv names, such as DRONE_OUTPUT) can be opened for appending, so that a broken destination is found before a
// deployment exists rather than after (a retried job would deploy twice). A file that
// did not exist is removed again: the output file may lie in the tree about to be
// archived, and a run that stops early must leave nothing behind. Opening cannot tell a
// full device (/dev/full) from a good one without writing to it; that write error comes
// later, named, from WriteOutputs. On GitHub without GITHUB_OUTPUT it warns and returns
// no error: the deployment goes on without outputs.
func (r *Reporter) CheckDestinations(outputFile string) error {
	type dest struct{ what, path string }
	var dests []dest
	if outputFile != "" {
		dests = append(dests, dest{"the output file", outputFile})
	}
	if r.dialect == ci.GitHubCommands {
		if p := r.getenv("GITHUB_OUTPUT"); p != "" {
			dests = append(dests, dest{"GITHUB_OUTPUT", p})
		} else {
			r.warnNoGitHubOutput()
		}
		if p := r.getenv("GITHUB_STEP_SUMMARY"); p != "" {
			dests = append(dests, dest{"GITHUB_STEP_SUMMARY", p})
		}
	}
	if p := r.outputEnvFile(); p != "" {
		dests = append(dests, dest{r.outputEnv, p})
	}
	var errs []error
	for _, d := range dests {
		if err := checkWritable(d.path); err != nil {
			errs = append(errs, &DestinationError{What: d.what, Path: d.path, Err: err})
		}
	}
	return errors.Join(errs...)
}

// openDestination opens an output file without following a symlink in its last
// component: the default output file lies in the checkout, which a pull request writes,
// and a committed `scalingo-deploy.env -> /some/file` must not make the run overwrite
// that file. The files a runner names (GITHUB_OUTPUT…) are opened the same way: the runner
// makes them plain files.
func openDestination(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: an output file is never written through one", Escape(path))
	}
	return f, err
}

func checkWritable(path string) error {
	_, statErr := os.Lstat(path)
	existed := statErr == nil
	f, err := openDestination(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !existed {
		return os.Remove(path)
	}
	return nil
}
