package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Handlers of the public documents that describe the service to its
// clients.

// jwks serves the keys that verify access tokens. Verifiers may cache the
// set for a minute, so a new key must be in it at least that long before it
// signs a token; that is the key set's business.
func (s *server) jwks(c echo.Context) error {
	set, err := s.keys.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.JSONBlob(http.StatusOK, set)
}

// openAPI serves the OpenAPI 3.1 description of the API.
func (s *server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSONBlob(http.StatusOK, openAPIDocument)
}
