package gatehousetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/test/gatehousetest"
)

// In a test of a service behind Gatehouse (t is the test's *testing.T):
// a member with a second factor, a token checked as the service checks
// it, and the clock moved past the token's lifetime.
func ExampleNew() {
	var t *testing.T // the test's own

	g := gatehousetest.New(t)
	member := g.NewUser(t, gatehousetest.Member, gatehousetest.WithMFA())
	v := g.Verifier(t)

	claims, err := v.Verify(context.Background(), member.Tokens.AccessToken)
	fmt.Println(claims.Tier, claims.AAL, err) // member aal2 <nil>

	g.Advance(16 * time.Minute)
	_, err = v.Verify(context.Background(), member.Tokens.AccessToken)
	fmt.Println(err) // verifier: access token expired: …
}
