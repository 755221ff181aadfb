package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Handlers of /v1/auth that look after an account's email address and
// password: the JSON side of the links in account emails, for clients that
// open those links themselves. The pages in pages.go are the browser's side.

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

// resendVerification mails the bearer a new verification link. It takes no
// body; one that is sent is not read.
func (s *server) resendVerification(c echo.Context) error {
	if err := s.account.ResendVerification(c.Request().Context(), claimsOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// forgotPassword answers 202 whether or not an account has the email: the
// reset link, if any, is mailed in the background.
func (s *server) forgotPassword(c echo.Context) error {
	var req emailDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	if err := s.account.ForgotPassword(c.Request().Context(), req.Email, client(c)); err != nil {
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
	if err := s.account.ResetPassword(c.Request().Context(), req.Token, req.Password); err != nil {
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
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
