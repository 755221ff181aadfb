// Package e2e holds Gatehouse's end-to-end tests: black-box tests that build
// the gatehouse binary with the race detector, run it as a separate process
// against a real database (Postgres in a container, and the embedded SQLite
// file), and talk to it over HTTP only.
//
// Account emails go over a real SMTP conversation to an in-process server
// (test/smtptest), plain, with STARTTLS or with implicit TLS, and the tests
// follow the links in them: through the API, and in a headless Chromium
// (chromedp) for the pages the links open. Chromium is looked up on PATH;
// without it the browser test skips, or fails under
// GATEHOUSE_REQUIRE_DOCKER=1. Rate limits are tested with two servers on
// one Postgres database.
//
// Every response is checked against the OpenAPI document the running server
// itself serves at /openapi.json, and after every server stops its log is
// searched for each password and token the tests sent or received, the
// tokens of the emails included: none may appear there.
//
// The package has no non-test code; run it with
//
//	go test -race ./test/e2e/
//
// (make test runs it with the rest of the suite.)
package e2e
