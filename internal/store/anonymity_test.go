package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
)

// Someone with the database file, or a backup of it, must not be able to
// tie a response to fewer than k people: every row that holds answers or
// totals names a storage group of at least k invitees, and no invitation
// names a smaller unit. The organisation has a one-person unit, a
// two-person unit and a manager alone above full teams (k = 5). While the
// round is open, the per-invitation answered flags (for reminders and one
// answer per link) are the only per-person record; when it closes they go,
// with the links and every invitation and reminder message.
func TestTheDatabaseTiesNoResponseToFewerThanKPeople(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("email,name,team,hired_on\n")
		add := func(team string, n int) {
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "%s%d@example.com,%s %d,%s,2020-01-01\n", strings.ReplaceAll(strings.ToLower(team), "/", "."), i, team, i, team)
			}
		}
		add("Acme/Solo", 1)
		add("Acme/Duo", 2)
		add("Acme/Dept", 1) // a manager alone above two full teams
		add("Acme/Dept/Alpha", 6)
		add("Acme/Dept/Beta", 5)
		importCSV(t, st, b.String(), false)
		tree, _ := st.Tree(ctx)
		p := pulse.Defaults()
		p.AudienceUnitID = tree.ByPath([]string{"Acme"}).ID
		q := &pulse.Question{Text: "How well does Alpha support you?", Kind: pulse.Service, Providers: []int64{tree.ByPath([]string{"Acme", "Dept", "Alpha"}).ID}}
		if err := st.CreateQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
		qs, _ := st.Questions(ctx)
		for _, x := range qs {
			if x.Builtin || x.ID == q.ID {
				p.QuestionIDs = append(p.QuestionIDs, x.ID)
			}
		}
		p.QuestionsPerRound = 9
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r, _, err := st.CreateRound(ctx, &p, start, true, start)
		if err != nil {
			t.Fatal(err)
		}
		k := 5
		checkGroups := func(when string) {
			t.Helper()
			groups := map[int64]int{}
			rows, err := st.r.QueryContext(ctx, st.q("SELECT unit_id, invited FROM round_groups WHERE round_id = ?"), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var u int64
				var n int
				rows.Scan(&u, &n)
				groups[u] = n
				if n < k {
					t.Errorf("%s: storage group %s holds %d invitees, below k", when, tree.Unit(u).Path, n)
				}
			}
			rows.Close()
			for _, c := range []struct{ table, col string }{
				{"responses", "unit_id"}, {"round_scores", "unit_id"}, {"service_scores", "rater_unit_id"}, {"invitations", "unit_id"},
				{"round_agreement", "unit_id"},
			} {
				rows, err := st.r.QueryContext(ctx, st.q("SELECT DISTINCT "+c.col+" FROM "+c.table+" WHERE round_id = ?"), r.ID)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var u int64
					rows.Scan(&u)
					if _, ok := groups[u]; !ok {
						t.Errorf("%s: %s.%s names %s, which is not a storage group of at least k", when, c.table, c.col, tree.Unit(u).Path)
					}
				}
				rows.Close()
			}
			// The people an answer could be anyone of: those invited into
			// its group.
			rows, err = st.r.QueryContext(ctx, st.q(`SELECT x.unit_id, (SELECT COUNT(*) FROM invitations i WHERE i.round_id = x.round_id AND i.unit_id = x.unit_id)
				FROM responses x WHERE x.round_id = ?`), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var u int64
				var n int
				rows.Scan(&u, &n)
				if n != 0 && n < k {
					t.Errorf("%s: a response under %s joins %d invitations, below k", when, tree.Unit(u).Path, n)
				}
			}
			rows.Close()
		}
		invs, _ := st.RoundInvitations(ctx, r.ID)
		if len(invs) != 15 {
			t.Fatalf("%d invitations, want 15", len(invs))
		}
		checkGroups("at the start")
		rqs, _ := st.RoundQuestions(ctx, r.ID)
		for i, inv := range invs[:10] {
			hash := fmt.Sprintf("h%d", i)
			if err := st.AddInvitationToken(ctx, inv.ID, hash); err != nil {
				t.Fatal(err)
			}
			var as []pulse.Answer
			for _, q := range rqs {
				switch q.Kind {
				case pulse.Likert5:
					as = append(as, pulse.Answer{QuestionID: q.ID, Value: float64(1 + i%5), HasValue: true})
				case pulse.Service:
					as = append(as, pulse.Answer{QuestionID: q.ID, Value: 4, HasValue: true, ProviderUnitID: q.Providers[0]})
				}
			}
			if err := st.SubmitResponse(ctx, hash, as, "a comment", start.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			checkGroups(fmt.Sprintf("after answer %d", i+1))
		}
		if _, err := st.QueueDueReminders(ctx, r.RemindAt); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CloseDueRounds(ctx, r.ClosesAt); err != nil {
			t.Fatal(err)
		}
		// The agreement inputs, saved as the server saves them once the
		// round has closed.
		if n, err := report.SaveAgreementRollups(ctx, st, 10); err != nil || n != 1 {
			t.Fatalf("saved the agreement inputs of %d rounds (%v), want the one closed", n, err)
		}
		if saved, err := st.SavedAgreement(ctx, []int64{r.ID}); err != nil || len(saved[r.ID]) == 0 {
			t.Fatalf("saved agreement inputs %v (%v); the check below needs some", saved, err)
		}
		checkGroups("after close")
		for table, q := range map[string]string{
			"invitations":       "SELECT COUNT(*) FROM invitations WHERE round_id = ?",
			"invitation_tokens": "SELECT COUNT(*) FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id WHERE i.round_id = ?",
			"outbox":            "SELECT COUNT(*) FROM outbox WHERE kind IN ('invite', 'reminder') AND ? > 0",
		} {
			var n int
			if err := st.r.QueryRowContext(ctx, st.q(q), r.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("after close %s holds %d per-person rows of the round, want none", table, n)
			}
		}
		if inv, resp, _ := st.Participation(ctx, r.ID); sumCounts(inv) != 15 || sumCounts(resp) != 10 {
			t.Errorf("participation after close: %v invited, %v answered; want 15 and 10 in storage groups", inv, resp)
		}
	})
}

