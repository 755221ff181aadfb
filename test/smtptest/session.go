package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
)

const (
	// maxLine bounds a command line; RFC 5321 allows 512 octets.
	maxLine = 4096
	// maxMessage bounds a message's DATA.
	maxMessage = 10 << 20
	hostname   = "localhost"
)

var errTooLong = errors.New("line too long")

// session is one client connection.
type session struct {
	srv  *Server
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	tls  bool

	helo     bool
	authUser string // empty until AUTH succeeds
	hasFrom  bool
	from     string
	to       []string
}

func newSession(srv *Server, conn net.Conn) *session {
	s := &session{srv: srv}
	s.setConn(conn)
	return s
}

// setConn makes conn the session's connection. Anything the client sent
// before it and the server has buffered is dropped, so a client cannot
// smuggle commands past STARTTLS.
func (s *session) setConn(conn net.Conn) {
	s.conn = conn
	s.r = bufio.NewReaderSize(conn, maxLine)
	s.w = bufio.NewWriter(conn)
}

func (s *session) serve() {
	opts := &s.srv.opts
	if opts.implicitTLS {
		tc := tls.Server(s.conn, s.srv.tls)
		if err := tc.Handshake(); err != nil {
			return
		}
		s.setConn(tc)
		s.tls = true
	}
	if !s.reply("220 " + hostname + " ESMTP smtptest") {
		return
	}
	for {
		line, err := s.readLine()
		if errors.Is(err, errTooLong) {
			s.reply("500 5.5.2 Line too long")
			return
		}
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.srv.command(verb)
		var ok bool
		switch verb {
		case "EHLO", "HELO":
			ok = s.hello(verb, arg)
		case "STARTTLS":
			ok = s.startTLS(arg)
		case "AUTH":
			ok = s.auth(arg)
		case "MAIL":
			ok = s.mail(arg)
		case "RCPT":
			ok = s.rcpt(arg)
		case "DATA":
			ok = s.data(arg)
		case "RSET":
			s.reset()
			ok = s.reply("250 2.0.0 OK")
		case "NOOP":
			ok = s.reply("250 2.0.0 OK")
		case "QUIT":
			s.reply("221 2.0.0 Bye")
			return
		default:
			ok = s.reply("502 5.5.2 Command not recognized")
		}
		if !ok {
			return
		}
	}
}

// reply writes one reply line, or several separated by "\n", and reports
// whether the connection still works.
func (s *session) reply(text string) bool {
	for l := range strings.SplitSeq(text, "\n") {
		s.w.WriteString(l)
		s.w.WriteString("\r\n")
	}
	return s.w.Flush() == nil
}

