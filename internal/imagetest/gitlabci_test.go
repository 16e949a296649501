package imagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakegitlab"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
)

// gitlabCILocalVersion is the gitlab-ci-local that .ci/container-setup.sh installs: later ones
// crash on the machines' Node 20 (test-environment.md).
const gitlabCILocalVersion = "4.73.0"

var (
	helperOnce sync.Once
	helperName string // removed by TestMain
	helperErr  error
)

// gitlabDocBlock returns the one ```yaml block of docs/gitlab.md holding marker: the container
// tests run the pipelines the docs show, so that a pasted example works.
func gitlabDocBlock(t *testing.T, marker string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "gitlab.md"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, b := range yamlBlocks(string(doc)) {
		if strings.Contains(b, marker) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/gitlab.md: want one ```yaml block with %q, found %d", marker, len(found))
	}
	checkOnStop(t, found[0])
	return found[0]
}

// checkOnStop applies a rule of GitLab's pipeline validation that gitlab-ci-local does not
// (Gitlab::Ci::YamlProcessor#validate_on_stop_job!): a job's environment:on_stop names a job of
// the same file, with an environment of the same name; GitLab refuses the whole pipeline else.
func checkOnStop(t *testing.T, pipeline string) {
	t.Helper()
	type env struct {
		Name   string `yaml:"name"`
		OnStop string `yaml:"on_stop"`
	}
	var jobs map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(pipeline), &jobs); err != nil {
		t.Fatalf("pipeline: %v\n%s", err, pipeline)
	}
	envOf := func(name string) (env, bool) {
		node, ok := jobs[name]
		if !ok || node.Kind != yaml.MappingNode {
			return env{}, false
		}
		var j struct {
			Environment *env `yaml:"environment"`
		}
		if err := node.Decode(&j); err != nil || j.Environment == nil {
			return env{}, false
		}
		return *j.Environment, true
	}
	for name := range jobs {
		e, ok := envOf(name)
		if !ok || e.OnStop == "" {
			continue
		}
		if stop, ok := envOf(e.OnStop); !ok || stop.Name != e.Name {
			t.Errorf("job %s: on_stop job %s is not defined with environment %q: GitLab refuses the pipeline\n%s", name, e.OnStop, e.Name, pipeline)
		}
	}
}

// TestGitLabCIDocsOnStop checks every GitLab pipeline of the docs for the on_stop rule
// that GitLab applies and gitlab-ci-local does not.
func TestGitLabCIDocsOnStop(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range yamlBlocks(string(doc)) {
			if strings.Contains(b, "on_stop:") {
				t.Run(filepath.Base(f), func(t *testing.T) { checkOnStop(t, b) })
				checked++
			}
		}
	}
	if checked < 2 {
		t.Errorf("found %d GitLab pipelines with on_stop in docs/, want those of gitlab.md and review-apps.md", checked)
	}
}

// gitlabCILocal finds gitlab-ci-local at the pinned version: on PATH, or in npm's global prefix
// where .ci/container-setup.sh installs it.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("gitlab-ci-local")
	if err != nil {
		if prefix, perr := exec.Command("npm", "prefix", "--global").Output(); perr == nil {
			p := filepath.Join(strings.TrimSpace(string(prefix)), "bin", "gitlab-ci-local")
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		missing(t, "gitlab-ci-local not found")
	}
	out, err := exec.Command(bin, "--version").Output()
	if v := strings.TrimSpace(string(out)); err != nil || v != gitlabCILocalVersion {
		missing(t, "%s --version: %q (%v), want %s", bin, v, err, gitlabCILocalVersion)
	}
	tool(t, "rsync") // gitlab-ci-local copies the checkout and the artifacts with it
	return bin
}

// helperImage returns gitlab-ci-local's helper image, which copies the checkout into the job's
// volume and the artifacts out of it with bash and rsync. Its default is pulled from Docker Hub,
// which cannot be reached: this one is made of busybox and the host's bash and rsync with the
// libraries they load, once per test binary.
func helperImage(t *testing.T) string {
	t.Helper()
	requirePodman(t)
	if _, err := os.Stat(busyboxPath); err != nil {
		missing(t, "%s not found (Debian package busybox-static)", busyboxPath)
	}
	rsync := tool(t, "rsync")
	bash, err := exec.LookPath("bash")
	if err != nil {
		missing(t, "bash not found")
	}
	helperOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		name := fmt.Sprintf("localhost/gitlab-ci-local-helper:imagetest-%d", os.Getpid())
		if helperErr = makeHelperImage(ctx, name, bash, rsync); helperErr == nil {
			helperName = name
		}
	})
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	return helperName
}

func makeHelperImage(ctx context.Context, name string, programs ...string) error {
	stage, err := os.MkdirTemp(setupDir, "helper-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	for _, d := range []string{"bin", "usr/bin", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(stage, "tmp"), 0o1777); err != nil {
		return err
	}
	// busybox for sh, chown, chmod, mkdir, mktemp and the rest the helper's scripts call.
	if err := copyFile(busyboxPath, filepath.Join(stage, "bin/busybox"), 0o755); err != nil {
		return err
	}
	list, err := exec.CommandContext(ctx, busyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(stage, "bin", applet)); err != nil {
				return err
			}
		}
	}
	// The programs in /usr/bin, and each shared library ldd names at its own path.
	for _, prog := range programs {
		if err := copyFile(prog, filepath.Join(stage, "usr/bin", filepath.Base(prog)), 0o755); err != nil {
			return err
		}
		out, err := exec.CommandContext(ctx, "ldd", prog).Output()
		if err != nil {
			return fmt.Errorf("ldd %s: %w", prog, err)
		}
		for _, m := range regexp.MustCompile(`(?m)(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
			lib := filepath.Join(stage, m[1])
			if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
				return err
			}
			if err := copyFile(m[1], lib, 0o755); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "etc/group"), []byte("root:x:0:\n"), 0o644); err != nil {
		return err
	}
	tarCmd := exec.CommandContext(ctx, "tar", "-C", stage, "-cf", "-", ".")
	importCmd := exec.CommandContext(ctx, "podman", "import",
		"--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin", "-", name)
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	importCmd.Stdin = pipe
	var tarErr, importErr bytes.Buffer
	tarCmd.Stderr, importCmd.Stderr = &tarErr, &importErr
	if err := tarCmd.Start(); err != nil {
		return err
	}
	if err := importCmd.Run(); err != nil {
		tarCmd.Process.Kill()
		tarCmd.Wait()
		return fmt.Errorf("make the gitlab-ci-local helper image: podman import: %w\n%s", err, importErr.String())
	}
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("make the gitlab-ci-local helper image: tar: %w\n%s", err, tarErr.String())
	}
	return nil
}

