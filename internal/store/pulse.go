package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

const questionColumns = "id, key, text, kind, driver, in_index, choices, builtin, position, retired"

func scanQuestion(sc interface{ Scan(...any) error }) (pulse.Question, error) {
	var q pulse.Question
	var kind, choices string
	err := sc.Scan(&q.ID, &q.Key, &q.Text, &kind, &q.Driver, &q.InIndex, &choices, &q.Builtin, &q.Position, &q.Retired)
	q.Kind = pulse.Kind(kind)
	if choices != "" {
		q.Choices = strings.Split(choices, "\n")
	}
	return q, err
}

func (s *Store) questions(ctx context.Context, db queryer, where string, args ...any) ([]pulse.Question, error) {
	rows, err := s.query(ctx, db, "SELECT "+questionColumns+" FROM questions "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.Question
	for rows.Next() {
		q, err := scanQuestion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := s.loadTranslations(ctx, db, out); err != nil {
		return nil, err
	}
	return out, s.loadProviders(ctx, db, out)
}

// loadTranslations fills the translations of custom questions.
func (s *Store) loadTranslations(ctx context.Context, db queryer, qs []pulse.Question) error {
	var ids []int64
	at := map[int64]int{}
	for i, q := range qs {
		if !q.Builtin {
			ids = append(ids, q.ID)
			at[q.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ph, args := inList(ids)
	rows, err := s.query(ctx, db, "SELECT question_id, lang, text, choices FROM question_translations WHERE question_id IN ("+ph+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code, text, choices string
		if err := rows.Scan(&id, &code, &text, &choices); err != nil {
			return err
		}
		q := &qs[at[id]]
		if q.Translations == nil {
			q.Translations = map[string]pulse.Translation{}
		}
		t := pulse.Translation{Text: text}
		if choices != "" {
			t.Choices = strings.Split(choices, "\n")
		}
		q.Translations[code] = t
	}
	return rows.Err()
}

// insertTranslations stores a question's translations.
func (s *Store) insertTranslations(ctx context.Context, tx *sql.Tx, q *pulse.Question) error {
	for code, t := range q.Translations {
		if _, err := s.exec(ctx, tx, "INSERT INTO question_translations (question_id, lang, text, choices) VALUES (?, ?, ?, ?)",
			q.ID, code, t.Text, strings.Join(t.Choices, "\n")); err != nil {
			return err
		}
	}
	return nil
}

// loadProviders fills the provider teams of Service questions.
func (s *Store) loadProviders(ctx context.Context, db queryer, qs []pulse.Question) error {
	for i := range qs {
		if qs[i].Kind != pulse.Service {
			continue
		}
		ids, err := s.ids(ctx, db, "SELECT unit_id FROM question_providers WHERE question_id = ? ORDER BY unit_id", qs[i].ID)
		if err != nil {
			return err
		}
		qs[i].Providers = ids
	}
	return nil
}

// Questions returns the whole bank, built-in first, in display order.
func (s *Store) Questions(ctx context.Context) ([]pulse.Question, error) {
	return s.questions(ctx, s.r, "ORDER BY builtin DESC, position, id")
}

// CreateQuestion adds a custom question to the bank.
func (s *Store) CreateQuestion(ctx context.Context, q *pulse.Question) error {
	if err := q.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		// The next position names the key: two creations at once must not
		// read the same MAX (SQLite's writer is one at a time already).
		if s.engine == Postgres {
			if _, err := s.exec(ctx, tx.tx, "SELECT pg_advisory_xact_lock(hashtext(current_schema()), ?)", advisoryQuestions); err != nil {
				return err
			}
		}
		var pos int
		if err := s.queryRow(ctx, tx.tx, "SELECT COALESCE(MAX(position), 0) + 1 FROM questions").Scan(&pos); err != nil {
			return err
		}
		q.Position = pos
		q.Key = "custom." + strconv.Itoa(pos)
		id, err := s.insert(ctx, tx.tx, `INSERT INTO questions (key, text, kind, driver, in_index, choices, builtin, position, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, q.Key, q.Text, string(q.Kind), q.Driver, q.InIndex, strings.Join(q.Choices, "\n"), false, pos, s.now().Unix())
		if err != nil {
			return err
		}
		q.ID = id
		if err := s.insertTranslations(ctx, tx.tx, q); err != nil {
			return err
		}
		for _, u := range q.Providers {
			if _, err := s.exec(ctx, tx.tx, "INSERT INTO question_providers (question_id, unit_id) VALUES (?, ?)", id, u); err != nil {
				return tandem.FieldErrorf("providers", "unit %d does not exist", u)
			}
		}
		return nil
	})
}

// SetQuestionTranslations replaces a custom question's translations (nil
// removes them all). Built-in questions speak through the message files.
func (s *Store) SetQuestionTranslations(ctx context.Context, id int64, tr map[string]pulse.Translation) error {
	err := s.InTx(ctx, func(tx *Tx) error {
		q, err := scanQuestion(s.queryRow(ctx, tx.tx, "SELECT "+questionColumns+" FROM questions WHERE id = ?", id))
		if err == sql.ErrNoRows {
			return tandem.Errorf(tandem.ENOTFOUND, "question %d does not exist", id)
		} else if err != nil {
			return err
		}
		if q.Builtin {
			return tandem.Errorf(tandem.EINVALID, "Tandem's own questions come translated; only custom questions take translations")
		}
		qs := []pulse.Question{q}
		if err := s.loadProviders(ctx, tx.tx, qs); err != nil {
			return err
		}
		q = qs[0]
		q.Translations = tr
		if err := q.Validate(); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM question_translations WHERE question_id = ?", id); err != nil {
			return err
		}
		return s.insertTranslations(ctx, tx.tx, &q)
	})
	if err == nil {
		// Rounds keep their questions in memory; a translation reaches
		// their answer pages from the next read.
		s.roundQs.Clear()
	}
	return err
}

// advisoryQuestions serialises custom-question creation on PostgreSQL.
const advisoryQuestions = 0x7464_6d03

// SetQuestionRetired retires a question (no new rounds ask it; past
// results keep it) or brings it back.
func (s *Store) SetQuestionRetired(ctx context.Context, id int64, retired bool) error {
	res, err := s.exec(ctx, s.w, "UPDATE questions SET retired = ? WHERE id = ?", retired, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "question %d does not exist", id)
	}
	return nil
}

const programColumns = `id, name, audience_unit_id, cron, cadence, cadence_note, timezone, window_days, reminder_days, questions_per_round,
	driver_cycle, core_every, min_group, channel, active, created_at`

func scanProgram(sc interface{ Scan(...any) error }) (pulse.Program, error) {
	var p pulse.Program
	var created int64
	var cron, cadence, zone string
	err := sc.Scan(&p.ID, &p.Name, &p.AudienceUnitID, &cron, &cadence, &p.CadenceNote, &zone, &p.WindowDays, &p.ReminderDays, &p.QuestionsPerRound,
		&p.DriverCycle, &p.CoreEvery, &p.MinGroup, &p.Channel, &p.Active, &created)
	p.CreatedAt = fromUnix(created)
	if err != nil {
		return p, err
	}
	p.Cadence = pulse.Cadence{Zone: zone}
	if cadence != "" {
		// A cadence that does not read back leaves the program without
		// one: its page says so and the scheduler skips it.
		if c, cerr := pulse.UnmarshalCadence(cadence, zone); cerr == nil {
			p.Cadence = c
		}
	}
	return p, nil
}

// Programs returns every program with its exclusions and question pool.
func (s *Store) Programs(ctx context.Context) ([]pulse.Program, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+programColumns+" FROM programs ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	var out []pulse.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.loadProgramSets(ctx, s.r, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Program returns one program.
func (s *Store) Program(ctx context.Context, id int64) (pulse.Program, error) {
	return s.program(ctx, s.r, id)
}

func (s *Store) program(ctx context.Context, db queryer, id int64) (pulse.Program, error) {
	p, err := scanProgram(s.queryRow(ctx, db, "SELECT "+programColumns+" FROM programs WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return p, tandem.Errorf(tandem.ENOTFOUND, "program %d does not exist", id)
	} else if err != nil {
		return p, err
	}
	return p, s.loadProgramSets(ctx, db, &p)
}

func (s *Store) loadProgramSets(ctx context.Context, db queryer, p *pulse.Program) error {
	var err error
	if p.ExcludedUnits, err = s.ids(ctx, db, "SELECT unit_id FROM program_exclusions WHERE program_id = ? ORDER BY unit_id", p.ID); err != nil {
		return err
	}
	if p.QuestionIDs, err = s.ids(ctx, db, "SELECT question_id FROM program_questions WHERE program_id = ? ORDER BY question_id", p.ID); err != nil {
		return err
	}
	p.Skips, err = s.strings(ctx, db, "SELECT day FROM program_skips WHERE program_id = ? ORDER BY day", p.ID)
	return err
}

func (s *Store) strings(ctx context.Context, db queryer, q string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, db, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) ids(ctx context.Context, db queryer, q string, args ...any) ([]int64, error) {
	rows, err := s.query(ctx, db, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// SaveProgram creates (ID 0) or updates a program, with its exclusions and
// question pool. An empty pool means every active built-in question. The
// program is checked at the store's now (pulse.Program.Validate), and its
// name must not be another program's. Saving clears the note the move to
// cadences left.
func (s *Store) SaveProgram(ctx context.Context, p *pulse.Program) error {
	if err := p.Validate(s.now()); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if s.engine == Postgres {
			// Two programs saved at once must not both take a free name.
			if _, err := s.exec(ctx, tx.tx, "SELECT pg_advisory_xact_lock(hashtext(current_schema()), ?)", advisoryPrograms); err != nil {
				return err
			}
		}
		var exists int
		if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM org_units WHERE id = ?", p.AudienceUnitID).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return tandem.FieldErrorf("audience", "unit %d does not exist", p.AudienceUnitID)
		}
		var other string
		err := s.queryRow(ctx, tx.tx, "SELECT name FROM programs WHERE LOWER(name) = LOWER(?) AND id <> ?", p.Name, p.ID).Scan(&other)
		if err == nil {
			return tandem.FieldErrorf("name", "a program called %q exists already; give this one another name", other)
		} else if err != sql.ErrNoRows {
			return err
		}
		if len(p.QuestionIDs) == 0 {
			ids, err := s.ids(ctx, tx.tx, "SELECT id FROM questions WHERE builtin = ? AND retired = ? ORDER BY id", true, false)
			if err != nil {
				return err
			}
			p.QuestionIDs = ids
		}
		pool, err := s.questionsByID(ctx, tx.tx, p.QuestionIDs)
		if err != nil {
			return err
		}
		if err := p.CheckPool(pool); err != nil {
			return err
		}
		now := s.now().Unix()
		c := p.Cadence
		p.CadenceNote = ""
		if p.ID == 0 {
			p.ID, err = s.insert(ctx, tx.tx, `INSERT INTO programs (name, audience_unit_id, cron, cadence, cadence_note, timezone, window_days, reminder_days,
				questions_per_round, driver_cycle, core_every, min_group, channel, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.Name, p.AudienceUnitID, c.Expr, pulse.MarshalCadence(c), c.Zone, p.WindowDays, p.ReminderDays,
				p.QuestionsPerRound, p.DriverCycle, p.CoreEvery, p.MinGroup, p.Channel, p.Active, now, now)
			if err != nil {
				return err
			}
			p.CreatedAt = time.Unix(now, 0).UTC()
		} else {
			res, err := s.exec(ctx, tx.tx, `UPDATE programs SET name = ?, audience_unit_id = ?, cron = ?, cadence = ?, cadence_note = '', timezone = ?, window_days = ?,
				reminder_days = ?, questions_per_round = ?, driver_cycle = ?, core_every = ?, min_group = ?, channel = ?, active = ?,
				updated_at = ? WHERE id = ?`, p.Name, p.AudienceUnitID, c.Expr, pulse.MarshalCadence(c), c.Zone, p.WindowDays, p.ReminderDays,
				p.QuestionsPerRound, p.DriverCycle, p.CoreEvery, p.MinGroup, p.Channel, p.Active, now, p.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return tandem.Errorf(tandem.ENOTFOUND, "program %d does not exist", p.ID)
			}
		}
		for _, q := range []string{"DELETE FROM program_exclusions WHERE program_id = ?", "DELETE FROM program_questions WHERE program_id = ?"} {
			if _, err := s.exec(ctx, tx.tx, q, p.ID); err != nil {
				return err
			}
		}
		for _, u := range p.ExcludedUnits {
			if _, err := s.exec(ctx, tx.tx, "INSERT INTO program_exclusions (program_id, unit_id) VALUES (?, ?)", p.ID, u); err != nil {
				return err
			}
		}
		for _, q := range p.QuestionIDs {
			if _, err := s.exec(ctx, tx.tx, "INSERT INTO program_questions (program_id, question_id) VALUES (?, ?)", p.ID, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// advisoryPrograms serialises saving programs on PostgreSQL.
const advisoryPrograms = 0x7464_6d05

// SetProgramActive pauses or resumes a program. A program resumes only if
// it passes pulse.Program.Validate at the store's now: one the move to
// cadences paused must get a cadence first.
func (s *Store) SetProgramActive(ctx context.Context, id int64, active bool) error {
	if active {
		p, err := s.Program(ctx, id)
		if err != nil {
			return err
		}
		if err := p.Validate(s.now()); err != nil {
			return tandem.Errorf(tandem.EINVALID, "%s cannot resume: %s Edit it to fix this first.", p.Name, strings.TrimSuffix(tandem.ErrorMessage(err), ".")+".")
		}
	}
	res, err := s.exec(ctx, s.w, "UPDATE programs SET active = ?, updated_at = ? WHERE id = ?", active, s.now().Unix(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "program %d does not exist", id)
	}
	return nil
}

// SetSkip skips (skip true) or restores the program's round on a local
// date (YYYY-MM-DD).
func (s *Store) SetSkip(ctx context.Context, programID int64, day string, skip bool) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return tandem.FieldErrorf("day", "%q is not a date (YYYY-MM-DD)", day)
	}
	if _, err := s.Program(ctx, programID); err != nil {
		return err
	}
	q := "DELETE FROM program_skips WHERE program_id = ? AND day = ?"
	if skip {
		q = "INSERT INTO program_skips (program_id, day) VALUES (?, ?) ON CONFLICT (program_id, day) DO NOTHING"
	}
	_, err := s.exec(ctx, s.w, q, programID, day)
	return err
}

// ClearCadenceNote forgets the note the move to cadences left on a
// program, once its page has shown it.
func (s *Store) ClearCadenceNote(ctx context.Context, programID int64) error {
	_, err := s.exec(ctx, s.w, "UPDATE programs SET cadence_note = '' WHERE id = ?", programID)
	return err
}

// moveProgramsToCadences gives every program stored with a cron string
// its cadence (pulse.Program.MoveToCadence), anchored on its last
// scheduled round or, without one, its creation.
func moveProgramsToCadences(ctx context.Context, tx *Tx) error {
	s := tx.s
	rows, err := s.query(ctx, tx.tx, "SELECT "+programColumns+" FROM programs WHERE cadence = '' ORDER BY id")
	if err != nil {
		return err
	}
	type legacy struct {
		p    pulse.Program
		cron string
	}
	var list []legacy
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			rows.Close()
			return err
		}
		list = append(list, legacy{p: p})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range list {
		l := &list[i]
		if err := s.queryRow(ctx, tx.tx, "SELECT cron FROM programs WHERE id = ?", l.p.ID).Scan(&l.cron); err != nil {
			return err
		}
		if err := s.loadProgramSets(ctx, tx.tx, &l.p); err != nil {
			return err
		}
		anchor := l.p.CreatedAt
		var last sql.NullInt64
		if err := s.queryRow(ctx, tx.tx, "SELECT MAX(scheduled_at) FROM rounds WHERE program_id = ? AND manual = ?", l.p.ID, false).Scan(&last); err != nil {
			return err
		}
		if last.Valid {
			anchor = fromUnix(last.Int64)
		}
		l.p.MoveToCadence(l.cron, anchor, s.now())
		c := l.p.Cadence
		if _, err := s.exec(ctx, tx.tx, "UPDATE programs SET cadence = ?, cadence_note = ?, cron = ?, active = ? WHERE id = ?",
			pulse.MarshalCadence(c), l.p.CadenceNote, c.Expr, l.p.Active, l.p.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) questionsByID(ctx context.Context, db queryer, ids []int64) ([]pulse.Question, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph, args := inList(ids)
	qs, err := s.questions(ctx, db, "WHERE id IN ("+ph+") ORDER BY position, id", args...)
	if err != nil {
		return nil, err
	}
	if len(qs) != len(ids) {
		return nil, tandem.FieldErrorf("questions", "some chosen questions do not exist")
	}
	return qs, nil
}

// ProgramPool returns the questions a program draws from.
func (s *Store) ProgramPool(ctx context.Context, p *pulse.Program) ([]pulse.Question, error) {
	return s.questionsByID(ctx, s.r, p.QuestionIDs)
}

func inList[T any](vals []T) (string, []any) {
	ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return ph, args
}

const roundColumns = "r.id, r.program_id, r.scheduled_at, r.seq, r.closes_at, COALESCE(r.remind_at, 0), r.reminded, r.closed, r.manual, r.min_group, r.period, r.imported"

func scanRound(sc interface{ Scan(...any) error }, extra ...any) (pulse.Round, error) {
	var r pulse.Round
	var sched, closes, remind int64
	dest := append([]any{&r.ID, &r.ProgramID, &sched, &r.Seq, &closes, &remind, &r.Reminded, &r.Closed, &r.Manual, &r.MinGroup, &r.Period, &r.Imported}, extra...)
	err := sc.Scan(dest...)
	r.ScheduledAt, r.ClosesAt, r.RemindAt = fromUnix(sched), fromUnix(closes), fromUnix(remind)
	return r, err
}

// CreateRound creates the round of program p for slot as the program
// plans it (pulse.Program.PlanRound: closing and reminder times, the day it
// counts for), with its questions, one invitation per person in the
// audience and one outbox message per invitation — all in one
// transaction, and only if pulse.Program.Admit, shown the program's recent
// rounds inside that transaction, lets it start:
//
//   - the round of a slot exists once (a double fire, a restart, another
//     replica): the existing round is returned, created false;
//   - a manual round ("send a round now", slot = now) is refused while
//     another is open or one started that day, and a repeated click
//     returns the round it started;
//   - a scheduled slot on a day a round already started is skipped
//     (pulse.ErrDayTaken).
func (s *Store) CreateRound(ctx context.Context, p *pulse.Program, slot time.Time, manual bool, now time.Time) (r pulse.Round, created bool, err error) {
	plan, err := p.PlanRound(slot, manual)
	if err != nil {
		return r, false, err
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		if s.engine == Postgres { // SQLite's writer is one at a time already
			if _, err := s.exec(ctx, tx.tx, "SELECT id FROM programs WHERE id = ? FOR UPDATE", p.ID); err != nil {
				return err
			}
		}
		recent, err := s.roundsAround(ctx, tx.tx, p.ID, plan)
		if err != nil {
			return err
		}
		existing, err := p.Admit(plan, now, recent)
		if err != nil {
			return err
		} else if existing != nil {
			r = *existing
			return nil
		}
		var id int64
		var seq int
		var remind sql.NullInt64
		if !plan.RemindAt.IsZero() {
			remind = sql.NullInt64{Int64: plan.RemindAt.Unix(), Valid: true}
		}
		err = s.queryRow(ctx, tx.tx, `INSERT INTO rounds (program_id, scheduled_at, seq, closes_at, remind_at, manual, min_group, period, created_at)
			VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rounds WHERE program_id = ?), ?, ?, ?, ?, ?, ?)
			ON CONFLICT (program_id, scheduled_at) DO NOTHING RETURNING id, seq`,
			p.ID, plan.ScheduledAt.Unix(), p.ID, plan.ClosesAt.Unix(), remind, plan.Manual, plan.MinGroup, plan.Period, now.Unix()).Scan(&id, &seq)
		if err == sql.ErrNoRows {
			r, err = scanRound(s.queryRow(ctx, tx.tx, "SELECT "+roundColumns+" FROM rounds r WHERE program_id = ? AND scheduled_at = ?", p.ID, plan.ScheduledAt.Unix()))
			return err
		} else if err != nil {
			return s.wrapErr(err)
		}
		created = true
		pool, err := s.questionsByID(ctx, tx.tx, p.QuestionIDs)
		if err != nil {
			return err
		}
		for i, q := range pulse.RoundQuestions(pool, p, seq) {
			if _, err := s.exec(ctx, tx.tx, "INSERT INTO round_questions (round_id, question_id, position) VALUES (?, ?, ?)", id, q.ID, i); err != nil {
				return err
			}
		}
		if err := tx.invite(ctx, p, id, plan.Period); err != nil {
			return err
		}
		if err := tx.groupRound(ctx, id, p.AudienceUnitID, p.MinGroup); err != nil {
			return err
		}
		_, err = s.exec(ctx, tx.tx, `INSERT INTO outbox (kind, channel, recipient, ref, dedupe_key, next_attempt_at, created_at)
			SELECT 'invite', ?, COALESCE(e.email, ''), i.id, 'invite:' || i.id, ?, ?
			FROM invitations i JOIN employees e ON e.id = i.employee_id WHERE i.round_id = ?`, p.Channel, now.Unix(), now.Unix(), id)
		if err != nil {
			return err
		}
		r, err = scanRound(s.queryRow(ctx, tx.tx, "SELECT "+roundColumns+" FROM rounds r WHERE id = ?", id))
		return err
	})
	r.ProgramName, r.TimeZone = p.Name, p.Cadence.Zone
	if err != nil {
		return r, false, err
	}
	return r, created, nil
}

// roundsAround returns what pulse.Program.Admit needs to see of a
// program's rounds for a plan: the round of the same slot, the rounds not
// yet closed, and those that started in the 62 days before the plan (a
// window is at most 60 days; two more cover any change of clocks).
// Imported rounds are history, not rounds the program sent: they neither
// take a day nor hold back a round.
func (s *Store) roundsAround(ctx context.Context, db queryer, programID int64, plan pulse.Round) ([]pulse.Round, error) {
	rows, err := s.query(ctx, db, "SELECT "+roundColumns+` FROM rounds r WHERE r.program_id = ? AND r.imported = ?
		AND (r.scheduled_at >= ? OR r.closed = ?) ORDER BY r.scheduled_at`, programID, false, plan.ScheduledAt.AddDate(0, 0, -62).Unix(), false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.Round
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// invite creates the invitations of a round: everyone active on the
// round's day in the audience subtree, minus excluded subtrees, who can be
// reached (an email address for the email channel).
func (tx *Tx) invite(ctx context.Context, p *pulse.Program, roundID int64, day string) error {
	s := tx.s
	var rootPath string
	if err := s.queryRow(ctx, tx.tx, "SELECT id_path FROM org_units WHERE id = ?", p.AudienceUnitID).Scan(&rootPath); err != nil {
		return fmt.Errorf("audience unit %d: %w", p.AudienceUnitID, err)
	}
	q := `INSERT INTO invitations (round_id, employee_id, unit_id)
		SELECT ?, e.id, e.unit_id FROM employees e JOIN org_units u ON u.id = e.unit_id
		WHERE u.id_path LIKE ? AND (e.exited_on IS NULL OR e.exited_on > ?) AND (e.hired_on IS NULL OR e.hired_on <= ?)`
	args := []any{roundID, rootPath + "%", day, day}
	if p.Channel == pulse.ChannelEmail {
		q += " AND e.email IS NOT NULL"
	}
	for _, x := range p.ExcludedUnits {
		var xp string
		if err := s.queryRow(ctx, tx.tx, "SELECT id_path FROM org_units WHERE id = ?", x).Scan(&xp); err == sql.ErrNoRows {
			continue
		} else if err != nil {
			return err
		}
		q += " AND u.id_path NOT LIKE ?"
		args = append(args, xp+"%")
	}
	_, err := s.exec(ctx, tx.tx, q, args...)
	return err
}

// Rounds returns a program's rounds, newest first, with participation.
func (s *Store) Rounds(ctx context.Context, programID int64) ([]pulse.Round, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+roundColumns+`,
		(SELECT COALESCE(SUM(g.invited), 0) FROM round_groups g WHERE g.round_id = r.id),
		(SELECT COUNT(*) FROM responses x WHERE x.round_id = r.id)
		FROM rounds r WHERE r.program_id = ? ORDER BY r.scheduled_at DESC`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.Round
	for rows.Next() {
		var inv, resp int
		r, err := scanRound(rows, &inv, &resp)
		if err != nil {
			return nil, err
		}
		r.Invited, r.Responded = inv, resp
		out = append(out, r)
	}
	return out, rows.Err()
}

// Round returns one round with its participation totals.
func (s *Store) Round(ctx context.Context, id int64) (pulse.Round, error) {
	var inv, resp int
	var name, zone string
	r, err := scanRound(s.queryRow(ctx, s.r, "SELECT "+roundColumns+`,
		(SELECT COALESCE(SUM(g.invited), 0) FROM round_groups g WHERE g.round_id = r.id),
		(SELECT COUNT(*) FROM responses x WHERE x.round_id = r.id), p.name, p.timezone
		FROM rounds r JOIN programs p ON p.id = r.program_id WHERE r.id = ?`, id), &inv, &resp, &name, &zone)
	if err == sql.ErrNoRows {
		return r, tandem.Errorf(tandem.ENOTFOUND, "round %d does not exist", id)
	}
	r.Invited, r.Responded, r.ProgramName, r.TimeZone = inv, resp, name, zone
	return r, err
}

// LatestRound returns the program's latest round it sent (not imported),
// if any.
func (s *Store) LatestRound(ctx context.Context, programID int64) (pulse.Round, bool, error) {
	r, err := scanRound(s.queryRow(ctx, s.r, "SELECT "+roundColumns+" FROM rounds r WHERE program_id = ? AND imported = ? ORDER BY scheduled_at DESC LIMIT 1", programID, false))
	if err == sql.ErrNoRows {
		return r, false, nil
	}
	return r, err == nil, err
}

// RoundQuestions returns a round's questions in the order asked.
func (s *Store) RoundQuestions(ctx context.Context, roundID int64) ([]pulse.Question, error) {
	return s.roundQuestions(ctx, s.r, roundID)
}

func (s *Store) roundQuestions(ctx context.Context, db queryer, roundID int64) ([]pulse.Question, error) {
	// A round's questions never change once it exists: they are kept in
	// memory after the first read outside a write transaction (a rolled
	// back round's id could come again, so its reads are not kept).
	if v, ok := s.roundQs.Load(roundID); ok {
		return append([]pulse.Question(nil), v.([]pulse.Question)...), nil
	}
	qs, err := s.loadRoundQuestions(ctx, db, roundID)
	if err == nil && len(qs) > 0 && db == queryer(s.r) {
		s.roundQs.Store(roundID, append([]pulse.Question(nil), qs...))
	}
	return qs, err
}

func (s *Store) loadRoundQuestions(ctx context.Context, db queryer, roundID int64) ([]pulse.Question, error) {
	qs, err := s.loadRoundQuestionRows(ctx, db, roundID)
	if err != nil {
		return nil, err
	}
	if err := s.loadTranslations(ctx, db, qs); err != nil {
		return nil, err
	}
	return qs, s.loadProviders(ctx, db, qs)
}

func (s *Store) loadRoundQuestionRows(ctx context.Context, db queryer, roundID int64) ([]pulse.Question, error) {
	rows, err := s.query(ctx, db, `SELECT q.id, q.key, q.text, q.kind, q.driver, q.in_index, q.choices, q.builtin, q.position, q.retired
		FROM round_questions rq JOIN questions q ON q.id = rq.question_id WHERE rq.round_id = ? ORDER BY rq.position`, roundID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.Question
	for rows.Next() {
		q, err := scanQuestion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// CloseDueRounds closes open rounds whose window has passed, which
// releases their results (pulse.Round.Released), and forgets who took
// part: their invitations, links and messages are deleted, and only the
// invited count of each storage group remains. It returns how many it
// closed.
func (s *Store) CloseDueRounds(ctx context.Context, now time.Time) (int, error) {
	var due []int64
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := s.query(ctx, tx.tx, "SELECT id FROM rounds WHERE closed = ? AND closes_at <= ?", false, now.Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			due = append(due, id)
		}
		rows.Close()
		if len(due) == 0 {
			return nil
		}
		if err := tx.forgetParticipants(ctx, due); err != nil {
			return err
		}
		ph, args := inList(due)
		if _, err = s.exec(ctx, tx.tx, "UPDATE rounds SET closed = ? WHERE id IN ("+ph+")", append([]any{true}, args...)...); err != nil {
			return err
		}
		return tx.bumpReleased(ctx)
	})
	if err != nil {
		return 0, err
	}
	return len(due), nil
}

// QueueDueReminders queues one reminder for each person who has not
// answered a round whose reminder time has come, once per round.
func (s *Store) QueueDueReminders(ctx context.Context, now time.Time) (int, error) {
	var queued int64
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := s.query(ctx, tx.tx, `SELECT r.id, p.channel FROM rounds r JOIN programs p ON p.id = r.program_id
			WHERE r.reminded = ? AND r.closed = ? AND r.remind_at IS NOT NULL AND r.remind_at <= ? AND r.closes_at > ?`, false, false, now.Unix(), now.Unix())
		if err != nil {
			return err
		}
		type due struct {
			id      int64
			channel string
		}
		var rounds []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.channel); err != nil {
				rows.Close()
				return err
			}
			rounds = append(rounds, d)
		}
		rows.Close()
		for _, d := range rounds {
			res, err := s.exec(ctx, tx.tx, `INSERT INTO outbox (kind, channel, recipient, ref, dedupe_key, next_attempt_at, created_at)
				SELECT 'reminder', ?, COALESCE(e.email, ''), i.id, 'remind:' || i.id, ?, ?
				FROM invitations i JOIN employees e ON e.id = i.employee_id WHERE i.round_id = ? AND i.responded = ?
				ON CONFLICT (dedupe_key) DO NOTHING`, d.channel, now.Unix(), now.Unix(), d.id, false)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			queued += n
			if _, err := s.exec(ctx, tx.tx, "UPDATE rounds SET reminded = ? WHERE id = ?", true, d.id); err != nil {
				return err
			}
		}
		return nil
	})
	return int(queued), err
}

// Invitation is what an answer link opens.
type Invitation struct {
	ID        int64
	RoundID   int64
	UnitID    int64
	Responded bool
	Round     pulse.Round
	Program   string
	// Language is the invitee's language from the roster ("" for none):
	// the answer page speaks it unless the person chooses another.
	Language string
}

// InvitationByToken finds the invitation of an answer link by the link
// token's hash.
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error) {
	var inv Invitation
	var zone string
	r, err := scanRound(s.queryRow(ctx, s.r, "SELECT "+roundColumns+`, i.id, i.unit_id, i.responded, p.name, p.timezone, e.language
		FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id JOIN rounds r ON r.id = i.round_id
		JOIN programs p ON p.id = r.program_id JOIN employees e ON e.id = i.employee_id WHERE t.token_hash = ?`, tokenHash),
		&inv.ID, &inv.UnitID, &inv.Responded, &inv.Program, &zone, &inv.Language)
	if err == sql.ErrNoRows {
		return inv, s.unknownLink(ctx, tokenHash)
	}
	if err != nil {
		return inv, s.wrapErr(err)
	}
	r.TimeZone = zone
	inv.Round, inv.RoundID = r, r.ID
	// The answer that usually follows the page needs no read.
	s.links.remember(tokenHash, linkOf(inv), s.now())
	return inv, nil
}

// AddInvitationToken stores the hash of a newly sent answer link, and
// remembers what the link opens.
func (s *Store) AddInvitationToken(ctx context.Context, invitationID int64, tokenHash string) error {
	l := link{invitationID: invitationID}
	var closes int64
	err := s.queryRow(ctx, s.w, `INSERT INTO invitation_tokens (token_hash, invitation_id) VALUES (?, ?)
		RETURNING (SELECT i.round_id FROM invitations i WHERE i.id = invitation_id),
		(SELECT i.unit_id FROM invitations i WHERE i.id = invitation_id),
		(SELECT r.closes_at FROM invitations i JOIN rounds r ON r.id = i.round_id WHERE i.id = invitation_id)`,
		tokenHash, invitationID).Scan(&l.roundID, &l.unitID, &closes)
	if err != nil {
		return s.wrapErr(err)
	}
	l.closesAt = fromUnix(closes)
	s.links.remember(tokenHash, l, s.now())
	return nil
}

// RememberOpenLinks loads the links of unanswered invitations to rounds
// still open, so that answers to links minted before this process started
// (by it or by another replica) need no read either. It returns how many
// it remembered; at most maxLinks are kept.
func (s *Store) RememberOpenLinks(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.query(ctx, s.r, `SELECT t.token_hash, i.id, i.round_id, i.unit_id, r.closes_at
		FROM rounds r JOIN invitations i ON i.round_id = r.id JOIN invitation_tokens t ON t.invitation_id = i.id
		WHERE r.closed = ? AND r.closes_at > ? AND i.responded = ? LIMIT ?`, false, now.Unix(), false, maxLinks)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var hash string
		var l link
		var closes int64
		if err := rows.Scan(&hash, &l.invitationID, &l.roundID, &l.unitID, &closes); err != nil {
			return n, err
		}
		l.closesAt = fromUnix(closes)
		s.links.remember(hash, l, now)
		n++
	}
	return n, rows.Err()
}

// unknownLink says why a link's hash names no invitation: its round has
// closed (the hash is kept apart from any person, in expired_links), or
// it never was a link.
func (s *Store) unknownLink(ctx context.Context, tokenHash string) error {
	var round int64
	err := s.queryRow(ctx, s.r, "SELECT round_id FROM expired_links WHERE token_hash = ?", tokenHash).Scan(&round)
	if err == nil {
		return ErrRoundClosed
	} else if err != sql.ErrNoRows {
		return s.wrapErr(err)
	}
	return ErrUnknownLink
}

// Submission errors a person sees.
var (
	ErrAlreadyAnswered = tandem.Errorf(tandem.ECONFLICT, "You have already answered this round. Thank you!")
	ErrRoundClosed     = tandem.Errorf(tandem.ECONFLICT, "This round has closed, so no more answers are taken. Thank you for wanting to take part; the next round will come by email.")
	ErrUnknownLink     = tandem.Errorf(tandem.ENOTFOUND, "this link is not valid")
)

// SubmitResponse stores one person's answers anonymously, in one
// transaction: the invitation is marked answered (participation), and the
// answers are stored under a random response id with the person's unit and
// the round — nothing that leads back to the person or the time.
func (s *Store) SubmitResponse(ctx context.Context, tokenHash string, answers []pulse.Answer, comment string, now time.Time) error {
	// Everything that can be checked without writing is checked on a
	// reader first, so the single writer only writes.
	inv, err := s.InvitationToSubmit(ctx, tokenHash)
	if err != nil {
		return err
	}
	return s.SubmitInvitation(ctx, &inv, answers, comment, now)
}

// SubmitInvitation is SubmitResponse for an invitation already looked up
// by its link (InvitationByToken): the answer page has just read it.
func (s *Store) SubmitInvitation(ctx context.Context, inv *Invitation, answers []pulse.Answer, comment string, now time.Time) error {
	if inv.Responded {
		return ErrAlreadyAnswered
	}
	if !inv.Round.OpenAt(now) {
		return ErrRoundClosed
	}
	sub := submission{invitationID: inv.ID, roundID: inv.RoundID, unitID: inv.UnitID}
	qs, err := s.roundQuestions(ctx, s.r, sub.roundID)
	if err != nil {
		return err
	}
	sub.kinds = map[int64]pulse.Kind{}
	for _, q := range qs {
		sub.kinds[q.ID] = q.Kind
	}
	for _, a := range answers {
		if _, ok := sub.kinds[a.QuestionID]; !ok {
			return tandem.Errorf(tandem.EINVALID, "question %d is not part of this round", a.QuestionID)
		}
	}
	sub.answers, sub.comment, sub.now = answers, comment, now
	return s.submitBatched(ctx, sub)
}

// submit writes one checked submission inside tx. It refuses, writing
// nothing, when the invitation was answered or the round closed since the
// checks.
func (tx *Tx) submit(ctx context.Context, sub *submission) error {
	s := tx.s
	res, err := s.exec(ctx, tx.tx, `UPDATE invitations SET responded = ? WHERE id = ? AND responded = ?
		AND EXISTS (SELECT 1 FROM rounds r WHERE r.id = ? AND r.closed = ? AND r.closes_at > ?)`,
		true, sub.invitationID, false, sub.roundID, false, sub.now.Unix())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return tx.refusal(ctx, sub)
	}
	return tx.recordResponse(ctx, sub.roundID, sub.unitID, sub.kinds, sub.answers, sub.comment)
}

// refusal says why the guard of a submission matched no invitation:
// answered already, round closed, or no such link.
func (tx *Tx) refusal(ctx context.Context, sub *submission) error {
	s := tx.s
	var responded bool
	err := s.queryRow(ctx, tx.tx, "SELECT responded FROM invitations WHERE id = ?", sub.invitationID).Scan(&responded)
	if err == sql.ErrNoRows {
		// A closed round's invitations are deleted (CloseDueRounds):
		// a link remembered from before is to a closed round.
		var closed bool
		if err := s.queryRow(ctx, tx.tx, "SELECT closed FROM rounds WHERE id = ?", sub.roundID).Scan(&closed); err == nil && closed {
			return ErrRoundClosed
		}
		return ErrUnknownLink
	} else if err != nil {
		return err
	}
	if responded {
		return ErrAlreadyAnswered
	}
	return ErrRoundClosed
}

func (tx *Tx) roundKinds(ctx context.Context, roundID int64) (map[int64]pulse.Kind, error) {
	qs, err := tx.s.roundQuestions(ctx, tx.tx, roundID)
	if err != nil {
		return nil, err
	}
	kinds := map[int64]pulse.Kind{}
	for _, q := range qs {
		kinds[q.ID] = q.Kind
	}
	return kinds, nil
}

// responseRows is what one response writes: its answer rows and what it
// adds to the round's running totals. responseRowsOf is the one rule for
// both the single answer (recordResponse) and PostgreSQL's batches.
type responseRows struct {
	answers []answerRow
	scores  []scoreRow   // one per scored answer
	service []serviceRow // one per provider the person rated
}

type answerRow struct {
	questionID int64
	value      sql.NullFloat64
	text       string
	provider   sql.NullInt64
}

type scoreRow struct {
	questionID          int64
	value               float64
	promoter, detractor int
}

type serviceRow struct {
	provider int64
	mean     float64
}

// responseRowsOf checks answers against the round's question kinds and
// returns the rows they write.
func responseRowsOf(kinds map[int64]pulse.Kind, answers []pulse.Answer) (responseRows, error) {
	var out responseRows
	out.answers = make([]answerRow, 0, len(answers))
	// Internal service counts people, not ratings: a person who rates one
	// team in several questions adds one rater, with the mean of their
	// ratings of it.
	var service map[int64]pulse.Totals
	var providers []int64
	for _, a := range answers {
		kind, ok := kinds[a.QuestionID]
		if !ok {
			return out, tandem.Errorf(tandem.EINVALID, "question %d is not part of this round", a.QuestionID)
		}
		var v sql.NullFloat64
		if a.HasValue {
			v = sql.NullFloat64{Float64: a.Value, Valid: true}
		}
		out.answers = append(out.answers, answerRow{a.QuestionID, v, a.Text, nullInt(a.ProviderUnitID)})
		if kind == pulse.Service && a.HasValue && a.ProviderUnitID != 0 {
			if service == nil {
				service = map[int64]pulse.Totals{}
			}
			if _, ok := service[a.ProviderUnitID]; !ok {
				providers = append(providers, a.ProviderUnitID)
			}
			t := service[a.ProviderUnitID]
			t.N++
			t.Sum += a.Value
			service[a.ProviderUnitID] = t
			continue
		}
		if !a.HasValue || (kind != pulse.Likert5 && kind != pulse.Scale010) {
			continue
		}
		var prom, detr int
		if kind == pulse.Scale010 {
			if pulse.Promoter(a.Value) {
				prom = 1
			} else if pulse.Detractor(a.Value) {
				detr = 1
			}
		}
		out.scores = append(out.scores, scoreRow{a.QuestionID, a.Value, prom, detr})
	}
	for _, p := range providers {
		out.service = append(out.service, serviceRow{p, service[p].Mean()})
	}
	return out, nil
}

// recordResponse stores one response's answers and adds them to the
// round's running totals.
func (tx *Tx) recordResponse(ctx context.Context, roundID, unitID int64, kinds map[int64]pulse.Kind, answers []pulse.Answer, comment string) error {
	s := tx.s
	rows, err := responseRowsOf(kinds, answers)
	if err != nil {
		return err
	}
	respID, err := tx.insertResponse(ctx, roundID, unitID, comment)
	if err != nil {
		return err
	}
	// One statement for the answers and one for the running totals.
	if len(rows.answers) > 0 {
		var ans strings.Builder
		args := make([]any, 0, 5*len(rows.answers))
		for i, a := range rows.answers {
			if i > 0 {
				ans.WriteString(", ")
			}
			ans.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, respID, a.questionID, a.value, a.text, a.provider)
		}
		if _, err := s.exec(ctx, tx.tx, "INSERT INTO answers (response_id, question_id, value, text, provider_unit_id) VALUES "+ans.String(), args...); err != nil {
			return err
		}
	}
	for _, p := range rows.service {
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO service_scores (round_id, rater_unit_id, provider_unit_id, n, sum)
			VALUES (?, ?, ?, 1, ?) ON CONFLICT (round_id, rater_unit_id, provider_unit_id) DO UPDATE SET
			n = service_scores.n + 1, sum = service_scores.sum + excluded.sum`, roundID, unitID, p.provider, p.mean); err != nil {
			return err
		}
	}
	if len(rows.scores) > 0 {
		var sc strings.Builder
		args := make([]any, 0, 6*len(rows.scores))
		for i, r := range rows.scores {
			if i > 0 {
				sc.WriteString(", ")
			}
			sc.WriteString("(?, ?, ?, 1, ?, ?, ?)")
			args = append(args, roundID, unitID, r.questionID, r.value, r.promoter, r.detractor)
		}
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO round_scores (round_id, unit_id, question_id, n, sum, promoters, detractors)
			VALUES `+sc.String()+` ON CONFLICT (round_id, unit_id, question_id) DO UPDATE SET
			n = round_scores.n + 1, sum = round_scores.sum + excluded.sum,
			promoters = round_scores.promoters + excluded.promoters, detractors = round_scores.detractors + excluded.detractors`,
			args...); err != nil {
			return err
		}
	}
	return nil
}

