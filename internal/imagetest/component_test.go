package imagetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scalingo-deploy/scalingo-deploy/internal/config"
)

// componentOnly are the GitLab component's inputs that shape the job rather than being tool inputs.
var componentOnly = []string{"job-name", "stage", "image", "environment"}

// notComponentInputs are tool inputs the components leave out on purpose: a secret written as an
// input would sit in the pipeline file; it comes from a masked CI/CD variable instead
// (SCALINGO_API_TOKEN, SCALINGO_GITLAB_TOKEN); github-token and github-deployments mean nothing
// on GitLab. (env is an
// input: its lines name variables, and secret values are referenced, `SENTRY_DSN=$SENTRY_DSN`.)
var notComponentInputs = []string{"api-token", "gitlab-token", "github-token", "github-deployments"}

// reviewInputs belong to the review-app component (templates/review-app.yml), not to deploy.yml.
var reviewInputs = []string{"review-app", "review-app-name", "copy-env", "addons", "destroy", "allow-forks", "fork-label"}

// fleetInputs belong to deploy.yml only: a sweep, sleep or wake is a scheduled job of its own,
// never one of the review component's merge request jobs.
var fleetInputs = []string{"review-app-sweep", "review-app-max-age", "review-app-sleep", "review-app-wake"}

// notGitLabInputs are tool inputs no GitLab component has: fork-label reads a GitHub-style
// event, and GitLab's gives no maintainer's approval (the tool refuses it there).
var notGitLabInputs = []string{"fork-label"}

type componentInput struct {
	Description string `yaml:"description"`
	Type        string `yaml:"type"`
	Default     *any   `yaml:"default"`
	Regex       string `yaml:"regex"`
}

type gitlabJob struct {
	Stage     string            `yaml:"stage"`
	Image     string            `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Artifacts struct {
		When    string `yaml:"when"`
		Reports struct {
			Dotenv string `yaml:"dotenv"`
		} `yaml:"reports"`
	} `yaml:"artifacts"`
	Environment *struct {
		Name       string `yaml:"name"`
		URL        string `yaml:"url"`
		OnStop     string `yaml:"on_stop"`
		Action     string `yaml:"action"`
		AutoStopIn string `yaml:"auto_stop_in"`
	} `yaml:"environment"`
	ResourceGroup string `yaml:"resource_group"`
	AllowFailure  bool   `yaml:"allow_failure"`
	Rules         []struct {
		If   string `yaml:"if"`
		When string `yaml:"when"`
	} `yaml:"rules"`
}

// component is a file of templates/: the spec header and the jobs, as written.
type component struct {
	inputs map[string]componentInput
	body   string // the second YAML document, before interpolation
}

// readComponent reads templates/deploy.yml.
func readComponent(t *testing.T) component { return readComponentFile(t, "deploy.yml") }

func readComponentFile(t *testing.T, file string) component {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "templates", file))
	if err != nil {
		t.Fatal(err)
	}
	// Both documents must be YAML: the header, and the jobs (which GitLab parses after interpolation,
	// but which must already be valid YAML for the catalog and the editor).
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var header struct {
		Spec struct {
			Inputs map[string]componentInput `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := dec.Decode(&header); err != nil {
		t.Fatalf("templates/%s header: %v", file, err)
	}
	var jobs map[string]any
	if err := dec.Decode(&jobs); err != nil {
		t.Fatalf("templates/%s jobs document: %v", file, err)
	}
	if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
		t.Fatalf("templates/%s: want exactly two YAML documents (%v)", file, err)
	}
	_, body, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok || len(header.Spec.Inputs) == 0 {
		t.Fatalf("templates/%s: want a spec: inputs: header, then ---, then the jobs", file)
	}
	return component{inputs: header.Spec.Inputs, body: string(body)}
}

var inputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)

