package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Acknowledgements and "you said, we did" notes, on both engines: a
// comment keeps its first acknowledgement; a unit's note on a round is
// replaced, not repeated; and an invitation carries the notes of the
// program's previous round for the person's unit and the units above it,
// broadest first, and no others.
func TestCommentAcknowledgementsAndNotesForTheNextInvitation(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("email,name,team,hired_on\n")
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&b, "sales%d@example.com,Sales %d,Acme/Sales,2020-01-01\n", i, i)
			fmt.Fprintf(&b, "support%d@example.com,Support %d,Acme/Support,2020-01-01\n", i, i)
		}
		importCSV(t, st, b.String(), false)
		tree, _ := st.Tree(ctx)
		acme, sales := tree.ByPath([]string{"Acme"}).ID, tree.ByPath([]string{"Acme", "Sales"}).ID
		lead := &tandem.User{Email: "lead@example.com", Role: tandem.RoleLeader, ScopeUnitID: sales}
		if err := st.CreateUser(ctx, lead); err != nil {
			t.Fatal(err)
		}
		p := pulse.Defaults()
		p.AudienceUnitID = acme
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		round := func(week int) pulse.Round {
			at := start.AddDate(0, 0, 7*week)
			r, _, err := st.CreateRound(ctx, &p, at, false, at)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r1 := round(0)
		invs, _ := st.RoundInvitations(ctx, r1.ID)
		var rs []RecordedResponse
		for i, inv := range invs {
			rs = append(rs, RecordedResponse{InvitationID: inv.ID, Comment: fmt.Sprintf("remark %d", i)})
		}
		if err := st.RecordResponses(ctx, r1.ID, rs); err != nil {
			t.Fatal(err)
		}
		texts, _ := st.TextAnswers(ctx, r1.ID)
		if len(texts) != 0 {
			t.Fatalf("an open round gives %d comments, want none", len(texts))
		}
		if _, err := st.AcknowledgeComment(ctx, r1.ID, "0123", lead, start); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Fatalf("acknowledging in an open round: %v, want not found", err)
		}
		if _, err := st.CloseDueRounds(ctx, r1.ClosesAt); err != nil {
			t.Fatal(err)
		}
		texts, _ = st.TextAnswers(ctx, r1.ID)
		if len(texts) != 12 {
			t.Fatalf("%d comments, want 12", len(texts))
		}
		keys := map[string]bool{}
		for _, x := range texts {
			keys[x.Key] = true
		}
		if len(keys) != 12 {
			t.Fatalf("%d distinct keys for 12 comments", len(keys))
		}

		at := start.AddDate(0, 0, 6)
		done, err := st.AcknowledgeComment(ctx, r1.ID, texts[3].Key, lead, at)
		if err != nil || !done {
			t.Fatalf("acknowledge: %v %v", done, err)
		}
		admin := &tandem.User{Email: "admin@example.com", Role: tandem.RoleAdmin}
		if done, err := st.AcknowledgeComment(ctx, r1.ID, texts[3].Key, admin, at.Add(time.Hour)); err != nil || done {
			t.Fatalf("acknowledge again: %v %v, want no change", done, err)
		}
		if _, err := st.AcknowledgeComment(ctx, r1.ID, "not-a-key", lead, at); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Fatalf("unknown key: %v", err)
		}
		acks, err := st.CommentAcks(ctx, []int64{r1.ID})
		if err != nil || len(acks) != 1 || acks[texts[3].Key].UserEmail != "lead@example.com" || !acks[texts[3].Key].At.Equal(at) {
			t.Fatalf("acknowledgements: %+v, %v", acks, err)
		}

		note := func(unit int64, text string) error {
			return st.SaveRoundNote(ctx, RoundNote{RoundID: r1.ID, UnitID: unit, Text: text, UpdatedAt: at}, lead)
		}
		if err := note(sales, ""); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Fatalf("an empty note: %v", err)
		}
		if err := note(sales, strings.Repeat("x", MaxNoteLength+1)); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Fatalf("an overlong note: %v", err)
		}
		for _, n := range []struct {
			unit int64
			text string
		}{{sales, "draft"}, {sales, "New chairs for Sales"}, {acme, "Fridays are meeting-free"}} {
			if err := note(n.unit, n.text); err != nil {
				t.Fatal(err)
			}
		}
		notes, err := st.RoundNotes(ctx, []int64{r1.ID})
		if err != nil || len(notes) != 2 {
			t.Fatalf("notes: %+v, %v", notes, err)
		}

		r2 := round(1)
		invs2, _ := st.RoundInvitations(ctx, r2.ID)
		for _, inv := range invs2 {
			got, err := st.NotesForInvitation(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, n := range got {
				texts = append(texts, n.UnitName+": "+n.Text)
			}
			want := "Acme: Fridays are meeting-free"
			if inv.UnitID == sales {
				want += "|Sales: New chairs for Sales"
			}
			if strings.Join(texts, "|") != want {
				t.Errorf("invitation in %s reads %q, want %q", tree.Unit(inv.UnitID).Name, strings.Join(texts, "|"), want)
			}
			// The invitation's message carries the same notes.
			m, err := st.InvitationMessageData(ctx, inv.ID, r2.ScheduledAt)
			if err != nil || len(m.Notes) != len(got) {
				t.Errorf("message data: %d notes, %v; want %d", len(m.Notes), err, len(got))
			}
		}
		if _, err := st.CloseDueRounds(ctx, r2.ClosesAt); err != nil {
			t.Fatal(err)
		}
		r3 := round(2)
		invs3, _ := st.RoundInvitations(ctx, r3.ID)
		for _, inv := range invs3 {
			if got, _ := st.NotesForInvitation(ctx, inv.ID); len(got) != 0 {
				t.Errorf("round 3's invitation reads round 1's notes: %+v", got)
			}
		}
		if removed, err := st.DeleteRoundNote(ctx, r1.ID, sales); err != nil || !removed {
			t.Fatalf("remove: %v %v", removed, err)
		}
		if removed, _ := st.DeleteRoundNote(ctx, r1.ID, sales); removed {
			t.Errorf("removed a note twice")
		}
	})
}
