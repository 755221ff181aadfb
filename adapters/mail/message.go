package mail

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	htemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	ttemplate "text/template"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

//go:embed templates
var templateFS embed.FS

// purposeTemplates are the templates of one purpose. The text template
// defines "subject" too.
type purposeTemplates struct {
	text *ttemplate.Template
	html *htemplate.Template
}

// templates holds the templates of every purpose, by the purpose's name.
var templates = mustParseTemplates(domain.EmailVerifyAddress, domain.EmailResetPassword)

func mustParseTemplates(purposes ...domain.EmailPurpose) map[string]*purposeTemplates {
	m := make(map[string]*purposeTemplates, len(purposes))
	for _, p := range purposes {
		name := p.String()
		text := ttemplate.Must(ttemplate.New(name+".txt").Option("missingkey=error").
			ParseFS(templateFS, "templates/"+name+".txt"))
		if text.Lookup("subject") == nil {
			panic("mail: templates/" + name + ".txt defines no subject")
		}
		html := htemplate.Must(htemplate.New(name+".html").Option("missingkey=error").
			ParseFS(templateFS, "templates/"+name+".html"))
		m[name] = &purposeTemplates{text: text, html: html}
	}
	return m
}

// templateData is what the templates see.
type templateData struct {
	Link      string
	ExpiresIn string // "24 hours"
	ExpiresAt string // "2026-11-27 09:00 UTC"
}

// compose renders c as a complete message from from, dated now.
func compose(c checked, from *mail.Address, now time.Time) ([]byte, error) {
	data := templateData{
		Link:      c.link,
		ExpiresIn: humanDuration(c.ExpiresAt.Sub(now)),
		ExpiresAt: c.ExpiresAt.UTC().Format("2006-01-02 15:04") + " UTC",
	}
	var subject, text, html bytes.Buffer
	if err := c.tmpl.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, fmt.Errorf("mail: render subject: %w", err)
	}
	if err := c.tmpl.text.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("mail: render text: %w", err)
	}
	if err := c.tmpl.html.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("mail: render html: %w", err)
	}
	id, err := messageID(from.Address)
	if err != nil {
		return nil, err
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body) // a random boundary from crypto/rand
	for _, p := range []struct {
		contentType string
		content     []byte
	}{
		{"text/plain; charset=utf-8", text.Bytes()},
		{"text/html; charset=utf-8", html.Bytes()},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: write part: %w", err)
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(p.content); err != nil {
			return nil, fmt.Errorf("mail: write part: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("mail: write part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: write parts: %w", err)
	}

	var msg bytes.Buffer
	for _, h := range [][2]string{
		{"From", formatAddress(from)},
		{"To", formatAddress(c.to)},
		{"Subject", mime.QEncoding.Encode("utf-8", subject.String())},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", id},
		{"MIME-Version", "1.0"},
		{"Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})},
		// RFC 3834: no vacation replies to a robot.
		{"Auto-Submitted", "auto-generated"},
	} {
		// Every value is checked, not just the recipient's: a line break
		// in any of them would let its source write headers of its own.
		if strings.ContainsAny(h[1], "\r\n") || h[1] == "" {
			return nil, fmt.Errorf("%w: header %s is empty or contains a line break", ErrInvalidEmail, h[0])
		}
		msg.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// formatAddress formats a for a header: the bare address when it has no
// display name.
func formatAddress(a *mail.Address) string {
	s := a.String()
	if a.Name == "" {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	}
	return s
}

// messageID returns a new Message-ID: 128 random bits at the sender's
// domain.
func messageID(from string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	domainPart := from[strings.LastIndexByte(from, '@')+1:]
	return "<" + hex.EncodeToString(b[:]) + "@" + domainPart + ">", nil
}

// humanDuration says how long d is in words, rounded to the nearest minute
// below an hour, to the nearest hour below two days, and to the nearest day
// beyond. The message gives the exact time beside it.
func humanDuration(d time.Duration) string {
	minutes := int64(d.Round(time.Minute) / time.Minute)
	hours := int64(d.Round(time.Hour) / time.Hour)
	switch {
	case minutes < 1:
		return "less than a minute"
	case minutes < 60:
		return plural(minutes, "minute")
	case hours < 48:
		return plural(hours, "hour")
	default:
		return plural(int64(d.Round(24*time.Hour)/(24*time.Hour)), "day")
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
