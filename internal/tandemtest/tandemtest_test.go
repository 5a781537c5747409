package tandemtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

func TestAnOrgHasItsTeamsAccountsRoundsAnswersAndLinks(t *testing.T) {
	o := tandemtest.New(t, tandemtest.Options{})
	ctx := context.Background()
	res := o.AddPeople(tandemtest.Date.AddDate(0, 0, -60), tandemtest.People(tandemtest.Numbered("p"),
		tandemtest.Team{Path: "Acme/Sales", Size: 6}, tandemtest.Team{Path: "Acme/Support", Size: 5}))
	if res.Added != 11 {
		t.Fatalf("roster: %d added, want 11", res.Added)
	}
	if o.Unit("Sales") != o.Unit("Acme/Sales") || o.Unit("Acme") == o.Unit("Sales") {
		t.Fatalf("units by name and by path disagree: %v", o.Units)
	}
	lead := o.User("lead@example.com", tandem.RoleLeader, "Sales")
	got, err := o.Store.UserByEmail(ctx, "lead@example.com")
	if err != nil || got.ScopeUnitID != o.Unit("Sales") || got.Role != tandem.RoleLeader {
		t.Fatalf("leader: %+v, %v; want a leader of Sales (%d)", got, err, o.Unit("Sales"))
	}
	if !auth.CheckPassword(lead.PasswordHash, tandemtest.Password) {
		t.Error("the account's password is not tandemtest.Password")
	}

	p := o.Program("Acme", nil)
	rounds := o.WeeklyRounds(&p, 3)
	if len(rounds) != 3 {
		t.Fatalf("%d rounds, want 3", len(rounds))
	}
	for i, r := range rounds {
		if r.ScheduledAt.Weekday() != time.Monday || !r.ScheduledAt.Before(tandemtest.Date) {
			t.Errorf("round %d scheduled %s, want a Monday before %s", i, r.ScheduledAt, tandemtest.Date)
		}
		if i > 0 && !r.ScheduledAt.After(rounds[i-1].ScheduledAt) {
			t.Errorf("rounds not oldest first: %s after %s", r.ScheduledAt, rounds[i-1].ScheduledAt)
		}
	}
	n := o.Answer(rounds[0], func(inv store.InvitationRef, qs []pulse.Question) *store.RecordedResponse {
		if inv.UnitID != o.Unit("Sales") {
			return nil
		}
		return &store.RecordedResponse{Answers: tandemtest.Rated(qs, 4, 8)}
	})
	if n != 6 {
		t.Fatalf("%d responses recorded, want Sales' 6", n)
	}
	links := o.AnswerLinks(rounds[0])
	if len(links) != 5 {
		t.Fatalf("%d links, want one for each of Support's 5 who did not answer", len(links))
	}
	if _, err := o.Store.InvitationByToken(ctx, auth.HashToken(links[0].Token)); err != nil {
		t.Errorf("the link's token opens no invitation: %v", err)
	}
	o.CloseRounds(tandemtest.Date)
	for _, r := range rounds {
		got, err := o.Store.Round(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Closed {
			t.Errorf("round %d still open at %s (closes %s)", r.ID, tandemtest.Date, got.ClosesAt)
		}
	}
}

func TestRosterCSVWritesOnlyTheColumnsInUse(t *testing.T) {
	got := tandemtest.RosterCSV(tandemtest.Alternating(3, "Acme/A", "Acme/B"))
	want := "employee_id,email,name,team\nE0001,person.1@example.com,Person 1,Acme/A\n" +
		"E0002,person.2@example.com,Person 2,Acme/B\nE0003,person.3@example.com,Person 3,Acme/A\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
