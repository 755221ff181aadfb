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
	"unicode/utf8"

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
// empty body stands for {}, and needs no Content-Type. A body that is not
// canonical (see checkCanonicalJSON) is refused with errNotText or
// errDuplicateKey, whatever the handler reads of it.
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
	if !utf8.Valid(body) {
		return nil, errNotText
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil { // "null" decodes to a nil map
		return nil, errMalformedRequest
	}
	if err := checkCanonicalJSON(body); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkCanonicalJSON returns errNotText when a string of body, which is
// valid UTF-8 and valid JSON, escapes half a surrogate pair, and
// errDuplicateKey when an object in it, at any depth, names a member twice.
//
// encoding/json would accept both: it decodes each unpaired surrogate (as
// it would each invalid byte) to U+FFFD, so that different bodies carry the
// same password, and it keeps the last of duplicate members, where a proxy
// or a log reader may well take the first and see another request. Refusing
// them leaves every accepted body one meaning. Nested objects count as
// well: a passkey's credential goes on to the WebAuthn library as raw JSON.
func checkCanonicalJSON(body []byte) error {
	if hasLoneSurrogate(body) {
		return errNotText
	}
	// object is the set of member names seen so far in an open object;
	// arrays push nil.
	type object map[string]struct{}
	var (
		open    []object
		wantKey bool // the next string is a member name of open's last object
	)
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errMalformedRequest // cannot happen: body parsed already
		}
		if name, ok := tok.(string); ok && wantKey {
			members := open[len(open)-1]
			if _, seen := members[name]; seen {
				return errDuplicateKey
			}
			members[name] = struct{}{}
			wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			open = append(open, object{})
			wantKey = true
			continue
		case json.Delim('['):
			open = append(open, nil)
			wantKey = false
			continue
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
		}
		// A value ended, so an enclosing object expects its next name.
		wantKey = len(open) > 0 && open[len(open)-1] != nil
	}
}

// hasLoneSurrogate reports whether a string of body, valid JSON, holds a
// \u escape of a surrogate that is not half of a high-low pair.
func hasLoneSurrogate(body []byte) bool {
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			i++
			if body[i] != 'u' {
				continue
			}
			r := hex4(body[i+1 : i+5])
			i += 4
			switch {
			case r >= 0xdc00 && r <= 0xdfff:
				return true // a low half without a high one before it
			case r >= 0xd800 && r <= 0xdbff:
				if i+6 >= len(body) || body[i+1] != '\\' || body[i+2] != 'u' {
					return true
				}
				if low := hex4(body[i+3 : i+7]); low < 0xdc00 || low > 0xdfff {
					return true
				}
				i += 6
			}
		}
	}
	return false
}

// hex4 is the value of four hexadecimal digits, which valid JSON has after
// every \u.
func hex4(digits []byte) rune {
	var r rune
	for _, d := range digits {
		r <<= 4
		switch {
		case d >= '0' && d <= '9':
			r |= rune(d - '0')
		case d >= 'a' && d <= 'f':
			r |= rune(d - 'a' + 10)
		case d >= 'A' && d <= 'F':
			r |= rune(d - 'A' + 10)
		}
	}
	return r
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
