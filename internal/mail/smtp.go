package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP security modes for SMTPConfig.Security.
const (
	// SecurityStartTLS connects in plain text and requires the server to offer
	// STARTTLS (submission, port 587). Send fails if it does not.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (implicit TLS, port 465).
	SecurityTLS = "tls"
	// SecurityNone never encrypts; only sensible for a relay on this machine
	// or a development catcher such as Mailpit.
	SecurityNone = "none"
)

// SMTPConfig configures the SMTP transport. The package doc lists the
// environment variable cmd/tandem reads for each field.
type SMTPConfig struct {
	Host string
	Port int
	// Username and Password enable AUTH PLAIN. Credentials are never sent over
	// an unencrypted connection except to a loopback address.
	Username, Password string
	// Security is "starttls" (the default), "tls" or "none"; see the
	// Security constants.
	Security string
	// From is the sender, e.g. "Tandem <pulse@example.com>". Its domain also
	// names the Message-IDs.
	From string
	// HeloName is the name sent in EHLO; "localhost" when empty.
	HeloName string
	// Timeout bounds one whole connection (connect, TLS, auth, one message);
	// 30s when zero.
	Timeout time.Duration
	// TLSConfig is optional, e.g. RootCAs for a self-signed test certificate.
	// ServerName defaults to Host.
	TLSConfig *tls.Config
	// Now dates the messages (default time.Now). Timeouts run on the
	// machine's clock whatever it is.
	Now func() time.Time
}

type smtpSender struct {
	addr      string // host:port
	security  string
	username  string
	password  string
	from      *netmail.Address
	domain    string // for Message-IDs
	helo      string
	timeout   time.Duration
	tlsConfig *tls.Config
	now       func() time.Time
}

// NewSMTP returns a Sender that delivers each message over its own SMTP
// connection. It checks cfg and says which setting to fix.
func NewSMTP(cfg SMTPConfig) (Sender, error) {
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(cfg.Host), "["), "]")
	if host == "" {
		return nil, errors.New("smtp host is empty: set TANDEM_SMTP_HOST")
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return nil, fmt.Errorf("smtp host %q includes a port: put the port in TANDEM_SMTP_PORT", cfg.Host)
	}
	if cfg.Port == 0 {
		return nil, errors.New("smtp port 0: set TANDEM_SMTP_PORT (587 for starttls, 465 for tls)")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp port %d is out of range 1-65535: fix TANDEM_SMTP_PORT", cfg.Port)
	}

	security := strings.ToLower(strings.TrimSpace(cfg.Security))
	switch security {
	case "":
		security = SecurityStartTLS
	case SecurityStartTLS, SecurityTLS, SecurityNone:
	default:
		return nil, fmt.Errorf("smtp security %q is unknown: set TANDEM_SMTP_SECURITY to starttls, tls or none", cfg.Security)
	}
	if security == SecurityStartTLS && cfg.Port == 465 {
		// The server would wait for a TLS handshake and we for its greeting,
		// until the timeout, for every message.
		return nil, errors.New("smtp port 465 expects TLS from the start: set TANDEM_SMTP_SECURITY=tls, or use port 587 with starttls")
	}

	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New(`smtp from is empty: set TANDEM_SMTP_FROM, e.g. "Tandem <pulse@example.com>"`)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil || strings.ContainsAny(cfg.From, "\r\n") {
		return nil, fmt.Errorf(`smtp from %q is not an address: set TANDEM_SMTP_FROM, e.g. "Tandem <pulse@example.com>"`, cfg.From)
	}

	if cfg.Username != "" && cfg.Password == "" {
		return nil, errors.New("smtp username is set but the password is empty: set TANDEM_SMTP_PASSWORD")
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("smtp password is set but the username is empty: set TANDEM_SMTP_USERNAME")
	}
	if cfg.Username != "" && security == SecurityNone && !loopbackHost(host) {
		return nil, fmt.Errorf("smtp: refusing to send the password unencrypted to %s: set TANDEM_SMTP_SECURITY to starttls or tls (none with a password is only allowed to localhost)", host)
	}

	helo := cfg.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if strings.ContainsAny(helo, " \t\r\n") {
		return nil, fmt.Errorf("smtp helo name %q is not a host name: fix TANDEM_SMTP_HELO", cfg.HeloName)
	}

	timeout := cfg.Timeout
	if timeout < 0 {
		return nil, fmt.Errorf("smtp timeout %s is negative: fix TANDEM_SMTP_TIMEOUT", timeout)
	}
	if timeout == 0 {
		timeout = 30 * time.Second
	}

	var tlsConfig *tls.Config
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	} else {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.ServerName == "" {
		// go-smtp only fills this in for its own Dial functions.
		tlsConfig.ServerName = host
	}
	if tlsConfig.MinVersion == 0 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}

	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &smtpSender{
		now:       now,
		addr:      net.JoinHostPort(host, strconv.Itoa(cfg.Port)),
		security:  security,
		username:  cfg.Username,
		password:  cfg.Password,
		from:      from,
		domain:    addressDomain(from.Address),
		helo:      helo,
		timeout:   timeout,
		tlsConfig: tlsConfig,
	}, nil
}

