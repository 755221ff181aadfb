package e2e_test

import "testing"

// publicURL is GATEHOUSE_PUBLIC_URL of the servers that do not set their
// own, and so the iss of their tokens.
const publicURL = "https://auth.e2e.example"

// sharedScenarios run on one server per back end, side by side: each uses
// accounts of its own, so none can see another's effects.
var sharedScenarios = []struct {
	name string
	run  func(t *testing.T, c *client)
}{
	{"Register", testRegister},
	{"AnonymousUpgrade", testAnonymousUpgrade},
	{"Login", testLogin},
	{"RefreshRotation", testRefreshRotation},
	{"RefreshRace", testRefreshRace},
	{"RefreshRetry", testRefreshRetry},
	{"RefreshLostAnswer", testRefreshLostAnswer},
	{"Logout", testLogout},
	{"MFA", testMFA},
	{"JWTAttacks", testJWTAttacks},
	{"JWKS", testJWKS},
	{"HTTPEdge", testHTTPEdge},
	{"CanonicalInput", testCanonicalInput},
}

// ownScenarios start servers of their own, on a database of their own.
var ownScenarios = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"ExpiredToken", testExpiredToken},
	{"WrongIssuer", testWrongIssuer},
	{"KeyRotation", testKeyRotation},
	{"BadConfiguration", testBadConfiguration},
	{"MFAChallengeExpiry", testMFAChallengeExpiry},
	{"PlainHTTPHasNoHSTS", testPlainHTTPHasNoHSTS},
}

// TestGatehouse runs every scenario against a real server on each back
// end.
func TestGatehouse(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			gatehouseBinary(t) // fail, rather than skip, when the build failed
			srv := startServer(t, with(b.database(t), map[string]string{"GATEHOUSE_PUBLIC_URL": publicURL}))
			c := newClient(t, srv)
			for _, s := range sharedScenarios {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.run(t, c)
				})
			}
			for _, s := range ownScenarios {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.run(t, b)
				})
			}
		})
	}
}
