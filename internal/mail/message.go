package mail

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"
)

// reservedHeaders are written by buildMessage; Message.Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true,
	"Date": true, "Message-Id": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true, "Content-Language": true,
}

// parseRecipient turns Message.To into an address, or a permanent error.
func parseRecipient(to string) (*netmail.Address, error) {
	if strings.TrimSpace(to) == "" {
		return nil, permanentf("smtp: message has no recipient address")
	}
	if strings.ContainsAny(to, "\r\n") {
		return nil, permanentf("smtp: recipient %q contains a line break", to)
	}
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return nil, permanentf("smtp: recipient %q is not an email address: %v", to, err)
	}
	return addr, nil
}

// buildMessage renders m as an RFC 5322 message with CRLF line endings. The
// result is 7-bit clean unless an address itself is non-ASCII: header text is
// RFC 2047 encoded and bodies are quoted-printable.
func buildMessage(from, to *netmail.Address, m Message, now time.Time, messageID string) ([]byte, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, permanentf("smtp: subject %q contains a line break", m.Subject)
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, permanentf("smtp: message to %s has no text body", to.Address)
	}

	type field struct{ name, value string }
	fields := []field{
		{"From", from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", messageID},
		{"MIME-Version", "1.0"},
	}
	extra := map[string]string{"Auto-Submitted": "auto-generated"}
	if m.Lang != "" {
		if !langTag.MatchString(m.Lang) {
			return nil, permanentf("smtp: language %q is not a language tag", m.Lang)
		}
		fields = append(fields, field{"Content-Language", m.Lang})
	}
	for name, value := range m.Headers {
		if err := checkHeader(name, value); err != nil {
			return nil, err
		}
		extra[textproto.CanonicalMIMEHeaderKey(name)] = value
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		fields = append(fields, field{name, mime.QEncoding.Encode("utf-8", extra[name])})
	}

	var body bytes.Buffer
	if m.HTML == "" {
		fields = append(fields,
			field{"Content-Type", "text/plain; charset=utf-8"},
			field{"Content-Transfer-Encoding", "quoted-printable"})
		if err := writeQP(&body, m.Text); err != nil {
			return nil, err
		}
	} else {
		mw := multipart.NewWriter(&body)
		for _, p := range []struct{ typ, content string }{
			// Least preferred first (RFC 2046 5.1.4): clients show the last part they can.
			{"text/plain; charset=utf-8", m.Text},
			{"text/html; charset=utf-8", m.HTML},
		} {
			pw, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.typ},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(pw, p.content); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		fields = append(fields, field{"Content-Type",
			mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})})
	}

	var out bytes.Buffer
	for _, f := range fields {
		out.WriteString(fold(f.name, f.value))
	}
	out.WriteString("\r\n")
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

// langTag is the shape of a BCP 47 tag as a header carries it (RFC 3282:
// letters, digits and hyphens).
var langTag = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// checkHeader rejects header names and values that could break out of their
// line (header injection) or replace a header we write ourselves.
func checkHeader(name, value string) error {
	if name == "" {
		return permanentf("smtp: header with an empty name")
	}
	for i := 0; i < len(name); i++ {
		// RFC 5322 field names: printable ASCII except the colon.
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return permanentf("smtp: header name %q is not a valid field name", name)
		}
	}
	if reservedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
		return permanentf("smtp: header %q is written by the mail package and cannot be set in Message.Headers", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return permanentf("smtp: header %s value %q contains a line break", name, value)
	}
	return nil
}

// fold writes one header field, folding at spaces so lines stay near 78
// characters (RFC 5322 2.2.3). Unfolding restores the value exactly, and
// encoded words from mime.QEncoding are at most 75 characters each.
func fold(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(":")
	lineLen := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word != "" && lineLen+1+len(word) > 78 {
			b.WriteString("\r\n")
			lineLen = 0
		}
		b.WriteString(" ")
		b.WriteString(word)
		lineLen += 1 + len(word)
	}
	b.WriteString("\r\n")
	return b.String()
}

// writeQP writes s as quoted-printable with CRLF line breaks.
func writeQP(w io.Writer, s string) error {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

// newMessageID returns a unique Message-ID at the sender's domain.
func newMessageID(domain string) string {
	return fmt.Sprintf("<%s@%s>", strings.ToLower(rand.Text()), domain)
}

// addressDomain is the part after the last @, or "localhost" when that is not
// plain ASCII (a Message-ID must be).
func addressDomain(addr string) string {
	d := addr[strings.LastIndex(addr, "@")+1:]
	if d == "" || !isASCII(d) {
		return "localhost"
	}
	return d
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
