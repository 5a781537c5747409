package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Storage groups (privacy.StorageGroups) are decided when a round is
// created, in the same transaction as its invitations: each invitation's
// unit becomes its storage group, and round_groups keeps how many were
// invited into each. Answers are stored under the invitation's unit, so
// no response, running total or comment names a group smaller than k.

// treeIn loads the organisation tree inside tx.
func (tx *Tx) treeIn(ctx context.Context) (*tandem.Tree, error) {
	us, err := tx.s.units(ctx, tx.tx)
	if err != nil {
		return nil, err
	}
	return tandem.NewTree(us), nil
}

// groupRound decides the storage groups of round roundID, whose
// invitations name each person's own unit, and rewrites them to name the
// group. An audience smaller than k is refused: a round could never show
// anything, and its answers would be stored in a group below k.
func (tx *Tx) groupRound(ctx context.Context, roundID, audience int64, k int) error {
	s := tx.s
	invited, err := tx.countsByUnit(ctx, "SELECT unit_id, COUNT(*) FROM invitations WHERE round_id = ? GROUP BY unit_id", roundID)
	if err != nil {
		return err
	}
	tree, err := tx.treeIn(ctx)
	if err != nil {
		return err
	}
	group, size, err := privacy.StorageGroups(tree, audience, invited, k)
	var below privacy.ErrAudienceBelowK
	if errors.As(err, &below) {
		return tandem.Errorf(tandem.EINVALID, "No round was started: %s. Widen the audience, or ask an admin to lower the program's anonymity threshold (at least %d).", below.Error(), privacy.MinK)
	} else if err != nil {
		return err
	}
	for u, g := range group {
		if u == g {
			continue
		}
		if _, err := s.exec(ctx, tx.tx, "UPDATE invitations SET unit_id = ? WHERE round_id = ? AND unit_id = ?", g, roundID, u); err != nil {
			return err
		}
	}
	for g, n := range size {
		if _, err := s.exec(ctx, tx.tx, "INSERT INTO round_groups (round_id, unit_id, invited) VALUES (?, ?, ?)", roundID, g, n); err != nil {
			return err
		}
	}
	_, err = s.exec(ctx, tx.tx, "UPDATE rounds SET grouped = ? WHERE id = ?", true, roundID)
	return err
}

func (tx *Tx) countsByUnit(ctx context.Context, q string, args ...any) (pulse.UnitCounts, error) {
	rows, err := tx.s.query(ctx, tx.tx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := pulse.UnitCounts{}
	for rows.Next() {
		var u int64
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			return nil, err
		}
		out[u] = n
	}
	return out, rows.Err()
}

