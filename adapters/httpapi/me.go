package httpapi

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Handlers of /v1/me: the bearer's own account.

func (s *server) me(c echo.Context) error {
	user, err := s.account.Me(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toUserDTO(user))
}

// deleteMe deletes the bearer's account. A registered user confirms with
// their password; an anonymous user has none and may send no body at all.
func (s *server) deleteMe(c echo.Context) error {
	var req deleteAccountDTO
	if err := bindOptionalJSON(c, req.fields()...); err != nil {
		return err
	}
	if err := s.account.DeleteAccount(c.Request().Context(), claimsOf(c), req.Password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// sessions lists the bearer's active sessions.
func (s *server) sessions(c echo.Context) error {
	infos, err := s.account.Sessions(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toSessionsDTO(infos))
}

// revokeSession ends one of the bearer's sessions; another user's session
// is as unknown as one that never existed.
func (s *server) revokeSession(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.account.RevokeSession(c.Request().Context(), claimsOf(c), domain.SessionID(id)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// pathParam returns the path parameter name, percent-decoded (Echo leaves
// it as the client escaped it). A value that does not decode names nothing:
// domain.ErrNotFound.
func pathParam(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return "", domain.ErrNotFound
	}
	return v, nil
}