// podmanRecorder is the container command gitlab-ci-local is given: podman, noting each
// container and volume it creates. gitlab-ci-local removes them with one `podman rm -vf` of all
// the job's containers, one already gone, which podman 4.3 answers by removing none; the test
// removes what was noted, and only that (other tests share this podman).
const podmanRecorder = `#!/bin/sh
case "$1" in
create)
	id=$('%[1]s' "$@") || exit
	echo "container $id" >>'%[2]s'
	echo "$id"
	;;
volume)
	[ "$2" = create ] && echo "volume $3" >>'%[2]s'
	exec '%[1]s' "$@"
	;;
*)
	exec '%[1]s' "$@"
	;;
esac
`

// glciProject is a git checkout in which gitlab-ci-local runs pipelines.
type glciProject struct {
	dir, bin, helper, podman, created string
}

// newGLCIProject makes a checkout of the test workspace with files (.gitlab-ci.yml among them)
// added, committed, on a remote of the GitLab project named (gitlab-ci-local names the project
// from it, and includes a component of that project at its own commit from the checkout).
func newGLCIProject(t *testing.T, project string, files map[string]string) *glciProject {
	t.Helper()
	p := &glciProject{bin: gitlabCILocal(t), helper: helperImage(t), dir: newWorkspace(t)}
	if err := os.RemoveAll(filepath.Join(p.dir, ".git")); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		writeFile(t, p.dir, name, content)
	}
	p.git(t, "init", "-q")
	p.git(t, "config", "user.name", "ci") // gitlab-ci-local reads them for GITLAB_USER_*
	p.git(t, "config", "user.email", "ci@example.com")
	p.git(t, "add", "-A")
	p.git(t, "commit", "-q", "-m", "app")
	p.git(t, "remote", "add", "origin", "https://gitlab.example.com/"+project+".git")
	p.git(t, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")

	podmanBin, err := exec.LookPath("podman")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	p.created = filepath.Join(tmp, "created")
	p.podman = writeFile(t, tmp, "podman", fmt.Sprintf(podmanRecorder, podmanBin, p.created))
	if err := os.Chmod(p.podman, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.removeCreated(t) })
	return p
}

