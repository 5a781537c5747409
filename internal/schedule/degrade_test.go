package schedule_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
)

// flakySMTP is an SMTP address that is down (nothing listens on its port:
// connection refused) until up() makes it forward to a real SMTP listener.
type flakySMTP struct {
	Port   int
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// newFlakySMTP reserves a loopback port and leaves it closed.
func newFlakySMTP(t *testing.T, target *mailtest.Server) *flakySMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakySMTP{Port: l.Addr().(*net.TCPAddr).Port, target: target.Addr}
	l.Close()
	t.Cleanup(f.down)
	return f
}

// up listens on the port again and relays every connection to the target.
func (f *flakySMTP) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(f.Port))
	if err != nil {
		t.Fatalf("listen on the SMTP port %d again (taken by another program meanwhile?): %v", f.Port, err)
	}
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.relay(c)
		}
	}()
}

func (f *flakySMTP) relay(c net.Conn) {
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, c, up)
	f.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// down stops listening and cuts open connections.
func (f *flakySMTP) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// degradedEmail is an open email round, a worker on a fake clock a
// minute after its slot, and the SMTP server its sender is pointed at.
type degradedEmail struct {
	*testOrg
	smtp   *mailtest.Server
	worker *schedule.Worker
	clock  *clockwork.FakeClock
}

func newDegradedEmail(t *testing.T, port int, smtp *mailtest.Server) *degradedEmail {
	t.Helper()
	o := newTestOrg(t)
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) { p.Channel = pulse.ChannelEmail })
	slot := o.at0900(2026, 6, 8)
	if _, created, err := o.runner().FireProgram(context.Background(), p.ID, slot); err != nil || !created {
		t.Fatalf("create round: created %v, err %v", created, err)
	}
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: "none", From: "Tandem <t@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fc := clockwork.NewFakeClockAt(slot.Add(time.Minute).UTC())
	w := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelEmail: sender}, baseURL, o.log, fc)
	w.Backoff = 30 * time.Second
	return &degradedEmail{testOrg: o, smtp: smtp, worker: w, clock: fc}
}

func (d *degradedEmail) runOnce(t *testing.T, want int) {
	t.Helper()
	n, err := d.worker.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if n != want {
		t.Fatalf("RunOnce handled %d messages, want %d", n, want)
	}
}

// checkWaiting checks that every invitation is pending after attempts
// failed attempts, with the error recorded and the next try one backoff
// from now.
func (d *degradedEmail) checkWaiting(t *testing.T, attempts int, errPart string, backoff time.Duration) {
	t.Helper()
	ms := d.outbox(t)
	if len(ms) != orgSize {
		t.Fatalf("%d messages in the outbox, want %d", len(ms), orgSize)
	}
	for _, m := range ms {
		if m.Status != "pending" || m.Attempts != attempts || !strings.Contains(m.LastError, errPart) {
			t.Errorf("message to %s: %s after %d attempts, last error %q; want pending after %d, the error naming %q",
				m.Recipient, m.Status, m.Attempts, m.LastError, attempts, errPart)
		}
		if want := d.clock.Now().Add(backoff); !m.NextTry.Equal(want.Truncate(time.Second)) {
			t.Errorf("message to %s: next try %v, want %v (%s backoff)", m.Recipient, m.NextTry, want, backoff)
		}
	}
	if n := len(d.smtp.Messages()); n != 0 {
		t.Errorf("%d messages reached the SMTP server while it was down", n)
	}
}

// checkSentOnce checks that each person got exactly one invitation, whose
// link opens their invitation, and that the outbox says so.
func (d *degradedEmail) checkSentOnce(t *testing.T, attempts int) {
	t.Helper()
	got := map[string]int{}
	for _, m := range d.smtp.Messages() {
		for _, to := range m.To {
			got[to]++
		}
		link := m.Link()
		token := link[strings.LastIndex(link, "/p/")+3:]
		if _, err := d.st.InvitationByToken(context.Background(), auth.HashToken(token)); link == "" || err != nil {
			t.Errorf("the message to %v has link %q that opens no invitation (%v)", m.To, link, err)
		}
	}
	for _, addr := range orgEmails {
		if got[addr] != 1 {
			t.Errorf("%s received %d invitations, want exactly 1", addr, got[addr])
		}
	}
	for _, m := range d.outbox(t) {
		if m.Status != "sent" || m.Attempts != attempts || m.LastError != "" {
			t.Errorf("message to %s: %s after %d attempts, last error %q; want sent after %d, no error", m.Recipient, m.Status, m.Attempts, m.LastError, attempts)
		}
	}
}

// TestInvitationsWaitWhileSMTPIsDownAndGoOutOnceWhenItReturns sends a
// round's invitations while nothing listens on the SMTP port: every
// message stays pending with its attempts and the error, and is tried
// again after a backoff that doubles; when the server comes back, each
// person gets exactly one invitation, and later runs send nothing more.
func TestInvitationsWaitWhileSMTPIsDownAndGoOutOnceWhenItReturns(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	relay := newFlakySMTP(t, smtp)
	d := newDegradedEmail(t, relay.Port, smtp)

	d.runOnce(t, orgSize)
	d.checkWaiting(t, 1, "connection refused", 30*time.Second)
	d.runOnce(t, 0) // not before the backoff
	d.clock.Advance(29 * time.Second)
	d.runOnce(t, 0)
	d.clock.Advance(time.Second)
	d.runOnce(t, orgSize)
	d.checkWaiting(t, 2, "connection refused", 60*time.Second)

	relay.up(t)
	d.clock.Advance(59 * time.Second)
	d.runOnce(t, 0) // the backoff still holds
	d.clock.Advance(time.Second)
	d.runOnce(t, orgSize)
	d.checkSentOnce(t, 3)

	d.clock.Advance(3 * time.Hour)
	d.runOnce(t, 0)
	if n := len(d.smtp.Messages()); n != orgSize {
		t.Errorf("%d messages in all, want %d", n, orgSize)
	}
}

// TestInvitationsWaitWhileSMTPRefusesFor451AndGoOutOnceAfter has the SMTP
// server up but answering 451 (try again later) to every recipient: the
// messages wait with the 451 recorded, and go out once when it accepts.
func TestInvitationsWaitWhileSMTPRefusesFor451AndGoOutOnceAfter(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	d := newDegradedEmail(t, smtp.Port, smtp)
	smtp.Refuse(451)

	d.runOnce(t, orgSize)
	d.checkWaiting(t, 1, "451", 30*time.Second)
	smtp.Refuse(0)
	d.clock.Advance(30 * time.Second)
	d.runOnce(t, orgSize)
	d.checkSentOnce(t, 2)
	d.clock.Advance(3 * time.Hour)
	d.runOnce(t, 0)
	if n := len(smtp.Messages()); n != orgSize {
		t.Errorf("%d messages in all, want %d", n, orgSize)
	}
}
