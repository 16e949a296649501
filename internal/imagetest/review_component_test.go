package imagetest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// reviewComponentOnly are the review component's inputs that shape its jobs.
var reviewComponentOnly = []string{"job-name", "stage", "image", "environment", "auto-stop-in"}

// reviewSetByJobs are tool inputs the review component's jobs set themselves (review-app on both,
// destroy on the stop job), or that make no sense for a review app (a dry run creates nothing).
var reviewSetByJobs = []string{"review-app", "destroy", "dry-run", "list"}

// mergeRequestPipeline and pushPipeline are the predefined variables the jobs' rules read.
var (
	mergeRequestPipeline = map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "17"}
	pushPipeline         = map[string]string{"CI_PIPELINE_SOURCE": "push"}
)

// TestReviewComponent checks templates/review-app.yml without running it: its inputs are the
// tool's, each reaches both jobs, the review job runs in merge request pipelines with the
// review/<IID> environment and its URL, and the stop job (manual, no clone) destroys in the same
// environment, in the same resource group.
func TestReviewComponent(t *testing.T) {
	t.Parallel()
	c := readComponentFile(t, "review-app.yml")
	tool := toolInputs(t)

	t.Run("inputs are tool inputs", func(t *testing.T) {
		t.Parallel()
		for name, in := range c.inputs {
			if in.Description == "" {
				t.Errorf("input %s has no description (the catalog shows it)", name)
			}
			if slices.Contains(reviewComponentOnly, name) {
				continue
			}
			if !slices.Contains(tool, name) {
				t.Errorf("input %s is not a tool input (scalingo-deploy --help has %v)", name, tool)
			}
			if slices.Contains(notComponentInputs, name) || slices.Contains(reviewSetByJobs, name) {
				t.Errorf("input %s must not be a review component input", name)
			}
		}
		for _, name := range tool {
			if _, ok := c.inputs[name]; !ok && !slices.Contains(notComponentInputs, name) && !slices.Contains(reviewSetByJobs, name) &&
				!slices.Contains(fleetInputs, name) && !slices.Contains(notGitLabInputs, name) {
				t.Errorf("tool input %s is missing from templates/review-app.yml", name)
			}
		}
	})

	t.Run("typed inputs are not whole values", func(t *testing.T) {
		t.Parallel()
		checkTypedInputs(t, c)
	})

	t.Run("each input reaches both jobs", func(t *testing.T) {
		t.Parallel()
		given := map[string]string{"app": "my-app", "output-file": "out.env", "timeout": "7m", "wait": "false", "allow-forks": "true", "pr-comment": "false"}
		for name, in := range c.inputs {
			if _, ok := given[name]; !ok && !slices.Contains(reviewComponentOnly, name) && in.Type != "boolean" {
				given[name] = "value-of-" + name
			}
		}
		jobs, err := c.interpolate(given)
		if err != nil {
			t.Fatal(err)
		}
		for _, jobName := range []string{"scalingo-review", "scalingo-review:stop"} {
			job, ok := jobs[jobName]
			if !ok {
				t.Fatalf("no job %s: %v", jobName, jobs)
			}
			for name, in := range c.inputs {
				if slices.Contains(reviewComponentOnly, name) {
					continue
				}
				if in.Type == "boolean" {
					if name == "wait" && jobName == "scalingo-review:stop" {
						continue // a destroy has nothing to wait for
					}
					flag := "--" + name + "=" + given[name]
					if !slices.ContainsFunc(job.Script, func(line string) bool { return slices.Contains(strings.Fields(line), flag) }) {
						t.Errorf("%s: script %q lacks %s, the input %s", jobName, job.Script, flag, name)
					}
					continue
				}
				env := "SCALINGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if got := job.Variables[env]; got != given[name] {
					t.Errorf("%s: variable %s = %q, want the input %s (%q)", jobName, env, got, name, given[name])
				}
			}
			if job.Artifacts.Reports.Dotenv != "out.env" || job.Artifacts.When != "always" {
				t.Errorf("%s: artifacts = %+v, want the output file as a dotenv report, always", jobName, job.Artifacts)
			}
		}
	})

	tests := []struct {
		name    string
		given   map[string]string
		wantErr string
		review  string // the review job's name; the stop job is review + ":stop"
		env     string // the environment in a merge request pipeline with IID 17
		stopIn  string
	}{
		{name: "defaults", given: map[string]string{"app": "my-app"}, review: "scalingo-review", env: "review/17", stopIn: "1 week"},
		{name: "job name, environment, auto stop", given: map[string]string{"app": "my-app", "job-name": "preview", "environment": "preview/mr-$CI_MERGE_REQUEST_IID", "auto-stop-in": "3 days"},
			review: "preview", env: "preview/mr-17", stopIn: "3 days"},
		{name: "app is required", given: map[string]string{}, wantErr: "input app is required"},
		{name: "the token is no input", given: map[string]string{"app": "my-app", "api-token": "secret"}, wantErr: "unknown input api-token"},
		{name: "destroy is no input", given: map[string]string{"app": "my-app", "destroy": "true"}, wantErr: "unknown input destroy"},
		{name: "empty environment", given: map[string]string{"app": "my-app", "environment": ""}, wantErr: "does not match"},
		{name: "output file outside the project", given: map[string]string{"app": "my-app", "output-file": "../x.env"}, wantErr: "does not match"},
		{name: "output file absolute", given: map[string]string{"app": "my-app", "output-file": "/tmp/x.env"}, wantErr: "does not match"},
		{name: "output file climbing from a folder", given: map[string]string{"app": "my-app", "output-file": "out/../../x.env"}, wantErr: "does not match"},
		{name: "output file in a dot folder", given: map[string]string{"app": "my-app", "output-file": ".reports/review.env"}, review: "scalingo-review", env: "review/17", stopIn: "1 week"},
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
			if len(jobs) != 2 {
				t.Fatalf("jobs = %v, want the review job and its stop job", jobs)
			}
			review, ok := jobs[tt.review]
			if !ok {
				t.Fatalf("no review job %s", tt.review)
			}
			stop, ok := jobs[tt.review+":stop"]
			if !ok {
				t.Fatalf("no stop job %s:stop", tt.review)
			}

			// Rules: both in merge request pipelines only, the stop job by hand (or by GitLab).
			for _, p := range []struct {
				ci           map[string]string
				review, stop string
			}{{mergeRequestPipeline, "on_success", "manual"}, {pushPipeline, "never", "never"}} {
				if got := review.when(t, p.ci); got != p.review {
					t.Errorf("review job in %v: %s, want %s", p.ci, got, p.review)
				}
				if got := stop.when(t, p.ci); got != p.stop {
					t.Errorf("stop job in %v: %s, want %s", p.ci, got, p.stop)
				}
			}
			if !stop.AllowFailure {
				t.Error("the manual stop job blocks the pipeline: want allow_failure: true")
			}

			// Scripts: the review job deploys the review app, the stop job destroys it.
			script := func(j gitlabJob) string { return strings.Join(j.Script, "\n") }
			if s := script(review); !strings.Contains(s, "scalingo-deploy --review-app") || strings.Contains(s, "--destroy") {
				t.Errorf("review script %q", s)
			}
			if s := script(stop); !strings.Contains(s, "scalingo-deploy --review-app --destroy") {
				t.Errorf("stop script %q", s)
			}
			if stop.Variables["GIT_STRATEGY"] != "none" {
				t.Errorf("stop job GIT_STRATEGY = %q, want none: nothing is archived and the branch may be gone", stop.Variables["GIT_STRATEGY"])
			}
			if review.Variables["GIT_STRATEGY"] != "" {
				t.Errorf("review job GIT_STRATEGY = %q: it archives the checkout", review.Variables["GIT_STRATEGY"])
			}

			// Environments: the same one, started with the URL and stopped by the stop job.
			for _, j := range []gitlabJob{review, stop} {
				if j.Environment == nil || strings.TrimSpace(j.Environment.Name) == "" {
					t.Fatalf("job without an environment name: %+v", j.Environment)
				}
			}
			re, se := review.Environment, stop.Environment
			if got := review.expandWith(mergeRequestPipeline, re.Name); got != tt.env {
				t.Errorf("review environment = %q, want %q", got, tt.env)
			}
			if got := stop.expandWith(mergeRequestPipeline, se.Name); got != tt.env {
				t.Errorf("stop environment = %q, want %q", got, tt.env)
			}
			if re.URL != "$SCALINGO_APP_URL" || re.OnStop != tt.review+":stop" || re.AutoStopIn != tt.stopIn || re.Action != "" {
				t.Errorf("review environment = %+v, want url $SCALINGO_APP_URL, on_stop %s:stop, auto_stop_in %s", *re, tt.review, tt.stopIn)
			}
			if se.Action != "stop" || se.URL != "" || se.OnStop != "" {
				t.Errorf("stop environment = %+v, want action stop", *se)
			}
			if review.ResourceGroup == "" || review.ResourceGroup != stop.ResourceGroup ||
				review.expandWith(mergeRequestPipeline, review.ResourceGroup) != tt.env {
				t.Errorf("resource groups %q and %q, want both the environment %s (one job at a time per merge request)", review.ResourceGroup, stop.ResourceGroup, tt.env)
			}
			if review.Image != fmt.Sprint(*c.inputs["image"].Default) || stop.Image != review.Image {
				t.Errorf("images %q, %q", review.Image, stop.Image)
			}
		})
	}
}

