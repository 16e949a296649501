// Package oracle checks the fake GitHub against the vendor's own client,
// github.com/google/go-github/v84 (v84.0.0, the newest the module proxy serves):
// if go-github reads the fake's bodies, status codes, Link pagination and
// rate-limit answers as GitHub's, they are what GitHub sends.
//
// It is a module of its own so that the product's go.mod does not carry the
// client's dependencies. Run it with:
//
//	cd internal/fakegithub/oracle && go test ./...
package oracle
