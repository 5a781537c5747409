package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// IndexAnswers returns every response's answers to the engagement-index
// items of the given closed rounds, one pulse.IndexAnswers per response,
// ordered by round and response: what the correlation report needs for
// ICC and rwg, which are computed from individual answers. Responses that
// answered no index item are left out.
func (s *Store) IndexAnswers(ctx context.Context, roundIDs []int64) ([]pulse.IndexAnswers, error) {
	if len(roundIDs) == 0 {
		return nil, nil
	}
	ph, args := inList(roundIDs)
	q := `SELECT r.round_id, r.unit_id, r.id, a.question_id, a.value
		FROM responses r JOIN answers a ON a.response_id = r.id JOIN questions q ON q.id = a.question_id
		WHERE r.round_id IN (` + ph + `) AND q.kind = '` + string(pulse.Likert5) + `' AND q.in_index = ?
		AND r.round_id IN (SELECT id FROM rounds WHERE closed = ?)
		ORDER BY r.round_id, r.id, a.question_id`
	rows, err := s.query(ctx, s.r, q, append(args, true, true)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// The answers are laid out per response as they come, not first read
	// into one row each: at 50,000 employees two rounds are half a million
	// answers, 40 bytes each and twice that while the slice grows, which was
	// most of a first report's memory. A round's items are numbered as they
	// are met and put in id order once the round is read.
	type roundItems struct {
		round int64
		col   map[int64]int // question id → column, in order of first answer
		items []int64
		first int // the round's first response in out
	}
	var (
		out    []pulse.IndexAnswers
		rounds []*roundItems
		cur    *roundItems
		last   = int64(-1) // the response of out's last element
	)
	for rows.Next() {
		var round, unit, response, question int64
		var v sql.NullFloat64
		if err := rows.Scan(&round, &unit, &response, &question, &v); err != nil {
			return nil, err
		}
		if cur == nil || cur.round != round {
			cur = &roundItems{round: round, col: map[int64]int{}, first: len(out)}
			rounds = append(rounds, cur)
			last = -1
		}
		c, ok := cur.col[question]
		if !ok {
			c = len(cur.items)
			cur.col[question] = c
			cur.items = append(cur.items, question)
		}
		if response != last {
			out = append(out, pulse.IndexAnswers{RoundID: round, UnitID: unit})
			last = response
		}
		a := &out[len(out)-1]
		for len(a.Values) <= c {
			a.Values = append(a.Values, math.NaN())
		}
		a.Values[c] = nanIfNull(v) // a NULL value is an item not answered
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Each round's items in id order, and every response's values in one
	// block per round in that order, NaN for an item it did not answer.
	for i, ri := range rounds {
		end := len(out)
		if i+1 < len(rounds) {
			end = rounds[i+1].first
		}
		items := slices.Clone(ri.items)
		slices.Sort(items)
		to := make([]int, len(ri.items)) // a column as met → its place in items
		for c, q := range ri.items {
			to[c], _ = slices.BinarySearch(items, q)
		}
		block := make([]float64, (end-ri.first)*len(items))
		for k := range block {
			block[k] = math.NaN()
		}
		for j := ri.first; j < end; j++ {
			vals := block[:len(items):len(items)]
			block = block[len(items):]
			for c, v := range out[j].Values {
				vals[to[c]] = v
			}
			out[j].Items, out[j].Values = items, vals
		}
	}
	return out, nil
}

// SavedAgreement returns the agreement inputs saved (SaveAgreement) for
// those of roundIDs that have them, by round id: every unit's, in unit id
// order, and an empty RoundAgreement for a round saved without units.
// Rounds not saved are not in the map.
func (s *Store) SavedAgreement(ctx context.Context, roundIDs []int64) (map[int64]pulse.RoundAgreement, error) {
	out := map[int64]pulse.RoundAgreement{}
	if len(roundIDs) == 0 {
		return out, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, `SELECT s.round_id, s.units, a.unit_id, a.n, a.mean, a.ss, a.rwg, a.rwg_n
		FROM round_agreement_sets s LEFT JOIN round_agreement a ON a.round_id = s.round_id
		WHERE s.round_id IN (`+ph+`) ORDER BY s.round_id, a.unit_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	units := map[int64]int{}
	for rows.Next() {
		var round int64
		var n int
		var unit, count, rwgN sql.NullInt64
		var mean, ss, rwg sql.NullFloat64
		if err := rows.Scan(&round, &n, &unit, &count, &mean, &ss, &rwg, &rwgN); err != nil {
			return nil, err
		}
		if _, ok := out[round]; !ok {
			out[round] = make(pulse.RoundAgreement, 0, n)
			units[round] = n
		}
		if !unit.Valid {
			continue // a round saved without units
		}
		out[round] = append(out[round], pulse.UnitAgreement{Unit: unit.Int64,
			Index: stats.GroupMoments{N: int(count.Int64), Mean: nanIfNull(mean), SS: nanIfNull(ss)},
			RWG:   nanIfNull(rwg), RWGN: int(rwgN.Int64)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for round, ra := range out {
		if len(ra) != units[round] {
			return nil, fmt.Errorf("round %d's saved agreement inputs have %d units, its set row says %d: the database was changed outside Tandem", round, len(ra), units[round])
		}
	}
	return out, nil
}

// SaveAgreement saves closed round's agreement inputs ra (the summary of
// its index answers), all in one transaction. A round saved already is
// left as it is: its answers cannot change once it is closed, so another
// server (a replica) saved the same. An open round is refused.
func (s *Store) SaveAgreement(ctx context.Context, round int64, ra pulse.RoundAgreement) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var closed bool
		err := s.queryRow(ctx, tx.tx, "SELECT closed FROM rounds WHERE id = ?", round).Scan(&closed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return tandem.Errorf(tandem.ENOTFOUND, "there is no round %d", round)
		case err != nil:
			return s.wrapErr(err)
		case !closed:
			return tandem.Errorf(tandem.EINVALID, "round %d is still open: its agreement inputs are saved once it is closed", round)
		}
		res, err := s.exec(ctx, tx.tx, "INSERT INTO round_agreement_sets (round_id, units) VALUES (?, ?) ON CONFLICT (round_id) DO NOTHING", round, len(ra))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // saved before (n == 0)
		}
		ins, err := tx.tx.PrepareContext(ctx, s.q("INSERT INTO round_agreement (round_id, unit_id, n, mean, ss, rwg, rwg_n) VALUES (?, ?, ?, ?, ?, ?, ?)"))
		if err != nil {
			return s.wrapErr(err)
		}
		defer ins.Close()
		for _, ua := range ra {
			if _, err := ins.ExecContext(ctx, round, ua.Unit, ua.Index.N, nullIfNaN(ua.Index.Mean), nullIfNaN(ua.Index.SS), nullIfNaN(ua.RWG), ua.RWGN); err != nil {
				return s.wrapErr(err)
			}
		}
		return nil
	})
}

// nullIfNaN stores NaN (no value) as NULL: SQLite has no NaN.
func nullIfNaN(v float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: v, Valid: !math.IsNaN(v)}
}

func nanIfNull(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// UnsavedAgreementRounds returns up to limit closed rounds whose
// agreement inputs are not saved (SaveAgreement), the latest first: the
// rounds a report reads most.
func (s *Store) UnsavedAgreementRounds(ctx context.Context, limit int) ([]int64, error) {
	return s.ids(ctx, s.r, `SELECT id FROM rounds WHERE closed = ? AND id NOT IN (SELECT round_id FROM round_agreement_sets)
		ORDER BY scheduled_at DESC, id DESC LIMIT ?`, true, limit)
}