func (p *glciProject) git(t *testing.T, args ...string) string {
	t.Helper()
	return gitIn(t, p.dir, args...)
}

// run runs the pipeline with gitlab-ci-local. vars are what GitLab would give the jobs on top of
// its predefined variables: project CI/CD variables, or those of the pipeline's kind (a merge
// request's, a schedule's). jobs, when given, are run alone (a manual job, as if started by
// hand), else the whole pipeline. It returns the log and whether every job passed.
func (p *glciProject) run(t *testing.T, vars map[string]string, jobs ...string) (string, bool) {
	t.Helper()
	args := []string{
		"--container-executable", p.podman,
		"--helper-image", p.helper,
		"--pull-policy", "if-not-present",
		"--network", "host", // the fakes listen on 127.0.0.1
		"--no-color",
		// gitlab-ci-local says GITLAB_CI=false, GitLab says true: the tool must see GitLab.
		"--variable", "GITLAB_CI=true",
	}
	predefined := []string{"GITLAB_CI"} // set on purpose: no warning
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--variable", name+"="+vars[name])
		if strings.HasPrefix(name, "CI_") {
			predefined = append(predefined, name)
		}
	}
	args = append(args, "--ignore-predefined-vars", strings.Join(predefined, ","))
	args = append(args, jobs...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir = p.dir
	home := t.TempDir()                          // no ~/.gitlab-ci-local/variables.yml of the machine
	cmd.Env = append(os.Environ(), "HOME="+home) // CONTAINERS_CONF comes from TestMain
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gitlab-ci-local timed out\n%s", out)
	}
	return string(out), err == nil
}

// removeCreated removes the containers and volumes gitlab-ci-local created for this project.
func (p *glciProject) removeCreated(t *testing.T) {
	data, err := os.ReadFile(p.created)
	if err != nil {
		return // nothing created
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var containers, volumes []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		switch kind, name, _ := strings.Cut(line, " "); kind {
		case "container":
			containers = append(containers, name)
		case "volume":
			volumes = append(volumes, name)
		}
	}
	for _, c := range containers { // one by one: see podmanRecorder
		if _, err := podman(ctx, "container", "exists", c); err == nil {
			if _, err := podman(ctx, "rm", "--force", "--volumes", c); err != nil {
				t.Logf("remove gitlab-ci-local's container %s: %v", c, err)
			}
		}
	}
	for _, v := range volumes {
		if _, err := podman(ctx, "volume", "exists", v); err == nil {
			if _, err := podman(ctx, "volume", "rm", "--force", v); err != nil {
				t.Logf("remove gitlab-ci-local's volume %s: %v", v, err)
			}
		}
	}
}

// fakeProjectVars are the CI/CD variables a project keeps for the deploy: the masked token and
// the fake's URLs in place of Scalingo's.
func fakeProjectVars(srv *fakescalingo.Server) map[string]string {
	return map[string]string{
		"SCALINGO_API_TOKEN": srv.APIToken,
		"SCALINGO_API_URL":   srv.APIURL,
		"SCALINGO_AUTH_URL":  srv.AuthURL,
	}
}

// startServedFake is startFake whose app answers on 127.0.0.1, so that a later job can reach
// its URL as the docs' smoke test does.
func startServedFake(t *testing.T) *fakescalingo.Server {
	t.Helper()
	srv := startFake(t)
	srv.AddApp(appName, fakescalingo.Scenario{Serve: &fakescalingo.AppServer{}})
	return srv
}