// interpolate does what GitLab does when the component is included: every input gets the given
// value or its default, a required input left out is an error, and so is an unknown one; the
// values go into the parsed YAML, not its text.
func (c component) interpolate(given map[string]string) (map[string]gitlabJob, error) {
	values := map[string]string{}
	for name, in := range c.inputs {
		switch v, ok := given[name]; {
		case ok:
			values[name] = v
		case in.Default != nil:
			values[name] = fmt.Sprint(*in.Default)
		default:
			return nil, fmt.Errorf("input %s is required", name)
		}
		if in.Regex != "" && !regexp.MustCompile(in.Regex).MatchString(values[name]) {
			return nil, fmt.Errorf("input %s: %q does not match %s", name, values[name], in.Regex)
		}
	}
	for name := range given {
		if _, ok := c.inputs[name]; !ok {
			return nil, fmt.Errorf("unknown input %s", name)
		}
	}
	// GitLab loads the YAML first, then interpolates each key and value (Yaml::Loader, then
	// Interpolation::Template): a value with newlines stays one value, lines included.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(c.body), &doc); err != nil {
		return nil, fmt.Errorf("jobs document: %w", err)
	}
	var missing []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			n.Value = inputRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
				name := inputRef.FindStringSubmatch(ref)[1]
				v, ok := values[name]
				if !ok {
					missing = append(missing, name)
				}
				return v
			})
		}
		for _, child := range n.Content {
			walk(child)
		}
	}
	walk(&doc)
	if len(missing) > 0 {
		return nil, fmt.Errorf("the jobs use undeclared inputs %v", missing)
	}
	var jobs map[string]gitlabJob
	if err := doc.Decode(&jobs); err != nil {
		return nil, fmt.Errorf("interpolated jobs: %w", err)
	}
	for name := range jobs {
		if strings.HasPrefix(name, ".") {
			delete(jobs, name) // hidden: a template, not a job
		}
	}
	return jobs, nil
}

// ruleVar matches the only rule forms the components use: a variable compared with a string.
var ruleVar = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*) (==|!=) "([^"]*)"$`)

// runs evaluates a job's rules against its own variables, as GitLab does when nothing else
// defines them: the job runs when its first rule matches.
func (j gitlabJob) runs(t *testing.T) bool {
	t.Helper()
	return j.when(t, nil) != "never"
}

// when evaluates a job's rules against its variables and the pipeline's predefined ones (ci):
// the first rule that matches gives the job's when (on_success unless it says), none gives never.
func (j gitlabJob) when(t *testing.T, ci map[string]string) string {
	t.Helper()
	if len(j.Rules) == 0 {
		return "on_success"
	}
	for _, r := range j.Rules {
		m := ruleVar.FindStringSubmatch(r.If)
		if m == nil {
			t.Fatalf("rule %q: this test knows `$VAR == \"…\"` and `$VAR != \"…\"` only", r.If)
		}
		if (j.lookup(ci, m[1]) == m[3]) == (m[2] == "==") {
			if r.When == "" {
				return "on_success"
			}
			return r.When
		}
	}
	return "never"
}

// lookup reads a variable as a job sees it: its own variables, else the pipeline's.
func (j gitlabJob) lookup(ci map[string]string, name string) string {
	if v, ok := j.Variables[name]; ok {
		return v
	}
	return ci[name]
}

// expand replaces $NAME and ${NAME} with the job's variables, as GitLab expands an environment name.
func (j gitlabJob) expand(s string) string { return j.expandWith(nil, s) }

func (j gitlabJob) expandWith(ci map[string]string, s string) string {
	return os.Expand(s, func(name string) string { return j.lookup(ci, name) })
}

