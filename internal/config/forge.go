package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// Forge is the pull-request feedback inputs: with a token, the forge is told what the
// run did. No token, no request to any forge.
type Forge struct {
	// GitHubToken and GitLabToken are secrets: masked, never printed, sent only to the
	// forge's API.
	GitHubToken, GitLabToken string
	// Comment is pr-comment: one comment (GitLab: note) on the pull/merge request, kept up
	// to date. Default true when a token is given.
	Comment bool
	// Deployments is github-deployments: a GitHub deployment per target. Default true
	// with github-token.
	Deployments bool
	// Environment names the GitHub deployments' environment; "" means each app's name.
	Environment string
	// PR is the CI's pull-request context, read when a token is given (the same as
	// Review.PR on a review run).
	PR ci.PR

	deploymentsSet bool
}

func parseGitHubToken(c *Config, v string, _ *loader) error {
	c.Forge.GitHubToken = v
	return checkSecret(v)
}

func parseGitLabToken(c *Config, v string, _ *loader) error {
	c.Forge.GitLabToken = v
	return checkSecret(v)
}

func checkSecret(v string) error {
	if strings.ContainsAny(v, " \t\r\n") {
		return errors.New("contains white space; check the secret's value")
	}
	return nil
}

func parsePRComment(c *Config, v string, _ *loader) (err error) {
	c.Forge.Comment, err = parseBool(v, true)
	return err
}

func parseGitHubDeployments(c *Config, v string, _ *loader) (err error) {
	c.Forge.deploymentsSet = v != ""
	c.Forge.Deployments, err = parseBool(v, true)
	return err
}

// parseEnvironment: GitHub takes any name of at most 255 characters; controls are
// refused, as they would be written into logs and comments.
func parseEnvironment(c *Config, v string, _ *loader) error {
	c.Forge.Environment = v
	if len([]rune(v)) > 255 || strings.ContainsFunc(v, unicode.IsControl) {
		return errors.New("is not a GitHub environment name (at most 255 characters, no control characters)")
	}
	return nil
}

// checkForge reads the pull request when a token is given, and refuses settings that
// would do nothing. pr-comment alone is not refused: the GitLab components pass it to
// every job, with or without a token.
func checkForge(c *Config, _ string, ld *loader) error {
	f := &c.Forge
	var errs []error
	if f.GitHubToken == "" {
		if f.deploymentsSet && f.Deployments {
			errs = append(errs, &InputError{Input: "github-deployments", Msg: "needs github-token"})
		}
		if f.Environment != "" {
			errs = append(errs, &InputError{Input: "environment", Msg: "names the GitHub deployments' environment: it needs github-token"})
		}
		f.Deployments = false
	}
	if f.Environment != "" && len(c.Targets) > 1 {
		errs = append(errs, &InputError{Input: "environment", Msg: fmt.Sprintf(
			"names one environment, but app lists %d targets (each deployment's success would mark the others inactive); drop environment (each app's name is its environment) or deploy each app in its own step", len(c.Targets))})
	}
	if f.GitHubToken == "" && f.GitLabToken == "" {
		f.Comment = false
		return errors.Join(errs...)
	}
	if f.GitHubToken != "" && f.GitHubToken == f.GitLabToken {
		errs = append(errs, &InputError{Input: "gitlab-token", Msg: "holds github-token's value: each token goes only to its own forge"})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Review.Enabled {
		f.PR = c.Review.PR
		return nil
	}
	pr, err := ld.pullRequest(c.CI)
	if err != nil {
		// Feedback never stops a deployment: without its pull request, no comment.
		c.Warnings = append(c.Warnings, fmt.Sprintf("pull-request feedback: %v; no comment", err))
		return nil
	}
	f.PR = pr
	return nil
}
