package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"
)

// On PostgreSQL a batch of answers is written with a handful of
// statements whatever its size, each taking arrays (unnest), instead of
// four statements per answer: the guard marks every invitation of the
// batch answered at once, then come the responses, their answers and the
// additions to the running totals. A batch is one transaction of one
// replica; replicas write their batches side by side, and meet only on
// the rows they share (the same invitation answered through two replicas,
// a team's running totals). So that two batches never wait for each other
// in a circle, the totals are summed per row first and written in key
// order, and the invitations are locked in id order before the guard
// writes them; a deadlock or serialization failure PostgreSQL still
// reports rolls the batch back and it is written again.

// pgRetries is how often a batch that PostgreSQL rolled back for a
// deadlock or a serialization failure is tried again.
const pgRetries = 3

func (s *Store) writeBatchPostgres(batch []*submission) []error {
	ctx := context.Background()
	var results []error
	var err error
	for attempt := 0; ; attempt++ {
		results = make([]error, len(batch))
		err = s.InTx(ctx, func(tx *Tx) error { return tx.submitAll(ctx, batch, results) })
		if err == nil || attempt == pgRetries || !isPgRetryable(err) {
			break
		}
	}
	for i := range results {
		if err != nil && results[i] == nil {
			results[i] = fmt.Errorf("store %d answers together: %w", len(batch), err)
		}
	}
	return results
}

func isPgRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// submitAll writes the submissions of a batch in tx. results[i] is set for
// a submission refused (answered or closed since its checks, or invalid);
// such a submission writes nothing. Any other failure is returned.
func (tx *Tx) submitAll(ctx context.Context, batch []*submission, results []error) error {
	s := tx.s
	rows := make([]responseRows, len(batch))
	var invs, rounds, nows []int64
	for i, sub := range batch {
		r, err := responseRowsOf(sub.kinds, sub.answers)
		if err != nil {
			results[i] = err
			continue
		}
		rows[i] = r
		invs = append(invs, sub.invitationID)
		rounds = append(rounds, sub.roundID)
		nows = append(nows, sub.now.Unix())
	}
	if len(invs) == 0 {
		return nil
	}
	// Lock the batch's invitations in id order before the guard writes
	// them. The guard's UPDATE locks them in whatever order its join
	// visits them, which differs between plans and heaps: two batches that
	// share invitations (one person's answer posted through two replicas
	// at once) each locked one the other wanted, and PostgreSQL rolled
	// them back for a deadlock, four times running under load (the
	// replicas' same-invitation test, about one run in four). In one
	// order, the second batch waits at the first invitation they share.
	locked := slices.Clone(invs)
	slices.Sort(locked)
	if _, err := s.exec(ctx, tx.tx, `SELECT id FROM invitations WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE`, locked); err != nil {
		return err
	}
	// The guard of every submission in one statement: the same as
	// tx.submit's, row by row.
	q, err := s.query(ctx, tx.tx, `UPDATE invitations i SET responded = TRUE
		FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS s(inv, round, now)
		WHERE i.id = s.inv AND i.responded = FALSE
		AND EXISTS (SELECT 1 FROM rounds r WHERE r.id = s.round AND r.closed = FALSE AND r.closes_at > s.now)
		RETURNING i.id`, invs, rounds, nows)
	if err != nil {
		return err
	}
	marked := map[int64]bool{}
	for q.Next() {
		var id int64
		if err := q.Scan(&id); err != nil {
			q.Close()
			return err
		}
		marked[id] = true
	}
	q.Close()
	if err := q.Err(); err != nil {
		return s.wrapErr(err)
	}
	var accepted []int
	for i, sub := range batch {
		if results[i] != nil {
			continue
		}
		if marked[sub.invitationID] {
			// The first submission of an invitation is its answer; a
			// second in the same batch was answered already.
			delete(marked, sub.invitationID)
			accepted = append(accepted, i)
			continue
		}
		if err := tx.refusal(ctx, sub); err != nil {
			results[i] = err
			if !isRefusal(err) {
				return err
			}
		} else {
			// Marked by a submission before it in this batch.
			results[i] = ErrAlreadyAnswered
		}
	}
	if len(accepted) == 0 {
		return nil
	}
	ids, err := tx.insertResponses(ctx, batch, accepted)
	if err != nil {
		return err
	}

	var aResp, aQuestion []int64
	var aValue []*float64
	var aText []string
	var aProvider []*int64
	type scoreKey struct{ round, unit, question int64 }
	type scoreSum struct {
		n, promoters, detractors int64
		sum                      float64
	}
	scores := map[scoreKey]scoreSum{}
	type serviceKey struct{ round, rater, provider int64 }
	type serviceSum struct {
		n   int64
		sum float64
	}
	service := map[serviceKey]serviceSum{}
	for k, i := range accepted {
		sub, r := batch[i], rows[i]
		for _, a := range r.answers {
			aResp = append(aResp, ids[k])
			aQuestion = append(aQuestion, a.questionID)
			var v *float64
			if a.value.Valid {
				v = &a.value.Float64
			}
			aValue = append(aValue, v)
			aText = append(aText, a.text)
			var p *int64
			if a.provider.Valid {
				p = &a.provider.Int64
			}
			aProvider = append(aProvider, p)
		}
		for _, sc := range r.scores {
			key := scoreKey{sub.roundID, sub.unitID, sc.questionID}
			t := scores[key]
			t.n++
			t.sum += sc.value
			t.promoters += int64(sc.promoter)
			t.detractors += int64(sc.detractor)
			scores[key] = t
		}
		for _, sv := range r.service {
			key := serviceKey{sub.roundID, sub.unitID, sv.provider}
			t := service[key]
			t.n++
			t.sum += sv.mean
			service[key] = t
		}
	}
	if len(aResp) > 0 {
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO answers (response_id, question_id, value, text, provider_unit_id)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::float8[], ?::text[], ?::bigint[])`,
			aResp, aQuestion, aValue, aText, aProvider); err != nil {
			return err
		}
	}
	if len(service) > 0 {
		keys := make([]serviceKey, 0, len(service))
		for k := range service {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b serviceKey) int {
			return cmp.Or(cmp.Compare(a.round, b.round), cmp.Compare(a.rater, b.rater), cmp.Compare(a.provider, b.provider))
		})
		var rs, raters, providers, ns []int64
		var sums []float64
		for _, k := range keys {
			rs, raters, providers = append(rs, k.round), append(raters, k.rater), append(providers, k.provider)
			ns, sums = append(ns, service[k].n), append(sums, service[k].sum)
		}
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO service_scores (round_id, rater_unit_id, provider_unit_id, n, sum)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::float8[])
			ON CONFLICT (round_id, rater_unit_id, provider_unit_id) DO UPDATE SET
			n = service_scores.n + excluded.n, sum = service_scores.sum + excluded.sum`,
			rs, raters, providers, ns, sums); err != nil {
			return err
		}
	}
	if len(scores) > 0 {
		keys := make([]scoreKey, 0, len(scores))
		for k := range scores {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b scoreKey) int {
			return cmp.Or(cmp.Compare(a.round, b.round), cmp.Compare(a.unit, b.unit), cmp.Compare(a.question, b.question))
		})
		var rs, units, qs, ns, proms, detrs []int64
		var sums []float64
		for _, k := range keys {
			t := scores[k]
			rs, units, qs = append(rs, k.round), append(units, k.unit), append(qs, k.question)
			ns, sums, proms, detrs = append(ns, t.n), append(sums, t.sum), append(proms, t.promoters), append(detrs, t.detractors)
		}
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO round_scores (round_id, unit_id, question_id, n, sum, promoters, detractors)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::float8[], ?::bigint[], ?::bigint[])
			ON CONFLICT (round_id, unit_id, question_id) DO UPDATE SET
			n = round_scores.n + excluded.n, sum = round_scores.sum + excluded.sum,
			promoters = round_scores.promoters + excluded.promoters, detractors = round_scores.detractors + excluded.detractors`,
			rs, units, qs, ns, sums, proms, detrs); err != nil {
			return err
		}
	}
	return nil
}

// isRefusal reports whether err is one of the refusals a submission's
// guard gives, which write nothing and leave the batch whole.
func isRefusal(err error) bool {
	return err == ErrAlreadyAnswered || err == ErrRoundClosed || err == ErrUnknownLink
}

// insertResponses stores one response per accepted submission under random
// ids, drawing again for ids that are taken, and returns the ids in the
// order of accepted.
func (tx *Tx) insertResponses(ctx context.Context, batch []*submission, accepted []int) ([]int64, error) {
	ids := make([]int64, len(accepted))
	todo := make([]int, len(accepted)) // positions in accepted still without an id
	for k := range todo {
		todo[k] = k
	}
	for attempt := 0; attempt < 5 && len(todo) > 0; attempt++ {
		var draws, rounds, units []int64
		var comments []string
		for _, k := range todo {
			id, err := drawResponseID()
			if err != nil {
				return nil, err
			}
			sub := batch[accepted[k]]
			ids[k] = id
			draws, rounds, units, comments = append(draws, id), append(rounds, sub.roundID), append(units, sub.unitID), append(comments, sub.comment)
		}
		// A taken id is skipped, not an error, which would abort the
		// transaction; so is an id drawn twice in this statement.
		q, err := tx.s.query(ctx, tx.tx, `INSERT INTO responses (id, round_id, unit_id, comment)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[]) ON CONFLICT (id) DO NOTHING RETURNING id`,
			draws, rounds, units, comments)
		if err != nil {
			return nil, err
		}
		stored := map[int64]bool{}
		for q.Next() {
			var id int64
			if err := q.Scan(&id); err != nil {
				q.Close()
				return nil, err
			}
			stored[id] = true
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, tx.s.wrapErr(err)
		}
		var again []int
		for _, k := range todo {
			if stored[ids[k]] {
				delete(stored, ids[k]) // an id drawn twice was stored once
			} else {
				again = append(again, k)
			}
		}
		todo = again
	}
	if len(todo) > 0 {
		return nil, fmt.Errorf("could not draw a free response id")
	}
	return ids, nil
}