// readLine reads a line and strips its line end.
func (s *session) readLine() (string, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// reset ends the mail transaction.
func (s *session) reset() {
	s.hasFrom, s.from, s.to = false, "", nil
}

func (s *session) hello(verb, arg string) bool {
	if strings.TrimSpace(arg) == "" {
		return s.reply("501 5.5.4 Syntax: " + verb + " hostname")
	}
	s.reset()
	s.helo = true
	if verb == "HELO" {
		return s.reply("250 " + hostname)
	}
	lines := []string{hostname + " greets " + arg, "8BITMIME", "SIZE " + strconv.Itoa(maxMessage)}
	opts := &s.srv.opts
	if opts.startTLS && !s.tls {
		lines = append(lines, "STARTTLS")
	}
	if s.authOffered() {
		lines = append(lines, "AUTH PLAIN")
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		b.WriteString("250" + sep + l)
	}
	return s.reply(b.String())
}

// authOffered reports whether AUTH is available now: it is configured and,
// when the server offers TLS, the connection is encrypted.
func (s *session) authOffered() bool {
	opts := &s.srv.opts
	return opts.user != "" && (s.tls || !opts.startTLS)
}

func (s *session) startTLS(arg string) bool {
	switch {
	case !s.srv.opts.startTLS:
		return s.reply("502 5.5.1 STARTTLS not available")
	case s.tls:
		return s.reply("503 5.5.1 TLS already active")
	case arg != "":
		return s.reply("501 5.5.4 Syntax: STARTTLS")
	}
	if !s.reply("220 2.0.0 Ready to start TLS") {
		return false
	}
	tc := tls.Server(s.conn, s.srv.tls)
	if err := tc.Handshake(); err != nil {
		return false
	}
	s.setConn(tc)
	s.tls = true
	// RFC 3207: the client must start over with EHLO.
	s.helo, s.authUser = false, ""
	s.reset()
	return true
}

func (s *session) auth(arg string) bool {
	opts := &s.srv.opts
	switch {
	case opts.user == "":
		return s.reply("502 5.5.1 AUTH not available")
	case opts.startTLS && !s.tls:
		return s.reply("530 5.7.0 Must issue a STARTTLS command first")
	case !s.helo:
		return s.reply("503 5.5.1 Send EHLO first")
	case s.authUser != "":
		return s.reply("503 5.5.1 Already authenticated")
	case s.hasFrom:
		return s.reply("503 5.5.1 AUTH not permitted during a mail transaction")
	}
	mech, initial, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		return s.reply("504 5.5.4 Unrecognized authentication type")
	}
	if initial == "" {
		if !s.reply("334 ") {
			return false
		}
		line, err := s.readLine()
		if err != nil {
			return false
		}
		if line == "*" {
			return s.reply("501 5.0.0 Authentication canceled")
		}
		initial = line
	}
	if initial == "=" {
		initial = ""
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		return s.reply("501 5.5.2 Cannot decode response")
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 || string(parts[1]) != opts.user || string(parts[2]) != opts.pass ||
		(len(parts[0]) > 0 && string(parts[0]) != opts.user) {
		return s.reply("535 5.7.8 Authentication credentials invalid")
	}
	s.authUser = opts.user
	return s.reply("235 2.7.0 Authentication successful")
}

func (s *session) mail(arg string) bool {
	switch {
	case !s.helo:
		return s.reply("503 5.5.1 Send EHLO or HELO first")
	case s.srv.opts.user != "" && s.authUser == "":
		return s.reply("530 5.7.0 Authentication required")
	case s.hasFrom:
		return s.reply("503 5.5.1 Nested MAIL command")
	}
	addr, ok := path(arg, "FROM:")
	if !ok {
		return s.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
	}
	s.hasFrom, s.from = true, addr
	return s.reply("250 2.1.0 OK")
}

func (s *session) rcpt(arg string) bool {
	if !s.hasFrom {
		return s.reply("503 5.5.1 Need MAIL command")
	}
	addr, ok := path(arg, "TO:")
	if !ok || addr == "" {
		return s.reply("501 5.5.4 Syntax: RCPT TO:<address>")
	}
	if len(s.to) >= 100 {
		return s.reply("452 4.5.3 Too many recipients")
	}
	s.to = append(s.to, addr)
	return s.reply("250 2.1.5 OK")
}

// path parses "FROM:<addr> params" (or "TO:…") and returns addr.
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (s *session) data(arg string) bool {
	switch {
	case arg != "":
		return s.reply("501 5.5.4 Syntax: DATA")
	case len(s.to) == 0:
		return s.reply("503 5.5.1 Need RCPT command")
	}
	if !s.reply("354 End data with <CR><LF>.<CR><LF>") {
		return false
	}
	var buf bytes.Buffer
	tooBig := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return false
		}
		if line == ".\r\n" || line == ".\n" {
			break
		}
		line = strings.TrimPrefix(line, ".") // RFC 5321 section 4.5.2
		if buf.Len()+len(line) > maxMessage {
			tooBig = true
			continue
		}
		buf.WriteString(line)
	}
	if tooBig {
		s.reset()
		return s.reply("552 5.3.4 Message too big")
	}
	m := Message{
		From:     s.from,
		To:       s.to,
		Data:     buf.Bytes(),
		TLS:      s.tls,
		AuthUser: s.authUser,
	}
	m.parse()
	s.reset()
	return s.reply(s.srv.deliver(m))
}
