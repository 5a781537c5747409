package mail_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandem-hq/tandem/internal/mail"
)

func TestPermanentClassifiesErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&smtp.SMTPError{Code: 550}, true},
		{&smtp.SMTPError{Code: 554}, true},
		{fmt.Errorf("rcpt: %w", &smtp.SMTPError{Code: 552}), true},
		{&smtp.SMTPError{Code: 421}, false},
		{fmt.Errorf("rcpt: %w", &smtp.SMTPError{Code: 451}), false},
		{&mail.RetryAfterError{Wait: time.Second, Err: errors.New("status 429")}, false},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{io.ErrUnexpectedEOF, false},
		{errors.New("something else"), false},
	} {
		if got := mail.Permanent(tc.err); got != tc.want {
			t.Errorf("Permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
