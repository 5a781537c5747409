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
	type answer struct {
		round, unit, response, question int64
		value                           float64
	}
	var all []answer
	for rows.Next() {
		var a answer
		var v sql.NullFloat64
		if err := rows.Scan(&a.round, &a.unit, &a.response, &a.question, &v); err != nil {
			return nil, err
		}
		a.value = math.NaN()
		if v.Valid {
			a.value = v.Float64
		}
		all = append(all, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Each round's items: every index question answered in it.
	items := map[int64][]int64{}
	for _, a := range all {
		if !slices.Contains(items[a.round], a.question) {
			items[a.round] = append(items[a.round], a.question)
		}
	}
	for _, it := range items {
		slices.Sort(it)
	}
	var out []pulse.IndexAnswers
	for i := 0; i < len(all); {
		a := all[i]
		it := items[a.round]
		vals := make([]float64, len(it))
		for k := range vals {
			vals[k] = math.NaN()
		}
		for ; i < len(all) && all[i].response == a.response && all[i].round == a.round; i++ {
			vals[slices.Index(it, all[i].question)] = all[i].value
		}
		out = append(out, pulse.IndexAnswers{RoundID: a.round, UnitID: a.unit, Items: it, Values: vals})
	}
	return out, nil
}
