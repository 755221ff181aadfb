package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Handlers of the public documents that describe the service to its
// clients.

// jwks serves the keys that verify access tokens, cacheable for as long as
// the key set says: it publishes a new key at least that long before the
// key signs a token, so a verifier that caches no longer never misses one.
// The max-age is rounded down to whole seconds, never up.
func (s *server) jwks(c echo.Context) error {
	set, err := s.keys.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	maxAge := int64(s.keys.MaxAge() / time.Second)
	c.Response().Header().Set("Cache-Control", "public, max-age="+strconv.FormatInt(maxAge, 10))
	return c.JSONBlob(http.StatusOK, set)
}

// openAPI serves the OpenAPI 3.1 description of the API.
func (s *server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSONBlob(http.StatusOK, openAPIDocument)
}
