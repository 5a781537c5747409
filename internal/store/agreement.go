package store

import (
	"context"
	"database/sql"
	"math"
	"slices"

	"github.com/tandem-hq/tandem/internal/pulse"
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
		a.Values[c] = math.NaN() // a NULL value is an item not answered
		if v.Valid {
			a.Values[c] = v.Float64
		}
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
