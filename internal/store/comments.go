package store

import (
	"context"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// CommentAck says who acknowledged a comment, and when. It never says
// anything about who wrote the comment.
type CommentAck struct {
	UserEmail string
	At        time.Time
}

// CommentAcks returns the acknowledgements of the given rounds' comments,
// by comment key (pulse.CommentKey).
func (s *Store) CommentAcks(ctx context.Context, roundIDs []int64) (map[string]CommentAck, error) {
	out := map[string]CommentAck{}
	if len(roundIDs) == 0 {
		return out, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, `SELECT r.round_id, a.response_id, a.question_id, a.user_email, a.at
		FROM comment_acks a JOIN responses r ON r.id = a.response_id WHERE r.round_id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var round, resp, q, at int64
		var a CommentAck
		if err := rows.Scan(&round, &resp, &q, &a.UserEmail, &at); err != nil {
			return nil, err
		}
		a.At = fromUnix(at)
		out[pulse.CommentKey(round, resp, q)] = a
	}
	return out, rows.Err()
}

// AcknowledgeComment records that user acknowledged the comment with this
// key in a released round. A comment keeps its first acknowledgement:
// done is false when it had one already. The caller decides whether the
// user may see the comment.
func (s *Store) AcknowledgeComment(ctx context.Context, roundID int64, key string, user *tandem.User, at time.Time) (done bool, err error) {
	rows, err := s.query(ctx, s.r, `SELECT id, 0 FROM responses WHERE round_id = ? AND comment <> ''`+released+`
		UNION ALL SELECT r.id, a.question_id FROM answers a JOIN responses r ON r.id = a.response_id
		WHERE r.round_id = ? AND a.text <> ''`+released, roundID, true, roundID, true)
	if err != nil {
		return false, err
	}
	var resp, q int64
	found := false
	for rows.Next() && !found {
		if err := rows.Scan(&resp, &q); err != nil {
			rows.Close()
			return false, err
		}
		found = pulse.CommentKey(roundID, resp, q) == key
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if !found {
		return false, tandem.Errorf(tandem.ENOTFOUND, "There is no such comment in round %d.", roundID)
	}
	res, err := s.exec(ctx, s.w, `INSERT INTO comment_acks (response_id, question_id, user_id, user_email, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (response_id, question_id) DO NOTHING`, resp, q, nullInt(user.ID), user.Email, at.Unix())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RoundNote is a "you said, we did" note a leader attached to a closed
// round for a unit: the people of that unit read it in their invitation
// to the program's next round.
type RoundNote struct {
	RoundID   int64
	UnitID    int64
	UnitName  string
	Text      string
	UserEmail string
	UpdatedAt time.Time
}

// MaxNoteLength bounds a note, as long as a comment may be.
const MaxNoteLength = pulse.MaxTextLength

// CheckNote validates a note's text before it is stored.
func CheckNote(text string) error {
	switch {
	case text == "":
		return tandem.FieldErrorf("note", "the note is empty; write what you did about what people said")
	case len([]rune(text)) > MaxNoteLength:
		return tandem.FieldErrorf("note", "the note is %d characters long; keep it to %d", len([]rune(text)), MaxNoteLength)
	case !pulse.StorableText(text):
		return tandem.FieldErrorf("note", "the note has characters that cannot be stored (control characters)")
	}
	return nil
}

// SaveRoundNote stores a round's note for a unit, replacing the unit's
// earlier note on that round. The caller checks that the round is closed
// and that the user may see the unit.
func (s *Store) SaveRoundNote(ctx context.Context, n RoundNote, user *tandem.User) error {
	if err := CheckNote(n.Text); err != nil {
		return err
	}
	_, err := s.exec(ctx, s.w, `INSERT INTO round_notes (round_id, unit_id, text, user_id, user_email, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (round_id, unit_id) DO UPDATE SET text = excluded.text, user_id = excluded.user_id,
		user_email = excluded.user_email, updated_at = excluded.updated_at`,
		n.RoundID, n.UnitID, n.Text, nullInt(user.ID), user.Email, n.UpdatedAt.Unix())
	return err
}

// DeleteRoundNote removes a round's note for a unit; false when there was
// none.
func (s *Store) DeleteRoundNote(ctx context.Context, roundID, unitID int64) (bool, error) {
	res, err := s.exec(ctx, s.w, "DELETE FROM round_notes WHERE round_id = ? AND unit_id = ?", roundID, unitID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RoundNotes returns the notes of the given rounds.
func (s *Store) RoundNotes(ctx context.Context, roundIDs []int64) ([]RoundNote, error) {
	if len(roundIDs) == 0 {
		return nil, nil
	}
	ph, args := inList(roundIDs)
	return s.scanNotes(ctx, `SELECT n.round_id, n.unit_id, u.name, n.text, n.user_email, n.updated_at FROM round_notes n
		JOIN org_units u ON u.id = n.unit_id WHERE n.round_id IN (`+ph+`) ORDER BY n.round_id, n.unit_id`, args...)
}

// NotesForInvitation is the one rule for which notes a person reads with
// an invitation: those attached to the program's round before this one
// (by scheduled time) for the person's unit or a unit above it, broadest
// first. Email and answer page both call it.
func (s *Store) NotesForInvitation(ctx context.Context, invitationID int64) ([]RoundNote, error) {
	return s.scanNotes(ctx, `SELECT n.round_id, n.unit_id, nu.name, n.text, n.user_email, n.updated_at
		FROM invitations i JOIN rounds r ON r.id = i.round_id JOIN employees e ON e.id = i.employee_id
		JOIN org_units eu ON eu.id = e.unit_id
		JOIN rounds prev ON prev.program_id = r.program_id AND prev.scheduled_at =
			(SELECT MAX(p2.scheduled_at) FROM rounds p2 WHERE p2.program_id = r.program_id AND p2.scheduled_at < r.scheduled_at)
		JOIN round_notes n ON n.round_id = prev.id JOIN org_units nu ON nu.id = n.unit_id
		WHERE i.id = ? AND nu.id_path <> '' AND eu.id_path LIKE nu.id_path || '%'
		ORDER BY LENGTH(nu.id_path), n.unit_id`, invitationID)
}

func (s *Store) scanNotes(ctx context.Context, query string, args ...any) ([]RoundNote, error) {
	rows, err := s.query(ctx, s.r, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoundNote
	for rows.Next() {
		var n RoundNote
		var at int64
		if err := rows.Scan(&n.RoundID, &n.UnitID, &n.UnitName, &n.Text, &n.UserEmail, &at); err != nil {
			return nil, err
		}
		n.UpdatedAt = fromUnix(at)
		out = append(out, n)
	}
	return out, rows.Err()
}
