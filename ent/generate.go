// Package ent is the generated Ent client for Gatehouse's database.
// Only ent/schema is written by hand; run `make generate` after changing it.
package ent

//go:generate go run -mod=mod entc.go