// regroupRounds brings rounds stored before storage groups existed under
// the rule: it decides each round's groups from its invitations, moves its
// responses and running totals to them (re-adding the totals of units that
// join), and, for a closed round, deletes what closing now deletes. A
// round whose whole audience was below k keeps its answers under the
// audience's top unit. It runs when the store opens and does nothing once
// every round is grouped.
func (s *Store) regroupRounds(ctx context.Context) error {
	rows, err := s.query(ctx, s.w, `SELECT r.id, p.audience_unit_id, r.min_group, r.closed FROM rounds r JOIN programs p ON p.id = r.program_id
		WHERE r.grouped = ? ORDER BY r.id`, false)
	if err != nil {
		return err
	}
	type todo struct {
		id, audience int64
		k            int
		closed       bool
	}
	var rounds []todo
	for rows.Next() {
		var t todo
		if err := rows.Scan(&t.id, &t.audience, &t.k, &t.closed); err != nil {
			rows.Close()
			return err
		}
		rounds = append(rounds, t)
	}
	rows.Close()
	for _, r := range rounds {
		err := s.InTx(ctx, func(tx *Tx) error {
			err := tx.groupRound(ctx, r.id, r.audience, r.k)
			if tandem.ErrorCode(err) == tandem.EINVALID {
				err = tx.groupWhole(ctx, r.id, r.audience)
			}
			if err != nil {
				return err
			}
			if err := tx.moveAnswersToGroups(ctx, r.id); err != nil {
				return err
			}
			if r.closed {
				return tx.forgetParticipants(ctx, []int64{r.id})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("regroup round %d under the anonymity rule: %w", r.id, err)
		}
	}
	return nil
}

// groupWhole puts every invitation of a round into one group, the
// audience's top unit (for old rounds whose whole audience was below k).
func (tx *Tx) groupWhole(ctx context.Context, roundID, audience int64) error {
	s := tx.s
	var n int
	if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM invitations WHERE round_id = ?", roundID).Scan(&n); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx.tx, "UPDATE invitations SET unit_id = ? WHERE round_id = ?", audience, roundID); err != nil {
		return err
	}
	if n > 0 {
		if _, err := s.exec(ctx, tx.tx, "INSERT INTO round_groups (round_id, unit_id, invited) VALUES (?, ?, ?)", roundID, audience, n); err != nil {
			return err
		}
	}
	_, err := s.exec(ctx, tx.tx, "UPDATE rounds SET grouped = ? WHERE id = ?", true, roundID)
	return err
}

// moveAnswersToGroups re-keys an old round's responses and running totals
// from people's own units to their storage groups. A unit's group is read
// off the group tree: the nearest unit at or above it that is a group of
// the round.
func (tx *Tx) moveAnswersToGroups(ctx context.Context, roundID int64) error {
	s := tx.s
	groups, err := tx.countsByUnit(ctx, "SELECT unit_id, invited FROM round_groups WHERE round_id = ?", roundID)
	if err != nil {
		return err
	}
	tree, err := tx.treeIn(ctx)
	if err != nil {
		return err
	}
	groupOf := func(u int64) int64 {
		for id := u; id != 0; {
			if _, ok := groups[id]; ok {
				return id
			}
			unit := tree.Unit(id)
			if unit == nil {
				break
			}
			id = unit.ParentID
		}
		// Below no group (an answer from outside the audience): the
		// largest group holds it.
		var best int64
		for g, n := range groups {
			if best == 0 || n > groups[best] || (n == groups[best] && g < best) {
				best = g
			}
		}
		return best
	}
	units, err := tx.countsByUnit(ctx, `SELECT unit_id, COUNT(*) FROM (SELECT unit_id FROM responses WHERE round_id = ?
		UNION ALL SELECT unit_id FROM round_scores WHERE round_id = ? UNION ALL SELECT rater_unit_id FROM service_scores WHERE round_id = ?) x GROUP BY unit_id`,
		roundID, roundID, roundID)
	if err != nil {
		return err
	}
	moved := false
	for u := range units {
		g := groupOf(u)
		if g == u || g == 0 {
			continue
		}
		moved = true
		if _, err := s.exec(ctx, tx.tx, "UPDATE responses SET unit_id = ? WHERE round_id = ? AND unit_id = ?", g, roundID, u); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO round_scores (round_id, unit_id, question_id, n, sum, promoters, detractors)
			SELECT round_id, ?, question_id, n, sum, promoters, detractors FROM round_scores WHERE round_id = ? AND unit_id = ?
			ON CONFLICT (round_id, unit_id, question_id) DO UPDATE SET n = round_scores.n + excluded.n, sum = round_scores.sum + excluded.sum,
			promoters = round_scores.promoters + excluded.promoters, detractors = round_scores.detractors + excluded.detractors`, g, roundID, u); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM round_scores WHERE round_id = ? AND unit_id = ?", roundID, u); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx.tx, `INSERT INTO service_scores (round_id, rater_unit_id, provider_unit_id, n, sum)
			SELECT round_id, ?, provider_unit_id, n, sum FROM service_scores WHERE round_id = ? AND rater_unit_id = ?
			ON CONFLICT (round_id, rater_unit_id, provider_unit_id) DO UPDATE SET n = service_scores.n + excluded.n, sum = service_scores.sum + excluded.sum`, g, roundID, u); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM service_scores WHERE round_id = ? AND rater_unit_id = ?", roundID, u); err != nil {
			return err
		}
	}
	if !moved {
		return nil
	}
	// The round's saved agreement inputs summarised the answers where they
	// were; the first report from now on summarises them again.
	for _, table := range []string{"round_agreement", "round_agreement_sets"} {
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM "+table+" WHERE round_id = ?", roundID); err != nil {
			return err
		}
	}
	return tx.bumpReleased(ctx)
}

// forgetParticipants deletes what a closed round no longer needs and what
// would say who took part: its invitations, every invitation and reminder
// message with its recipient, and the link hashes' tie to a person (the
// hashes stay, tied to the round only, so an old link says the round has
// closed).
// round_groups keeps the invited counts; responses count who answered.
func (tx *Tx) forgetParticipants(ctx context.Context, roundIDs []int64) error {
	if len(roundIDs) == 0 {
		return nil
	}
	s := tx.s
	ph, args := inList(roundIDs)
	if _, err := s.exec(ctx, tx.tx, `DELETE FROM outbox WHERE kind IN ('invite', 'reminder') AND ref IN (
		SELECT id FROM invitations WHERE round_id IN (`+ph+`))`, args...); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx.tx, `INSERT INTO expired_links (token_hash, round_id)
		SELECT t.token_hash, i.round_id FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id WHERE i.round_id IN (`+ph+`)
		ON CONFLICT (token_hash) DO NOTHING`, args...); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx.tx, "DELETE FROM invitation_tokens WHERE invitation_id IN (SELECT id FROM invitations WHERE round_id IN ("+ph+"))", args...); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx.tx, "DELETE FROM invitations WHERE round_id IN ("+ph+")", args...)
	return err
}
