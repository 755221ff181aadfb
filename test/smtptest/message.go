package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
)

// Message is a message the server accepted, with what a test usually wants
// to know about it already decoded.
type Message struct {
	// From is the envelope sender (MAIL FROM), To the envelope recipients
	// (RCPT TO).
	From string
	To   []string
	// Data is the message as received after DATA, dot-unstuffed, line
	// ends as sent.
	Data []byte
	// TLS reports whether the message came over an encrypted connection;
	// AuthUser is the user the client authenticated as, or "".
	TLS      bool
	AuthUser string

	// Header is the message's header, as sent (RFC 2047 words are not
	// decoded; see Subject).
	Header mail.Header
	// Parts are the leaf parts of the body in order (the body itself when
	// it is not multipart), decoded.
	Parts []Part
	// Text and HTML are the bodies of the first text/plain and text/html
	// parts, decoded, with "\n" line ends.
	Text string
	HTML string
	// ParseErr is why the message could not be parsed, or nil; the fields
	// above it are complete regardless.
	ParseErr error
}

// Part is a leaf part of a message.
type Part struct {
	// Header is the part's header as sent, Content-Transfer-Encoding
	// included.
	Header textproto.MIMEHeader
	// MediaType is the part's media type, lower-cased, without
	// parameters: "text/plain".
	MediaType string
	// Body is the part's content, transfer encoding removed, with "\n"
	// line ends.
	Body string
}

// Subject returns the Subject header with RFC 2047 encoded words decoded.
func (m Message) Subject() string {
	s := m.Header.Get("Subject")
	dec := new(mime.WordDecoder)
	if d, err := dec.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first http or https URL in the text part, or "".
func (m Message) Link() string {
	return linkPattern.FindString(m.Text)
}

// Token returns the token query parameter of Link, or "".
func (m Message) Token() string {
	u, err := url.Parse(m.Link())
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}

// parse fills in the parsed fields from Data.
func (m *Message) parse() {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		m.ParseErr = fmt.Errorf("smtptest: read header: %w", err)
		return
	}
	m.Header = msg.Header
	if err := m.walk(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		m.ParseErr = fmt.Errorf("smtptest: read body: %w", err)
	}
}

// walk adds the leaf parts of the entity with header h and body to m.
func (m *Message) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("multipart nested too deeply")
	}
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart keeps Content-Transfer-Encoding visible, so a test
			// can check it; walk decodes.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	decoded, err := decode(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(decoded), "\r\n", "\n")
	m.Parts = append(m.Parts, Part{Header: h, MediaType: mediaType, Body: text})
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// decode removes a content transfer encoding.
func decode(encoding string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		return io.ReadAll(body)
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w", err)
		}
		return b, nil
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		if err != nil {
			return nil, fmt.Errorf("base64: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("unknown transfer encoding %q", encoding)
	}
}
