// Package oracle checks the fake Scalingo against the vendor's own client,
// github.com/Scalingo/go-scalingo/v10 (v10.0.0, the newest the module proxy
// serves): if the official client reads the fake's envelopes, status codes,
// field types and WebSocket frames, they are what production sends.
//
// It is a module of its own so that the product's go.mod does not carry the
// client's dependencies. Run it with:
//
//	cd internal/fakescalingo/oracle && go test ./...
package oracle
