// Package domain holds Gatehouse's entities, value types, errors and ports.
//
// It depends on the standard library only: use cases in app build on it, and
// adapters implement its ports. test/architecture checks that rule against
// the real import graph.
package domain
