package store

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// Five people in Acme/Support answer one weekly round; person i gives
// every index item the value i+1 and every other item 3, and the first
// person skips the first index item. IndexAnswers returns one row per
// response with the index items only, NaN for the skipped one, and
// nothing while the round is open.
func TestIndexAnswersReadEachResponsesIndexItems(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, "email,name,team\na@example.com,A,Acme/Support\nb@example.com,B,Acme/Support\nc@example.com,C,Acme/Support\n"+
			"d@example.com,D,Acme/Support\ne@example.com,E,Acme/Support\n", false)
		tree, _ := st.Tree(ctx)
		p := pulse.Defaults()
		p.AudienceUnitID = tree.Roots()[0]
		p.Channel = pulse.ChannelLog
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		slot := today.Add(9 * time.Hour)
		r, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			t.Fatal(err)
		}
		qs, _ := st.RoundQuestions(ctx, r.ID)
		var index []int64
		for _, q := range qs {
			if q.InIndex && q.Kind == pulse.Likert5 {
				index = append(index, q.ID)
			}
		}
		slices.Sort(index)
		if len(index) < 2 {
			t.Fatalf("the default program asks %d index items; the test needs two", len(index))
		}
		invs, _ := st.RoundInvitations(ctx, r.ID)
		var rs []RecordedResponse
		for i, inv := range invs {
			rec := RecordedResponse{InvitationID: inv.ID}
			for _, q := range qs {
				switch {
				case q.InIndex && q.Kind == pulse.Likert5:
					if i == 0 && q.ID == index[0] {
						continue
					}
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: float64(i + 1), HasValue: true})
				case q.Kind == pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 3, HasValue: true})
				}
			}
			rs = append(rs, rec)
		}
		if err := st.RecordResponses(ctx, r.ID, rs); err != nil {
			t.Fatal(err)
		}
		if got, err := st.IndexAnswers(ctx, []int64{r.ID}); err != nil || len(got) != 0 {
			t.Fatalf("open round: %d rows (%v), want none before it closes", len(got), err)
		}
		if _, err := st.CloseDueRounds(ctx, today.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		got, err := st.IndexAnswers(ctx, []int64{r.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(invs) {
			t.Fatalf("%d rows, want one per response (%d)", len(got), len(invs))
		}
		support := tree.ByPath([]string{"Acme", "Support"}).ID
		var seen []float64
		for _, a := range got {
			if a.RoundID != r.ID || a.UnitID != support || !slices.Equal(a.Items, index) || len(a.Values) != len(index) {
				t.Fatalf("row %+v, want round %d, unit %d, items %v", a, r.ID, support, index)
			}
			v := a.Values[len(a.Values)-1]
			for k, x := range a.Values {
				if k == 0 && math.IsNaN(x) {
					if v != 1 {
						t.Errorf("a skipped item in the answers of person with value %v, want only person 1's", v)
					}
					continue
				}
				if x != v {
					t.Errorf("row %+v: one person's index items differ", a)
				}
			}
			seen = append(seen, v)
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []float64{1, 2, 3, 4, 5}) {
			t.Errorf("values %v, want 1…5, one per person", seen)
		}
	})
}