// passed reports whether gitlab-ci-local's summary says the job passed.
func passed(log, job string) bool {
	return regexp.MustCompile(`(?m)^ PASS +` + regexp.QuoteMeta(job) + ` *$`).MatchString(log)
}

var glciSmoke = regexp.MustCompile(`smoke-test *> Deployment (\S*) ended with (\S*)`)

// TestGitLabCIDeploy runs docs/gitlab.md's first pipeline under gitlab-ci-local, a real GitLab
// CI runner: the deploy job deploys the checkout, its dotenv report reaches the smoke test
// through `needs:`, which prints the deployment and fetches the app's URL.
func TestGitLabCIDeploy(t *testing.T) {
	t.Parallel()
	img := image(t)
	pipeline := gitlabDocBlock(t, "Deployment $SCALINGO_DEPLOYMENT_ID ended with")
	pipeline = replaceN(t, pipeline, "image: ghcr.io/scalingo-deploy/scalingo-deploy:1\n", "image: "+img+"\n", 1)
	pipeline = replaceN(t, pipeline, "image: alpine:3.22\n", "image: "+baseImage+"\n", 1)
	p := newGLCIProject(t, "acme/web", map[string]string{".gitlab-ci.yml": pipeline})
	head := p.git(t, "rev-parse", "HEAD")
	srv := startServedFake(t)

	out, ok := p.run(t, fakeProjectVars(srv))
	if !ok {
		t.Fatalf("the pipeline failed\n%s", out)
	}
	for _, job := range []string{"deploy", "smoke-test"} {
		if !passed(out, job) {
			t.Errorf("job %s did not pass\n%s", job, out)
		}
	}
	// gitlab-ci-local copies the artifacts, dotenv report included, back into the checkout.
	report := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env"))
	d := checkDeployment(t, srv, appName, head, out)
	a, _ := srv.App(appName)
	for name, want := range map[string]string{
		"SCALINGO_DEPLOYMENT_ID":     d.ID,
		"SCALINGO_DEPLOYMENT_STATUS": "success",
		"SCALINGO_GIT_REF":           head,
		"SCALINGO_APP_URL":           a.URL, // the app's server on 127.0.0.1
		"SCALINGO_ARCHIVE_SIZE":      fmt.Sprint(d.Archive.CompressedSize),
	} {
		if report[name] != want {
			t.Errorf("dotenv report %s = %q, want %q", name, report[name], want)
		}
	}
	if strings.Contains(out, srv.APIToken) {
		t.Errorf("the API token shows in the log:\n%s", out)
	}
	m := glciSmoke.FindStringSubmatch(out)
	if m == nil || m[1] != report["SCALINGO_DEPLOYMENT_ID"] || m[2] != "success" {
		t.Errorf("the smoke test printed %q, want deployment %s ended with success\n%s", m, report["SCALINGO_DEPLOYMENT_ID"], out)
	}
	if n := srv.AppRequests(appName); n != 1 {
		t.Errorf("the app's URL got %d requests, want the smoke test's one", n)
	}
}

