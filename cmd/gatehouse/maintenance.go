package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// migrateUp applies pending migrations and reports the resulting state.
func migrateUp(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, c, newLogger(stdout, c.LogLevel))
	if err != nil {
		return err
	}
	defer db.Close()
	return printStatus(ctx, db, stdout)
}

// migrateStatus lists every migration and whether it is applied, changing
// nothing.
func migrateStatus(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	db, err := entstore.OpenURL(ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	return printStatus(ctx, db, stdout)
}

func printStatus(ctx context.Context, db *entstore.DB, stdout io.Writer) error {
	states, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED")
	for _, s := range states {
		applied := "pending"
		if s.Applied {
			applied = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.Name, applied)
	}
	return w.Flush()
}

// rotateKeys adds a new signing key. Running servers publish it in their
// JWKS within their key reload interval and sign with it once no cached
// JWKS can lack it: 95 seconds after the rotation (see accesstoken).
func rotateKeys(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, c.LogLevel)
	db, err := openMigrated(ctx, c, log)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := serviceSecret(c, log)
	if err != nil {
		return err
	}
	issuer, err := newIssuer(ctx, c, secret, db, domain.SystemClock{}, log)
	if err != nil {
		return err
	}
	kid, err := issuer.Rotate(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "new signing key %s\n", kid)
	return err
}
