package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Handlers of the second factor: finishing a sign-in the MFA gate held
// back, under /v1/auth/mfa, and the bearer's own factors, under
// /v1/me/mfa.

// finishSignIn answers an MFA challenge with a one-time code or a
// recovery code, and hands out the tokens of the aal2 session it starts,
// in either token mode.
func (s *server) finishSignIn(c echo.Context) error {
	var req mfaAnswerDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	tokens, err := s.auth.FinishSignIn(c.Request().Context(), app.FinishSignInInput{
		Challenge: req.MFAToken, Code: req.Code, RecoveryCode: req.RecoveryCode, Client: s.client(c),
	})
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusOK, tokens)
}

// factors lists the bearer's second factors, without their secrets.
func (s *server) factors(c echo.Context) error {
	infos, err := s.account.Factors(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toFactorsDTO(infos))
}

// enrolTOTP starts enrolling an authenticator app. The key it answers
// with is shown this once.
func (s *server) enrolTOTP(c echo.Context) error {
	if _, err := readJSONObject(c.Request(), true); err != nil {
		return err
	}
	e, err := s.account.EnrolTOTP(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, totpEnrolmentDTO{Secret: e.Text, OTPAuthURI: e.URI, QRCode: e.QRCode})
}

// verifyTOTP verifies the enrolment with a code, or steps the session up
// with one, and answers with the recovery codes a first verification
// makes.
func (s *server) verifyTOTP(c echo.Context) error {
	var req codeDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	codes, err := s.account.VerifyTOTP(c.Request().Context(), claimsOf(c), req.Code)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toRecoveryCodesDTO(codes))
}

func (s *server) disableTOTP(c echo.Context) error {
	if err := s.account.DisableTOTP(c.Request().Context(), claimsOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) regenerateRecoveryCodes(c echo.Context) error {
	if _, err := readJSONObject(c.Request(), true); err != nil {
		return err
	}
	codes, err := s.account.RegenerateRecoveryCodes(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toRecoveryCodesDTO(codes))
}

// adminRemoveFactors removes a user's second factors, for a user locked
// out of them.
func (s *server) adminRemoveFactors(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.admin.RemoveFactors(c.Request().Context(), domain.UserID(id)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
