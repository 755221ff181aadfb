// Package domain holds Gatehouse's entities, value types, errors and ports.
//
// It depends on the standard library only: use cases in app build on it, and
// adapters implement its ports. The architecture test in this package's
// tests keeps that rule true.
package domain
