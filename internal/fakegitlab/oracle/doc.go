// Package oracle checks the fake GitLab against the vendor's own client,
// gitlab.com/gitlab-org/api/client-go/v2 (v2.64.0, the newest the module proxy
// serves): if GitLab's client reads the fake's notes, pagination headers and
// errors, they are what GitLab sends.
//
// It is a module of its own so that the product's go.mod does not carry the
// client's dependencies. Run it with:
//
//	cd internal/fakegitlab/oracle && go test ./...
package oracle