// toolInputs are the tool's inputs, read from its --help text.
func toolInputs(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z][a-z0-9-]*)\s`).FindAllStringSubmatch(config.Usage(), -1) {
		if m[1] != "help" && m[1] != "version" {
			names = append(names, m[1])
		}
	}
	if len(names) < 10 {
		t.Fatalf("found %d inputs in config.Usage(), want the whole table:\n%s", len(names), config.Usage())
	}
	return names
}

// TestComponent checks the GitLab component without running it: its inputs are the tool's
// inputs (so that the two cannot drift apart), each reaches the job as its SCALINGO_* variable,
// and exactly one job runs, with an environment when one is named.
func TestComponent(t *testing.T) {
	t.Parallel()
	c := readComponent(t)
	tool := toolInputs(t)

	t.Run("inputs are tool inputs", func(t *testing.T) {
		t.Parallel()
		var names []string
		for name, in := range c.inputs {
			names = append(names, name)
			if in.Description == "" {
				t.Errorf("input %s has no description (the catalog shows it)", name)
			}
			switch in.Type {
			case "", "string", "boolean", "number":
			default:
				t.Errorf("input %s: type %q", name, in.Type)
			}
			if slices.Contains(componentOnly, name) {
				continue
			}
			if !slices.Contains(tool, name) {
				t.Errorf("input %s is not a tool input (scalingo-deploy --help has %v)", name, tool)
			}
			if slices.Contains(notComponentInputs, name) {
				t.Errorf("input %s must not be a component input: it is a secret", name)
			}
		}
		sort.Strings(names)
		for _, name := range tool {
			if !slices.Contains(names, name) && !slices.Contains(notComponentInputs, name) && !slices.Contains(reviewInputs, name) {
				t.Errorf("tool input %s is missing from templates/deploy.yml (declared: %v)", name, names)
			}
		}
	})

	t.Run("each input reaches its variable", func(t *testing.T) {
		t.Parallel()
		given := map[string]string{"app": "my-app"}
		for name, in := range c.inputs {
			if name != "app" && !slices.Contains(componentOnly, name) && in.Type != "boolean" {
				given[name] = "value-of-" + name
			}
		}
		given["output-file"] = "out.env"
		given["timeout"] = "7m"
		jobs, err := c.interpolate(given)
		if err != nil {
			t.Fatal(err)
		}
		job, ok := jobs["scalingo-deploy"]
		if !ok {
			t.Fatalf("no job named scalingo-deploy: %v", jobs)
		}
		for name := range c.inputs {
			if slices.Contains(componentOnly, name) {
				continue
			}
			want, ok := given[name]
			if !ok {
				want = fmt.Sprint(*c.inputs[name].Default)
			}
			if c.inputs[name].Type == "boolean" {
				flag := "--" + name + "=" + want
				if !slices.ContainsFunc(job.Script, func(line string) bool { return slices.Contains(strings.Fields(line), flag) }) {
					t.Errorf("script %q lacks %s, the input %s", job.Script, flag, name)
				}
				continue
			}
			env := "SCALINGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
			if got := job.Variables[env]; got != want {
				t.Errorf("variable %s = %q, want the input %s (%q)", env, got, name, want)
			}
		}
		if job.Artifacts.Reports.Dotenv != "out.env" || job.Artifacts.When != "always" {
			t.Errorf("artifacts = %+v, want the output file as a dotenv report, always", job.Artifacts)
		}
	})

	// env is NAME=value lines, written as a YAML block in the include: every line must reach
	// SCALINGO_ENV as it was (a folded value would set one variable to the rest of the lines).
	t.Run("env keeps its lines", func(t *testing.T) {
		t.Parallel()
		const env = "DATABASE_URL=$DATABASE_URL\n# a comment\nFEATURES=a,b=c\n\nRAILS_ENV=production\n"
		jobs, err := c.interpolate(map[string]string{"app": "my-api,my-worker", "env": env, "environment": "production"})
		if err != nil {
			t.Fatal(err)
		}
		for name, job := range jobs {
			if got := job.Variables["SCALINGO_ENV"]; got != env {
				t.Errorf("job %s: SCALINGO_ENV = %q, want %q", name, got, env)
			}
			if got := job.Variables["SCALINGO_APP"]; got != "my-api,my-worker" {
				t.Errorf("job %s: SCALINGO_APP = %q, want both targets", name, got)
			}
		}
	})

	// GitLab inserts a typed input (boolean, number) with its type when it is a whole YAML
	// value, and job variables must be strings: such inputs may only be part of a longer string.
	t.Run("typed inputs are not whole values", func(t *testing.T) {
		t.Parallel()
		checkTypedInputs(t, c)
	})

	tests := []struct {
		name    string
		given   map[string]string
		wantErr string
		job     string // the one job that runs
		env     string // its environment, if any
	}{
		{name: "defaults", given: map[string]string{"app": "my-app"}, job: "scalingo-deploy"},
		{name: "environment", given: map[string]string{"app": "my-app", "environment": "production"}, job: "scalingo-deploy:production", env: "production"},
		{name: "job name and stage", given: map[string]string{"app": "my-app", "job-name": "ship", "stage": "release", "environment": "staging"}, job: "ship:staging", env: "staging"},
		{name: "app is required", given: map[string]string{}, wantErr: "input app is required"},
		{name: "unknown input", given: map[string]string{"app": "my-app", "api-token": "secret"}, wantErr: "unknown input api-token"},
		{name: "output file outside the project", given: map[string]string{"app": "my-app", "output-file": "/tmp/x.env"}, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs, err := c.interpolate(tt.given)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var running []string
			for name, j := range jobs {
				// GitLab validates every job before rules exclude any: an empty environment
				// name makes the whole pipeline invalid.
				if j.Environment != nil && strings.TrimSpace(j.Environment.Name) == "" {
					t.Errorf("job %s: environment name is empty before variables are expanded", name)
				}
				if j.runs(t) {
					running = append(running, name)
				}
			}
			if len(running) != 1 || running[0] != tt.job {
				t.Fatalf("jobs that run: %v, want [%s]", running, tt.job)
			}
			j := jobs[tt.job]
			if stage := tt.given["stage"]; stage != "" && j.Stage != stage {
				t.Errorf("stage = %q, want %q", j.Stage, stage)
			}
			if j.Image != fmt.Sprint(*c.inputs["image"].Default) {
				t.Errorf("image = %q", j.Image)
			}
			switch {
			case tt.env == "" && j.Environment != nil:
				t.Errorf("environment = %+v, want none", j.Environment)
			case tt.env != "" && (j.Environment == nil || j.expand(j.Environment.Name) != tt.env || j.Environment.URL != "$SCALINGO_APP_URL"):
				t.Errorf("environment = %+v, want name %s, url $SCALINGO_APP_URL", j.Environment, tt.env)
			}
		})
	}
}

// checkTypedInputs: GitLab inserts a typed input (boolean, number) with its type when it is a
// whole YAML value, and job variables must be strings: such inputs may only be part of a longer
// string.
func checkTypedInputs(t *testing.T, c component) {
	t.Helper()
	for name, in := range c.inputs {
		if in.Type == "" || in.Type == "string" {
			continue
		}
		whole := regexp.MustCompile(`(?m)(:|^\s*-)\s*["']?\$\[\[\s*inputs\.` + regexp.QuoteMeta(name) + `\s*\]\]["']?\s*(#.*)?$`)
		if m := whole.FindString(c.body); m != "" {
			t.Errorf("the %s input %s is a whole YAML value: %q", in.Type, name, m)
		}
	}
}

