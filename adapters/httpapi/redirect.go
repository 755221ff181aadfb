package httpapi

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// The allow-list of redirect_to. A client app may ask that the page an
// account email's link opens send the browser back to it afterwards
// (redirect_to on register, resend and forgot). Only URLs that
// GATEHOUSE_REDIRECT_URLS allows may be named, so that Gatehouse's own
// pages never lead a user to a site an attacker chose; an unlisted one is
// refused with 400 invalid_redirect before any use case runs. The pages
// check the URL again when the link is opened and when the form is sent,
// since the link's query is the user's to change.
//
// A URL is compared by parts, never as a string prefix, and only after
// everything that would let two parsers disagree about it has been
// refused: anything but the characters RFC 3986 allows in a URL (so no
// white space, control characters or backslashes, which browsers read as
// slashes), userinfo, fragments, and dot segments or percent-encoded
// slashes, backslashes and dots in the path.

// redirectURLsVar is the variable readRedirectURLs reads.
const redirectURLsVar = "GATEHOUSE_REDIRECT_URLS"

// maxRedirectLength bounds a redirect_to, in bytes: far more than a real
// one needs, and short enough for the link of an email.
const maxRedirectLength = 2048

// redirectList is the allow-list of redirect_to (Config.RedirectURLs). Its
// zero value, an empty list, allows nothing.
type redirectList struct{ entries []redirectEntry }

// redirectEntry is one URL of the list: its origin as originOf writes it,
// and its escaped path, "/" for none.
type redirectEntry struct{ origin, path string }

// newRedirectList returns the allow-list of urls. It fails for an entry
// that is not an absolute http(s) URL, or that has userinfo, a query, a
// fragment or a path that parseRedirect refuses.
func newRedirectList(urls []string) (redirectList, error) {
	var l redirectList
	for i, raw := range urls {
		e, err := parseRedirectEntry(raw)
		if err != nil {
			return redirectList{}, fmt.Errorf("%s %w", describeEntry(i, raw), err)
		}
		l.entries = append(l.entries, e)
	}
	return l, nil
}

// parseRedirectEntry parses one URL of the list. Its error reads well after
// the entry's description (describeEntry).
func parseRedirectEntry(raw string) (redirectEntry, error) {
	u, err := parseRedirect(raw)
	if err == nil && (u.RawQuery != "" || u.ForceQuery) {
		err = errors.New("has a query")
	}
	if err != nil {
		return redirectEntry{}, err
	}
	return redirectEntry{origin: originOf(u), path: redirectPath(u)}, nil
}

// allows reports whether raw, a redirect_to, is on the list, and returns it
// as it is to be used: with lower-case scheme and host, without the
// scheme's default port, and with its query, if any. raw is allowed when
// parseRedirect accepts it, its origin is an entry's, and its path is that
// entry's path or, when the entry's path ends in "/", starts with it.
func (l redirectList) allows(raw string) (string, bool) {
	u, err := parseRedirect(raw)
	if err != nil {
		return "", false
	}
	origin, path := originOf(u), redirectPath(u)
	for _, e := range l.entries {
		if origin == e.origin && (path == e.path || strings.HasSuffix(e.path, "/") && strings.HasPrefix(path, e.path)) {
			if u.RawQuery != "" {
				return origin + path + "?" + u.RawQuery, true
			}
			return origin + path, true
		}
	}
	return "", false
}

// parseRedirect parses raw as an absolute http(s) URL that may be compared
// by its parts. It refuses a URL longer than maxRedirectLength, with a
// character RFC 3986 does not allow, with userinfo or a fragment, with a
// host that is not a plain name or address, and one whose path holds a
// "." or ".." segment or a percent-encoded slash, backslash or dot.
func parseRedirect(raw string) (*url.URL, error) {
	switch {
	case len(raw) > maxRedirectLength:
		return nil, fmt.Errorf("is longer than %d bytes", maxRedirectLength)
	case strings.ContainsFunc(raw, func(r rune) bool { return !isURLChar(r) }):
		return nil, errors.New("holds a character that a URL may not (white space, a control character, a backslash...)")
	case strings.Contains(raw, "#"):
		return nil, errors.New("has a fragment")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Host == "":
		return nil, errors.New("is not an absolute http(s) URL")
	case u.User != nil:
		return nil, errors.New("has userinfo (user@)")
	case strings.ContainsFunc(u.Host, func(r rune) bool { return !isHostChar(r) }):
		return nil, errors.New("has a host that is not a plain name or address")
	case !safePath(u.EscapedPath()):
		return nil, errors.New("has a dot segment, or an encoded slash, backslash or dot, in its path")
	}
	return u, nil
}

// isURLChar reports whether r may appear in a URL (RFC 3986, section 2):
// unreserved, reserved or the '%' of a percent-encoding.
func isURLChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=%", r)
}

// isHostChar reports whether r may appear in the host (and port) of an
// allow-list URL: a DNS name, an IPv4 address, or an IPv6 one in brackets.
func isHostChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._:[]", r)
}

// safePath reports whether an escaped path means one path to every
// reader: it has no "." or ".." segment, which a browser or a server
// would resolve, and no percent-encoded slash, backslash or dot, which
// some decode before they resolve.
func safePath(path string) bool {
	lower := strings.ToLower(path)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%2e") {
		return false
	}
	for segment := range strings.SplitSeq(path, "/") {
		if segment == "." || segment == ".." {
			return false
		}
	}
	return true
}

// redirectPath is u's escaped path, with "" written "/" as browsers do.
func redirectPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// describeEntry names the entry at index i of the list in an error: the
// entry itself, unless it may hold a password (userinfo).
func describeEntry(i int, raw string) string {
	if strings.Contains(raw, "@") {
		return "entry " + strconv.Itoa(i+1)
	}
	return strconv.Quote(raw)
}

// readRedirectURLs reads GATEHOUSE_REDIRECT_URLS: URLs separated by commas
// or white space, each an absolute http(s) URL without userinfo, query or
// fragment, whose path parseRedirect accepts. It reports every bad one.
func readRedirectURLs(r *setting.Reader) []string {
	var urls []string
	for i, raw := range strings.FieldsFunc(r.String(redirectURLsVar, ""), func(c rune) bool { return c == ',' || unicode.IsSpace(c) }) {
		if _, err := parseRedirectEntry(raw); err != nil {
			r.Fail(redirectURLsVar, "%s %v", describeEntry(i, raw), err)
			continue
		}
		urls = append(urls, raw)
	}
	return urls
}

// redirectTo returns the redirect_to of a request as it is to be used: ""
// when the request names none, and errInvalidRedirect when the allow-list
// does not allow it.
func (s *server) redirectTo(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, ok := s.redirects.allows(raw)
	if !ok {
		return "", errInvalidRedirect
	}
	return u, nil
}

// pageRedirect returns the redirect_to of a page's link or form as it is
// to be used, or "" when there is none or the allow-list does not allow
// it: a page drops such a one silently, since its user then only loses the
// way back, and an error would make the tampered link look like a broken
// one of ours.
func (s *server) pageRedirect(raw string) string {
	u, _ := s.redirects.allows(raw)
	return u
}
