package gatehousecontainer_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/test/gatehousecontainer"
)

// An integration test of a service that uses Gatehouse: the image of
// `make image` on a Postgres of its own, removed when the test ends.
func ExampleRun() {
	var t *testing.T // the test's own
	gh := gatehousecontainer.Run(t, gatehousecontainer.WithImage("gatehouse:dev"))

	res, err := http.Post(gh.URL+"/v1/auth/register", "application/json",
		strings.NewReader(`{"email":"ada@example.com","password":"correct horse battery staple"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// ... the service under test gets the token response's access token,
	// and Gatehouse's JWKS at gh.URL + "/.well-known/jwks.json".
}
