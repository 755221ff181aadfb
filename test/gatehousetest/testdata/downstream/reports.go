// Package reports is a service behind Gatehouse: members read reports.
package reports

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
)

// Handler serves GET /reports to members, behind v.
func Handler(v *verifier.Verifier) http.Handler {
	mux := http.NewServeMux()
	members := func(h http.HandlerFunc) http.Handler { return v.Middleware(v.RequireTier("member")(h)) }
	mux.Handle("GET /reports", members(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "reports for %s", claims.Subject)
	}))
	return mux
}
