package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandem-hq/tandem/internal/mail"
)

func TestSMTPDeliversMultipartMessageWithBothParts(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	m := mail.Message{
		To:      "Bärbel Groß <baerbel@example.com>",
		Subject: "Wie geht's dir diese Woche? Kurzer Puls 🌱 – with a subject long enough to need several encoded words",
		Text: "Hallo Bärbel,\n\n" +
			".a line that starts with a dot\n" +
			"Answer here: https://tandem.example.com/p/abc?x=1&y=2\n" +
			strings.Repeat("a long line without breaks ", 10) + "\n" +
			"trailing space   \n" +
			"Danke!",
		HTML:    `<p>Hallo Bärbel, <a href="https://tandem.example.com/p/abc?x=1&amp;y=2">antworten</a></p>`,
		Headers: map[string]string{"x-tandem-round": "r-42", "List-Id": "Pulse für alle <pulse.example.com>"},
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ts.only(t)
	if got.From != "pulse@example.com" {
		t.Errorf("MAIL FROM = %q, want pulse@example.com", got.From)
	}
	if len(got.To) != 1 || got.To[0] != "baerbel@example.com" {
		t.Errorf("RCPT TO = %q, want [baerbel@example.com]", got.To)
	}
	assertSevenBitWithCRLF(t, got.Data)

	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Tandem" || from[0].Address != "pulse@example.com" {
		t.Errorf("From = %v (%v), want Tandem <pulse@example.com>", from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Bärbel Groß" || to[0].Address != "baerbel@example.com" {
		t.Errorf("To = %v (%v), want Bärbel Groß <baerbel@example.com>", to, err)
	}
	dec := new(mime.WordDecoder)
	if subject, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	if listID, _ := dec.DecodeHeader(msg.Header.Get("List-Id")); listID != "Pulse für alle <pulse.example.com>" {
		t.Errorf("List-Id = %q, want the value given", listID)
	}
	if date, err := msg.Header.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date = %v (%v), want about now", date, err)
	}
	if id := msg.Header.Get("Message-ID"); !regexp.MustCompile(`^<[a-z0-9]{16,}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <random@example.com>", id)
	}
	for name, want := range map[string]string{
		"MIME-Version":   "1.0",
		"Auto-Submitted": "auto-generated",
		"X-Tandem-Round": "r-42",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative with a boundary", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ contentType, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %s: %v", want.contentType, err)
		}
		if got := part.Header.Get("Content-Type"); got != want.contentType {
			t.Errorf("part Content-Type = %q, want %q", got, want.contentType)
		}
		if got := part.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
			t.Errorf("part %s Content-Transfer-Encoding = %q, want quoted-printable", want.contentType, got)
		}
		if got := decodeQP(t, part); got != want.body {
			t.Errorf("part %s decodes to\n%q\nwant\n%q", want.contentType, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("after two parts: %v, want io.EOF", err)
	}
}

func TestSMTPSendsSingleTextPartWithoutHTML(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	m := mail.Message{To: "bob@example.com", Subject: "Reminder", Text: "Only two days left: https://tandem.example.com/p/xyz"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(ts.only(t).Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", got)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding = %q, want quoted-printable", got)
	}
	if got := decodeQP(t, msg.Body); got != m.Text {
		t.Errorf("body = %q, want %q", got, m.Text)
	}
	if got := msg.Header.Get("Subject"); got != "Reminder" {
		t.Errorf("Subject = %q, want Reminder (ASCII stays unencoded)", got)
	}
}

func TestSMTPLetsHeadersOverrideAutoSubmitted(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	m := mail.Message{To: "bob@example.com", Subject: "Hi", Text: "x", Headers: map[string]string{"auto-submitted": "auto-replied"}}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(ts.only(t).Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header["Auto-Submitted"]; len(got) != 1 || got[0] != "auto-replied" {
		t.Errorf("Auto-Submitted = %q, want exactly [auto-replied]", got)
	}
}

func TestSMTPRejectsHeaderInjectionWithoutConnecting(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	ok := mail.Message{To: "bob@example.com", Subject: "Pulse", Text: "Hello"}
	for _, tc := range []struct {
		name string
		edit func(m *mail.Message)
	}{
		{"CRLF in To", func(m *mail.Message) { m.To = "bob@example.com\r\nBcc: eve@example.com" }},
		{"LF in To", func(m *mail.Message) { m.To = "Bob\n <bob@example.com>" }},
		{"CRLF in Subject", func(m *mail.Message) { m.Subject = "Pulse\r\nBcc: eve@example.com" }},
		{"CR in Subject", func(m *mail.Message) { m.Subject = "Pulse\rBcc: eve@example.com" }},
		{"LF in header value", func(m *mail.Message) { m.Headers = map[string]string{"X-Round": "1\nBcc: eve@example.com"} }},
		{"CRLF in header name", func(m *mail.Message) { m.Headers = map[string]string{"X-Round\r\nBcc": "eve@example.com"} }},
		{"colon in header name", func(m *mail.Message) { m.Headers = map[string]string{"Bcc: eve@example.com\r\nX": "1"} }},
		{"header we write ourselves", func(m *mail.Message) { m.Headers = map[string]string{"bcc": "eve@example.com"} }},
		{"two recipients", func(m *mail.Message) { m.To = "bob@example.com, eve@example.com" }},
		{"not an address", func(m *mail.Message) { m.To = "bob" }},
		{"no recipient", func(m *mail.Message) { m.To = "" }},
		{"no text", func(m *mail.Message) { m.Text = " \n" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			tc.edit(&m)
			err := s.Send(context.Background(), m)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if !mail.Permanent(err) {
				t.Errorf("Permanent(%v) = false, want true", err)
			}
		})
	}
	if got := ts.all(); len(got) != 0 {
		t.Errorf("server received %d messages, want none", len(got))
	}
}

func TestSMTPStartTLSDeliversOverTLS(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: startTLSServer})
	s := newSMTP(t, ts.config(mail.SecurityStartTLS))
	if err := s.Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := ts.only(t); !got.TLS {
		t.Error("message arrived over plain text, want TLS")
	}
}

func TestSMTPStartTLSModeFailsWhenServerDoesNotOfferIt(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: plainServer})
	s := newSMTP(t, ts.config(mail.SecurityStartTLS))
	err := s.Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || !strings.Contains(err.Error(), "TANDEM_SMTP_SECURITY") {
		t.Fatalf("Send = %v, want an error saying the server does not offer STARTTLS and what to set", err)
	}
	if !mail.Permanent(err) {
		t.Errorf("Permanent(%v) = false, want true", err)
	}
	if got := ts.all(); len(got) != 0 {
		t.Errorf("server received %d messages in plain text, want none", len(got))
	}
}

func TestSMTPImplicitTLSDelivers(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: implicitTLSServer})
	s := newSMTP(t, ts.config(mail.SecurityTLS))
	if err := s.Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := ts.only(t); !got.TLS {
		t.Error("message arrived over plain text, want TLS")
	}
}

func TestSMTPImplicitTLSAgainstAPlainServerIsPermanent(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: startTLSServer})
	err := newSMTP(t, ts.config(mail.SecurityTLS)).Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Fatalf("Send = %v, want an error saying the server does not speak TLS on this port", err)
	}
	if !mail.Permanent(err) {
		t.Errorf("Permanent(%v) = false, want true", err)
	}
}

func TestSMTPUntrustedCertificateIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     serverMode
		security string
	}{
		{"starttls", startTLSServer, mail.SecurityStartTLS},
		{"tls", implicitTLSServer, mail.SecurityTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, serverOptions{mode: tc.mode})
			cfg := ts.config(tc.security)
			cfg.TLSConfig = nil // system roots do not know the test CA
			err := newSMTP(t, cfg).Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
			if err == nil || !strings.Contains(err.Error(), "not trusted") {
				t.Fatalf("Send = %v, want an error saying the certificate is not trusted", err)
			}
			if !mail.Permanent(err) {
				t.Errorf("Permanent(%v) = false, want true", err)
			}
		})
	}
}

func TestSMTPAuthPlainWithCorrectPasswordDelivers(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: startTLSServer, users: map[string]string{"tandem": "s3cret"}})
	cfg := ts.config(mail.SecurityStartTLS)
	cfg.Username, cfg.Password = "tandem", "s3cret"
	if err := newSMTP(t, cfg).Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := ts.only(t); got.User != "tandem" {
		t.Errorf("authenticated as %q, want tandem", got.User)
	}
}

func TestSMTPWrongPasswordIsPermanent(t *testing.T) {
	ts := newTestServer(t, serverOptions{mode: startTLSServer, users: map[string]string{"tandem": "s3cret"}})
	cfg := ts.config(mail.SecurityStartTLS)
	cfg.Username, cfg.Password = "tandem", "wrong-password"
	err := newSMTP(t, cfg).Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("Send = %v, want SMTP 535", err)
	}
	if !mail.Permanent(err) {
		t.Errorf("Permanent(%v) = false, want true", err)
	}
	if !strings.Contains(err.Error(), "TANDEM_SMTP_PASSWORD") {
		t.Errorf("error %q does not say which setting to check", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error %q reveals the password", err)
	}
}

func TestSMTPSendsPasswordInPlainTextOnlyToLoopback(t *testing.T) {
	_, err := mail.NewSMTP(mail.SMTPConfig{
		Host: "mail.example.com", Port: 25, Security: mail.SecurityNone,
		From: "pulse@example.com", Username: "tandem", Password: "s3cret",
	})
	if err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Errorf("NewSMTP with a password over plain text to a remote host = %v, want a refusal", err)
	}

	ts := newTestServer(t, serverOptions{users: map[string]string{"tandem": "s3cret"}, allowInsecureAuth: true})
	cfg := ts.config(mail.SecurityNone)
	cfg.Username, cfg.Password = "tandem", "s3cret"
	if err := newSMTP(t, cfg).Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send to a loopback relay: %v", err)
	}
	if got := ts.only(t); got.User != "tandem" {
		t.Errorf("authenticated as %q, want tandem", got.User)
	}
}

func TestSMTPRecipientRejection(t *testing.T) {
	ts := newTestServer(t, serverOptions{rcptErr: map[string]error{
		"gone@example.com": &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
		"busy@example.com": &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"},
	}})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	for _, tc := range []struct {
		to        string
		code      int
		permanent bool
	}{
		{"gone@example.com", 550, true},
		{"busy@example.com", 451, false},
	} {
		t.Run(tc.to, func(t *testing.T) {
			err := s.Send(context.Background(), mail.Message{To: tc.to, Subject: "Hi", Text: "Hello"})
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("Send = %v, want SMTP %d", err, tc.code)
			}
			if got := mail.Permanent(err); got != tc.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, got, tc.permanent)
			}
		})
	}
	if got := ts.all(); len(got) != 0 {
		t.Errorf("server received %d messages, want none", len(got))
	}
}

func TestSMTPServerDownIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: mail.SecurityNone, From: "pulse@example.com"})
	err = s.Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true, want false", err)
	}
}

func TestSMTPCancelledContextAbortsSend(t *testing.T) {
	port := silentListener(t)
	s := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: mail.SecurityStartTLS, From: "pulse@example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send returned after %s, want soon after the cancel", elapsed)
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true, want false", err)
	}
}

func TestSMTPTimeoutBoundsTheWholeConnection(t *testing.T) {
	port := silentListener(t)
	s := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: mail.SecurityNone, From: "pulse@example.com", Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := s.Send(context.Background(), mail.Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no reply within 200ms") {
		t.Fatalf("Send = %v, want a timeout after 200ms", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send returned after %s, want about 200ms", elapsed)
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true, want false", err)
	}
}

func TestNewSMTPExplainsWhatToFix(t *testing.T) {
	valid := mail.SMTPConfig{Host: "mail.example.com", Port: 587, From: "Tandem <pulse@example.com>"}
	for _, tc := range []struct {
		name string
		edit func(c *mail.SMTPConfig)
		want string
	}{
		{"no host", func(c *mail.SMTPConfig) { c.Host = "" }, "TANDEM_SMTP_HOST"},
		{"port in host", func(c *mail.SMTPConfig) { c.Host = "mail.example.com:587" }, "includes a port"},
		{"no port", func(c *mail.SMTPConfig) { c.Port = 0 }, "smtp port 0: set TANDEM_SMTP_PORT"},
		{"port out of range", func(c *mail.SMTPConfig) { c.Port = 70000 }, "out of range"},
		{"unknown security", func(c *mail.SMTPConfig) { c.Security = "ssl" }, `smtp security "ssl" is unknown`},
		{"starttls on 465", func(c *mail.SMTPConfig) { c.Port = 465 }, "TANDEM_SMTP_SECURITY=tls"},
		{"no from", func(c *mail.SMTPConfig) { c.From = "" }, "TANDEM_SMTP_FROM"},
		{"from not an address", func(c *mail.SMTPConfig) { c.From = "Tandem" }, "is not an address"},
		{"from with a line break", func(c *mail.SMTPConfig) { c.From = "pulse@example.com\r\nBcc: eve@example.com" }, "is not an address"},
		{"username without password", func(c *mail.SMTPConfig) { c.Username = "tandem" }, "TANDEM_SMTP_PASSWORD"},
		{"password without username", func(c *mail.SMTPConfig) { c.Password = "s3cret" }, "TANDEM_SMTP_USERNAME"},
		{"password in plain text", func(c *mail.SMTPConfig) {
			c.Security, c.Port, c.Username, c.Password = mail.SecurityNone, 25, "tandem", "s3cret"
		}, "refusing to send the password unencrypted"},
		{"helo with a space", func(c *mail.SMTPConfig) { c.HeloName = "my host" }, "helo name"},
		{"negative timeout", func(c *mail.SMTPConfig) { c.Timeout = -time.Second }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.edit(&cfg)
			_, err := mail.NewSMTP(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSMTP = %v, want an error containing %q", err, tc.want)
			}
		})
	}

	for _, cfg := range []mail.SMTPConfig{
		valid,
		{Host: "smtp.example.com", Port: 465, Security: "TLS", From: "pulse@example.com", Username: "u", Password: "p"},
		{Host: "localhost", Port: 1025, Security: "none", From: "pulse@example.com", Username: "u", Password: "p"},
		{Host: "mailpit", Port: 1025, Security: "none", From: "pulse@example.com"},
		{Host: "::1", Port: 25, Security: "none", From: "pulse@example.com", Username: "u", Password: "p", TLSConfig: &tls.Config{}},
	} {
		s, err := mail.NewSMTP(cfg)
		if err != nil {
			t.Errorf("NewSMTP(%+v) = %v, want it accepted", cfg, err)
			continue
		}
		if s.Name() != "smtp" {
			t.Errorf("Name() = %q, want smtp", s.Name())
		}
	}
}

// decodeQP reads a quoted-printable body and returns it with LF line ends and
// without the final line break the encoder adds.
func decodeQP(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatalf("quoted-printable: %v", err)
	}
	return strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

// assertSevenBitWithCRLF checks that data is plain ASCII with CRLF line ends
// and lines within SMTP's limit.
func assertSevenBitWithCRLF(t *testing.T, data []byte) {
	t.Helper()
	for i, line := range strings.Split(string(data), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long, SMTP allows 998", i+1, len(line))
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Errorf("line %d has a non-ASCII byte: %q", i+1, line)
				break
			}
		}
	}
}

// An email says the language it is written in (RFC 3282), and a language
// that is not a tag cannot smuggle in a header.
func TestSMTPSaysTheMessagesLanguage(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	s := newSMTP(t, ts.config(mail.SecurityNone))
	if err := s.Send(context.Background(), mail.Message{To: "ana@example.com", Subject: "Puls", Text: "Hallo", Lang: "pt-BR"}); err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(ts.only(t).Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header["Content-Language"]; len(got) != 1 || got[0] != "pt-BR" {
		t.Errorf("Content-Language = %q, want [pt-BR]", got)
	}
	err = s.Send(context.Background(), mail.Message{To: "ana@example.com", Subject: "Puls", Text: "Hallo", Lang: "de\r\nBcc: eve@example.com"})
	if err == nil || !mail.Permanent(err) || !strings.Contains(err.Error(), "not a language tag") {
		t.Errorf("a language with a line break: %v, want a permanent error", err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "ana@example.com", Subject: "x", Text: "y", Headers: map[string]string{"Content-Language": "fr"}}); err == nil {
		t.Errorf("Content-Language set through Headers was accepted")
	}
}
