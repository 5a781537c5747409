package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message to one recipient.
type Message struct {
	// To is an email address ("bob@example.com" or "Bob <bob@example.com>"),
	// or for chat transports a display name or handle (may be empty).
	To      string
	Subject string
	// Text is the plain-text body; every transport sends it.
	Text string
	// HTML is an optional HTML body; email sends multipart/alternative when set.
	HTML string
	// Link is the address the message asks the reader to open (an answer
	// link), and LinkTitle its button's label; chat cards show it as a
	// button. Text still carries the link for every other transport.
	Link      string `json:",omitempty"`
	LinkTitle string `json:",omitempty"`
	// Lang is the language the message is written in, a BCP 47 tag
	// ("de", "pt-BR"): email says it in Content-Language (RFC 3282),
	// Teams cards in their lang property. Empty says nothing.
	Lang string `json:",omitempty"`
	// Headers are extra email headers (e.g. "List-Unsubscribe"). Values may be
	// non-ASCII; they are encoded. Headers the package writes itself (From, To,
	// Subject, Date, Message-ID, MIME-Version, Content-*) cannot be set here.
	// Auto-Submitted defaults to "auto-generated" and may be overridden.
	Headers map[string]string
}

// Sender delivers one message.
type Sender interface {
	// Send delivers m once. It does not retry; see Permanent.
	Send(ctx context.Context, m Message) error
	// Name is the transport's name: "smtp", "webhook" or "log".
	Name() string
}

// Permanent reports whether err means retrying cannot help (e.g. SMTP 5xx,
// an invalid address or header, webhook 4xx other than 408 and 429).
// Network errors, timeouts, cancellations and unknown errors are temporary.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return false
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code >= 500
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		// Our trust store or the server's certificate must change first.
		return true
	}
	return false
}

// RetryAfterError is a temporary error for which the server said how long to
// wait before the next attempt (an HTTP Retry-After header). The header
// gives either a delay (Wait) or a date (Until); the sender has no clock, so
// the caller turns a date into a delay on its own clock with [RetryAfterError.WaitFrom].
type RetryAfterError struct {
	// Wait is the delay the server asked for; zero when it named a date.
	Wait time.Duration
	// Until is the date the server named; zero when it gave a delay.
	Until time.Time
	Err   error
}

// WaitFrom returns how long to wait from now: Wait, or the time left until
// Until (zero when that date has passed).
func (e *RetryAfterError) WaitFrom(now time.Time) time.Duration {
	if !e.Until.IsZero() {
		return max(e.Until.Sub(now), 0)
	}
	return e.Wait
}

func (e *RetryAfterError) Error() string {
	if !e.Until.IsZero() {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.Until.UTC().Format(time.RFC1123))
	}
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Wait)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanentf is fmt.Errorf for errors that retrying cannot fix.
func permanentf(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}
