package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/webauthntest"
)

func TestBodiesThatAreNotUTF8AreMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for name, body := range map[string]string{
		"invalid byte in the password":  "{\"email\":\"utf8-a@example.com\",\"password\":\"" + password + "\xff\xff\xff\"}",
		"invalid bytes in the email":    "{\"email\":\"ab\xffcd@example.com\",\"password\":\"" + password + "\"}",
		"overlong encoding":             "{\"email\":\"utf8-b@example.com\",\"password\":\"" + password + "\xc0\x80\"}",
		"invalid byte in an unread key": "{\"email\":\"utf8-c@example.com\",\"password\":\"" + password + "\",\"\xfe\":1}",
		"lone high surrogate escape":    `{"email":"utf8-d@example.com","password":"` + password + `\ud800"}`,
		"lone low surrogate escape":     `{"email":"utf8-e@example.com","password":"` + password + `\udc00"}`,
		"high surrogate before a char":  `{"email":"utf8-f@example.com","password":"` + password + `\ud800x\udc00"}`,
		"two high surrogates":           `{"email":"utf8-g@example.com","password":"` + password + `\ud800\ud800"}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := h.post("/v1/auth/register", body).requireProblem(t, http.StatusBadRequest, "malformed_request")
			assert.Contains(t, p.Detail, "UTF-8")
		})
	}
	_, err := h.store.Stores().Users.ByEmail(context.Background(), "ab\ufffdcd@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound, "the replaced address was not stored")

	t.Run("a surrogate pair and U+FFFD itself are text", func(t *testing.T) {
		h.post("/v1/auth/register", `{"email":"utf8-h@example.com","password":"`+password+`\ud83d\ude00\ufffd"}`).
			tokens(t, http.StatusCreated)
		h.post("/v1/auth/login", `{"email":"utf8-h@example.com","password":"`+password+"\U0001F600\uFFFD"+`"}`).
			tokens(t, http.StatusOK)
	})
}

func TestDuplicateMembersAreMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for name, body := range map[string]string{
		"email twice":           `{"email":"dup-a@example.com","email":"dup-b@example.com","password":"` + password + `"}`,
		"twice through escapes": `{"email":"dup-a@example.com","\u0065mail":"dup-b@example.com","password":"` + password + `"}`,
		"an unread member":      `{"email":"dup-a@example.com","password":"` + password + `","x":1,"x":2}`,
		"in a nested object":    `{"email":"dup-a@example.com","password":"` + password + `","x":[{"y":1},{"z":{"a":1,"a":2}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := h.post("/v1/auth/register", body).requireProblem(t, http.StatusBadRequest, "malformed_request")
			assert.Contains(t, p.Detail, "more than once")
		})
	}
	for _, email := range []string{"dup-a@example.com", "dup-b@example.com"} {
		_, err := h.store.Stores().Users.ByEmail(context.Background(), email)
		require.ErrorIs(t, err, domain.ErrNotFound, "%s was not registered", email)
	}

	t.Run("the same name in sibling objects is fine", func(t *testing.T) {
		h.post("/v1/auth/register", `{"email":"dup-c@example.com","password":"`+password+`","x":[{"a":1},{"a":2}],"y":{"a":{"a":1}}}`).
			tokens(t, http.StatusCreated)
	})

	t.Run("in a passkey's credential", func(t *testing.T) {
		reg := h.register("dup-passkey@example.com")
		a := webauthntest.New(apptest.PasskeyOrigin)
		c := h.begin("/v1/me/passkeys/begin", reg.AccessToken, "")
		credential, err := a.Create(c.Options)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(credential, []byte("{")))
		twice := append([]byte(`{"type":"not-a-public-key",`), credential[1:]...)

		p := h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, answer(c, twice)).
			requireProblem(t, http.StatusBadRequest, "malformed_request")
		assert.Contains(t, p.Detail, "more than once")
		// The ceremony is still open: the same credential, once, registers.
		r := h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, answer(c, credential))
		assert.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
}
