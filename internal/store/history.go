package store

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tandem-hq/tandem/internal/history"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// HistoryImport is an import of past survey results into one program
// (tandem import history, the history import page).
type HistoryImport struct {
	ProgramID int64
	// Period groups the responses into rounds: week, fortnight or month.
	Period string
	// Mapping holds column mappings as given (history.ParseMapping).
	Mapping []string
	// DryRun checks everything and stores nothing.
	DryRun bool
	// Actor names who imports, for the audit log.
	Actor string
	// MaxRows bounds the responses (0: no bound).
	MaxRows int
	Now     time.Time
}

// HistoryRound is one round an import stores (or would store).
type HistoryRound struct {
	ID         int64 // 0 in a dry run
	Start, End time.Time
	Label      string
	Responses  int
	Questions  int
	Groups     int
	Invited    int
	// Below counts storage groups with fewer than k responses: stored,
	// never shown.
	Below int
}

// HistoryResult says what an import stored, or would store.
type HistoryResult struct {
	Program   pulse.Program
	Period    string
	Used      map[string]string
	Questions []pulse.Question
	Ignored   []string
	Rounds    []HistoryRound
	Responses int
	Applied   bool
}

// ImportHistory reads a file of past responses (history.Read), plans one
// imported round per period (history.Plan: storage groups from the
// roster's headcount on the period's first day) and, unless it is a dry
// run, stores them in one transaction: every round, its questions, groups,
// responses and running totals, or nothing. Problems with the file come
// back as a *history.Error listing each with its line and column.
//
// Imported rounds are closed at once and released under the same rules as
// any round (a group below k is stored and never shown). They have seq 0
// and the imported flag, so they never take a scheduled slot, hold back a
// round the program sends, or count towards the default program; no
// response carries its date.
func (s *Store) ImportHistory(ctx context.Context, in HistoryImport, r io.Reader) (*HistoryResult, error) {
	if err := history.CheckPeriod(in.Period); err != nil {
		return nil, err
	}
	p, err := s.Program(ctx, in.ProgramID)
	if err != nil {
		return nil, err
	}
	pool, err := s.ProgramPool(ctx, &p)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, q := range pool {
		keys = append(keys, q.Key)
	}
	mapping, err := history.ParseMapping(in.Mapping, keys)
	if err != nil {
		return nil, err
	}
	tree, err := s.Tree(ctx)
	if err != nil {
		return nil, err
	}
	inAudience := func(u int64) bool {
		if !tree.Contains(p.AudienceUnitID, u) {
			return false
		}
		for _, x := range p.ExcludedUnits {
			if tree.Contains(x, u) {
				return false
			}
		}
		return true
	}
	f, err := history.Read(r, history.Options{Questions: pool, Mapping: mapping, Today: in.Now, MaxRows: in.MaxRows,
		Unit: func(path string) (int64, string) {
			parts, err := tandem.SplitUnitPath(path)
			if err != nil {
				return 0, tandem.ErrorMessage(err)
			}
			u := tree.ByPath(parts)
			if u == nil {
				return 0, fmt.Sprintf("no unit has the path %q; give the path from the top of the organisation, as the roster names it", path)
			}
			return u.ID, ""
		}})
	if err != nil {
		return nil, err
	}
	stints, err := s.Stints(ctx)
	if err != nil {
		return nil, err
	}
	existing, err := s.Rounds(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	plan, err := history.Plan(f, history.PlanInput{Tree: tree, Audience: p.AudienceUnitID, InAudience: inAudience,
		K: p.MinGroup, Period: in.Period, Existing: existing,
		Headcount: func(day time.Time) map[int64]int {
			// The roster's headcount on day stands in for invitees: people
			// employed that day, in the unit they were in, within the
			// audience.
			n := map[int64]int{}
			for i := range stints {
				st := &stints[i]
				if !st.EmployedOn(day) {
					continue
				}
				if u := st.UnitOn(day); u != 0 && inAudience(u) {
					n[u]++
				}
			}
			return n
		}})
	if err != nil {
		return nil, err
	}
	res := &HistoryResult{Program: p, Period: in.Period, Used: f.Used, Questions: f.Questions, Ignored: f.Ignored, Responses: len(f.Responses)}
	for _, rd := range plan {
		inv := 0
		for _, n := range rd.Invited {
			inv += n
		}
		res.Rounds = append(res.Rounds, HistoryRound{Start: rd.Start, End: rd.End, Label: history.PeriodWords(in.Period, rd.Start),
			Responses: len(rd.Responses), Questions: len(rd.Questions), Groups: len(rd.Invited), Invited: inv, Below: rd.Below(p.MinGroup)})
	}
	if in.DryRun {
		return res, nil
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		for i, rd := range plan {
			// The check of history.Plan again, inside the transaction: a
			// round sent or imported since then keeps its period.
			var n int
			if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM rounds WHERE program_id = ? AND period >= ? AND period < ?",
				p.ID, tandem.FormatDate(rd.Start), tandem.FormatDate(rd.End)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return tandem.Errorf(tandem.ECONFLICT, "A round of %s was stored in %s while the file was checked; nothing was imported. Check the file again.", p.Name, res.Rounds[i].Label)
			}
			planned, err := p.PlanImportedRound(rd.Start, rd.End)
			if err != nil {
				return err
			}
			var id int64
			if err := s.queryRow(ctx, tx.tx, `INSERT INTO rounds (program_id, scheduled_at, seq, closes_at, manual, min_group, period, created_at, closed, grouped, imported)
				VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				p.ID, planned.ScheduledAt.Unix(), planned.ClosesAt.Unix(), false, planned.MinGroup, planned.Period, in.Now.Unix(), planned.Closed, true, planned.Imported).Scan(&id); err != nil {
				return s.wrapErr(err)
			}
			kinds := map[int64]pulse.Kind{}
			for pos, q := range rd.Questions {
				kinds[q.ID] = q.Kind
				if _, err := s.exec(ctx, tx.tx, "INSERT INTO round_questions (round_id, question_id, position) VALUES (?, ?, ?)", id, q.ID, pos); err != nil {
					return err
				}
			}
			for g, n := range rd.Invited {
				if _, err := s.exec(ctx, tx.tx, "INSERT INTO round_groups (round_id, unit_id, invited) VALUES (?, ?, ?)", id, g, n); err != nil {
					return err
				}
			}
			for _, resp := range rd.Responses {
				if err := tx.recordResponse(ctx, id, rd.Group[resp.UnitID], kinds, resp.Answers, resp.Comment); err != nil {
					return err
				}
			}
			res.Rounds[i].ID = id
		}
		first, last := plan[0].Start, plan[len(plan)-1].End.AddDate(0, 0, -1)
		_, err := s.exec(ctx, tx.tx, "INSERT INTO audit_log (at, user_id, user_email, action, detail) VALUES (?, ?, ?, ?, ?)",
			in.Now.Unix(), nil, in.Actor, "history.import",
			fmt.Sprintf("%d responses into %d imported rounds of %s (%s, %s to %s)", res.Responses, len(plan), p.Name, in.Period,
				tandem.FormatDate(first), tandem.FormatDate(last)))
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Applied = true
	return res, nil
}
