package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// The pages that the links in account emails open. They are plain HTML
// forms rendered on the server, without JavaScript:
//
//   - GET renders a form holding the link's token in a hidden field and
//     consumes nothing, so a mail scanner that follows the link changes
//     nothing. Only the form's POST, which a person sends with the button,
//     spends the token.
//   - The token is the POST's only authority: there are no cookies, so a
//     cross-site form could only spend a token its author already knows.
//     sameOrigin still refuses forms from other sites, as defence in depth.
//   - Every page is no-store, sends no Referer (the token is in the URL),
//     may not be framed, and has a CSP that allows nothing but its one
//     inline style, by hash, and forms posted to itself.
//   - A link's redirect_to, which the client app that asked for the email
//     named, is checked against the allow-list again when the page opens,
//     kept in a hidden field, and checked once more when the form comes
//     back, since both are anyone's to change; one not allowed (any
//     longer) is dropped without a word. The page that ends the flow
//     shows it as a Continue link, never as a 3xx: browsers apply
//     form-action 'self' to the redirects that follow a form's POST too,
//     and would block one to the app.
//
// Errors go through the one table of problem.go like the API's; a page
// shows the problem as HTML (see writeErrorPage).

// pageFiles are the templates and the style sheet of the pages.
//
//go:embed pages
var pageFiles embed.FS

// pageStyle is the style sheet every page inlines; pageCSP allows exactly
// it, by its hash.
var (
	pageStyle = mustReadPageFile("pages/style.css")
	pageCSP   = "default-src 'none'; style-src '" + styleHash(pageStyle) + "'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// pageTemplates holds one template per page, each the layout with that
// page's content.
var pageTemplates = map[string]*template.Template{}

// The pages, by the name of their template file.
const (
	pageVerify    = "verify"
	pageVerified  = "verified"
	pageReset     = "reset"
	pageResetDone = "reset_done"
	pageError     = "error"
)

func init() {
	layout := template.Must(template.New("").
		Funcs(template.FuncMap{"style": func() template.CSS { return template.CSS(pageStyle) }}).
		ParseFS(pageFiles, "pages/layout.html"))
	for _, name := range []string{pageVerify, pageVerified, pageReset, pageResetDone, pageError} {
		pageTemplates[name] = template.Must(template.Must(layout.Clone()).ParseFS(pageFiles, "pages/"+name+".html"))
	}
}

func mustReadPageFile(name string) string {
	b, err := pageFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// styleHash is the CSP source that allows an inline style with exactly the
// content css.
func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageView is what the templates show.
type pageView struct {
	Title     string   // the page's heading and, with the site's name, its <title>
	Message   string   // what an error page explains
	Reference string   // the request ID an error page quotes for a 5xx
	Token     string   // the hidden field of the forms
	Email     string   // the address just verified
	Problems  []string // why the password on the reset form was refused
	// Bounds of a password, for the reset form's input.
	MinPassword, MaxPassword int

	// RedirectTo, checked, is another hidden field of the forms and the
	// Continue link of the pages that end a flow; "" for none.
	RedirectTo string
}

// maxLinkToken bounds the token a page echoes into its form. Real tokens
// are 43 characters; a longer one is refused at once, before it is echoed.
const maxLinkToken = 512

// page marks its route as a page: it sets the headers of pages in place of
// the API's, and makes errors render as HTML rather than problem JSON.
func (s *server) page(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Robots-Tag", "noindex, nofollow")
		c.Set(keyPage, true)
		return next(c)
	}
}

// isPage reports whether page marked the request's route.
func isPage(c echo.Context) bool {
	p, _ := c.Get(keyPage).(bool)
	return p
}

// sameOrigin refuses, with errCrossOrigin, a form that a browser says
// another site sent:
//
//   - Sec-Fetch-Site other than same-origin (or none: the user's own
//     doing), for browsers that send Fetch Metadata, which is all current
//     ones;
//   - an Origin that is neither the server's own (of Config.PublicURL, or
//     failing that the request's Host) nor "null".
//
// "null" has to pass: the pages send no Referer, and under that referrer
// policy a browser writes the Origin of a form post as "null" (Fetch
// standard, "append a request Origin header"), even for a page posting to
// itself. A cross-site attacker can produce "null" too, from a sandboxed
// frame, but then Sec-Fetch-Site says cross-site. A request without either
// header (not a browser, or a very old one) passes: it carries no ambient
// authority anyway, only the token in its body.
func (s *server) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Header.Get("Sec-Fetch-Site") {
		case "", "same-origin", "none":
		default:
			return errCrossOrigin
		}
		switch origins := r.Header.Values("Origin"); {
		case len(origins) == 0, len(origins) == 1 && origins[0] == "null":
		case len(origins) > 1 || !s.isOwnOrigin(origins[0], r.Host):
			return errCrossOrigin
		}
		return next(c)
	}
}

// isOwnOrigin reports whether origin, an Origin header's value, is the
// server's: that of Config.PublicURL, or without one any origin of host.
func (s *server) isOwnOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if s.origin != "" {
		return originOf(u) == s.origin
	}
	return strings.EqualFold(u.Host, host)
}

// originOf returns the origin of u as a browser writes it in an Origin
// header: lower-case scheme and host, and no port when it is the scheme's
// default.
func originOf(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}

