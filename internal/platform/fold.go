package platform

import "github.com/scalingo-deploy/scalingo-deploy/internal/ci"

// Folds tells whether a Group of this reporter folds its lines out of sight (GitHub's
// groups, GitLab's collapsed sections), so that what matters in them must be shown again
// after; a plain log, or a target's view among several, shows them where they are.
func (r *Reporter) Folds() bool {
	return r.prefix == "" && (r.dialect == ci.GitHubCommands || r.dialect == ci.GitLabSections)
}