// TestGitLabCIFeedback runs docs/gitlab.md's merge request note pipeline under gitlab-ci-local,
// as a merge request pipeline with SCALINGO_GITLAB_TOKEN and CI_API_V4_URL at the fake GitLab:
// the first run creates the review app and one note; a second push edits that note; the stop
// job deletes the review app and edits the note once more.
func TestGitLabCIFeedback(t *testing.T) {
	t.Parallel()
	img := image(t)
	const iid, project = 17, 1217
	pipeline := gitlabDocBlock(t, "deploy-review:")
	pipeline = replaceN(t, pipeline, "image: ghcr.io/scalingo-deploy/scalingo-deploy:1\n", "image: "+img+"\n", 2)
	p := newGLCIProject(t, "acme/web", map[string]string{".gitlab-ci.yml": pipeline})
	srv := startFake(t)
	gl := fakegitlab.Start(fakegitlab.Options{ProjectID: project, ProjectPath: "acme/web", MergeRequests: []int{iid}})
	t.Cleanup(gl.Close)

	vars := fakeProjectVars(srv)
	for k, v := range map[string]string{
		"SCALINGO_GITLAB_TOKEN": gl.Token,
		"CI_API_V4_URL":         gl.URL,
		"CI_PROJECT_ID":         fmt.Sprint(project),
	} {
		vars[k] = v
	}
	for k, v := range mergeRequestVars(iid, project) {
		vars[k] = v
	}
	const child = appName + "-pr17"
	run := func(t *testing.T, job string) string {
		t.Helper()
		var out string
		var ok bool
		if job == "deploy-review" {
			out, ok = p.run(t, vars) // the pipeline, where the stop job waits to be started by hand
		} else {
			out, ok = p.run(t, vars, job)
		}
		if !ok || !passed(out, job) {
			t.Fatalf("%s failed\n%s", job, out)
		}
		if strings.Contains(out, gl.Token) || strings.Contains(out, srv.APIToken) {
			t.Errorf("a token shows in the log:\n%s", out)
		}
		return out
	}

	head := p.git(t, "rev-parse", "HEAD")
	out := run(t, "deploy-review")
	if strings.Contains(out, "stop-review ") {
		t.Errorf("the manual stop job ran with the pipeline\n%s", out)
	}
	checkReviewDeployed(t, srv, child, out)
	n := gl.Notes(iid)
	if len(n) != 1 || !strings.Contains(n[0].Body, "✅ deployed") || !strings.Contains(n[0].Body, "`"+head[:7]+"`") || n[0].Author.ID != gl.Bot.ID {
		t.Fatalf("notes after the first pipeline: %+v\n%s", n, out)
	}
	first := n[0].ID

	p.git(t, "commit", "-q", "--allow-empty", "-m", "second push")
	head = p.git(t, "rev-parse", "HEAD")
	out = run(t, "deploy-review")
	n = gl.Notes(iid)
	if len(n) != 1 || n[0].ID != first || n[0].Edits != 1 || !strings.Contains(n[0].Body, "`"+head[:7]+"`") {
		t.Fatalf("notes after the second pipeline: %+v, want note %d edited once for %s\n%s", n, first, head[:7], out)
	}
	if deps := srv.Deployments(child); len(deps) != 2 || deps[1].GitRef == nil || *deps[1].GitRef != head {
		t.Errorf("review app deployments = %+v, want a second one of %s", deps, head)
	}

	// The environment stops (merged, closed, auto_stop_in): the stop job deletes the review app
	// and the note says so.
	out = run(t, "stop-review")
	checkReviewDestroyed(t, srv, child, out)
	if n = gl.Notes(iid); len(n) != 1 || n[0].ID != first || n[0].Edits != 2 || !strings.Contains(n[0].Body, "🗑️ deleted") {
		t.Fatalf("notes after the stop job: %+v, want note %d saying the review app was deleted\n%s", n, first, out)
	}
	for _, r := range gl.Requests() {
		if r.PrivateToken != gl.Token && r.Authorization != "Bearer "+gl.Token {
			t.Errorf("%s %s without the token", r.Method, r.Path)
		}
	}
}

// mergeRequestVars are what GitLab gives a merge request pipeline of a branch of project.
func mergeRequestVars(iid, project int) map[string]string {
	return map[string]string{
		"CI_PIPELINE_SOURCE":                  "merge_request_event",
		"CI_MERGE_REQUEST_IID":                fmt.Sprint(iid),
		"CI_MERGE_REQUEST_PROJECT_ID":         fmt.Sprint(project),
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID":  fmt.Sprint(project),
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
	}
}

