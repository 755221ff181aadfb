package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Handlers of /v1/me: the bearer's own account.

func (s *server) me(c echo.Context) error {
	user, err := s.svc.Me(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toUserDTO(user))
}
