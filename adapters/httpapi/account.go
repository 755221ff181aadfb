package httpapi

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Handlers of app.Account: what a user does with their own account.

// The bearer's own account, under /v1/me.

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
		return passwordOnly(err)
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

// revokeOtherSessions signs the bearer out everywhere else.
func (s *server) revokeOtherSessions(c echo.Context) error {
	if err := s.account.RevokeOtherSessions(c.Request().Context(), claimsOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// revokeAllSessions signs the bearer out everywhere, here included.
func (s *server) revokeAllSessions(c echo.Context) error {
	if err := s.account.RevokeAllSessions(c.Request().Context(), claimsOf(c)); err != nil {
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

// The email address and the password, under /v1/auth: the JSON side of
// the links in account emails, for clients that open those links
// themselves. The pages in pages.go are the browser's side.

// verifyEmail spends a verification token and answers the verified user.
func (s *server) verifyEmail(c echo.Context) error {
	var req tokenRequestDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	user, err := s.account.VerifyEmail(c.Request().Context(), req.Token)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toUserDTO(user))
}

// resendVerification mails the bearer a new verification link. Its body,
// which may be left out, names at most a redirect_to.
func (s *server) resendVerification(c echo.Context) error {
	var req resendDTO
	if err := bindOptionalJSON(c, req.fields()...); err != nil {
		return err
	}
	redirectTo, err := s.redirectTo(req.RedirectTo)
	if err != nil {
		return err
	}
	if err := s.account.ResendVerification(c.Request().Context(), claimsOf(c), redirectTo); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// forgotPassword answers 202 whether or not an account has the email: the
// reset link, if any, is mailed in the background. A redirect_to is
// checked first, before anything looks at the address, so that its refusal
// tells nothing about accounts either.
func (s *server) forgotPassword(c echo.Context) error {
	var req forgotPasswordDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	redirectTo, err := s.redirectTo(req.RedirectTo)
	if err != nil {
		return err
	}
	if err := s.account.ForgotPassword(c.Request().Context(), app.ForgotPasswordInput{
		Email: req.Email, RedirectTo: redirectTo, Client: s.client(c),
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// resetPassword spends a reset token to set a new password. It does not log
// the user in: every session ends, and the client logs in anew.
func (s *server) resetPassword(c echo.Context) error {
	var req resetPasswordDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	if err := s.account.ResetPassword(c.Request().Context(), req.Token, req.Password, s.client(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// changePassword sets the bearer's password; the calling session stays,
// every other one ends.
func (s *server) changePassword(c echo.Context) error {
	var req changePasswordDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	if err := s.account.ChangePassword(c.Request().Context(), claimsOf(c), req.CurrentPassword, req.NewPassword); err != nil {
		return passwordOnly(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// passwordOnly turns domain.ErrInvalidCredentials of a request that sent
// a password but no email into errWrongPassword: same code, a detail that
// names only what was sent.
func passwordOnly(err error) error {
	if errors.Is(err, domain.ErrInvalidCredentials) {
		return errWrongPassword
	}
	return err
}
