package httpapi

import "github.com/labstack/echo/v4"

// routes registers every endpoint of the API. It is the one place that
// says which paths exist; openapi.json must describe each of them.
func (s *server) routes(e *echo.Echo) {
	e.POST("/v1/auth/register", s.register, s.tokenMode)
	e.POST("/v1/auth/anonymous", s.anonymous, s.tokenMode)
	e.POST("/v1/auth/login", s.login, authEvent(eventLogin), s.tokenMode)
	e.POST("/v1/auth/refresh", s.refresh, authEvent(eventRefresh), s.tokenMode)
	e.POST("/v1/auth/logout", s.logout, s.tokenMode)
	e.POST("/v1/auth/verify-email", s.verifyEmail)
	e.POST("/v1/auth/verify-email/resend", s.resendVerification, s.requireBearer)
	e.POST("/v1/auth/password/forgot", s.forgotPassword)
	e.POST("/v1/auth/password/reset", s.resetPassword)
	e.POST("/v1/auth/password/change", s.changePassword, s.requireBearer)
	e.POST("/v1/auth/mfa/verify", s.finishSignIn, authEvent(eventMFA), s.tokenMode)

	e.GET("/v1/me", s.me, s.requireBearer)
	e.DELETE("/v1/me", s.deleteMe, s.requireBearer)
	e.GET("/v1/me/sessions", s.sessions, s.requireBearer)
	e.DELETE("/v1/me/sessions", s.revokeAllSessions, s.requireBearer)
	e.POST("/v1/me/sessions/revoke-others", s.revokeOtherSessions, s.requireBearer)
	e.DELETE("/v1/me/sessions/:id", s.revokeSession, s.requireBearer)
	e.GET("/v1/me/mfa", s.factors, s.requireBearer)
	e.POST("/v1/me/mfa/totp", s.enrolTOTP, s.requireBearer)
	e.POST("/v1/me/mfa/totp/verify", s.verifyTOTP, s.requireBearer)
	e.DELETE("/v1/me/mfa/totp", s.disableTOTP, s.requireBearer)
	e.POST("/v1/me/mfa/recovery-codes", s.regenerateRecoveryCodes, s.requireBearer)

	// Without a relying party passkeys are not registered at all, so that
	// their paths answer 404, as the admin API's do without a key.
	if s.passkeysOn {
		e.POST("/v1/auth/passkey/begin", s.beginPasskeySignIn)
		e.POST("/v1/auth/passkey/finish", s.finishPasskeySignIn, authEvent(eventPasskey), s.tokenMode)
		e.GET("/v1/me/passkeys", s.passkeys, s.requireBearer)
		e.POST("/v1/me/passkeys/begin", s.beginPasskeyRegistration, s.requireBearer)
		e.POST("/v1/me/passkeys/finish", s.finishPasskeyRegistration, s.requireBearer)
		e.DELETE("/v1/me/passkeys/:id", s.deletePasskey, s.requireBearer)
	}

	// Without a key the admin API is not registered at all, so that every
	// path and method under it answers 404 alike, as for any unknown path.
	if s.adminOn {
		e.GET("/v1/admin/users/:id", s.adminUser, s.requireAdmin)
		e.PATCH("/v1/admin/users/:id", s.adminSetTier, s.requireAdmin)
		e.DELETE("/v1/admin/users/:id/mfa", s.adminRemoveFactors, s.requireAdmin)
	}

	e.GET(pathVerifyEmail, s.verifyEmailPage, s.page)
	e.POST(pathVerifyEmail, s.verifyEmailForm, s.page, s.sameOrigin)
	e.GET(pathResetPassword, s.resetPasswordPage, s.page)
	e.POST(pathResetPassword, s.resetPasswordForm, s.page, s.sameOrigin)

	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/openapi.json", s.openAPI)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
}
