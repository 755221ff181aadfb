// Package container tests Gatehouse's container image as it ships: it builds
// the image once per test binary with `make image` (the same target, build
// context and Dockerfile a developer uses, under a tag of its own),
// then runs it with testcontainers and talks to it over its published port
// only.
//
// The image runs on Postgres, reached by a network alias on a Docker network
// of the test's own (started by test/gatehousecontainer, the helper other
// services' integration tests use, so that it is proved here), and on the embedded SQLite default in its /data
// directory; in both it must start, serve register, login, refresh and me,
// and run as the non-root UID 65532. `gatehouse version` in the image must
// print what the build stamped into it, which the image's labels repeat.
//
// Without a Docker Engine the tests skip and say why; with
// GATEHOUSE_REQUIRE_DOCKER=1 they fail instead, as pgtest's do. The Postgres
// image is pgtest's: GATEHOUSE_TEST_POSTGRES_IMAGE, else pgimage.Default.
// Building also needs make, the docker CLI and a Go toolchain.
//
// The package has no non-test code; run it with
//
//	go test ./test/container/
//
// (make test runs it with the rest of the suite.)
package container
