package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Handlers of passkeys: signing in with one, under /v1/auth/passkey, and
// the bearer's own, under /v1/me/passkeys. A begin answers with the
// ceremony's token and the options for navigator.credentials; the finish
// takes the token back with the browser's credential, as its toJSON()
// writes it.

// ceremonyDTO is what a begin answers: options is the JSON the browser
// takes ({"publicKey": {...}}), passed through as the relying party
// wrote it.
type ceremonyDTO struct {
	CeremonyToken string          `json:"ceremony_token"`
	Options       json.RawMessage `json:"options"`
}

func toCeremonyDTO(c app.PasskeyCeremony) ceremonyDTO {
	return ceremonyDTO{CeremonyToken: c.Token, Options: c.Options}
}

// passkeyDTO is one of the bearer's passkeys, without its key.
type passkeyDTO struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"` // null until its first sign-in
	BackedUp   bool    `json:"backed_up"`
}

func toPasskeyDTO(p app.PasskeyInfo) passkeyDTO {
	d := passkeyDTO{ID: string(p.ID), Name: p.Name, CreatedAt: timestamp(p.CreatedAt), BackedUp: p.BackedUp}
	if !p.LastUsedAt.IsZero() {
		used := timestamp(p.LastUsedAt)
		d.LastUsedAt = &used
	}
	return d
}

// passkeysDTO is the answer of GET /v1/me/passkeys.
type passkeysDTO struct {
	Passkeys []passkeyDTO `json:"passkeys"`
}

// bindCeremonyAnswer reads the body of a finish: ceremony_token and
// credential (a JSON object), and the string members of more.
func bindCeremonyAnswer(c echo.Context, more ...field) (token string, credential []byte, err error) {
	obj, err := readJSONObject(c.Request(), false)
	if err != nil {
		return "", nil, err
	}
	fields := append([]field{required("ceremony_token", &token)}, more...)
	problems := &domain.ValidationError{}
	if err := bindStrings(obj, fields); err != nil {
		if !errors.As(err, &problems) {
			return "", nil, err
		}
	}
	raw, ok := obj["credential"]
	switch trimmed := bytes.TrimSpace(raw); {
	case !ok || bytes.Equal(trimmed, []byte("null")):
		problems.Add("credential", "required", "credential is required.")
	case len(trimmed) == 0 || trimmed[0] != '{':
		problems.Add("credential", "invalid_type", "credential must be an object: the PublicKeyCredential's toJSON().")
	}
	if err := problems.Err(); err != nil {
		return "", nil, err
	}
	return token, raw, nil
}

// beginPasskeySignIn begins a sign-in with a passkey: without a body (or
// with {}) one without a password, with {mfa_token} the answer to that
// MFA challenge.
func (s *server) beginPasskeySignIn(c echo.Context) error {
	var challenge string
	if err := bindOptionalJSON(c, optional("mfa_token", &challenge)); err != nil {
		return err
	}
	begun, err := s.auth.BeginPasskeySignIn(c.Request().Context(), app.BeginPasskeySignInInput{Challenge: challenge, Client: s.client(c)})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return writeJSON(c, http.StatusOK, toCeremonyDTO(begun))
}

// finishPasskeySignIn finishes a sign-in with a passkey and hands out the
// tokens of the session it starts, in either token mode.
func (s *server) finishPasskeySignIn(c echo.Context) error {
	token, credential, err := bindCeremonyAnswer(c)
	if err != nil {
		return err
	}
	tokens, err := s.auth.FinishPasskeySignIn(c.Request().Context(), app.FinishPasskeySignInInput{
		Ceremony: token, Response: credential, Client: s.client(c),
	})
	if err != nil {
		return err
	}
	return s.writeTokens(c, http.StatusOK, tokens)
}

// beginPasskeyRegistration begins registering a passkey for the bearer.
func (s *server) beginPasskeyRegistration(c echo.Context) error {
	if _, err := readJSONObject(c.Request(), true); err != nil {
		return err
	}
	begun, err := s.account.BeginPasskeyRegistration(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return writeJSON(c, http.StatusOK, toCeremonyDTO(begun))
}

// finishPasskeyRegistration stores the bearer's new passkey, named as
// the optional name says.
func (s *server) finishPasskeyRegistration(c echo.Context) error {
	var name string
	token, credential, err := bindCeremonyAnswer(c, optional("name", &name))
	if err != nil {
		return err
	}
	info, err := s.account.FinishPasskeyRegistration(c.Request().Context(), claimsOf(c), app.FinishPasskeyRegistrationInput{
		Ceremony: token, Response: credential, Name: name,
	})
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, toPasskeyDTO(info))
}

// passkeys lists the bearer's passkeys.
func (s *server) passkeys(c echo.Context) error {
	infos, err := s.account.Passkeys(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	d := passkeysDTO{Passkeys: make([]passkeyDTO, len(infos))} // [] rather than null for none
	for i, p := range infos {
		d.Passkeys[i] = toPasskeyDTO(p)
	}
	return writeJSON(c, http.StatusOK, d)
}

// deletePasskey removes one of the bearer's passkeys.
func (s *server) deletePasskey(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.account.DeletePasskey(c.Request().Context(), claimsOf(c), domain.PasskeyID(id)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
