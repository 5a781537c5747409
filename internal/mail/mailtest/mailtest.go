// Package mailtest runs a real SMTP listener on 127.0.0.1 for tests of
// the code that sends Tandem's messages: it records every delivery, and can
// be told to refuse recipients for a while.
package mailtest

import (
	"bytes"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one delivered message.
type Message struct {
	From    string
	To      []string
	Subject string
	// Text and HTML are the decoded bodies.
	Text, HTML string
	Raw        []byte
}

// Server is an SMTP listener that accepts every message.
type Server struct {
	Addr string
	Port int

	mu       sync.Mutex
	messages []Message
	// refuse, when set, answers RCPT TO with this error.
	refuse *smtp.SMTPError
	wait   chan struct{}
}

// NewServer starts a listener that stops when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{wait: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxRecipients = 10
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.Addr = l.Addr().String()
	s.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Refuse makes the server answer RCPT TO with code (e.g. 451 for a
// temporary, 550 for a permanent failure); 0 accepts again.
func (s *Server) Refuse(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refuse = nil
		return
	}
	s.refuse = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "refused by the test"}
}

// Messages returns what was delivered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor waits until at least n messages arrived or timeout passed, and
// returns what arrived.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.wait:
		case <-deadline:
			return s.Messages()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/p/[A-Za-z0-9_-]+`)

// Link returns the first answer link (…/p/TOKEN) in the text body.
func (m Message) Link() string { return linkRe.FindString(m.Text) }

type session struct {
	srv  *Server
	from string
	to   []string
}

func (s *session) AuthPlain(string, string) error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	refuse := s.srv.refuse
	s.srv.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: s.from, To: s.to, Raw: raw}
	decode(&m)
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, m)
	s.srv.mu.Unlock()
	select {
	case s.srv.wait <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// decode fills Subject, Text and HTML from the raw message.
func decode(m *Message) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return
	}
	dec := new(mime.WordDecoder)
	m.Subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(body(msg.Body, msg.Header.Get("Content-Transfer-Encoding")))
		m.Text = string(b)
		return
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(body(p, p.Header.Get("Content-Transfer-Encoding")))
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			m.Text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			m.HTML = string(b)
		}
	}
}

func body(r io.Reader, enc string) io.Reader {
	if strings.EqualFold(enc, "quoted-printable") {
		return quotedprintable.NewReader(r)
	}
	return r
}
