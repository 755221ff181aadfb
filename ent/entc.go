//go:build ignore

// entc.go generates the Ent client from ./schema with the features the
// stores rely on: row locks (sql/lock) and raw statements (sql/execquery).
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{gen.FeatureLock, gen.FeatureExecQuery},
	})
	if err != nil {
		log.Fatalf("ent: generate: %v", err)
	}
}
