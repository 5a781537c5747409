package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// OutboxMessage is a message waiting to be sent.
type OutboxMessage struct {
	ID        int64
	Kind      string
	Channel   string
	Recipient string
	Ref       int64
	Payload   string
	Attempts  int
	Status    string
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
	NextTry   time.Time
}

// EnqueueMessage adds a message unless one with the same dedupe key exists.
func (s *Store) EnqueueMessage(ctx context.Context, m OutboxMessage, dedupeKey string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.w, `INSERT INTO outbox (kind, channel, recipient, ref, dedupe_key, payload, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`, m.Kind, m.Channel, m.Recipient, m.Ref, dedupeKey, m.Payload, now.Unix(), now.Unix())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ClaimOutbox leases up to limit due messages to this worker until
// now+lease. A leased message is not handed to another worker (or
// replica) until the lease runs out, so a message is sent again only if
// its sender died mid-send.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error) {
	var out []OutboxMessage
	err := s.InTx(ctx, func(tx *Tx) error {
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := s.query(ctx, tx.tx, `SELECT id, kind, channel, recipient, ref, payload, attempts FROM outbox
			WHERE status = 'pending' AND next_attempt_at <= ? AND locked_until <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock,
			now.Unix(), now.Unix(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m OutboxMessage
			if err := rows.Scan(&m.ID, &m.Kind, &m.Channel, &m.Recipient, &m.Ref, &m.Payload, &m.Attempts); err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]int64, len(out))
		for i, m := range out {
			ids[i] = m.ID
		}
		ph, args := inList(ids)
		_, err = s.exec(ctx, tx.tx, "UPDATE outbox SET locked_until = ? WHERE id IN ("+ph+")", append([]any{now.Add(lease).Unix()}, args...)...)
		return err
	})
	return out, err
}

// MarkSent records a delivered message.
func (s *Store) MarkSent(ctx context.Context, id int64, now time.Time) error {
	_, err := s.exec(ctx, s.w, "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, locked_until = 0, last_error = '' WHERE id = ?", now.Unix(), id)
	return err
}

// MarkSkipped records a message that no longer needs sending (the person
// answered, the round closed).
func (s *Store) MarkSkipped(ctx context.Context, id int64, reason string) error {
	_, err := s.exec(ctx, s.w, "UPDATE outbox SET status = 'cancelled', locked_until = 0, last_error = ? WHERE id = ?", reason, id)
	return err
}

// MarkRetry records a failed attempt and when to try again; with next zero
// the message is given up (failed).
func (s *Store) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	if len(errText) > 500 {
		errText = errText[:500]
	}
	status := "pending"
	if next.IsZero() {
		status = "failed"
	}
	_, err := s.exec(ctx, s.w, "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, locked_until = 0 WHERE id = ?",
		status, errText, next.Unix(), id)
	return err
}

// RetryFailed puts failed messages back in the queue.
func (s *Store) RetryFailed(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, s.w, "UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0 WHERE status = 'failed'", now.Unix())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// OutboxCounts returns how many messages are in each status.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, s.r, "SELECT status, COUNT(*) FROM outbox GROUP BY status")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		m[st] = n
	}
	return m, rows.Err()
}

// OutboxTally is how many messages of a kind are in a status.
type OutboxTally struct {
	Kind, Status string
	N            int
}

// OutboxTallies counts the messages by kind and status: what the outbox
// page shows. It names nobody: reminders go only to those who have not
// answered, so a list of their recipients would be a list of who did not
// take part.
func (s *Store) OutboxTallies(ctx context.Context) ([]OutboxTally, error) {
	rows, err := s.query(ctx, s.r, "SELECT kind, status, COUNT(*) FROM outbox GROUP BY kind, status ORDER BY kind, status")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxTally
	for rows.Next() {
		var t OutboxTally
		if err := rows.Scan(&t.Kind, &t.Status, &t.N); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OutboxError is one delivery error and how many unsent messages it holds
// up.
type OutboxError struct {
	Error string
	N     int
}

// OutboxErrors lists the errors of messages not yet sent, most frequent
// first. Errors of reminders are left out: a server's refusal often quotes
// the address it refused, and a reminder's address is someone who has not
// answered.
func (s *Store) OutboxErrors(ctx context.Context, limit int) ([]OutboxError, error) {
	rows, err := s.query(ctx, s.r, `SELECT last_error, COUNT(*) FROM outbox WHERE status IN ('pending', 'failed') AND last_error <> ''
		AND kind <> 'reminder' GROUP BY last_error ORDER BY COUNT(*) DESC, last_error LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxError
	for rows.Next() {
		var e OutboxError
		if err := rows.Scan(&e.Error, &e.N); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OutboxMessages lists recent messages in a status ("" for all), newest
// first, with their recipients: for tests and the command line, never for
// a page.
func (s *Store) OutboxMessages(ctx context.Context, status string, limit int) ([]OutboxMessage, error) {
	q := "SELECT id, kind, channel, recipient, ref, attempts, status, last_error, created_at, COALESCE(sent_at, 0), next_attempt_at FROM outbox"
	var args []any
	if status != "" {
		q += " WHERE status = ?"
		args = append(args, status)
	}
	rows, err := s.query(ctx, s.r, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		var m OutboxMessage
		var created, sent, next int64
		if err := rows.Scan(&m.ID, &m.Kind, &m.Channel, &m.Recipient, &m.Ref, &m.Attempts, &m.Status, &m.LastError, &created, &sent, &next); err != nil {
			return nil, err
		}
		m.CreatedAt, m.SentAt, m.NextTry = fromUnix(created), fromUnix(sent), fromUnix(next)
		out = append(out, m)
	}
	return out, rows.Err()
}

// InvitationMessage is what an invitation or reminder says.
type InvitationMessage struct {
	InvitationID  int64
	EmployeeName  string
	EmployeeEmail string
	ProgramName   string
	ClosesAt      time.Time
	TimeZone      string
	Responded     bool
	RoundClosed   bool
	Questions     int
	MinGroup      int
	// Language is the person's language from the roster, "" for none.
	Language string
	// Notes are the "you said, we did" notes the person reads with this
	// invitation (NotesForInvitation).
	Notes []RoundNote
}

// InvitationMessageData loads what an invitation message needs.
func (s *Store) InvitationMessageData(ctx context.Context, invitationID int64, now time.Time) (InvitationMessage, error) {
	var m InvitationMessage
	var closes int64
	var closed bool
	err := s.queryRow(ctx, s.r, `SELECT i.id, e.name, COALESCE(e.email, ''), p.name, r.closes_at, p.timezone, i.responded, r.closed,
		(SELECT COUNT(*) FROM round_questions q WHERE q.round_id = r.id), r.min_group, e.language
		FROM invitations i JOIN employees e ON e.id = i.employee_id JOIN rounds r ON r.id = i.round_id
		JOIN programs p ON p.id = r.program_id WHERE i.id = ?`, invitationID).
		Scan(&m.InvitationID, &m.EmployeeName, &m.EmployeeEmail, &m.ProgramName, &closes, &m.TimeZone, &m.Responded, &closed, &m.Questions, &m.MinGroup, &m.Language)
	if err == sql.ErrNoRows {
		return m, tandem.Errorf(tandem.ENOTFOUND, "invitation %d does not exist", invitationID)
	}
	if err != nil {
		return m, err
	}
	m.ClosesAt = fromUnix(closes)
	m.RoundClosed = closed || !now.Before(m.ClosesAt)
	m.Notes, err = s.NotesForInvitation(ctx, invitationID)
	return m, err
}

// FirstName is the name used to greet someone.
func (m InvitationMessage) FirstName() string {
	if f := strings.Fields(m.EmployeeName); len(f) > 0 {
		return f[0]
	}
	return "there"
}
