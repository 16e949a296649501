package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

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

// githubOutputs appends the outputs to GITHUB_OUTPUT, each as actions/toolkit writes one:
// name<<DELIM, the value, DELIM, with a fresh random delimiter for each value. A fixed
// delimiter (go-githubactions' _GitHubActionsFileCommandDelimeter_) would be ended early
// by a value equal to it: a git-ref input, or an app URL from the API.
func (r *Reporter) githubOutputs(o Outputs) error {
	path := r.getenv("GITHUB_OUTPUT")
	if path == "" {
		// The run goes on without outputs: CheckDestinations has warned already, or warns now.
		r.warnNoGitHubOutput()
		return nil
	}
	var b strings.Builder
	for _, p := range o.list() {
		if p.github == "" || p.value == "" {
			continue
		}
		if err := writeHeredoc(&b, p.github, r.value(p), "ghadelimiter_"+randomToken()); err != nil {
			return fmt.Errorf("write outputs to GITHUB_OUTPUT: %w", err)
		}
	}
	f, err := openDestination(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY)
	if err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	// One write: the file is the runner's, and half an entry would break every output.
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write outputs to %s: %w", Escape(path), err)
	}
	return nil
}

// writeHeredoc writes one GITHUB_OUTPUT entry under delim (128 random bits, fresh for
// each value), and refuses a value that holds it, as actions/toolkit does, rather than
// end the entry early.
func writeHeredoc(b *strings.Builder, name, value, delim string) error {
	if strings.Contains(value, delim) || strings.Contains(name, delim) {
		return fmt.Errorf("the value of %s holds its delimiter", name)
	}
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
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
//
// Only a regular file is written, or one of the devices in writableDevices: a FIFO would
// block the run until a reader came (or forever), and a socket or another device is no
// place for outputs. Opening never blocks (O_NONBLOCK: a FIFO without a reader fails at
// once with ENXIO, as a socket does); what was opened is then checked with fstat, so that
// a path swapped between a check and the open is caught too.
func openDestination(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link: an output file is never written through one", Escape(path))
	case errors.Is(err, syscall.ENXIO):
		// A FIFO without a reader, a socket, or a device with nothing behind it.
		if fi, lerr := os.Lstat(path); lerr == nil {
			return nil, notRegular(path, fi)
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() && !writableDevice(path, fi) {
		f.Close()
		return nil, notRegular(path, fi)
	}
	return f, nil
}

// writableDevices are the devices an output may go to: /dev/null to throw outputs away,
// /dev/full to see a write error named. Both swallow what is written and block no one.
var writableDevices = []string{"/dev/null", "/dev/full"}

func writableDevice(path string, fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	for _, d := range writableDevices {
		if filepath.Clean(path) == d {
			return true
		}
	}
	return false
}

// notRegular says what path is instead of a regular file.
func notRegular(path string, fi fs.FileInfo) error {
	kind := "not a regular file"
	switch m := fi.Mode(); {
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m.IsDir():
		kind = "a directory"
	}
	return fmt.Errorf("%s is %s: outputs go to a regular file only (or %s)", Escape(path), kind, strings.Join(writableDevices, ", "))
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
