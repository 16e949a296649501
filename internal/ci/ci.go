// Package ci describes the CI systems the tool runs under, as data: how each is detected,
// where it checked out the code, which commit it built, how to read its pull-request
// context, which log dialect it speaks and where outputs go by default. Adding a CI means
// adding one entry to the table and its test row; nothing else branches on the CI's name.
package ci

import (
	"fmt"
	"slices"
	"strings"
)

// Platform names, stable identifiers for code and tests. Forgejo and Gitea Actions share
// GitHub's, since they behave as GitHub in every respect.
const (
	GitHub     = "github"
	GitLab     = "gitlab"
	Woodpecker = "woodpecker"
	Drone      = "drone"
	Bitbucket  = "bitbucket"
	CircleCI   = "circleci"
	Jenkins    = "jenkins"
	Azure      = "azure"
	Buildkite  = "buildkite"
	Travis     = "travis"
	Semaphore  = "semaphore"
	Local      = "local"
)

// Dialect is how a CI's log reads commands: what folds a group, what marks an
// annotation, whether outputs and a step summary have files of their own.
type Dialect int

const (
	// Plain is a plain-text log: no folding, no commands, outputs only in a file.
	Plain Dialect = iota
	// GitHubCommands is GitHub's workflow commands (::group::, ::add-mask::,
	// ::stop-commands::), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
	GitHubCommands
	// GitLabSections is GitLab's collapsible sections (section_start/section_end).
	GitLabSections
	// AzureLogging is Azure Pipelines' logging commands (##vso[task.logissue …]).
	AzureLogging
)

func (d Dialect) String() string {
	switch d {
	case GitHubCommands:
		return "github-commands"
	case GitLabSections:
		return "gitlab-sections"
	case AzureLogging:
		return "azure-logging"
	}
	return "plain"
}

// DotenvFile is the default output file's name, in the workspace, on the CIs whose
// pipelines read outputs from a file (GitLab's dotenv report, Drone and Woodpecker steps).
const DotenvFile = "scalingo-deploy.env"

// CodeQualityFile is the default Code Quality report's name, in the workspace, on GitLab
// (its `artifacts: reports: codequality`).
const CodeQualityFile = "gl-code-quality-report.json"

// CI is one CI system. Values come from Detect or All; treat them as read-only.
type CI struct {
	// Platform is the stable identifier ("github", "gitlab", …, "local"); Forgejo and
	// Gitea report "github".
	Platform string
	// Name is for people: "GitHub Actions", "Forgejo Actions", "a local shell".
	Name string
	// Workspace lists the variables naming the checkout, first non-empty wins.
	Workspace []string
	// Commit lists the variables holding the commit built, the default git ref.
	Commit []string
	// Dialect is how the log speaks to the CI.
	Dialect Dialect
	// DefaultOutputFile is the output file's name in the workspace when the user names
	// none ("" for none).
	DefaultOutputFile string
	// OutputEnv names a variable that, when set, names one more file to append dotenv
	// outputs to (Harness's DRONE_OUTPUT); "" for none.
	OutputEnv string
	// Request is what the CI calls the request a review app is for: "pull request", or
	// "merge request" on GitLab.
	Request string
	// ForkSource names what tells a fork's request from this repository's, for a message
	// when a run lacks it ("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "a pull_request or
	// pull_request_target event"); "" when the CI never tells (pr.go has each CI's rule
	// and its source).
	ForkSource string
	// DefaultCodeQualityReport is the Code Quality report's name in the workspace when
	// the user names none ("" for none): where the CI reads one.
	DefaultCodeQualityReport string

	detect      func(getenv func(string) string) bool
	pullRequest func(getenv func(string) string) (PR, error)
	// inputs is how a pipeline of this CI usually gives the tool an input.
	inputs inputStyle
}

// inputStyle is how a CI's pipelines usually set the tool's inputs, for messages that
// tell the user which one to set.
type inputStyle int

const (
	// variables: SCALINGO_ALLOW_FORKS=true (every CI but the ones below).
	variables inputStyle = iota
	// actionInputs: allow-forks: true under the step's with: (GitHub and its forges).
	actionInputs
	// pluginSettings: allow_forks: true under the step's settings: (Drone, Woodpecker).
	pluginSettings
)

// Setting is how a pipeline of this CI sets input (kebab-case, as in the inputs table) to
// value, as a message should spell it: "allow-forks: true" for an action's input,
// "allow_forks: true" for a plugin's setting, "SCALINGO_ALLOW_FORKS=true" for a variable.
func (c CI) Setting(input, value string) string {
	switch c.inputs {
	case actionInputs:
		return input + ": " + value
	case pluginSettings:
		return strings.ReplaceAll(input, "-", "_") + ": " + value
	case variables:
	}
	return "SCALINGO_" + strings.ToUpper(strings.ReplaceAll(input, "-", "_")) + "=" + value
}

