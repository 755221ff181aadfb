package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// field binds one string member of a JSON request body to where its value
// goes.
type field struct {
	name     string
	dst      *string
	optional bool // a missing or null member leaves dst alone instead of being reported
}

// required is a member the request must have.
func required(name string, dst *string) field { return field{name: name, dst: dst} }

// optional is a member the request may leave out.
func optional(name string, dst *string) field { return field{name: name, dst: dst, optional: true} }

// bindJSON reads the request body as a JSON object and stores the members
// fields name. It returns errUnsupportedMediaType, errRequestTooLarge,
// errMalformedRequest, or a *domain.ValidationError naming every field that
// is missing (required) or not a string (invalid_type). Members it was not
// asked for are ignored, so a client can never set anything the handler
// does not read.
func bindJSON(c echo.Context, fields ...field) error {
	obj, err := readJSONObject(c.Request(), false)
	if err != nil {
		return err
	}
	return bindStrings(obj, fields)
}

// bindOptionalJSON is bindJSON for a body that may be left out altogether,
// which then stands for {}.
func bindOptionalJSON(c echo.Context, fields ...field) error {
	obj, err := readJSONObject(c.Request(), true)
	if err != nil {
		return err
	}
	return bindStrings(obj, fields)
}

// readJSONObject reads a JSON object from r's body, at most maxBodyBytes
// of it whether or not the client announced its length. With emptyOK, an
// empty body stands for {}, and needs no Content-Type.
func readJSONObject(r *http.Request, emptyOK bool) (map[string]json.RawMessage, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ct := r.Header.Get("Content-Type")
	if emptyOK && len(body) == 0 && ct == "" {
		return map[string]json.RawMessage{}, nil
	}
	if !isJSON(ct) {
		return nil, errUnsupportedMediaType
	}
	if emptyOK && len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil { // "null" decodes to a nil map
		return nil, errMalformedRequest
	}
	return obj, nil
}

// isJSON reports whether a Content-Type is application/json, in UTF-8, the
// only encoding JSON has (RFC 8259).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// readBody reads r's body, at most maxBodyBytes of it whether or not the
// client announced its length. It returns errRequestTooLarge for a longer
// one and errMalformedRequest when the client broke it off.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errRequestTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	switch {
	case err != nil:
		return nil, errMalformedRequest
	case len(body) > maxBodyBytes:
		return nil, errRequestTooLarge
	}
	return body, nil
}

// readForm reads an application/x-www-form-urlencoded body, the only kind
// the pages' forms send, under the same size limit as JSON. It returns the
// body's fields only, never the query string's, and errRequestTooLarge,
// errUnsupportedMediaType or errMalformedRequest.
func readForm(r *http.Request) (url.Values, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errUnsupportedMediaType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, errUnsupportedMediaType
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformedRequest
	}
	return form, nil
}

// bindStrings stores the string members of obj that fields name, and
// reports every missing or mistyped one at once. JSON null counts as
// missing.
func bindStrings(obj map[string]json.RawMessage, fields []field) error {
	problems := &domain.ValidationError{}
	for _, f := range fields {
		raw, ok := obj[f.name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if !f.optional {
				problems.Add(f.name, "required", f.name+" is required.")
			}
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) {
				return errMalformedRequest // cannot happen: obj came from valid JSON
			}
			problems.Add(f.name, "invalid_type", f.name+" must be a string.")
		}
	}
	return problems.Err()
}