// Internal service counts people, not ratings: someone who rates the same
// team in three questions is one rater, with the mean of their ratings.
func TestServiceTotalsCountEachRaterOnceWithTheMeanOfTheirRatings(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 6)
		tree, _ := st.Tree(ctx)
		team := tree.ByPath([]string{"Acme", "Team"}).ID
		var ids []int64
		for i := 0; i < 3; i++ {
			q := &pulse.Question{Text: fmt.Sprintf("Service question %d about Team", i), Kind: pulse.Service, Providers: []int64{team}}
			if err := st.CreateQuestion(ctx, q); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, q.ID)
		}
		p.QuestionIDs, p.QuestionsPerRound = ids, 3
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r, _, err := st.CreateRound(ctx, &p, start, true, start)
		if err != nil {
			t.Fatal(err)
		}
		invs, _ := st.RoundInvitations(ctx, r.ID)
		for i, ratings := range [][]float64{{5, 3, 4}, {2, 2, 2}} {
			var as []pulse.Answer
			for j, id := range ids {
				as = append(as, pulse.Answer{QuestionID: id, Value: ratings[j], HasValue: true, ProviderUnitID: team})
			}
			hash := fmt.Sprintf("s%d", i)
			if err := st.AddInvitationToken(ctx, invs[i].ID, hash); err != nil {
				t.Fatal(err)
			}
			if err := st.SubmitResponse(ctx, hash, as, "", start.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.CloseDueRounds(ctx, r.ClosesAt); err != nil {
			t.Fatal(err)
		}
		rows, err := st.ServiceScores(ctx, []int64{r.ID})
		if err != nil {
			t.Fatal(err)
		}
		n, sum := 0, 0.0
		for _, row := range rows {
			n += row.N
			sum += row.Sum
		}
		// Raters: 2. Their means: 4 and 2; the provider's score is their
		// mean, 3 (not the mean of six ratings counted as six raters).
		if n != 2 || sum != 6 {
			t.Errorf("service totals: %d raters, sum %v; want 2 raters with means 4 and 2 (sum 6)", n, sum)
		}
	})
}