// RecordedResponse is one invitation's answers, for RecordResponses.
type RecordedResponse struct {
	InvitationID int64
	Answers      []pulse.Answer
	Comment      string
}

// RecordResponses stores many responses of one round in one transaction,
// exactly as SubmitResponse stores one: the demo uses it to write a year of
// history quickly. Invitations already answered are refused.
func (s *Store) RecordResponses(ctx context.Context, roundID int64, rs []RecordedResponse) error {
	return s.InTx(ctx, func(tx *Tx) error {
		kinds, err := tx.roundKinds(ctx, roundID)
		if err != nil {
			return err
		}
		for _, r := range rs {
			var unitID int64
			if err := s.queryRow(ctx, tx.tx, "UPDATE invitations SET responded = ? WHERE id = ? AND round_id = ? AND responded = ? RETURNING unit_id",
				true, r.InvitationID, roundID, false).Scan(&unitID); err != nil {
				return fmt.Errorf("invitation %d of round %d: not open for an answer: %w", r.InvitationID, roundID, err)
			}
			if err := tx.recordResponse(ctx, roundID, unitID, kinds, r.Answers, r.Comment); err != nil {
				return err
			}
		}
		return nil
	})
}

// RoundInvitations lists a round's invitations: id, employee and unit.
func (s *Store) RoundInvitations(ctx context.Context, roundID int64) ([]InvitationRef, error) {
	rows, err := s.query(ctx, s.r, "SELECT id, employee_id, unit_id, responded FROM invitations WHERE round_id = ? ORDER BY id", roundID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []InvitationRef
	for rows.Next() {
		var r InvitationRef
		if err := rows.Scan(&r.ID, &r.EmployeeID, &r.UnitID, &r.Responded); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// InvitationRef is an invitation without its round.
type InvitationRef struct {
	ID, EmployeeID, UnitID int64
	Responded              bool
}

// CancelRoundMessages cancels a round's unsent messages (the demo prints
// its links instead of sending them).
func (s *Store) CancelRoundMessages(ctx context.Context, roundID int64, reason string) error {
	_, err := s.exec(ctx, s.w, `UPDATE outbox SET status = 'cancelled', last_error = ? WHERE status = 'pending'
		AND kind IN ('invite', 'reminder') AND ref IN (SELECT id FROM invitations WHERE round_id = ?)`, reason, roundID)
	return err
}

// insertResponse stores a response under a random positive 63-bit id, so
// that ids carry no order.
func (tx *Tx) insertResponse(ctx context.Context, roundID, unitID int64, comment string) (int64, error) {
	for attempt := 0; attempt < 5; attempt++ {
		id, err := drawResponseID()
		if err != nil {
			return 0, err
		}
		// A taken id is skipped, not an error: on PostgreSQL an error
		// aborts the transaction.
		res, err := tx.s.exec(ctx, tx.tx, "INSERT INTO responses (id, round_id, unit_id, comment) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", id, roundID, unitID, comment)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return id, nil
		}
	}
	return 0, fmt.Errorf("could not draw a free response id")
}

// drawResponseID returns a random positive 63-bit id (tests replace it).
var drawResponseID = func() (int64, error) {
	for {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if id := int64(binary.BigEndian.Uint64(b[:]) >> 1); id != 0 {
			return id, nil
		}
	}
}

// RoundAt returns the program's round of a slot, if it has one.
func (s *Store) RoundAt(ctx context.Context, programID int64, slot time.Time) (pulse.Round, bool, error) {
	r, err := scanRound(s.queryRow(ctx, s.r, "SELECT "+roundColumns+" FROM rounds r WHERE program_id = ? AND scheduled_at = ? AND imported = ?", programID, slot.Unix(), false))
	if err == sql.ErrNoRows {
		return r, false, nil
	}
	return r, err == nil, err
}

// LatestScheduledSlot returns the slot of the program's latest scheduled
// (not sent-now, not imported) round.
func (s *Store) LatestScheduledSlot(ctx context.Context, programID int64) (time.Time, bool, error) {
	var v sql.NullInt64
	err := s.queryRow(ctx, s.r, "SELECT MAX(scheduled_at) FROM rounds WHERE program_id = ? AND manual = ? AND imported = ?", programID, false, false).Scan(&v)
	if err != nil || !v.Valid {
		return time.Time{}, false, err
	}
	return fromUnix(v.Int64), true, nil
}

// InvitationToSubmit reads only what storing an answer needs for the
// invitation of a link (the answer page's POST); InvitationByToken reads
// what showing the page needs.
func (s *Store) InvitationToSubmit(ctx context.Context, tokenHash string) (Invitation, error) {
	if l, ok := s.links.lookup(tokenHash); ok {
		return l.invitation(), nil
	}
	var inv Invitation
	var closes int64
	// A lookup by primary keys is over before any timeout: without the
	// request's cancellation the driver need not arm an interrupt for it.
	err := s.queryRow(context.WithoutCancel(ctx), s.r, `SELECT i.id, i.round_id, i.unit_id, i.responded, r.closes_at, r.closed
		FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id JOIN rounds r ON r.id = i.round_id
		WHERE t.token_hash = ?`, tokenHash).Scan(&inv.ID, &inv.RoundID, &inv.UnitID, &inv.Responded, &closes, &inv.Round.Closed)
	if err == sql.ErrNoRows {
		return inv, s.unknownLink(ctx, tokenHash)
	} else if err != nil {
		return inv, s.wrapErr(err)
	}
	inv.Round.ID, inv.Round.ClosesAt = inv.RoundID, fromUnix(closes)
	s.links.remember(tokenHash, linkOf(inv), s.now())
	return inv, nil
}
