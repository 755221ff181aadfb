// Package pgimage names the Postgres image that the test harness
// (test/pgtest), the container tests and the migration generator
// (ent/migrategen) start. It imports the standard library alone, so that
// the generator builds whatever state the stores' code is in while a
// schema change is under way.
package pgimage

import "os"

// Default is the image used when GATEHOUSE_TEST_POSTGRES_IMAGE is empty.
// `make test` and `make generate` set that variable to an image that is
// present, building one from Debian's packages when none can be pulled.
const Default = "postgres:17-alpine"

// EnvVar is the variable that names another image.
const EnvVar = "GATEHOUSE_TEST_POSTGRES_IMAGE"

// Name returns the image to start: GATEHOUSE_TEST_POSTGRES_IMAGE, else
// Default.
func Name() string {
	if image := os.Getenv(EnvVar); image != "" {
		return image
	}
	return Default
}
