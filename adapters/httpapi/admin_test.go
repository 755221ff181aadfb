package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
)

// adminKey is the admin API key of harnesses made withAdminKey. It has
// characters outside token68, which an operator may well choose.
const adminKey = "s3cret admin key: not a token68!"

func withAdminKey(c *httpapi.Config) { c.AdminAPIKey = adminKey }

// admin sends an admin request with the Authorization header given, if
// any, and the body, if any, as JSON.
func (h *harness) admin(method, path, authorization, body string) response {
	h.t.Helper()
	var req *http.Request
	if body != "" {
		req = h.request(method, path, strings.NewReader(body))
	} else {
		req = h.request(method, path, nil)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return h.send(req)
}

func TestAdminAPIWithoutAKeyDoesNotExist(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	path := "/v1/admin/users/" + ada.User.ID

	tests := []struct{ method, path, authorization, body string }{
		{http.MethodGet, path, "", ""},
		{http.MethodGet, path, "Bearer " + adminKey, ""},
		{http.MethodGet, path, "Bearer ", ""},
		{http.MethodPatch, path, "Bearer " + adminKey, `{"tier":"member"}`},
		{http.MethodPut, path, "", `{}`}, // no 405 either: nothing is there
		{http.MethodGet, "/v1/admin/users", "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.method+" "+tt.authorization, func(t *testing.T) {
			req := h.request(tt.method, tt.path, nil)
			if tt.body != "" {
				req = h.request(tt.method, tt.path, strings.NewReader(tt.body))
			}
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			id := "off-" + strconv.Itoa(i)
			req.Header.Set("X-Request-ID", id)
			res := h.send(req)
			res.requireProblem(t, http.StatusNotFound, "not_found")
			assert.Empty(t, res.header.Get("WWW-Authenticate"))
			assert.Empty(t, h.logs.requestLine(t, id)["route"], "as if no route matched")
		})
	}
	assert.Equal(t, "free", h.get("/v1/me", ada.AccessToken).user(t).Tier)
}

func TestAdminAPIRefusesAMissingOrWrongKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	ada := h.register("ada@example.com")
	path := "/v1/admin/users/" + ada.User.ID

	res := h.admin(http.MethodGet, path, "", "")
	res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
	assert.Equal(t, `Bearer realm="gatehouse-admin"`, res.header.Get("WWW-Authenticate"))

	wrong := []struct{ name, authorization string }{
		{"wrong key", "Bearer not-the-key"},
		{"the key with a suffix", "Bearer " + adminKey + "x"},
		{"a prefix of the key", "Bearer " + adminKey[:len(adminKey)-1]},
		{"another scheme", "Basic " + adminKey},
		{"no key", "Bearer "},
		{"a user's access token", "Bearer " + ada.AccessToken},
	}
	for _, tt := range wrong {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPatch} {
				res := h.admin(method, path, tt.authorization, `{"tier":"member"}`)
				res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
				assert.Regexp(t, `^Bearer realm="gatehouse-admin", error="invalid_token"`, res.header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("two headers, one right", func(t *testing.T) {
		req := h.request(http.MethodGet, path, nil)
		req.Header.Add("Authorization", "Bearer "+adminKey)
		req.Header.Add("Authorization", "Bearer wrong")
		h.send(req).requireProblem(t, http.StatusUnauthorized, "invalid_token")
	})

	assert.Equal(t, "free", h.get("/v1/me", ada.AccessToken).user(t).Tier, "nothing changed")
	assert.NotContains(t, h.logs.String(), adminKey, "the key stays out of the log")
}

func TestAdminGetsAUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	ada := h.register("ada@example.com")

	req := h.request(http.MethodGet, "/v1/admin/users/"+ada.User.ID, nil)
	req.Header.Set("Authorization", "bearer "+adminKey) // the scheme in any case
	req.Header.Set("X-Request-ID", "admin-get")
	res := h.send(req)

	assert.Equal(t, ada.User, res.user(t))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	line := h.logs.requestLine(t, "admin-get")
	assert.Equal(t, "/v1/admin/users/:id", line["route"], "admin requests are logged by route")
	assert.EqualValues(t, 200, line["status"])

	h.admin(http.MethodGet, "/v1/admin/users/no-such-user", "Bearer "+adminKey, "").
		requireProblem(t, http.StatusNotFound, "not_found")
}

func TestAdminSetsATier(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	ada := h.register("ada@example.com")
	path := "/v1/admin/users/" + ada.User.ID

	res := h.admin(http.MethodPatch, path, "Bearer "+adminKey, `{"tier":"member","email_verified":true,"id":"x"}`)

	changed := res.user(t)
	assert.Equal(t, "member", changed.Tier)
	assert.Equal(t, ada.User.ID, changed.ID)
	assert.False(t, changed.EmailVerified, "only the tier changes")
	assert.Equal(t, changed, h.admin(http.MethodGet, path, "Bearer "+adminKey, "").user(t))
	assert.Equal(t, "member", h.get("/v1/me", ada.AccessToken).user(t).Tier)
	refreshed := h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	assert.Equal(t, "member", refreshed.User.Tier)

	var logged bool
	for _, rec := range h.logs.lines(t) {
		if rec["msg"] == "admin changed tier" {
			logged = true
			assert.Equal(t, ada.User.ID, rec["user_id"])
			assert.Equal(t, "free", rec["from"])
			assert.Equal(t, "member", rec["to"])
		}
	}
	assert.True(t, logged, "the change is logged")
}

func TestAdminSetTierRefusesABadTier(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	ada := h.register("ada@example.com")
	path := "/v1/admin/users/" + ada.User.ID

	tests := []struct {
		body string
		want []string
	}{
		{`{"tier":"admin"}`, []string{"tier:invalid_tier"}},
		{`{"tier":"Member"}`, []string{"tier:invalid_tier"}},
		{`{"tier":""}`, []string{"tier:invalid_tier"}},
		{`{"tier":3}`, []string{"tier:invalid_type"}},
		{`{"tier":null}`, []string{"tier:required"}},
		{`{}`, []string{"tier:required"}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			p := h.admin(http.MethodPatch, path, "Bearer "+adminKey, tt.body).
				requireProblem(t, http.StatusBadRequest, "validation_failed")
			assert.Equal(t, tt.want, p.fieldErrors())
		})
	}
	h.admin(http.MethodPatch, path, "Bearer "+adminKey, `[`).requireProblem(t, http.StatusBadRequest, "malformed_request")
	h.admin(http.MethodPatch, "/v1/admin/users/no-such-user", "Bearer "+adminKey, `{"tier":"member"}`).
		requireProblem(t, http.StatusNotFound, "not_found")
	assert.Equal(t, "free", h.get("/v1/me", ada.AccessToken).user(t).Tier)
}

func TestAdminKeyIsNotAnAccessToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)

	req := h.request(http.MethodGet, "/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	res := h.send(req)

	require.Equal(t, http.StatusUnauthorized, res.status)
	assert.Contains(t, res.header.Get("WWW-Authenticate"), `realm="gatehouse"`)
}