func (s *smtpSender) Name() string { return "smtp" }

// Send delivers m over a new connection. Invalid input fails before
// connecting, with a permanent error.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	to, err := parseRecipient(m.To)
	if err != nil {
		return err
	}
	msg, err := buildMessage(s.from, to, m, s.now(), newMessageID(s.domain))
	if err != nil {
		return err
	}
	return s.deliver(ctx, to.Address, msg)
}

func (s *smtpSender) deliver(parent context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	fail := func(step string, err error) error {
		// Compare clocks too: a per-command deadline inside go-smtp can fire a
		// moment before the context's timer goroutine marks it done. This is
		// the machine's clock on purpose, not cfg.Now: context deadlines and
		// network timeouts run on it, and nothing here is a business date.
		now := time.Now()
		parentDeadline, hasParentDeadline := parent.Deadline()
		deadline, _ := ctx.Deadline()
		switch {
		case parent.Err() != nil:
			return fmt.Errorf("smtp %s: %s: %w", s.addr, step, parent.Err())
		case hasParentDeadline && !now.Before(parentDeadline):
			return fmt.Errorf("smtp %s: %s: %w", s.addr, step, context.DeadlineExceeded)
		case ctx.Err() != nil || !now.Before(deadline):
			return fmt.Errorf("smtp %s: %s: no reply within %s (TANDEM_SMTP_TIMEOUT): %w", s.addr, step, s.timeout, context.DeadlineExceeded)
		}
		var ce *tls.CertificateVerificationError
		if errors.As(err, &ce) {
			return fmt.Errorf("smtp %s: %s: the server's TLS certificate is not trusted (fix the certificate or add its CA to the system's trust store): %w", s.addr, step, err)
		}
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			return permanentf("smtp %s: %s: the server does not speak TLS on this port (use starttls with port 587, or tls with port 465): %w", s.addr, step, err)
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 535 {
			return fmt.Errorf("smtp %s: %s: %w (check TANDEM_SMTP_USERNAME and TANDEM_SMTP_PASSWORD)", s.addr, step, err)
		}
		return fmt.Errorf("smtp %s: %s: %w", s.addr, step, err)
	}

	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if s.security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	// go-smtp sets its own deadline per command; closing the connection is
	// what stops it when the caller cancels or the whole send takes too long.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	if s.security == SecurityStartTLS {
		c, err = smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) && ctx.Err() == nil && strings.Contains(err.Error(), "STARTTLS") {
				return fail("starttls", permanentf("server does not offer STARTTLS: set TANDEM_SMTP_SECURITY=tls if it expects TLS from the start (port 465), or none for a local relay without TLS"))
			}
			return fail("starttls", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = s.timeout
	c.SubmissionTimeout = s.timeout

	// After STARTTLS this is the first command over TLS, so a handshake
	// failure shows up here.
	if err := c.Hello(s.helo); err != nil {
		return fail("hello", err)
	}

	if s.username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS && !loopbackAddr(conn.RemoteAddr()) {
			return fail("auth", permanentf("refusing to send the password over an unencrypted connection to %s", conn.RemoteAddr()))
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("auth", permanentf("server does not offer AUTH on this connection: leave TANDEM_SMTP_USERNAME empty or check TANDEM_SMTP_SECURITY"))
		}
		if !c.SupportsAuth(sasl.Plain) {
			_, mechs := c.Extension("AUTH")
			return fail("auth", permanentf("server does not offer AUTH PLAIN (it offers %s)", mechs))
		}
		if err := c.Auth(sasl.NewPlainClient("", s.username, s.password)); err != nil {
			return fail(fmt.Sprintf("auth as %q", s.username), err)
		}
	}

	opts := &smtp.MailOptions{Size: int64(len(msg))}
	if !isASCII(s.from.Address) || !isASCII(to) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return fail("mail", permanentf("server does not support SMTPUTF8, needed for the non-ASCII address %q", to))
		}
		opts.UTF8 = true
	}
	if err := c.Mail(s.from.Address, opts); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return fail(fmt.Sprintf("RCPT TO <%s>", to), err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	// The server has accepted the message; a failed goodbye must not make the
	// outbox send it again.
	_ = c.Quit()
	return nil
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
