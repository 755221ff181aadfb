// Package e2e holds Gatehouse's end-to-end tests: black-box tests that build
// the gatehouse binary with the race detector, run it as a separate process
// against a real database (Postgres in a container, and the embedded SQLite
// file), and talk to it over HTTP only.
//
// Every response is checked against the OpenAPI document the running server
// itself serves at /openapi.json, and after every server stops its log is
// searched for each password and token the tests sent or received: none may
// appear there.
//
// The package has no non-test code; run it with
//
//	go test -race ./test/e2e/
//
// (make test runs it with the rest of the suite.)
package e2e
