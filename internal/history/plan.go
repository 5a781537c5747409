package history

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Round is one imported round: the responses of one period, and where
// they are stored.
type Round struct {
	// Start is the period's first day (the round's date), End the first
	// day after it.
	Start, End time.Time
	Responses  []Response
	// Questions are those answered in the period, in the file's column
	// order: what the round asked.
	Questions []pulse.Question
	// Group maps each unit with people on Start to its storage group, and
	// Invited holds each group's headcount: privacy.StorageGroups with the
	// roster's headcount on Start in place of invitees.
	Group   map[int64]int64
	Invited map[int64]int
}

// Below counts the storage groups with fewer than k responses: their
// answers are stored and never shown.
func (r *Round) Below(k int) int {
	n := map[int64]int{}
	for _, resp := range r.Responses {
		n[r.Group[resp.UnitID]]++
	}
	below := 0
	for g := range r.Invited {
		if n[g] > 0 && n[g] < privacy.Threshold(k) {
			below++
		}
	}
	return below
}

// PlanInput is what Plan needs besides the file.
type PlanInput struct {
	Tree *tandem.Tree
	// Audience is the program's top unit; InAudience says whether a unit is
	// in the program's audience (its subtree minus excluded units).
	Audience   int64
	InAudience func(unit int64) bool
	K          int
	Period     string
	// Headcount returns the people on the roster on day, by the unit they
	// were in, for the units in the audience.
	Headcount func(day time.Time) map[int64]int
	// Existing are the program's rounds (sent and imported): a period that
	// holds one is not imported again.
	Existing []pulse.Round
}

// Plan groups a file's responses into one round per period and decides
// each round's storage groups, as a round the program sends decides them
// from its invitees. Every problem is reported: a period in which the
// program has a round already, an audience below k on the period's first
// day, a response from a unit nobody was in that day, and a storage group
// with more responses than people.
func Plan(f *File, in PlanInput) ([]Round, error) {
	var bad Error
	byStart := map[time.Time]*Round{}
	var starts []time.Time
	for _, resp := range f.Responses {
		s := PeriodStart(in.Period, resp.Date)
		r := byStart[s]
		if r == nil {
			r = &Round{Start: s, End: PeriodEnd(in.Period, s)}
			byStart[s] = r
			starts = append(starts, s)
		}
		r.Responses = append(r.Responses, resp)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	k := privacy.Threshold(in.K)
	var out []Round
	for _, s := range starts {
		r := byStart[s]
		first := r.Responses[0]
		dateCol := f.Used[FieldDate]
		unitCol := f.Used[FieldUnit]
		what := PeriodWords(in.Period, r.Start)
		clash := false
		for _, e := range in.Existing {
			d, err := tandem.ParseDate(e.Period)
			if err != nil || d.Before(r.Start) || !d.Before(r.End) {
				continue
			}
			kind := fmt.Sprintf("round %d on %s", e.Seq, e.Period)
			if e.Imported {
				kind = fmt.Sprintf("imported history for %s", e.Period)
			}
			bad.Add(Problem{Line: first.Line, Column: dateCol, Value: tandem.FormatDate(first.Date),
				Message: fmt.Sprintf("the program has %s already, in %s; history fills only periods without rounds (leave out this period's rows)", kind, what)})
			clash = true
			break
		}
		if clash {
			continue
		}
		counts := in.Headcount(r.Start)
		group, size, err := privacy.StorageGroups(in.Tree, in.Audience, counts, k)
		var below privacy.ErrAudienceBelowK
		if errors.As(err, &below) {
			bad.Add(Problem{Line: first.Line, Column: dateCol, Value: tandem.FormatDate(first.Date),
				Message: fmt.Sprintf("on %s, the first day of %s, the roster has %d people in the program's audience, fewer than its threshold of %d: no figure of the period could be shown. Import the roster with hire dates first, or choose a longer period",
					tandem.FormatDate(r.Start), what, below.Invited, k)})
			continue
		} else if err != nil {
			return nil, err
		}
		r.Group, r.Invited = group, size
		answered := map[int64]int{}
		ok := true
		for _, resp := range r.Responses {
			if !in.InAudience(resp.UnitID) {
				bad.Add(Problem{Line: resp.Line, Column: unitCol, Value: resp.Unit,
					Message: fmt.Sprintf("%s is not in the program's audience; import it into a program that asks it", resp.Unit)})
				ok = false
				continue
			}
			g, has := group[resp.UnitID]
			if !has {
				bad.Add(Problem{Line: resp.Line, Column: unitCol, Value: resp.Unit,
					Message: fmt.Sprintf("the roster has nobody in %s on %s, the first day of %s; check the unit, or the hire dates on the roster", resp.Unit, tandem.FormatDate(r.Start), what)})
				ok = false
				continue
			}
			answered[g]++
			if answered[g] == size[g]+1 {
				name := in.Tree.Unit(g).Path
				bad.Add(Problem{Line: resp.Line, Column: unitCol, Value: resp.Unit,
					Message: fmt.Sprintf("more responses in %s than the %d people the roster has in %s on %s, whose answers are stored together; check the units and dates",
						what, size[g], name, tandem.FormatDate(r.Start))})
				ok = false
			}
		}
		if !ok {
			continue
		}
		asked := map[int64]bool{}
		for _, resp := range r.Responses {
			for _, a := range resp.Answers {
				asked[a.QuestionID] = true
			}
		}
		for _, q := range f.Questions {
			if asked[q.ID] {
				r.Questions = append(r.Questions, q)
			}
		}
		out = append(out, *r)
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// PeriodWords names a period for people: "the week of 2 Mar 2026".
func PeriodWords(period string, start time.Time) string {
	switch period {
	case Month:
		return start.Format("January 2006")
	case Fortnight:
		return "the fortnight from " + start.Format("2 Jan 2006")
	}
	return "the week of " + start.Format("2 Jan 2006")
}
