package store

import (
	"cmp"
	"context"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Five people in Acme/Support answer one weekly round; person i gives
// every index item the value i+1 and every other item 3, and the first
// person skips the first index item. IndexAnswers returns one row per
// response with the index items only, NaN for the skipped one, and
// nothing while the round is open.
func TestIndexAnswersReadEachResponsesIndexItems(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		tree, _, rounds := weeklyLogRounds(t, st, fiveInSupport, 1)
		r := rounds[0]
		qs, _ := st.RoundQuestions(ctx, r.ID)
		index := indexItems(qs)
		if len(index) < 2 {
			t.Fatalf("the default program asks %d index items; the test needs two", len(index))
		}
		invs, _ := st.RoundInvitations(ctx, r.ID)
		recordIndex(t, st, r.ID, qs, func(i int, q int64) bool { return i != 0 || q != index[0] })
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

// Two rounds read at once, the second one's items answered in an order
// unlike their ids: everyone but the last person answers the last index
// item only (the fifth answers every item). Each row still lists the round's items in id order, with
// its values in their places.
func TestIndexAnswersLayEachRoundsItemsInIDOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, _, rounds := weeklyLogRounds(t, st, fiveInSupport, 2)
		var ids []int64
		var index []int64
		for week, r := range rounds {
			qs, _ := st.RoundQuestions(ctx, r.ID)
			index = indexItems(qs)
			all := func(int, int64) bool { return true }
			if week == 1 {
				all = func(i int, q int64) bool { return i == 4 || q == index[len(index)-1] }
			}
			recordIndex(t, st, r.ID, qs, all)
			ids = append(ids, r.ID)
		}
		if _, err := st.CloseDueRounds(ctx, today.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		got, err := st.IndexAnswers(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("%d rows, want 5 a round", len(got))
		}
		for k, a := range got {
			if want := ids[k/5]; a.RoundID != want || !slices.Equal(a.Items, index) || len(a.Values) != len(index) {
				t.Fatalf("row %d: %+v, want round %d with items %v", k, a, want, index)
			}
			v := a.Values[len(a.Values)-1]
			for j, x := range a.Values {
				partial := a.RoundID == ids[1] && v != 5
				switch {
				case partial && j < len(index)-1 && !math.IsNaN(x):
					t.Errorf("row %d: item %d is %v, want NaN: only the last item was answered", k, index[j], x)
				case !partial && x != v:
					t.Errorf("row %d: item %d is %v, want %v like the rest", k, index[j], x, v)
				}
			}
		}
	})
}

// fiveInSupport is a roster of five people in Acme/Support.
const fiveInSupport = "email,name,team\na@example.com,A,Acme/Support\nb@example.com,B,Acme/Support\nc@example.com,C,Acme/Support\n" +
	"d@example.com,D,Acme/Support\ne@example.com,E,Acme/Support\n"

// weeklyLogRounds imports roster, saves the default program over the
// whole organisation, sent by log, and starts weeks weekly rounds, the
// first today at 09:00.
func weeklyLogRounds(t *testing.T, st *Store, roster string, weeks int) (*tandem.Tree, pulse.Program, []pulse.Round) {
	t.Helper()
	ctx := context.Background()
	importCSV(t, st, roster, false)
	tree, _ := st.Tree(ctx)
	p := pulse.Defaults()
	p.AudienceUnitID = tree.Roots()[0]
	p.Channel = pulse.ChannelLog
	if err := st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	var rounds []pulse.Round
	for w := range weeks {
		slot := today.AddDate(0, 0, 7*w).Add(9 * time.Hour)
		r, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			t.Fatal(err)
		}
		rounds = append(rounds, r)
	}
	return tree, p, rounds
}

// indexItems returns the ids of the engagement-index items among qs, in
// id order.
func indexItems(qs []pulse.Question) []int64 {
	var index []int64
	for _, q := range qs {
		if q.InIndex && q.Kind == pulse.Likert5 {
			index = append(index, q.ID)
		}
	}
	slices.Sort(index)
	return index
}