// linkToken returns the token of a page's link. A missing or oversized one
// is domain.ErrInvalidToken, which shows the same page as any other bad
// link.
func linkToken(c echo.Context) (string, error) {
	token := c.QueryParam("token")
	if token == "" || len(token) > maxLinkToken {
		return "", domain.ErrInvalidToken
	}
	return token, nil
}

// verifyEmailPage shows the form that confirms an email address. It only
// reads the token; the form's POST spends it.
func (s *server) verifyEmailPage(c echo.Context) error {
	token, err := linkToken(c)
	if err != nil {
		return err
	}
	return renderPage(c, http.StatusOK, pageVerify, pageView{Title: "Confirm your email address", Token: token,
		RedirectTo: s.pageRedirect(c.QueryParam("redirect_to"))})
}

// verifyEmailForm spends the token the form sends.
func (s *server) verifyEmailForm(c echo.Context) error {
	form, err := readForm(c.Request())
	if err != nil {
		return err
	}
	user, err := s.account.VerifyEmail(c.Request().Context(), form.Get("token"))
	if err != nil {
		return err
	}
	return renderPage(c, http.StatusOK, pageVerified, pageView{Title: "Your email address is confirmed", Email: user.Email,
		RedirectTo: s.pageRedirect(form.Get("redirect_to"))})
}

// resetPasswordPage shows the form that sets a new password. It only reads
// the token; the form's POST spends it.
func (s *server) resetPasswordPage(c echo.Context) error {
	token, err := linkToken(c)
	if err != nil {
		return err
	}
	return renderPage(c, http.StatusOK, pageReset, resetView(token, s.pageRedirect(c.QueryParam("redirect_to"))))
}

// resetPasswordForm sets the password the form sends. A password the
// policy refuses shows the form again with the policy's reasons and the
// same token, which stays usable, so the user can try another, and the
// same redirect.
func (s *server) resetPasswordForm(c echo.Context) error {
	form, err := readForm(c.Request())
	if err != nil {
		return err
	}
	token, redirectTo := form.Get("token"), s.pageRedirect(form.Get("redirect_to"))
	err = s.account.ResetPassword(c.Request().Context(), token, form.Get("password"), s.client(c))
	if v, ok := errors.AsType[*domain.ValidationError](err); ok {
		view := resetView(token, redirectTo)
		for _, p := range v.Problems {
			view.Problems = append(view.Problems, p.Message)
		}
		if err := renderPage(c, http.StatusBadRequest, pageReset, view); err != nil {
			return err
		}
		return v // answered already; observe only logs its code
	}
	if err != nil {
		return err
	}
	return renderPage(c, http.StatusOK, pageResetDone, pageView{Title: "Your password has been changed", RedirectTo: redirectTo})
}

func resetView(token, redirectTo string) pageView {
	return pageView{
		Title:       "Choose a new password",
		Token:       token,
		RedirectTo:  redirectTo,
		MinPassword: domain.MinPasswordLength,
		MaxPassword: domain.MaxPasswordLength,
	}
}

// writeErrorPage shows p as an error page, unless the handler has already
// started its response.
func writeErrorPage(c echo.Context, p problem) {
	if c.Response().Committed {
		return
	}
	setProblemHeaders(c.Response().Header(), p)
	view := pageView{}
	switch {
	case p.code == codeInvalidToken:
		view.Title = "This link is invalid or has expired"
		view.Message = invalidLinkMessage
	case p.code == codeCrossOrigin:
		view.Title = "This form was sent from another site"
		view.Message = "For your safety, this page accepts its form only from itself. Open the link in your email again."
	case p.code == codeRateLimited:
		view.Title = "Too many attempts"
		view.Message = "Wait a few minutes, then try again."
	case p.code == codeUnavailable:
		view.Title = "Gatehouse is briefly unavailable"
		view.Message = "Try again in a moment."
	case p.status >= http.StatusInternalServerError:
		view.Title = "Something went wrong"
		view.Message = "Gatehouse could not handle your request. Try again later; if it keeps happening, quote the reference below."
		view.Reference = requestID(c)
	default:
		view.Title = "This request could not be handled"
		view.Message = "Open the link in your email again and use the form on that page."
	}
	body, err := render(pageError, view)
	if err != nil { // cannot happen with the embedded templates; still answer
		_ = c.Blob(p.status, "text/plain; charset=utf-8", []byte(view.Title+"\n"))
		return
	}
	_ = c.Blob(p.status, pageContentType, body)
}

// invalidLinkMessage explains the error page of a bad link, with the
// lifetimes of the links as the domain sets them.
var invalidLinkMessage = "Links in Gatehouse emails work only once, and only for a while: " +
	lifetime(domain.TokenEmailVerification.TTL()) + " to confirm an email address, " +
	lifetime(domain.TokenPasswordReset.TTL()) + " to reset a password. Ask for a new email and follow the link in it."

// lifetime says d in words: in whole hours from an hour on ("24 hours",
// "1 hour"), in whole minutes below.
func lifetime(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	if d >= time.Hour {
		n, unit = int64(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.FormatInt(n, 10) + " " + unit
}

// pageContentType is the Content-Type of every page.
const pageContentType = "text/html; charset=utf-8"

// renderPage sends the page name with status.
func renderPage(c echo.Context, status int, name string, v pageView) error {
	body, err := render(name, v)
	if err != nil {
		return err
	}
	return c.Blob(status, pageContentType, body)
}

// render executes the page name. It renders into a buffer, so that a
// failure leaves the response untouched for the error page.
func render(name string, v pageView) ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, fmt.Errorf("httpapi: render page %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
