package schedule_test

import (
	"bytes"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandem-hq/tandem/internal/mail"
)

// smtpServer is a real go-smtp server on 127.0.0.1 that records what it
// accepts (the pattern of internal/mail/server_test.go, plain SMTP only).
type smtpServer struct {
	Port int

	mu sync.Mutex
	// tempFails is how many more times RCPT TO of an address gets 451.
	tempFails map[string]int
	// refused addresses get 550 on RCPT TO, always.
	refused map[string]bool
	// rcpts counts RCPT TO attempts per address, accepted or not.
	rcpts    map[string]int
	received []received
}

// received is one accepted message.
type received struct {
	To   string
	Data []byte
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ts := &smtpServer{tempFails: map[string]int{}, refused: map[string]bool{}, rcpts: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: ts}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// sender is Tandem's SMTP transport pointed at this server.
func (ts *smtpServer) sender(t *testing.T) mail.Sender {
	t.Helper()
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: ts.Port, Security: "none",
		From: "Tandem <t@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func (ts *smtpServer) failNext(addr string, times int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.tempFails[addr] = times
}

func (ts *smtpServer) refuse(addr string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refused[addr] = true
}

func (ts *smtpServer) all() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.received...)
}

func (ts *smtpServer) attempts(addr string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.rcpts[addr]
}

// to counts the accepted messages per recipient.
func (ts *smtpServer) to() map[string]int {
	m := map[string]int{}
	for _, r := range ts.all() {
		m[r.To]++
	}
	return m
}

type smtpSession struct {
	srv *smtpServer
	cur received
}

func (s *smtpSession) Mail(from string, opts *smtp.MailOptions) error {
	s.cur = received{}
	return nil
}

func (s *smtpSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.rcpts[to]++
	if s.srv.refused[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	if s.srv.tempFails[to] > 0 {
		s.srv.tempFails[to]--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.cur.To = to
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.received = append(s.srv.received, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.cur = received{} }
func (s *smtpSession) Logout() error { return nil }

// plainText decodes the text/plain body of a received message.
func plainText(t *testing.T, data []byte) (subject, text string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		return subject, string(b)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(quotedprintable.NewReader(part))
			if err != nil {
				t.Fatal(err)
			}
			return subject, string(b)
		}
	}
	t.Fatal("message has no text/plain part")
	return "", ""
}
