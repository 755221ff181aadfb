// Package echoverifier is package verifier's middleware for Echo (v4), for
// the services behind Gatehouse that are built on it. It adds no checks of
// its own: each function adapts the net/http middleware of a
// verifier.Verifier, so a service answers the same under either.
package echoverifier

import (
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
)

// Middleware admits a request only with a valid access token, as
// verifier.Verifier.Middleware does, and leaves its claims in the
// request's context for Claims.
func Middleware(v *verifier.Verifier) echo.MiddlewareFunc {
	return echo.WrapMiddleware(v.Middleware)
}

// RequireTier admits a request whose token is of tier or above, as
// verifier.Verifier.RequireTier does. It goes after Middleware.
func RequireTier(v *verifier.Verifier, tier string) echo.MiddlewareFunc {
	return echo.WrapMiddleware(v.RequireTier(tier))
}

// RequireAAL2 admits a request whose token is aal2, as
// verifier.Verifier.RequireAAL2 does. It goes after Middleware.
func RequireAAL2(v *verifier.Verifier) echo.MiddlewareFunc {
	return echo.WrapMiddleware(v.RequireAAL2())
}

// Claims returns the claims Middleware verified for c's request, or
// false when it did not run.
func Claims(c echo.Context) (*verifier.Claims, bool) {
	return verifier.ClaimsFrom(c.Request().Context())
}
