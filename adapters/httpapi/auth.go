package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Handlers of app.Auth, under /v1/auth: the flows that hand out and take
// back tokens.

// register creates an account, or upgrades the anonymous user whose access
// token comes with the request. A token that does not verify is refused
// rather than ignored: the client meant to upgrade, and a fresh account
// would silently orphan its anonymous user.
func (s *server) register(c echo.Context) error {
	var bearer *domain.Claims
	if hasAuthorization(c.Request().Header) {
		claims, err := s.authenticate(c)
		if err != nil {
			return err
		}
		bearer = &claims
	}
	var req registerDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	redirectTo, err := s.redirectTo(req.RedirectTo)
	if err != nil {
		return err
	}
	tokens, err := s.auth.Register(c.Request().Context(), app.RegisterInput{
		Email: req.Email, Password: req.Password, Client: s.client(c), Bearer: bearer, RedirectTo: redirectTo,
	})
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusCreated, tokens)
}

// anonymous creates an anonymous user. Its body is {} or nothing at all.
func (s *server) anonymous(c echo.Context) error {
	if _, err := readJSONObject(c.Request(), true); err != nil {
		return err
	}
	tokens, err := s.auth.Anonymous(c.Request().Context(), s.client(c))
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusCreated, tokens)
}

func (s *server) login(c echo.Context) error {
	var req credentialsDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	tokens, err := s.auth.Login(c.Request().Context(), req.Email, req.Password, s.client(c))
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusOK, tokens)
}

// refresh rotates the presented refresh token. A browser whose token is
// refused is told to forget it: that session is over.
func (s *server) refresh(c echo.Context) error {
	token, err := s.presentedRefreshToken(c)
	if err != nil {
		return err
	}
	tokens, err := s.auth.Refresh(c.Request().Context(), token)
	if refusedRefresh(err) {
		s.forgetRefreshCookie(c)
	}
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusOK, tokens)
}

// logout answers 204 for an unknown token too, so it tells nothing about
// which tokens exist.
func (s *server) logout(c echo.Context) error {
	token, err := s.presentedRefreshToken(c)
	if err != nil {
		return err
	}
	if err := s.auth.Logout(c.Request().Context(), token); err != nil {
		return err
	}
	s.forgetRefreshCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// client describes the request's origin for the session it may start,
// with the device token of its device cookie, if it sent one.
func (s *server) client(c echo.Context) app.Client {
	cl := app.Client{IP: clientIPOf(c), UserAgent: c.Request().UserAgent()}
	if cookie, err := c.Cookie(s.deviceCookie.name); err == nil {
		cl.Device = cookie.Value
	}
	return cl
}

// writeJSON sends v as application/json.
func writeJSON(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.JSONBlob(status, body)
}