// TestComponentJob runs the component's job as GitLab's Docker executor would: the image the
// `image` input names, the job's variables, the project dir as working dir, the token from a
// masked CI/CD variable, the script on stdin after the shell detection; then reads the dotenv
// report the job declares.
func TestComponentJob(t *testing.T) {
	t.Parallel()
	img := image(t)
	srv := startFake(t)
	ws := newWorkspace(t)
	const projectDir = "/builds/acme/web"

	jobs, err := readComponent(t).interpolate(map[string]string{
		"app": appName, "image": img, "environment": "production",
		"api-url": srv.APIURL, "auth-url": srv.AuthURL, "output-file": "deploy/report.env",
	})
	if err != nil {
		t.Fatal(err)
	}
	job := jobs["scalingo-deploy:production"]
	if job.Image != img {
		t.Fatalf("job image = %q, want the image input %q", job.Image, img)
	}
	args := []string{"--volume", ws + ":" + projectDir, "--workdir", projectDir,
		"--env", "CI=true", "--env", "GITLAB_CI=true",
		"--env", "CI_PROJECT_DIR=" + projectDir, "--env", "CI_COMMIT_SHA=" + commitID,
		"--env", "CI_COMMIT_REF_NAME=main", "--env", "CI_JOB_ID=42",
		"--env", "CI_ENVIRONMENT_NAME=production",
		"--env", "SCALINGO_API_TOKEN=" + srv.APIToken}
	for name, value := range job.Variables {
		args = append(args, "--env", name+"="+value)
	}
	if err := os.MkdirAll(filepath.Join(ws, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "set -e\n" + strings.Join(job.Script, "\n") + "\n"
	out, code := podmanRun(t, script, append(args, job.Image, "sh", "-c", gitlabDetectShell)...)
	if code != 0 {
		t.Fatalf("job exited %d\n%s", code, out)
	}
	checkDeployed(t, srv, readDotenv(t, filepath.Join(ws, job.Artifacts.Reports.Dotenv)), commitID, out)
}

// TestComponentReleasePin runs the release workflow's commands that point a release's components
// at the image it pushed, on a copy of each: if a component's image line changes shape, the
// release would stop pinning it (and the workflow's grep would fail the release).
func TestComponentReleasePin(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"templates/deploy.yml", "templates/review-app.yml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			var cmds []string
			for _, job := range wf.Jobs {
				for _, st := range job.Steps {
					for _, line := range strings.Split(st.Run, "\n") {
						if line = strings.TrimSpace(line); strings.Contains(line, file) && !strings.HasPrefix(line, "git ") {
							cmds = append(cmds, line)
						}
					}
				}
			}
			if len(cmds) == 0 {
				t.Fatalf("release.yml: no command rewrites %s", file)
			}
			dir := t.TempDir()
			tmpl, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, file, string(tmpl))
			const image, digest = "ghcr.io/scalingo-deploy/scalingo-deploy", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			cmd := exec.Command("sh", "-ec", strings.Join(cmds, "\n"))
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "IMAGE="+image, "DIGEST="+digest)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(cmds, "\n"), err, out)
			}
			pinned, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			var header struct {
				Spec struct {
					Inputs map[string]componentInput `yaml:"inputs"`
				} `yaml:"spec"`
			}
			if err := yaml.NewDecoder(bytes.NewReader(pinned)).Decode(&header); err != nil {
				t.Fatal(err)
			}
			if in := header.Spec.Inputs["image"]; in.Default == nil || fmt.Sprint(*in.Default) != image+"@"+digest {
				t.Errorf("after the release's commands the image input's default is %v, want %s@%s", in.Default, image, digest)
			}
			if n := strings.Count(string(pinned), digest); n != 1 {
				t.Errorf("the digest appears %d times in the pinned component, want once", n)
			}
		})
	}
}