// ForkUnknown is the warning for a run whose request the CI did not tell apart from a
// fork's: Bitbucket, Drone and Woodpecker never do; the others did not this time (a
// variable missing, an event that is no pull request's).
func (c CI) ForkUnknown() string {
	req := c.RequestWord()
	if c.ForkSource == "" {
		return fmt.Sprintf("%s does not tell whether this run's code comes from a fork: this run cannot refuse one; keep fork %ss from reaching this step (docs/review-apps.md), or set %s to deploy them knowingly",
			c.Name, req, c.Setting("allow-forks", "true"))
	}
	return fmt.Sprintf("%s did not tell whether this run's code comes from a fork (this run lacks %s): this run cannot refuse one; keep fork %ss from reaching this step (docs/review-apps.md), or set %s to deploy them knowingly",
		c.Name, c.ForkSource, req, c.Setting("allow-forks", "true"))
}

// RequestWord is Request, or "pull request" for a CI value made by hand.
func (c CI) RequestWord() string {
	if c.Request == "" {
		return "pull request"
	}
	return c.Request
}

// table is in detection order. Woodpecker sets DRONE_* variables and Drone sets some CI_*
// ones, and Forgejo and Gitea set GITHUB_ACTIONS, hence the order; Local matches anything.
var table = []CI{
	github("Forgejo Actions", "FORGEJO_ACTIONS"),
	github("Gitea Actions", "GITEA_ACTIONS"),
	github("GitHub Actions", ""),
	{
		Platform: GitLab, Name: "GitLab CI",
		detect:    is("GITLAB_CI", "true"),
		Workspace: []string{"CI_PROJECT_DIR"}, Commit: []string{"CI_COMMIT_SHA"},
		Dialect: GitLabSections, DefaultOutputFile: DotenvFile,
		Request: "merge request", ForkSource: "CI_MERGE_REQUEST_SOURCE_PROJECT_ID",
		DefaultCodeQualityReport: CodeQualityFile,
		pullRequest:              gitlabPR,
	},
	{
		Platform: Woodpecker, Name: "Woodpecker",
		detect: func(getenv func(string) string) bool {
			return getenv("CI") == "woodpecker" || getenv("CI_SYSTEM_NAME") == "woodpecker"
		},
		Workspace: []string{"CI_WORKSPACE"}, Commit: []string{"CI_COMMIT_SHA"},
		DefaultOutputFile: DotenvFile,
		pullRequest:       number("CI_COMMIT_PULL_REQUEST", ""),
		inputs:            pluginSettings,
	},
	{
		Platform: Drone, Name: "Drone",
		detect: is("DRONE", "true"),
		// CI_* are Drone's aliases of its own variables (drone 0.8 compatibility).
		Workspace: []string{"DRONE_WORKSPACE", "CI_WORKSPACE"}, Commit: []string{"DRONE_COMMIT_SHA", "CI_COMMIT_SHA"},
		DefaultOutputFile: DotenvFile, OutputEnv: "DRONE_OUTPUT",
		pullRequest: number("DRONE_PULL_REQUEST", ""),
		inputs:      pluginSettings,
	},
	{
		Platform: Bitbucket, Name: "Bitbucket Pipelines",
		detect:    set("BITBUCKET_BUILD_NUMBER"),
		Workspace: []string{"BITBUCKET_CLONE_DIR"}, Commit: []string{"BITBUCKET_COMMIT"},
		pullRequest: number("BITBUCKET_PR_ID", ""),
	},
	{
		Platform: CircleCI, Name: "CircleCI",
		detect:    is("CIRCLECI", "true"),
		Workspace: []string{"CIRCLE_WORKING_DIRECTORY"}, Commit: []string{"CIRCLE_SHA1"},
		ForkSource:  "CIRCLE_PULL_REQUEST",
		pullRequest: circlePR,
	},
	{
		Platform: Jenkins, Name: "Jenkins",
		detect:    set("JENKINS_URL"),
		Workspace: []string{"WORKSPACE"}, Commit: []string{"GIT_COMMIT"},
		ForkSource:  "CHANGE_ID (a multibranch pipeline's change request)",
		pullRequest: jenkinsPR,
	},
	{
		Platform: Azure, Name: "Azure Pipelines",
		// Azure writes "True"; the case of a boolean means nothing there.
		detect: func(getenv func(string) string) bool {
			return strings.EqualFold(getenv("TF_BUILD"), "true")
		},
		Workspace: []string{"BUILD_SOURCESDIRECTORY"}, Commit: []string{"BUILD_SOURCEVERSION"},
		ForkSource:  "SYSTEM_PULLREQUEST_ISFORK",
		Dialect:     AzureLogging,
		pullRequest: azurePR,
	},
	{
		Platform: Buildkite, Name: "Buildkite",
		detect:    is("BUILDKITE", "true"),
		Workspace: []string{"BUILDKITE_BUILD_CHECKOUT_PATH"}, Commit: []string{"BUILDKITE_COMMIT"},
		ForkSource:  "BUILDKITE_PULL_REQUEST_REPO or BUILDKITE_REPO",
		pullRequest: slugPR("BUILDKITE_PULL_REQUEST", "false", "BUILDKITE_PULL_REQUEST_REPO", "BUILDKITE_REPO"),
	},
	{
		Platform: Travis, Name: "Travis CI",
		detect:    is("TRAVIS", "true"),
		Workspace: []string{"TRAVIS_BUILD_DIR"}, Commit: []string{"TRAVIS_COMMIT"},
		ForkSource:  "TRAVIS_PULL_REQUEST_SLUG or TRAVIS_REPO_SLUG",
		pullRequest: slugPR("TRAVIS_PULL_REQUEST", "false", "TRAVIS_PULL_REQUEST_SLUG", "TRAVIS_REPO_SLUG"),
	},
	{
		Platform: Semaphore, Name: "Semaphore",
		detect:    is("SEMAPHORE", "true"),
		Workspace: []string{"SEMAPHORE_GIT_DIR"}, Commit: []string{"SEMAPHORE_GIT_SHA"},
		ForkSource:  "SEMAPHORE_GIT_PR_SLUG or SEMAPHORE_GIT_REPO_SLUG",
		pullRequest: slugPR("SEMAPHORE_GIT_PR_NUMBER", "", "SEMAPHORE_GIT_PR_SLUG", "SEMAPHORE_GIT_REPO_SLUG"),
	},
	{
		Platform: Local, Name: "a local shell",
		detect: func(func(string) string) bool { return true },
		// Outside a CI, a workspace or commit exported by hand is still honoured, as it
		// always was: the four original CIs' variables, in their historical order.
		Workspace:   []string{"GITHUB_WORKSPACE", "CI_PROJECT_DIR", "CI_WORKSPACE", "DRONE_WORKSPACE"},
		Commit:      []string{"GITHUB_SHA", "CI_COMMIT_SHA", "DRONE_COMMIT_SHA"},
		pullRequest: func(func(string) string) (PR, error) { return PR{}, nil },
	},
}

