package verifier_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
)

// A service whose /reports only members may read, behind the Gatehouse at
// https://auth.example.com.
func ExampleVerifier_Middleware() {
	v, err := verifier.New(verifier.Config{
		JWKSURL: "https://auth.example.com/.well-known/jwks.json",
		Issuer:  "https://auth.example.com", // GATEHOUSE_PUBLIC_URL
	})
	if err != nil {
		log.Fatal(err)
	}
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "reports for %s", claims.Subject)
	})
	http.Handle("GET /reports", v.Middleware(v.RequireTier("member")(reports)))
	log.Fatal(http.ListenAndServe(":8081", nil))
}
