package httpapi

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// The JSON shapes of the API. They are the contract of API.md and of
// openapi.json; the domain's types never go on the wire directly, so a
// change in the domain cannot change the API by accident.

// userDTO is the user object.
type userDTO struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"` // null for an anonymous user
	EmailVerified bool    `json:"email_verified"`
	Tier          string  `json:"tier"`
	CreatedAt     string  `json:"created_at"`
}

// tokenDTO is the token response of register, anonymous, login and
// refresh.
type tokenDTO struct {
	AccessToken  string  `json:"access_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    int64   `json:"expires_in"`              // seconds
	RefreshToken string  `json:"refresh_token,omitempty"` // in its cookie instead, in cookie mode
	User         userDTO `json:"user"`
}

// problemDTO is an RFC 9457 problem with the API's code extension.
type problemDTO struct {
	Type   string          `json:"type"`
	Title  string          `json:"title"`
	Status int             `json:"status"`
	Detail string          `json:"detail"`
	Code   string          `json:"code"`
	Errors []fieldErrorDTO `json:"errors,omitempty"`
	// MFAToken and Factors are the challenge of mfa_required: the token
	// that /v1/auth/mfa/verify takes, and the factors that can answer it.
	MFAToken string   `json:"mfa_token,omitempty"`
	Factors  []string `json:"factors,omitempty"`
}

// fieldErrorDTO is one problem with one field of a request.
type fieldErrorDTO struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// credentialsDTO is the body of login.
type credentialsDTO struct {
	Email    string
	Password string
}

func (d *credentialsDTO) fields() []field {
	return []field{required("email", &d.Email), required("password", &d.Password)}
}

// registerDTO is the body of register: the credentials, and where the
// verification email's page may send the browser on to.
type registerDTO struct {
	credentialsDTO
	RedirectTo string
}

func (d *registerDTO) fields() []field {
	return append(d.credentialsDTO.fields(), optional("redirect_to", &d.RedirectTo))
}

// refreshTokenDTO is the body of refresh and logout.
type refreshTokenDTO struct {
	RefreshToken string
}

func (d *refreshTokenDTO) fields() []field {
	return []field{required("refresh_token", &d.RefreshToken)}
}

// mfaAnswerDTO is the body of /v1/auth/mfa/verify: the challenge token
// and one of the two kinds of code.
type mfaAnswerDTO struct {
	MFAToken, Code, RecoveryCode string
}

func (d *mfaAnswerDTO) fields() []field {
	return []field{required("mfa_token", &d.MFAToken), optional("code", &d.Code), optional("recovery_code", &d.RecoveryCode)}
}

// codeDTO is the body of /v1/me/mfa/totp/verify.
type codeDTO struct {
	Code string
}

func (d *codeDTO) fields() []field { return []field{required("code", &d.Code)} }

// totpEnrolmentDTO is what an authenticator app needs to enrol a key.
type totpEnrolmentDTO struct {
	Secret     string `json:"secret"`      // base32, to type in
	OTPAuthURI string `json:"otpauth_uri"` // the otpauth:// URI
	QRCode     string `json:"qr_code"`     // the URI as a PNG, in a data: URI
}

// recoveryCodesDTO is a list of recovery codes, shown once.
type recoveryCodesDTO struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func toRecoveryCodesDTO(codes []string) recoveryCodesDTO {
	if codes == nil {
		codes = []string{} // [] rather than null for none
	}
	return recoveryCodesDTO{RecoveryCodes: codes}
}

// factorsDTO is the bearer's second factors.
type factorsDTO struct {
	Factors []factorDTO `json:"factors"`
}

type factorDTO struct {
	Type      string `json:"type"`
	Verified  bool   `json:"verified"`
	CreatedAt string `json:"created_at"`
}

func toFactorsDTO(infos []app.FactorInfo) factorsDTO {
	d := factorsDTO{Factors: make([]factorDTO, len(infos))}
	for i, f := range infos {
		d.Factors[i] = factorDTO{Type: f.Kind.String(), Verified: f.Verified, CreatedAt: timestamp(f.CreatedAt)}
	}
	return d
}

// tokenRequestDTO is the body of verify-email: the token of an email's
// link.
type tokenRequestDTO struct {
	Token string
}

func (d *tokenRequestDTO) fields() []field {
	return []field{required("token", &d.Token)}
}

// forgotPasswordDTO is the body of password/forgot.
type forgotPasswordDTO struct {
	Email      string
	RedirectTo string
}

func (d *forgotPasswordDTO) fields() []field {
	return []field{required("email", &d.Email), optional("redirect_to", &d.RedirectTo)}
}

// resendDTO is the body of verify-email/resend, which may be left out.
type resendDTO struct {
	RedirectTo string
}

func (d *resendDTO) fields() []field {
	return []field{optional("redirect_to", &d.RedirectTo)}
}

// resetPasswordDTO is the body of password/reset.
type resetPasswordDTO struct {
	Token    string
	Password string
}

func (d *resetPasswordDTO) fields() []field {
	return []field{required("token", &d.Token), required("password", &d.Password)}
}

// changePasswordDTO is the body of password/change.
type changePasswordDTO struct {
	CurrentPassword string
	NewPassword     string
}

func (d *changePasswordDTO) fields() []field {
	return []field{required("current_password", &d.CurrentPassword), required("new_password", &d.NewPassword)}
}

// deleteAccountDTO is the body of DELETE /v1/me. An anonymous user has no
// password, so the member is optional here and the use case decides
// whether it is needed; the whole body may be left out.
type deleteAccountDTO struct {
	Password string
}

func (d *deleteAccountDTO) fields() []field {
	return []field{optional("password", &d.Password)}
}

// tierDTO is the body of the admin's PATCH of a user.
type tierDTO struct {
	Tier string
}

func (d *tierDTO) fields() []field {
	return []field{required("tier", &d.Tier)}
}

// sessionDTO is one of the sessions GET /v1/me/sessions lists.
type sessionDTO struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"` // the session of the access token that asked
}