// github is GitHub Actions, or a forge that runs its workflows the same way (marker
// names the variable it adds to GITHUB_ACTIONS=true).
func github(name, marker string) CI {
	return CI{
		Platform: GitHub, Name: name,
		detect: func(getenv func(string) string) bool {
			return getenv("GITHUB_ACTIONS") == "true" && (marker == "" || getenv(marker) == "true")
		},
		Workspace: []string{"GITHUB_WORKSPACE"}, Commit: []string{"GITHUB_SHA"},
		Dialect:     GitHubCommands,
		ForkSource:  "a pull_request or pull_request_target event",
		pullRequest: githubPR,
		inputs:      actionInputs,
	}
}

func is(name, value string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return getenv(name) == value }
}

func set(name string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return getenv(name) != "" }
}

// Detect returns the CI the environment belongs to; Local when none matches.
func Detect(getenv func(string) string) CI {
	for _, c := range table {
		if c.detect(getenv) {
			return c.clone()
		}
	}
	return table[len(table)-1].clone() // not reached: Local matches every environment
}

// ByPlatform returns the first CI, in detection order, whose Platform is p (GitHub
// Actions for "github"); Local for a name no CI has.
func ByPlatform(p string) CI {
	for _, c := range table {
		if c.Platform == p {
			return c.clone()
		}
	}
	return table[len(table)-1].clone()
}

// All returns every CI in detection order, Local last.
func All() []CI {
	out := make([]CI, len(table))
	for i, c := range table {
		out[i] = c.clone()
	}
	return out
}

// clone keeps callers from editing the table through shared slices, and fills in the
// usual word for a request.
func (c CI) clone() CI {
	if c.Request == "" {
		c.Request = "pull request"
	}
	c.Workspace = slices.Clone(c.Workspace)
	c.Commit = slices.Clone(c.Commit)
	return c
}

// WorkspaceDir returns the checkout the CI gave, as written in its variable, or "" when
// it gave none (the caller then uses the current directory).
func (c CI) WorkspaceDir(getenv func(string) string) string { return first(getenv, c.Workspace) }

// CommitSHA returns the commit the CI built, or "" when it gave none.
func (c CI) CommitSHA(getenv func(string) string) string { return first(getenv, c.Commit) }

// DeployedCommit returns the commit a run deploys, the default git ref: on a GitHub
// pull_request_target event, the pull request's head commit (pr, from PullRequest), since
// GITHUB_SHA is then the base branch's tip while the documented workflow checks out
// pull_request.head.sha; else CommitSHA (on a pull_request event, the merge commit the
// default checkout deploys).
func (c CI) DeployedCommit(getenv func(string) string, pr PR) string {
	if c.Platform == GitHub && pr.Event == "pull_request_target" && pr.HeadSHA != "" {
		return pr.HeadSHA
	}
	return c.CommitSHA(getenv)
}

// PullRequest returns the pull/merge request the run belongs to; its Number is 0 when the
// run is not for one. The CI's values are untrusted: a malformed one is an error that
// names the variable or file, never its content.
func (c CI) PullRequest(getenv func(string) string) (PR, error) { return c.pullRequest(getenv) }

func first(getenv func(string) string, names []string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}
