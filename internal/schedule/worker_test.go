package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
)

const baseURL = "https://tandem.example.com"

var linkRE = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/p/([A-Za-z0-9_-]+)`)

var orgEmails = []string{"ana@example.com", "ben@example.com", "cara@example.com", "dev@example.com", "eva@example.com", "femi@example.com"}

// emailSetup is an open email round, an SMTP server and a worker whose
// fake clock stands a minute after the round's slot.
type emailSetup struct {
	*testOrg
	round  pulse.Round
	smtp   *smtpServer
	worker *schedule.Worker
	clock  *clockwork.FakeClock
	ctx    context.Context
}

func newEmailSetup(t *testing.T) *emailSetup {
	t.Helper()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) {
		p.Name = "Weekly pulse"
		p.Channel = pulse.ChannelEmail
	})
	slot := o.at0900(2026, 6, 8)
	round, created, err := o.runner().FireProgram(ctx, p.ID, slot)
	if err != nil || !created {
		t.Fatalf("create round: created %v, err %v", created, err)
	}
	ts := newSMTPServer(t)
	fc := clockwork.NewFakeClockAt(slot.Add(time.Minute).UTC())
	w := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelEmail: ts.sender(t)}, baseURL, o.log, fc)
	w.Backoff = 30 * time.Second
	return &emailSetup{testOrg: o, round: round, smtp: ts, worker: w, clock: fc, ctx: ctx}
}

// runOnce runs one batch and checks how many messages it handled.
func (e *emailSetup) runOnce(t *testing.T, want int) {
	t.Helper()
	n, err := e.worker.RunOnce(e.ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if n != want {
		t.Fatalf("RunOnce handled %d messages, want %d", n, want)
	}
}

// message returns the outbox row of kind for email.
func (e *emailSetup) message(t *testing.T, kind, email string) store.OutboxMessage {
	t.Helper()
	for _, m := range e.outbox(t) {
		if m.Kind == kind && m.Recipient == email {
			return m
		}
	}
	t.Fatalf("no %s for %s in the outbox", kind, email)
	return store.OutboxMessage{}
}

// links returns the answer token of each received message, by recipient.
func (e *emailSetup) links(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range e.smtp.all() {
		_, text := plainText(t, r.Data)
		m := linkRE.FindAllStringSubmatch(text, -1)
		if len(m) != 1 {
			t.Fatalf("message to %s has %d answer links, want 1:\n%s", r.To, len(m), text)
		}
		out[r.To] = append(out[r.To], m[0][1])
	}
	return out
}

func TestWorkerSendsEachInvitationOnceWithItsOwnLink(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	e.runOnce(t, orgSize)

	got := e.smtp.all()
	if len(got) != orgSize {
		t.Fatalf("server received %d messages, want %d", len(got), orgSize)
	}
	for _, addr := range orgEmails {
		if n := e.smtp.to()[addr]; n != 1 {
			t.Errorf("%s received %d messages, want 1", addr, n)
		}
	}
	promise := fmt.Sprintf(schedule.AnonymitySentence, pulse.Defaults().MinGroup)
	for _, r := range got {
		subject, text := plainText(t, r.Data)
		if !strings.Contains(subject, "Weekly pulse") {
			t.Errorf("subject %q, want the program's name", subject)
		}
		if !strings.Contains(text, promise) {
			t.Errorf("message to %s lacks the anonymity promise %q:\n%s", r.To, promise, text)
		}
	}

	links := e.links(t)
	seen := map[string]bool{}
	seenInvitation := map[int64]bool{}
	for addr, tokens := range links {
		token := tokens[0]
		if seen[token] {
			t.Errorf("link /p/%s sent twice, want one per person", token)
		}
		seen[token] = true
		inv, err := e.st.InvitationByToken(e.ctx, auth.HashToken(token))
		if err != nil {
			t.Errorf("link sent to %s: its hash is not stored (%v)", addr, err)
			continue
		}
		if inv.RoundID != e.round.ID || inv.Responded {
			t.Errorf("link of %s opens round %d (responded %v), want round %d, unanswered", addr, inv.RoundID, inv.Responded, e.round.ID)
		}
		if want := e.invitationOf(t, addr); inv.ID != want {
			t.Errorf("link of %s opens invitation %d, want %d (theirs)", addr, inv.ID, want)
		}
		if seenInvitation[inv.ID] {
			t.Errorf("two links open invitation %d", inv.ID)
		}
		seenInvitation[inv.ID] = true
	}
	if len(seen) != orgSize {
		t.Errorf("%d distinct links, want %d", len(seen), orgSize)
	}

	for _, m := range e.outbox(t) {
		if m.Status != "sent" || m.Attempts != 1 {
			t.Errorf("message %d to %s: status %s after %d attempts, want sent after 1", m.ID, m.Recipient, m.Status, m.Attempts)
		}
	}

	// Never twice: not on the next poll, not after the lease runs out.
	e.runOnce(t, 0)
	e.clock.Advance(3 * time.Hour)
	e.runOnce(t, 0)
	if n := len(e.smtp.all()); n != orgSize {
		t.Errorf("server received %d messages in all, want still %d", n, orgSize)
	}

	assertTokensNotStored(t, e.path, links)
}

// assertTokensNotStored reads the database file and its write-ahead log
// byte by byte: the link tokens must not be there, their hashes must.
func assertTokensNotStored(t *testing.T, dbPath string, links map[string][]string) {
	t.Helper()
	var files [][]byte
	var names []string
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(dbPath + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		files, names = append(files, b), append(names, filepath.Base(dbPath+suffix))
	}
	for addr, tokens := range links {
		for _, token := range tokens {
			hashFound := false
			for i, b := range files {
				if bytes.Contains(b, []byte(token)) {
					t.Errorf("the link token sent to %s is stored in %s, want only its hash", addr, names[i])
				}
				if bytes.Contains(b, []byte(auth.HashToken(token))) {
					hashFound = true
				}
			}
			if !hashFound {
				t.Errorf("the hash of %s's token is in neither %v: the byte search does not see the data", addr, names)
			}
		}
	}
}

func TestWorkerRetriesATemporaryFailureAfterTheBackoffAndSendsOnce(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	const ben = "ben@example.com"
	e.smtp.failNext(ben, 1) // 451 on the first RCPT TO
	start := e.clock.Now()

	e.runOnce(t, orgSize)
	if n := e.smtp.to()[ben]; n != 0 {
		t.Fatalf("ben received %d messages through a 451, want 0", n)
	}
	m := e.message(t, "invite", ben)
	if m.Status != "pending" || m.Attempts != 1 || !strings.Contains(m.LastError, "451") {
		t.Errorf("after a 451: status %s, %d attempts, error %q; want pending, 1, the 451", m.Status, m.Attempts, m.LastError)
	}
	if want := start.Add(30 * time.Second); !m.NextTry.Equal(want) {
		t.Errorf("next try at %v, want after the 30s backoff, %v", m.NextTry, want)
	}

	// Not before the backoff has passed.
	e.runOnce(t, 0)
	e.clock.Advance(29 * time.Second)
	e.runOnce(t, 0)
	if n := e.smtp.attempts(ben); n != 1 {
		t.Fatalf("%d delivery attempts to ben before the backoff passed, want 1", n)
	}

	e.clock.Advance(2 * time.Second)
	e.runOnce(t, 1)
	if n := e.smtp.to()[ben]; n != 1 {
		t.Fatalf("ben received %d messages after the retry, want 1", n)
	}
	m = e.message(t, "invite", ben)
	if m.Status != "sent" || m.Attempts != 2 || m.LastError != "" {
		t.Errorf("after the retry: status %s, %d attempts, error %q; want sent, 2, none", m.Status, m.Attempts, m.LastError)
	}

	e.clock.Advance(time.Hour)
	e.runOnce(t, 0)
	for _, addr := range orgEmails {
		if n := e.smtp.to()[addr]; n != 1 {
			t.Errorf("%s received %d messages, want 1", addr, n)
		}
	}
	// The link that reached ben works; the one that failed to go out was
	// never seen by anyone.
	if _, err := e.st.InvitationByToken(e.ctx, auth.HashToken(e.links(t)[ben][0])); err != nil {
		t.Errorf("ben's link does not open his invitation: %v", err)
	}
}

func TestWorkerBacksOffExponentiallyAndGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	const dev = "dev@example.com"
	e.smtp.failNext(dev, 100)
	e.worker.MaxAttempts = 3

	e.runOnce(t, orgSize)
	for attempt, wait := range []time.Duration{30 * time.Second, 60 * time.Second} {
		m := e.message(t, "invite", dev)
		if want := e.clock.Now().Add(wait); m.Status != "pending" || !m.NextTry.Equal(want) {
			t.Fatalf("after attempt %d: status %s, next try %v; want pending, %v later (%v)", attempt+1, m.Status, m.NextTry, wait, want)
		}
		e.clock.Advance(wait)
		e.runOnce(t, 1)
	}
	m := e.message(t, "invite", dev)
	if m.Status != "failed" || m.Attempts != 3 {
		t.Errorf("after 3 temporary failures: status %s, %d attempts; want failed, 3", m.Status, m.Attempts)
	}
	e.clock.Advance(24 * time.Hour)
	e.runOnce(t, 0)
	if n := e.smtp.attempts(dev); n != 3 {
		t.Errorf("%d attempts to dev, want 3 (MaxAttempts)", n)
	}
}

func TestWorkerGivesUpAtOnceOnAPermanentFailure(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	const cara = "cara@example.com"
	e.smtp.refuse(cara) // 550 on RCPT TO

	e.runOnce(t, orgSize)
	m := e.message(t, "invite", cara)
	if m.Status != "failed" || m.Attempts != 1 || !strings.Contains(m.LastError, "550") {
		t.Errorf("after a 550: status %s, %d attempts, error %q; want failed, 1, the 550", m.Status, m.Attempts, m.LastError)
	}
	e.clock.Advance(2 * time.Hour)
	e.runOnce(t, 0)
	if n := e.smtp.attempts(cara); n != 1 {
		t.Errorf("%d attempts to deliver to cara, want 1 (no retry after a 5xx)", n)
	}
	if got := len(e.smtp.all()); got != orgSize-1 {
		t.Errorf("server accepted %d messages, want %d (everyone but cara)", got, orgSize-1)
	}
}

func TestWorkerSkipsPeopleWhoAnsweredBeforeTheSend(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	const ana = "ana@example.com"
	e.answer(t, e.invitationOf(t, ana), e.round.ID, e.clock.Now())

	e.runOnce(t, orgSize)
	if n := e.smtp.attempts(ana); n != 0 {
		t.Errorf("ana, who had answered, was mailed (%d attempts), want skipped", n)
	}
	if got := len(e.smtp.all()); got != orgSize-1 {
		t.Errorf("server accepted %d messages, want %d", got, orgSize-1)
	}
	m := e.message(t, "invite", ana)
	if m.Status != "cancelled" || !strings.Contains(m.LastError, "answered") {
		t.Errorf("ana's invite: status %s, note %q; want cancelled as already answered", m.Status, m.LastError)
	}
}

func TestWorkerSkipsInvitationsOfAClosedRound(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	// The worker was down all week; housekeeping has not run either.
	e.clock.Advance(6 * 24 * time.Hour)
	e.runOnce(t, orgSize)
	if got := len(e.smtp.all()); got != 0 {
		t.Errorf("server accepted %d invitations to a closed round, want 0", got)
	}
	for _, m := range e.outbox(t) {
		if m.Status != "cancelled" || !strings.Contains(m.LastError, "closed") {
			t.Errorf("message to %s: status %s, note %q; want cancelled as round closed", m.Recipient, m.Status, m.LastError)
		}
	}
}

func TestReminderCarriesAFreshLinkToTheSameInvitation(t *testing.T) {
	t.Parallel()
	e := newEmailSetup(t)
	const ana, ben = "ana@example.com", "ben@example.com"
	e.runOnce(t, orgSize)
	invites := e.links(t)
	e.answer(t, e.invitationOf(t, ana), e.round.ID, e.clock.Now())

	remindAt := e.round.RemindAt
	e.clock.Advance(remindAt.Sub(e.clock.Now()))
	if err := e.runner().Housekeep(e.ctx, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.runOnce(t, orgSize-1)
	if n := e.smtp.to()[ana]; n != 1 {
		t.Errorf("ana, who answered, received %d messages, want only the invitation", n)
	}
	links := e.links(t)
	if len(links[ben]) != 2 || links[ben][0] != invites[ben][0] {
		t.Fatalf("ben's links %v, want the invitation's then the reminder's", links[ben])
	}
	if links[ben][1] == links[ben][0] {
		t.Error("the reminder reuses the invitation's link, want a fresh one")
	}
	for i, token := range links[ben] {
		inv, err := e.st.InvitationByToken(e.ctx, auth.HashToken(token))
		if err != nil || inv.ID != e.invitationOf(t, ben) {
			t.Errorf("ben's link %d opens invitation %d (%v), want his", i+1, inv.ID, err)
		}
	}
	var reminders int
	for _, r := range e.smtp.all() {
		if subject, _ := plainText(t, r.Data); strings.HasPrefix(subject, "Reminder:") {
			reminders++
		}
	}
	if reminders != orgSize-1 {
		t.Errorf("%d reminders delivered, want %d", reminders, orgSize-1)
	}
	assertTokensNotStored(t, e.path, links)
}
