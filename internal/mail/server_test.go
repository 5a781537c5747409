package mail_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tandem-hq/tandem/internal/mail"
)

// serverMode is how a test SMTP server speaks TLS.
type serverMode int

const (
	plainServer       serverMode = iota // no TLS at all
	startTLSServer                      // offers STARTTLS
	implicitTLSServer                   // TLS from the first byte
)

type serverOptions struct {
	mode serverMode
	// users enables AUTH PLAIN and requires it before MAIL FROM.
	users map[string]string
	// allowInsecureAuth offers AUTH without TLS.
	allowInsecureAuth bool
	// rcptErr is returned for RCPT TO of the given address.
	rcptErr map[string]error
}

// receivedMail is what the test server saw in one transaction.
type receivedMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// testServer is a real go-smtp server on 127.0.0.1 that records deliveries.
type testServer struct {
	Port  int
	roots *x509.CertPool // trusts the server's certificate
	opts  serverOptions

	mu       sync.Mutex
	received []receivedMail
}

func newTestServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	ts := &testServer{opts: opts}
	cert, roots := newTestCert(t)
	ts.roots = roots

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{srv: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = opts.allowInsecureAuth
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch opts.mode {
	case startTLSServer:
		srv.TLSConfig = tlsConfig
	case implicitTLSServer:
		l = tls.NewListener(l, tlsConfig)
	}
	ts.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// config is a client configuration for this server.
func (ts *testServer) config(security string) mail.SMTPConfig {
	return mail.SMTPConfig{
		Host:      "127.0.0.1",
		Port:      ts.Port,
		Security:  security,
		From:      "Tandem <pulse@example.com>",
		Timeout:   5 * time.Second,
		TLSConfig: &tls.Config{RootCAs: ts.roots},
	}
}

func (ts *testServer) all() []receivedMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMail(nil), ts.received...)
}

// only returns the single message the server received.
func (ts *testServer) only(t *testing.T) receivedMail {
	t.Helper()
	got := ts.all()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	return got[0]
}

type testSession struct {
	srv  *testServer
	conn *smtp.Conn
	user string
	cur  receivedMail
}

var _ smtp.AuthSession = (*testSession)(nil)

func (s *testSession) AuthMechanisms() []string {
	if s.srv.opts.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := s.srv.opts.users[username]; !ok || want != password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.srv.opts.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = receivedMail{From: from}
	return nil
}

func (s *testSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := s.srv.opts.rcptErr[to]; err != nil {
		return err
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.User = s.user
	s.srv.mu.Lock()
	s.srv.received = append(s.srv.received, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.cur = receivedMail{} }
func (s *testSession) Logout() error { return nil }

// newTestCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func newTestCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The TLS client checks its validity against the machine's clock.
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tandem test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// silentListener accepts connections and never says a word, like a server
// that hangs.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func newSMTP(t *testing.T, cfg mail.SMTPConfig) mail.Sender {
	t.Helper()
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}