// TestGitLabCIReviewApp runs the GitLab pipeline of docs/review-apps.md under gitlab-ci-local in
// a merge request pipeline: the review job creates and deploys the review app and reports it in
// its dotenv report; the manual stop job deletes it.
func TestGitLabCIReviewApp(t *testing.T) {
	t.Parallel()
	img := image(t)
	const iid = 17
	const child = appName + "-pr17"
	pipeline := reviewDocBlock(t, "stop-review:")
	checkOnStop(t, pipeline)
	pipeline = replaceN(t, pipeline, "image: ghcr.io/scalingo-deploy/scalingo-deploy:1\n", "image: "+img+"\n", 2)
	p := newGLCIProject(t, "acme/web", map[string]string{".gitlab-ci.yml": pipeline})
	srv := startFake(t)
	vars := fakeProjectVars(srv)
	for k, v := range mergeRequestVars(iid, 1217) {
		vars[k] = v
	}

	out, ok := p.run(t, vars)
	if !ok || !passed(out, "review") {
		t.Fatalf("the merge request pipeline failed\n%s", out)
	}
	if strings.Contains(out, "stop-review ") {
		t.Errorf("the manual stop job ran with the pipeline\n%s", out)
	}
	a := checkReviewDeployed(t, srv, child, out)
	if d := srv.Deployments(child)[0]; d.GitRef == nil || *d.GitRef != p.git(t, "rev-parse", "HEAD") {
		t.Errorf("the review app got git_ref %v, want the pipeline's commit", d.GitRef)
	}
	report := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env"))
	if report["SCALINGO_APP_NAME"] != child || report["SCALINGO_APP_URL"] != a.URL || report["SCALINGO_DEPLOYMENT_STATUS"] != "success" {
		t.Errorf("dotenv report %v, want SCALINGO_APP_NAME=%s, SCALINGO_APP_URL=%s, status success", report, child, a.URL)
	}

	out, ok = p.run(t, vars, "stop-review")
	if !ok || !passed(out, "stop-review") {
		t.Fatalf("the stop job failed\n%s", out)
	}
	checkReviewDestroyed(t, srv, child, out)
	if r := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env")); r["SCALINGO_APP_NAME"] != child || r["SCALINGO_DEPLOYMENT_STATUS"] != "destroyed" {
		t.Errorf("the stop job's dotenv report %v, want SCALINGO_APP_NAME=%s, SCALINGO_DEPLOYMENT_STATUS=destroyed", r, child)
	}
}

var glciVerify = regexp.MustCompile(`verify +> outputs id=(\S*) status=(\S*)`)

