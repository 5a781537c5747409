package store

import (
	"context"
	"database/sql"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// released limits an aggregate read to released rounds (pulse.Round.
// Released: closed ones). Every read that feeds a figure, a comment or an
// export appends it to its WHERE with one more argument, true.
const released = " AND round_id IN (SELECT id FROM rounds WHERE closed = ?)"

// LoadRoundSet loads the questions, respondents and scores of rounds; the
// set keeps the rounds in the order given.
func (s *Store) LoadRoundSet(ctx context.Context, rounds []pulse.Round) (pulse.RoundSet, error) {
	set := pulse.RoundSet{Rounds: rounds, Questions: make(map[int64][]pulse.Question, len(rounds))}
	ids := make([]int64, len(rounds))
	for i, r := range rounds {
		ids[i] = r.ID
		qs, err := s.RoundQuestions(ctx, r.ID)
		if err != nil {
			return set, err
		}
		set.Questions[r.ID] = qs
	}
	var err error
	if set.Respondents, err = s.Respondents(ctx, ids); err != nil {
		return set, err
	}
	set.Scores, err = s.Scores(ctx, ids)
	return set, err
}

// Scores returns the score totals of the given rounds.
func (s *Store) Scores(ctx context.Context, roundIDs []int64) ([]pulse.ScoreRow, error) {
	if len(roundIDs) == 0 {
		return nil, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, "SELECT round_id, unit_id, question_id, n, sum, promoters, detractors FROM round_scores WHERE round_id IN ("+ph+")"+released, append(args, true)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.ScoreRow
	for rows.Next() {
		var r pulse.ScoreRow
		if err := rows.Scan(&r.RoundID, &r.UnitID, &r.QuestionID, &r.N, &r.Sum, &r.Promoters, &r.Detractors); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Respondents returns, per round, how many responses each unit gave.
func (s *Store) Respondents(ctx context.Context, roundIDs []int64) (map[int64]pulse.UnitCounts, error) {
	out := map[int64]pulse.UnitCounts{}
	if len(roundIDs) == 0 {
		return out, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, "SELECT round_id, unit_id, COUNT(*) FROM responses WHERE round_id IN ("+ph+")"+released+" GROUP BY round_id, unit_id", append(args, true)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var round, unit int64
		var n int
		if err := rows.Scan(&round, &unit, &n); err != nil {
			return nil, err
		}
		if out[round] == nil {
			out[round] = pulse.UnitCounts{}
		}
		out[round][unit] = n
	}
	return out, rows.Err()
}

// Participation returns a round's invited and responded counts per
// storage group, open or closed: who took part is never kept per person
// once a round closes, and the groups hold at least k invited each.
func (s *Store) Participation(ctx context.Context, roundID int64) (invited, responded pulse.UnitCounts, err error) {
	invited, responded = pulse.UnitCounts{}, pulse.UnitCounts{}
	rows, err := s.query(ctx, s.r, `SELECT g.unit_id, g.invited, (SELECT COUNT(*) FROM responses r WHERE r.round_id = g.round_id AND r.unit_id = g.unit_id)
		FROM round_groups g WHERE g.round_id = ?`, roundID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var unit int64
		var inv, resp int
		if err := rows.Scan(&unit, &inv, &resp); err != nil {
			return nil, nil, err
		}
		invited[unit], responded[unit] = inv, resp
	}
	return invited, responded, rows.Err()
}

// ParticipationOf is Participation for several rounds in one read: per
// round id, the invited and responded counts per storage group.
func (s *Store) ParticipationOf(ctx context.Context, roundIDs []int64) (invited, responded map[int64]pulse.UnitCounts, err error) {
	invited, responded = map[int64]pulse.UnitCounts{}, map[int64]pulse.UnitCounts{}
	if len(roundIDs) == 0 {
		return invited, responded, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, `SELECT g.round_id, g.unit_id, g.invited, (SELECT COUNT(*) FROM responses r WHERE r.round_id = g.round_id AND r.unit_id = g.unit_id)
		FROM round_groups g WHERE g.round_id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var round, unit int64
		var inv, resp int
		if err := rows.Scan(&round, &unit, &inv, &resp); err != nil {
			return nil, nil, err
		}
		if invited[round] == nil {
			invited[round], responded[round] = pulse.UnitCounts{}, pulse.UnitCounts{}
		}
		invited[round][unit], responded[round][unit] = inv, resp
	}
	return invited, responded, rows.Err()
}

// TextAnswers returns a released round's comments and free-text answers
// in response-id order, which is random: it says nothing about who
// answered when. An open round has none to show.
func (s *Store) TextAnswers(ctx context.Context, roundID int64) ([]pulse.TextAnswer, error) {
	rows, err := s.query(ctx, s.r, `SELECT unit_id, 0, comment, id FROM responses WHERE round_id = ? AND comment <> ''`+released+`
		UNION ALL SELECT r.unit_id, a.question_id, a.text, r.id FROM answers a JOIN responses r ON r.id = a.response_id
		WHERE r.round_id = ? AND a.text <> ''`+released+` ORDER BY 4, 2`, roundID, true, roundID, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.TextAnswer
	for rows.Next() {
		var t pulse.TextAnswer
		var id int64
		if err := rows.Scan(&t.UnitID, &t.QuestionID, &t.Text, &id); err != nil {
			return nil, err
		}
		t.Key = pulse.CommentKey(roundID, id, t.QuestionID)
		out = append(out, t)
	}
	return out, rows.Err()
}

// ChoiceCounts returns the single-choice answers of a round, counted.
func (s *Store) ChoiceCounts(ctx context.Context, roundID int64) ([]pulse.ChoiceCount, error) {
	rows, err := s.query(ctx, s.r, `SELECT r.unit_id, a.question_id, a.value, COUNT(*) FROM answers a
		JOIN responses r ON r.id = a.response_id JOIN questions q ON q.id = a.question_id
		WHERE r.round_id = ? AND q.kind = 'choice' AND a.value IS NOT NULL`+released+` GROUP BY r.unit_id, a.question_id, a.value`, roundID, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.ChoiceCount
	for rows.Next() {
		var c pulse.ChoiceCount
		var v sql.NullFloat64
		if err := rows.Scan(&c.UnitID, &c.QuestionID, &v, &c.N); err != nil {
			return nil, err
		}
		c.Option = int(v.Float64)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ServiceScores returns the internal-service totals of the given rounds.
func (s *Store) ServiceScores(ctx context.Context, roundIDs []int64) ([]pulse.ServiceRow, error) {
	if len(roundIDs) == 0 {
		return nil, nil
	}
	ph, args := inList(roundIDs)
	rows, err := s.query(ctx, s.r, "SELECT round_id, rater_unit_id, provider_unit_id, n, sum FROM service_scores WHERE round_id IN ("+ph+")"+released, append(args, true)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.ServiceRow
	for rows.Next() {
		var r pulse.ServiceRow
		if err := rows.Scan(&r.RoundID, &r.RaterUnitID, &r.ProviderUnitID, &r.N, &r.Sum); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