// sessionsDTO is the answer of GET /v1/me/sessions.
type sessionsDTO struct {
	Sessions []sessionDTO `json:"sessions"`
}

// timestamp formats t as the API writes every time: RFC 3339 in UTC, to
// the second.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

func toUserDTO(u domain.User) userDTO {
	d := userDTO{
		ID:            string(u.ID),
		EmailVerified: u.EmailVerified,
		Tier:          u.Tier.String(),
		CreatedAt:     timestamp(u.CreatedAt),
	}
	if u.Email != "" {
		email := u.Email
		d.Email = &email
	}
	return d
}

func toTokenDTO(t app.Tokens) tokenDTO {
	return tokenDTO{
		AccessToken:  t.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    int64(t.ExpiresIn / time.Second),
		RefreshToken: t.RefreshToken,
		User:         toUserDTO(t.User),
	}
}

func toSessionsDTO(infos []app.SessionInfo) sessionsDTO {
	d := sessionsDTO{Sessions: make([]sessionDTO, len(infos))} // [] rather than null for none
	for i, s := range infos {
		d.Sessions[i] = sessionDTO{
			ID:         string(s.ID),
			CreatedAt:  timestamp(s.CreatedAt),
			LastUsedAt: timestamp(s.LastUsedAt),
			UserAgent:  s.UserAgent,
			IP:         s.IP,
			Current:    s.Current,
		}
	}
	return d
}

func toProblemDTO(p problem) problemDTO {
	d := problemDTO{
		Type:   problemTypePrefix + p.code,
		Title:  p.title,
		Status: p.status,
		Detail: p.detail,
		Code:   p.code,
	}
	for _, f := range p.fields {
		d.Errors = append(d.Errors, fieldErrorDTO{Field: f.Field, Code: f.Code, Message: f.Message})
	}
	if p.mfa != nil {
		d.MFAToken = p.mfa.Challenge
		for _, k := range p.mfa.Factors {
			d.Factors = append(d.Factors, k.String())
		}
	}
	return d
}
