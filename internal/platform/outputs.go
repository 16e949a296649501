package platform

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
)

// Outputs are what a run tells later steps. Empty fields are not known (yet) and are not
// written.
type Outputs struct {
	DeploymentID string
	Status       string
	AppURL       string
	GitRef       string
	ArchiveSize  int64
}

// pairs lists the outputs as (GitHub name, dotenv name, value), in a fixed order.
func (o Outputs) pairs() [][3]string {
	size := ""
	if o.ArchiveSize > 0 {
		size = strconv.FormatInt(o.ArchiveSize, 10)
	}
	return [][3]string{
		{"deployment-id", "SCALINGO_DEPLOYMENT_ID", o.DeploymentID},
		{"status", "SCALINGO_DEPLOYMENT_STATUS", o.Status},
		{"app-url", "SCALINGO_APP_URL", o.AppURL},
		{"git-ref", "SCALINGO_GIT_REF", o.GitRef},
		{"archive-size", "SCALINGO_ARCHIVE_SIZE", size},
	}
}

// WriteOutputs hands the outputs to the platform: GITHUB_OUTPUT on GitHub; the dotenv
// file elsewhere (GitLab's artifacts:reports:dotenv rules: NAME=value, no quotes, no
// empty lines); and DRONE_OUTPUT where Harness sets it. file may be "" for none.
func (r *Reporter) WriteOutputs(o Outputs, file string) error {
	var errs []error
	if r.kind == config.GitHub {
		errs = append(errs, r.githubOutputs(o))
	}
	if file != "" {
		errs = append(errs, r.writeDotenv(file, o, os.O_CREATE|os.O_TRUNC|os.O_WRONLY))
	}
	if r.kind == config.Drone {
		if f := r.getenv("DRONE_OUTPUT"); f != "" {
			errs = append(errs, r.writeDotenv(f, o, os.O_CREATE|os.O_APPEND|os.O_WRONLY))
		}
	}
	return errors.Join(errs...)
}

func (r *Reporter) githubOutputs(o Outputs) (err error) {
	if r.getenv("GITHUB_OUTPUT") == "" {
		// go-githubactions panics on an unset GITHUB_OUTPUT (it opens "").
		return errors.New("write outputs: GITHUB_OUTPUT is not set")
	}
	// It also panics when the file cannot be written: turn that into an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write outputs: %v", p)
		}
	}()
	gha := githubactions.New(githubactions.WithGetenv(r.getenv), githubactions.WithWriter(r.out))
	for _, p := range o.pairs() {
		if p[2] != "" {
			gha.SetOutput(p[0], r.out.Redact(p[2]))
		}
	}
	return nil
}

func (r *Reporter) writeDotenv(path string, o Outputs, flag int) error {
	var b strings.Builder
	for _, p := range o.pairs() {
		if v := dotenvValue(r.out.Redact(p[2])); v != "" {
			fmt.Fprintf(&b, "%s=%s\n", p[1], v)
		}
	}
	f, err := os.OpenFile(path, flag, 0o644)
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

// dotenvValue keeps a value on one line without quotes, as GitLab reads it.
func dotenvValue(v string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
}