// TestGitLabCIComponent includes this repository's components the way GitLab's docs test a
// component in its own project (`component: $CI_SERVER_FQDN/<project>/<name>@$CI_COMMIT_SHA`):
// gitlab-ci-local then reads templates/<name>.yml from the checkout and interpolates its inputs
// itself, as GitLab does. The pipelines are the docs' includes, the version replaced by the
// commit and the image and URLs given as inputs.
func TestGitLabCIComponent(t *testing.T) {
	t.Parallel()
	img := image(t)
	const project = "scalingo-deploy/scalingo-deploy"
	files := map[string]string{}
	for _, name := range []string{"deploy.yml", "review-app.yml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "templates", name))
		if err != nil {
			t.Fatal(err)
		}
		files["templates/"+name] = string(data)
	}
	include := func(t *testing.T, pipeline, component string, srv *fakescalingo.Server) string {
		t.Helper()
		pipeline = replaceN(t, pipeline, "/"+component+"@X.Y.Z\n", "/"+component+"@$CI_COMMIT_SHA\n", 1)
		return replaceN(t, pipeline, "      app: my-app\n", fmt.Sprintf(
			"      app: my-app\n      image: %s\n      api-url: %s\n      auth-url: %s\n", img, srv.APIURL, srv.AuthURL), 1)
	}

	// The deploy component with an environment; a later job reads the dotenv report through
	// needs, as the docs say.
	t.Run("deploy", func(t *testing.T) {
		t.Parallel()
		srv := startFake(t)
		files := maps.Clone(files)
		files[".gitlab-ci.yml"] = include(t, gitlabDocBlock(t, "      # path: web"), "deploy", srv) + `
verify:
  stage: .post
  image: ` + baseImage + `
  needs: ["scalingo-deploy:production"]
  script:
    - echo "outputs id=$SCALINGO_DEPLOYMENT_ID status=$SCALINGO_DEPLOYMENT_STATUS"
`
		p := newGLCIProject(t, project, files)
		out, ok := p.run(t, map[string]string{"SCALINGO_API_TOKEN": srv.APIToken})
		if !ok || !passed(out, "scalingo-deploy:production") || !passed(out, "verify") {
			t.Fatalf("the pipeline failed\n%s", out)
		}
		report := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env"))
		checkDeployed(t, srv, report, p.git(t, "rev-parse", "HEAD"), out)
		if m := glciVerify.FindStringSubmatch(out); m == nil || m[1] != report["SCALINGO_DEPLOYMENT_ID"] || m[2] != "success" {
			t.Errorf("the later job printed %q, want deployment %s, success\n%s", m, report["SCALINGO_DEPLOYMENT_ID"], out)
		}
	})

	// The review-app component in a merge request pipeline with SCALINGO_GITLAB_TOKEN: the
	// review job deploys the review app and writes the note; the stop job deletes the review app
	// and says so in the same note.
	t.Run("review-app", func(t *testing.T) {
		t.Parallel()
		const iid, projectID = 17, 1217
		const child = appName + "-pr17"
		srv := startFake(t)
		gl := fakegitlab.Start(fakegitlab.Options{ProjectID: projectID, ProjectPath: project, MergeRequests: []int{iid}})
		t.Cleanup(gl.Close)
		files := maps.Clone(files)
		files[".gitlab-ci.yml"] = include(t, reviewDocBlock(t, "/review-app@X.Y.Z"), "review-app", srv)
		p := newGLCIProject(t, project, files)
		vars := map[string]string{
			"SCALINGO_API_TOKEN": srv.APIToken, "SCALINGO_GITLAB_TOKEN": gl.Token,
			"CI_API_V4_URL": gl.URL, "CI_PROJECT_ID": fmt.Sprint(projectID),
		}
		maps.Copy(vars, mergeRequestVars(iid, projectID))

		out, ok := p.run(t, vars)
		if !ok || !passed(out, "scalingo-review") {
			t.Fatalf("the merge request pipeline failed\n%s", out)
		}
		if strings.Contains(out, "scalingo-review:stop ") {
			t.Errorf("the manual stop job ran with the pipeline\n%s", out)
		}
		a := checkReviewDeployed(t, srv, child, out)
		if r := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env")); r["SCALINGO_APP_URL"] != a.URL {
			t.Errorf("dotenv report %v, want SCALINGO_APP_URL=%s", r, a.URL)
		}
		head := p.git(t, "rev-parse", "HEAD")
		if n := gl.Notes(iid); len(n) != 1 || !strings.Contains(n[0].Body, "✅ deployed") || !strings.Contains(n[0].Body, "`"+head[:7]+"`") {
			t.Fatalf("notes after the review job: %+v\n%s", n, out)
		}

		out, ok = p.run(t, vars, "scalingo-review:stop")
		if !ok || !passed(out, "scalingo-review:stop") {
			t.Fatalf("the stop job failed\n%s", out)
		}
		checkReviewDestroyed(t, srv, child, out)
		if n := gl.Notes(iid); len(n) != 1 || n[0].Edits != 1 || !strings.Contains(n[0].Body, "🗑️ deleted") {
			t.Fatalf("notes after the stop job: %+v\n%s", n, out)
		}
		if strings.Contains(out, gl.Token) || strings.Contains(out, srv.APIToken) {
			t.Errorf("a token shows in the log:\n%s", out)
		}
	})
}