// TestReviewDocs checks the pipelines of docs/review-apps.md without running them (the
// container tests run the GitHub and GitLab ones): each is valid YAML, and each keeps the
// points issue 10 asks of it.
func TestReviewDocs(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "review-apps.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlocks(string(doc))
	find := func(t *testing.T, marker string) string {
		t.Helper()
		var found []string
		for _, b := range blocks {
			if strings.Contains(b, marker) {
				found = append(found, b)
			}
		}
		if len(found) != 1 {
			t.Fatalf("want one ```yaml block with %q, found %d", marker, len(found))
		}
		return found[0]
	}
	for i, b := range blocks {
		dec := yaml.NewDecoder(strings.NewReader(b))
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Errorf("block %d is not YAML: %v\n%s", i, err, b)
				break
			}
		}
	}

	t.Run("GitHub", func(t *testing.T) {
		t.Parallel()
		var wf struct {
			On struct {
				PullRequest struct {
					Types []string `yaml:"types"`
				} `yaml:"pull_request"`
			} `yaml:"on"`
			Concurrency struct {
				Group            string `yaml:"group"`
				CancelInProgress *bool  `yaml:"cancel-in-progress"`
			} `yaml:"concurrency"`
			Jobs map[string]struct {
				If          string `yaml:"if"`
				Environment *struct {
					Name string `yaml:"name"`
					URL  string `yaml:"url"`
				} `yaml:"environment"`
				Steps []struct {
					ID   string            `yaml:"id"`
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(find(t, "types: [opened, synchronize, reopened, closed]")), &wf); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(wf.On.PullRequest.Types, []string{"opened", "synchronize", "reopened", "closed"}) {
			t.Errorf("pull_request types = %v", wf.On.PullRequest.Types)
		}
		if !strings.Contains(wf.Concurrency.Group, "${{ github.event.pull_request.number }}") || wf.Concurrency.CancelInProgress == nil || *wf.Concurrency.CancelInProgress {
			t.Errorf("concurrency = %+v, want a group per pull request and cancel-in-progress: false", wf.Concurrency)
		}
		deploy, destroy := wf.Jobs["deploy"], wf.Jobs["destroy"]
		if deploy.Environment == nil || deploy.Environment.URL != "${{ steps.review.outputs.app-url }}" {
			t.Errorf("deploy environment = %+v, want url from the review step's app-url", deploy.Environment)
		}
		if !strings.Contains(deploy.If, "github.event.action != 'closed'") || !strings.Contains(destroy.If, "github.event.action == 'closed'") {
			t.Errorf("deploy if %q, destroy if %q: want them split on the closed action", deploy.If, destroy.If)
		}
		for name, j := range map[string]int{"deploy": len(deploy.Steps), "destroy": len(destroy.Steps)} {
			if j == 0 {
				t.Errorf("job %s has no steps", name)
			}
		}
		for _, st := range append(deploy.Steps, destroy.Steps...) {
			if st.ID == "review" && (st.With["review-app"] != "true" || st.With["destroy"] != "") {
				t.Errorf("review step with %v: want review-app true, and the closed event (not destroy) to destroy", st.With)
			}
		}
	})

	t.Run("GitLab", func(t *testing.T) {
		t.Parallel()
		var all map[string]yaml.Node
		if err := yaml.Unmarshal([]byte(find(t, "stop-review:")), &all); err != nil {
			t.Fatal(err)
		}
		jobs := map[string]gitlabJob{}
		for name, node := range all {
			if name == "stages" {
				continue
			}
			var j gitlabJob
			if err := node.Decode(&j); err != nil {
				t.Fatalf("job %s: %v", name, err)
			}
			jobs[name] = j
		}
		review, stop := jobs["review"], jobs["stop-review"]
		if review.Environment == nil || stop.Environment == nil {
			t.Fatalf("review and stop-review need environments: %+v %+v", review.Environment, stop.Environment)
		}
		if review.Environment.Name != "review/$CI_MERGE_REQUEST_IID" || review.Environment.URL != "$SCALINGO_APP_URL" ||
			review.Environment.OnStop != "stop-review" || review.Environment.AutoStopIn == "" {
			t.Errorf("review environment = %+v", *review.Environment)
		}
		if stop.Environment.Name != review.Environment.Name || stop.Environment.Action != "stop" {
			t.Errorf("stop environment = %+v", *stop.Environment)
		}
		if review.Artifacts.Reports.Dotenv != "scalingo-deploy.env" {
			t.Errorf("review dotenv report = %q", review.Artifacts.Reports.Dotenv)
		}
		if review.Variables["SCALINGO_REVIEW_APP"] != "true" || stop.Variables["SCALINGO_REVIEW_APP"] != "true" ||
			stop.Variables["SCALINGO_DESTROY"] != "true" || review.Variables["SCALINGO_DESTROY"] != "" || stop.Variables["GIT_STRATEGY"] != "none" {
			t.Errorf("variables: review %v, stop %v", review.Variables, stop.Variables)
		}
		if review.when(t, mergeRequestPipeline) != "on_success" || stop.when(t, mergeRequestPipeline) != "manual" ||
			review.when(t, pushPipeline) != "never" || stop.when(t, pushPipeline) != "never" {
			t.Error("want the review job in merge request pipelines, and the stop job there by hand")
		}
		if review.ResourceGroup == "" || review.ResourceGroup != stop.ResourceGroup {
			t.Errorf("resource groups %q, %q: want one per merge request for both", review.ResourceGroup, stop.ResourceGroup)
		}
	})

	t.Run("Woodpecker", func(t *testing.T) {
		t.Parallel()
		deploy, destroy := find(t, "- event: pull_request\n"), find(t, "- event: pull_request_closed")
		if !strings.Contains(deploy, "review_app: true") || strings.Contains(deploy, "destroy:") {
			t.Errorf("the pull_request workflow must deploy the review app:\n%s", deploy)
		}
		if !strings.Contains(destroy, "review_app: true") || !strings.Contains(destroy, "destroy: true") || !strings.Contains(destroy, "skip_clone: true") {
			t.Errorf("the pull_request_closed workflow must destroy, without a clone:\n%s", destroy)
		}
	})

	t.Run("Drone", func(t *testing.T) {
		t.Parallel()
		b := find(t, "kind: pipeline")
		dec := yaml.NewDecoder(strings.NewReader(b))
		var events []string
		for {
			var p struct {
				Trigger struct {
					Event  []string `yaml:"event"`
					Target []string `yaml:"target"`
				} `yaml:"trigger"`
				Steps []struct {
					Settings map[string]any `yaml:"settings"`
				} `yaml:"steps"`
			}
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			events = append(events, strings.Join(p.Trigger.Event, ","))
			s := p.Steps[0].Settings
			if s["review_app"] != true || (s["destroy"] == true) != slices.Contains(p.Trigger.Event, "promote") {
				t.Errorf("pipeline on %v: settings %v", p.Trigger.Event, s)
			}
		}
		if !slices.Equal(events, []string{"pull_request", "promote"}) {
			t.Errorf("pipelines on %v, want pull_request then promote", events)
		}
	})
}
