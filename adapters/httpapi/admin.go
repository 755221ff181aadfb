package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// The admin API: operators' access to any user, behind the admin key
// (GATEHOUSE_ADMIN_API_KEY). Without a key the routes are not registered at
// all (see routes). Each request's log line names its route; the use cases
// log what they change.

// requireAdmin lets a request through only with the admin key as its
// bearer credential. The key is compared as a SHA-256 digest in constant
// time, so neither its content nor its length shows in the timing. A user's
// access token is never accepted here: it is just a wrong key.
func (s *server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, err := adminKey(c.Request().Header)
		if err != nil {
			return err
		}
		digest := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(digest[:], s.adminKey[:]) != 1 {
			return errAdminKeyInvalid
		}
		return next(c)
	}
}

// adminKey returns the credential of the Authorization header, which must
// be a single one of the Bearer scheme (in any case). Unlike bearerToken it
// does not insist on token68: an operator may choose any key, and it is
// compared exactly. It returns errAdminKeyMissing without an Authorization
// header and errAdminKeyInvalid for any other shape.
func adminKey(h http.Header) (string, error) {
	key, present, ok := bearerCredential(h)
	switch {
	case !present:
		return "", errAdminKeyMissing
	case !ok:
		return "", errAdminKeyInvalid
	}
	return key, nil
}

// adminUser answers any user by id.
func (s *server) adminUser(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	user, err := s.admin.User(c.Request().Context(), domain.UserID(id))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toUserDTO(user))
}

// adminSetTier changes a user's tier, the one thing about a user the admin
// API changes; members other than tier are ignored.
func (s *server) adminSetTier(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	var req tierDTO
	if err := bindJSON(c, req.fields()...); err != nil {
		return err
	}
	user, err := s.admin.SetTier(c.Request().Context(), domain.UserID(id), req.Tier)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toUserDTO(user))
}