// recordIndex records one response per invitee of round: person i (in
// invitation order) gives index item q the value i+1 when answers(i, q),
// and every other Likert item 3.
func recordIndex(t *testing.T, st *Store, round int64, qs []pulse.Question, answers func(i int, q int64) bool) {
	t.Helper()
	invs, _ := st.RoundInvitations(context.Background(), round)
	var rs []RecordedResponse
	for i, inv := range invs {
		rec := RecordedResponse{InvitationID: inv.ID}
		for _, q := range qs {
			switch {
			case q.InIndex && q.Kind == pulse.Likert5:
				if answers(i, q.ID) {
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: float64(i + 1), HasValue: true})
				}
			case q.Kind == pulse.Likert5:
				rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 3, HasValue: true})
			}
		}
		rs = append(rs, rec)
	}
	if err := st.RecordResponses(context.Background(), round, rs); err != nil {
		t.Fatal(err)
	}
}

// A closed round's agreement inputs are saved once and read back to the
// bit, NaN as NaN; a round saved without units reads back empty, an open
// round is refused, and saving a round again leaves the first save. The
// closed rounds not saved are listed, the latest first.
func TestSavedAgreementReadsBackWhatWasSaved(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		tree, _, rounds := weeklyLogRounds(t, st, "email,name,team\na@example.com,A,Acme/Support\nb@example.com,B,Acme/Support\nc@example.com,C,Acme/Sales\n"+
			"d@example.com,D,Acme/Sales\ne@example.com,E,Acme/Sales\n", 3)
		var ids []int64
		for _, r := range rounds {
			ids = append(ids, r.ID)
		}
		support, sales := tree.ByPath([]string{"Acme", "Support"}).ID, tree.ByPath([]string{"Acme", "Sales"}).ID
		ra := pulse.RoundAgreement{
			{Unit: support, Index: stats.GroupMoments{N: 2, Mean: 62.5, SS: 0.1 + 0.2}, RWG: math.NaN(), RWGN: 1},
			{Unit: sales, Index: stats.GroupMoments{N: 0, Mean: math.NaN(), SS: 0}, RWG: -0.0, RWGN: 0},
		}
		if err := st.SaveAgreement(ctx, ids[0], ra); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Fatalf("saving an open round: %v, want it refused as invalid", err)
		}
		if unsaved, err := st.UnsavedAgreementRounds(ctx, 10); err != nil || len(unsaved) != 0 {
			t.Errorf("unsaved rounds while all are open: %v (%v), want none", unsaved, err)
		}
		if _, err := st.CloseDueRounds(ctx, today.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if unsaved, err := st.UnsavedAgreementRounds(ctx, 2); err != nil || !slices.Equal(unsaved, []int64{ids[2], ids[1]}) {
			t.Errorf("unsaved rounds, at most 2: %v (%v), want the latest two, %d and %d", unsaved, err, ids[2], ids[1])
		}
		if err := st.SaveAgreement(ctx, ids[0], ra); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveAgreement(ctx, ids[0], ra[:1]); err != nil {
			t.Fatalf("saving a round again: %v, want it left as it is", err)
		}
		if err := st.SaveAgreement(ctx, ids[1], nil); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveAgreement(ctx, 1_000_000, ra); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Fatalf("saving a round that does not exist: %v, want not found", err)
		}
		unsaved, err := st.UnsavedAgreementRounds(ctx, 10)
		if err != nil || !slices.Equal(unsaved, []int64{ids[2]}) {
			t.Errorf("unsaved rounds: %v (%v), want only %d, the closed round not saved", unsaved, err, ids[2])
		}
		got, err := st.SavedAgreement(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[ids[2]]; ok || len(got) != 2 {
			t.Fatalf("saved rounds %v, want %v and %v", slices.Collect(maps.Keys(got)), ids[0], ids[1])
		}
		if g, ok := got[ids[1]]; !ok || len(g) != 0 {
			t.Errorf("the round saved without units reads back as %v, %v; want present and empty", g, ok)
		}
		want := slices.Clone(ra)
		slices.SortFunc(want, func(a, b pulse.UnitAgreement) int { return cmp.Compare(a.Unit, b.Unit) })
		same := func(a, b float64) bool { // to the bit, or both NaN
			return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
		}
		if g := got[ids[0]]; len(g) != len(want) {
			t.Fatalf("round %d reads back %+v, want %+v", ids[0], g, want)
		}
		for i, ua := range got[ids[0]] {
			w := want[i]
			if ua.Unit != w.Unit || ua.Index.N != w.Index.N || ua.RWGN != w.RWGN || !same(ua.Index.Mean, w.Index.Mean) || !same(ua.Index.SS, w.Index.SS) || !same(ua.RWG, w.RWG) {
				t.Errorf("unit %d reads back %+v, want %+v", w.Unit, ua, w)
			}
		}
	})
}
