package httpapi

import "github.com/labstack/echo/v4"

// routes registers every endpoint of the API. It is the one place that
// says which paths exist; openapi.json must describe each of them.
func (s *server) routes(e *echo.Echo) {
	e.POST("/v1/auth/register", s.register)
	e.POST("/v1/auth/anonymous", s.anonymous)
	e.POST("/v1/auth/login", s.login)
	e.POST("/v1/auth/refresh", s.refresh)
	e.POST("/v1/auth/logout", s.logout)

	e.GET("/v1/me", s.me, s.requireBearer)

	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/openapi.json", s.openAPI)
}