// TestGitLabCISweep runs the scheduled sweep of docs/review-apps.md under gitlab-ci-local, the
// documented job and the deploy component with review-app-sweep, in a pipeline schedule
// (CI_PIPELINE_SOURCE=schedule and the schedule's variable REVIEW_APPS=sweep): the stale review
// app is deleted, the fresh one and a staging child stay. A push pipeline runs no sweep.
func TestGitLabCISweep(t *testing.T) {
	t.Parallel()
	img := image(t)
	templates, err := os.ReadFile(filepath.Join(repoRoot(t), "templates", "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, marker, project string
	}{
		{"docs", `SCALINGO_REVIEW_APP_SWEEP: "true"`, "acme/web"},
		{"component", "job-name: sweep-review-apps", "scalingo-deploy/scalingo-deploy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := agedReviewApps(t)
			pipeline := reviewDocBlock(t, tc.marker)
			files := map[string]string{}
			if tc.name == "docs" {
				pipeline = replaceN(t, pipeline, "image: ghcr.io/scalingo-deploy/scalingo-deploy:1\n", "image: "+img+"\n", 1)
			} else {
				// The component of this checkout, at its commit (see TestGitLabCIComponent).
				files["templates/deploy.yml"] = string(templates)
				pipeline = replaceN(t, pipeline, "/deploy@X.Y.Z\n", "/deploy@$CI_COMMIT_SHA\n", 1)
				pipeline = replaceN(t, pipeline, "      app: my-app\n", "      app: my-app\n      image: "+img+"\n", 1)
			}
			files[".gitlab-ci.yml"] = pipeline
			p := newGLCIProject(t, tc.project, files)
			vars := fakeProjectVars(srv)
			seeded := len(srv.Deployments(appName))

			// A push pipeline: the sweep's rules keep it out.
			out, ok := p.run(t, vars)
			if !ok || !strings.Contains(out, "pipeline finished") || strings.Contains(out, "sweep-review-apps") || len(srv.Deleted()) != 0 {
				t.Fatalf("a push pipeline ran the sweep (deleted %v)\n%s", srv.Deleted(), out)
			}

			vars["CI_PIPELINE_SOURCE"] = "schedule"
			vars["REVIEW_APPS"] = "sweep" // the schedule's variable
			out, ok = p.run(t, vars)
			if !ok || !passed(out, "sweep-review-apps") {
				t.Fatalf("the scheduled pipeline failed\n%s", out)
			}
			if del := srv.Deleted(); !slices.Equal(del, []string{appName + "-pr1"}) {
				t.Errorf("deleted %v, want the stale review app only\n%s", del, out)
			}
			report := readDotenv(t, filepath.Join(p.dir, "scalingo-deploy.env"))
			var verdicts []struct{ App, Status string }
			if err := json.Unmarshal([]byte(report["SCALINGO_DEPLOYMENTS"]), &verdicts); err != nil {
				t.Fatalf("SCALINGO_DEPLOYMENTS %q: %v", report["SCALINGO_DEPLOYMENTS"], err)
			}
			got := map[string]string{}
			for _, v := range verdicts {
				got[v.App] = v.Status
			}
			want := map[string]string{appName + "-pr1": "deleted", appName + "-pr2": "kept", appName + "-staging": "kept"}
			if !maps.Equal(got, want) || report["SCALINGO_DEPLOYMENT_STATUS"] != "swept" {
				t.Errorf("dotenv report %v: verdicts %v, want %v and status swept", report, got, want)
			}
			if n := len(srv.Deployments(appName)) - seeded; n != 0 {
				t.Errorf("the sweep deployed the parent %d times", n)
			}
			if strings.Contains(out, srv.APIToken) {
				t.Errorf("the API token shows in the log:\n%s", out)
			}
		})
	}
}

// agedReviewApps starts a fake whose parent has a review app last deployed 30 days ago, one a
// day ago, and a staging child 30 days ago. The fake's clock is moved back while the apps are
// made, so that they are old when the job, in its container, reads them by the real clock.
func agedReviewApps(t *testing.T) *fakescalingo.Server {
	t.Helper()
	var mu sync.Mutex
	var back time.Duration
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(-back) }
	at := func(d time.Duration) { mu.Lock(); back = d; mu.Unlock() }
	srv, err := fakescalingo.Start(fakescalingo.Options{Storage: s3test.Start(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	at(30 * 24 * time.Hour)
	srv.AddApp(appName, fakescalingo.Scenario{Deployed: true})
	srv.AddApp(appName+"-pr1", fakescalingo.Scenario{Parent: appName, Deployed: true})
	srv.AddApp(appName+"-staging", fakescalingo.Scenario{Parent: appName, Deployed: true})
	at(24 * time.Hour)
	srv.AddApp(appName+"-pr2", fakescalingo.Scenario{Parent: appName, Deployed: true})
	at(0)
	return srv
}
