// Package report builds what leaders and HR read — pulse results, customer
// metrics, the engagement↔customer correlation, retention — from the
// totals it reads through its Source interfaces (the store implements
// them; report does not import it) and the stats package, and applies the
// anonymity rules before anything leaves it: a unit below the threshold
// never appears in a report. The web package only renders what it builds.
//
// Rules with their one home here: a round's results for a scope
// (BuildRoundResults, with the participation a viewer may see:
// ParticipationIn); the heatmap's columns, each from one round's decision
// (BuildHeatmap); the biggest changes between the two latest rounds
// (BiggestChanges); customer totals rolled up to a unit (CustomerOf); the
// dashboard chart's engagement beside its week's CSAT (EngagementAndCSAT).
// The threshold every report applies is privacy.Threshold's (privacy.Decide
// calls it); scores are pulse.Score's.
package report

import (
	"sort"
	"strings"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// UnitResult is one unit's row in a round's results.
type UnitResult struct {
	Unit *tandem.Unit
	// Depth is the unit's depth below the scope's top, for indenting.
	Depth int
	pulse.Scores
}

// Participation is one unit's invited and answered counts.
type Participation struct {
	Unit               *tandem.Unit
	Depth              int
	Invited, Responded int
	Rate               float64
}

// CommentGroup holds the comments of the people of one shown unit (and of
// its hidden descendants, rolled up into it).
type CommentGroup struct {
	Unit       *tandem.Unit
	QuestionID int64  // 0 for general comments
	Question   string // "" for general comments
	Items      []Comment
}

// Comment is one comment as a leader sees it: its text and the key that
// names it (pulse.CommentKey), nothing about who wrote it.
type Comment struct {
	Key  string
	Text string
}

// RoundResults is what the results page shows for one round.
type RoundResults struct {
	Round     pulse.Round
	Questions []pulse.Question
	K         int
	// Units are the shown units within the scope, in tree order.
	Units []UnitResult
	// Released says whether the round's results may be shown
	// (pulse.Round.Released); an open round has participation only.
	Released bool
	// Hidden counts the storage groups in scope whose answers are counted
	// in a unit above them (a released round's, so it never changes).
	Hidden int
	// Total is the participation of the viewer's whole scope, when at
	// least k were invited there (nil otherwise).
	Total         *Participation
	Participation []Participation
	Comments      []CommentGroup
	// Choices maps question id → unit id → option counts (shown units only).
	Choices map[int64]map[int64][]int
}

// RoundInput is what BuildRoundResults reads of a round.
type RoundInput struct {
	Tree        *tandem.Tree
	Scope       int64 // 0: the whole organisation
	Round       pulse.Round
	Questions   []pulse.Question
	Respondents pulse.UnitCounts
	Scores      []pulse.ScoreRow
	Invited     pulse.UnitCounts
	Responded   pulse.UnitCounts
	Texts       []pulse.TextAnswer
	ChoiceRows  []pulse.ChoiceCount
}

// BuildRoundResults applies the anonymity threshold of the round to its
// totals. The decision which units to show is made on the whole
// organisation and then cut to the scope, so that two people with
// different scopes see consistent numbers that cannot be subtracted.
func BuildRoundResults(in RoundInput) *RoundResults {
	k := in.Round.MinGroup
	respondents, scores, texts, choices := in.Respondents, in.Scores, in.Texts, in.ChoiceRows
	if !in.Round.Released() {
		// Whatever the caller read, an open round shows no answer.
		respondents, scores, texts, choices = nil, nil, nil, nil
	}
	vis := privacy.Decide(in.Tree, respondents, k)
	res := &RoundResults{Round: in.Round, Questions: in.Questions, K: vis.K(), Released: in.Round.Released(), Choices: map[int64]map[int64][]int{}}

	// Per unit (direct) totals by question.
	direct := map[int64]map[int64]pulse.Totals{}
	for _, r := range scores {
		if direct[r.UnitID] == nil {
			direct[r.UnitID] = map[int64]pulse.Totals{}
		}
		t := direct[r.UnitID][r.QuestionID]
		t.Add(r)
		direct[r.UnitID][r.QuestionID] = t
	}
	top := topDepth(in.Tree, in.Scope)
	for _, id := range vis.ShownUnits(in.Scope) {
		totals := map[int64]pulse.Totals{}
		for _, sub := range in.Tree.Subtree(id) {
			for q, t := range direct[sub] {
				acc := totals[q]
				acc.N += t.N
				acc.Sum += t.Sum
				acc.Promoters += t.Promoters
				acc.Detractors += t.Detractors
				totals[q] = acc
			}
		}
		u := in.Tree.Unit(id)
		res.Units = append(res.Units, UnitResult{Unit: u, Depth: u.Depth - top, Scores: pulse.Score(totals, in.Questions, vis.Count(id))})
	}
	for id, n := range respondents {
		if n > 0 && !vis.Shown(id) && inScope(in.Tree, in.Scope, id) {
			res.Hidden++
		}
	}

	// Participation, under the same threshold applied to invited counts:
	// a small team's participation would say who did not answer.
	pvis := privacy.Decide(in.Tree, in.Invited, k)
	for _, id := range pvis.ShownUnits(in.Scope) {
		inv, resp := 0, 0
		for _, sub := range in.Tree.Subtree(id) {
			inv += in.Invited[sub]
			resp += in.Responded[sub]
		}
		u := in.Tree.Unit(id)
		p := Participation{Unit: u, Depth: u.Depth - top, Invited: inv, Responded: resp}
		if inv > 0 {
			p.Rate = float64(resp) / float64(inv)
		}
		res.Participation = append(res.Participation, p)
	}
	if inv, resp, ok := ParticipationIn(in.Tree, in.Scope, k, in.Invited, in.Responded); ok {
		res.Total = &Participation{Unit: in.Tree.Unit(in.Scope), Invited: inv, Responded: resp, Rate: float64(resp) / float64(inv)}
	}

	res.Comments = roundComments(in.Tree, in.Scope, vis, in.Questions, texts)

	// Single-choice counts for shown units.
	opts := map[int64]int{}
	for _, q := range in.Questions {
		opts[q.ID] = len(q.Choices)
	}
	for _, id := range vis.ShownUnits(in.Scope) {
		for _, c := range choices {
			if !in.Tree.Contains(id, c.UnitID) || c.Option < 0 || c.Option >= opts[c.QuestionID] {
				continue
			}
			if res.Choices[c.QuestionID] == nil {
				res.Choices[c.QuestionID] = map[int64][]int{}
			}
			if res.Choices[c.QuestionID][id] == nil {
				res.Choices[c.QuestionID][id] = make([]int, opts[c.QuestionID])
			}
			res.Choices[c.QuestionID][id][c.Option] += c.N
		}
	}
	return res
}

// ParticipationIn is how many were invited to a round and answered within
// scope (0: everyone), from the counts per storage group, when it may be
// shown: for the whole organisation when at least k were invited; for a
// leader's unit when the participation decision (privacy.Decide on the
// invited counts, the same as the participation table's) shows it. A
// leader never sees the company's participation as their own.
func ParticipationIn(tree *tandem.Tree, scope int64, k int, invited, responded pulse.UnitCounts) (inv, resp int, ok bool) {
	if scope == 0 {
		for u, n := range invited {
			inv += n
			resp += responded[u]
		}
		return inv, resp, inv > 0 && inv >= privacy.Threshold(k)
	}
	pvis := privacy.Decide(tree, invited, k)
	if !pvis.Shown(scope) {
		return 0, 0, false
	}
	for _, u := range tree.Subtree(scope) {
		inv += invited[u]
		resp += responded[u]
	}
	return inv, resp, inv > 0
}

func topDepth(tree *tandem.Tree, scope int64) int {
	if u := tree.Unit(scope); u != nil {
		return u.Depth
	}
	return 0
}

func inScope(tree *tandem.Tree, scope, unit int64) bool { return tree.InScope(scope, unit) }

// SetRoundResults builds the results of round r of set within scope
// (0: the whole organisation).
func SetRoundResults(tree *tandem.Tree, scope int64, set pulse.RoundSet, r pulse.Round) *RoundResults {
	var scores []pulse.ScoreRow
	for _, row := range set.Scores {
		if row.RoundID == r.ID {
			scores = append(scores, row)
		}
	}
	return BuildRoundResults(RoundInput{Tree: tree, Scope: scope, Round: r, Questions: set.Questions[r.ID],
		Respondents: set.Respondents[r.ID], Scores: scores})
}

// TrendPoint is one round's headline for a unit.
type TrendPoint struct {
	Round pulse.Round
	Shown bool
	pulse.Scores
}

// Trend computes a unit's headline scores in each round, shown only where
// the unit met the threshold in that round.
func Trend(tree *tandem.Tree, unitID int64, set pulse.RoundSet) []TrendPoint {
	byRound := map[int64][]pulse.ScoreRow{}
	for _, r := range set.Scores {
		byRound[r.RoundID] = append(byRound[r.RoundID], r)
	}
	var out []TrendPoint
	for _, r := range set.Rounds {
		vis := privacy.Decide(tree, set.Respondents[r.ID], r.MinGroup)
		p := TrendPoint{Round: r, Shown: vis.Shown(unitID)}
		if p.Shown {
			totals := map[int64]pulse.Totals{}
			for _, row := range byRound[r.ID] {
				if tree.Contains(unitID, row.UnitID) {
					t := totals[row.QuestionID]
					t.Add(row)
					totals[row.QuestionID] = t
				}
			}
			p.Scores = pulse.Score(totals, set.Questions[r.ID], vis.Count(unitID))
		}
		out = append(out, p)
	}
	return out
}

// RoundComments is the comments part of BuildRoundResults: a released
// round's comments and free-text answers in scope, grouped by the shown
// unit they are counted in (never a unit below the threshold) and by
// question. An open round has none.
func RoundComments(in RoundInput) []CommentGroup {
	if !in.Round.Released() {
		return nil
	}
	vis := privacy.Decide(in.Tree, in.Respondents, in.Round.MinGroup)
	return roundComments(in.Tree, in.Scope, vis, in.Questions, in.Texts)
}

// roundComments puts each comment in the smallest shown unit that
// contains the writer's unit, and only if that unit is in scope; groups
// are in unit path order, then by question.
func roundComments(tree *tandem.Tree, scope int64, vis *privacy.Visibility, questions []pulse.Question, texts []pulse.TextAnswer) []CommentGroup {
	qText := map[int64]string{}
	for _, q := range questions {
		qText[q.ID] = q.Text
	}
	groups := map[[2]int64]*CommentGroup{}
	var order [][2]int64
	for _, t := range texts {
		at := vis.ShownAncestor(t.UnitID)
		if at == 0 || !inScope(tree, scope, at) {
			continue
		}
		key := [2]int64{at, t.QuestionID}
		g := groups[key]
		if g == nil {
			g = &CommentGroup{Unit: tree.Unit(at), QuestionID: t.QuestionID, Question: qText[t.QuestionID]}
			groups[key] = g
			order = append(order, key)
		}
		g.Items = append(g.Items, Comment{Key: t.Key, Text: t.Text})
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := tree.Unit(order[i][0]), tree.Unit(order[j][0])
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return order[i][1] < order[j][1]
	})
	out := make([]CommentGroup, 0, len(order))
	for _, key := range order {
		out = append(out, *groups[key])
	}
	return out
}

// SearchComments keeps the comments whose text contains query, ignoring
// case, accents and runs of spaces (tandem.SearchKey), and drops groups
// left empty. An empty query keeps everything. It filters what
// RoundComments let through, so a search can never reach a comment the
// threshold hides.
func SearchComments(groups []CommentGroup, query string) []CommentGroup {
	q := tandem.SearchKey(query)
	if q == "" {
		return groups
	}
	var out []CommentGroup
	for _, g := range groups {
		var keep []Comment
		for _, c := range g.Items {
			if strings.Contains(tandem.SearchKey(c.Text), q) {
				keep = append(keep, c)
			}
		}
		if len(keep) > 0 {
			g.Items = keep
			out = append(out, g)
		}
	}
	return out
}
