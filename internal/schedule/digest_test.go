package schedule_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// digestOrg is an organisation whose program has threshold k and four
// closed weekly rounds: Big (6 people) and Small (3) fall by 50 points in
// the last, the rest stay level. It returns the time to run the digest.
func digestOrg(t *testing.T, k int) (*testOrg, time.Time) {
	t.Helper()
	o := newTestOrg(t)
	ctx := context.Background()
	// Two more teams: Big (6 people) and Small (3).
	name := func(prefix string) func(int, tandemtest.Team, int) tandemtest.Person {
		return func(_ int, t tandemtest.Team, i int) tandemtest.Person {
			return tandemtest.Person{Email: fmt.Sprintf("%s%d@example.com", prefix, i-1), Name: fmt.Sprintf("%s %d", t.Name(), i-1), HiredOn: "2020-01-01"}
		}
	}
	o.AddPeople(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), append(
		tandemtest.People(name("big"), tandemtest.Team{Path: "Acme/Big", Size: 6}),
		tandemtest.People(name("small"), tandemtest.Team{Path: "Acme/Small", Size: 3})...))
	o.SetPassword("long enough password")
	o.User("hr@example.com", tandem.RoleHR, "")
	o.User("boss@example.com", tandem.RoleAdmin, "")
	tree, _ := o.st.Tree(ctx)
	big, small := tree.ByPath([]string{"Acme", "Big"}).ID, tree.ByPath([]string{"Acme", "Small"}).ID
	p := o.newProgram(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) {
		p.Channel = pulse.ChannelEmail
		p.CoreEvery = 1
		p.MinGroup = k
	})
	// Four weekly rounds; Big and Small answer 4 (75) three times, then 2
	// (25): a 50-point fall. The rest answer 3 throughout.
	slot := o.at0900(2026, 1, 5)
	for w := 0; w < 4; w++ {
		r, _, err := o.st.CreateRound(ctx, &p, slot.AddDate(0, 0, 7*w), false, slot.AddDate(0, 0, 7*w))
		if err != nil {
			t.Fatal(err)
		}
		if err := o.st.CancelRoundMessages(ctx, r.ID, "test"); err != nil {
			t.Fatal(err)
		}
		qs, _ := o.st.RoundQuestions(ctx, r.ID)
		invs, _ := o.st.RoundInvitations(ctx, r.ID)
		var rs []store.RecordedResponse
		for _, inv := range invs {
			v := 3.0
			if inv.UnitID == big || inv.UnitID == small {
				v = 4
				if w == 3 {
					v = 2
				}
			}
			rr := store.RecordedResponse{InvitationID: inv.ID}
			for _, q := range qs {
				switch q.Kind {
				case pulse.Likert5:
					rr.Answers = append(rr.Answers, pulse.Answer{QuestionID: q.ID, Value: v, HasValue: true})
				case pulse.Scale010:
					rr.Answers = append(rr.Answers, pulse.Answer{QuestionID: q.ID, Value: 2 * v, HasValue: true})
				}
			}
			rs = append(rs, rr)
		}
		if err := o.st.RecordResponses(ctx, r.ID, rs); err != nil {
			t.Fatal(err)
		}
	}
	// The digest is written after the last round closed: an open round's
	// answers are in no figure.
	now := slot.AddDate(0, 0, 21+p.WindowDays)
	if _, err := o.st.CloseDueRounds(ctx, now); err != nil {
		t.Fatal(err)
	}
	return o, now
}

func TestWeeklyDigestReachesHROnceAndNamesNoGroupBelowK(t *testing.T) {
	t.Parallel()
	o, now := digestOrg(t, 5)
	ctx := context.Background()
	srv := mailtest.NewServer(t)
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port, Security: "none", From: "Tandem <t@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	runner := o.runner()
	runner.BaseURL = "https://tandem.example.com"
	n, err := runner.Digest(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("digest queued %d (%v), want 2 (hr and admin)", n, err)
	}
	if n, _ := runner.Digest(ctx, now.Add(time.Hour)); n != 0 {
		t.Errorf("a second run in the same week queued %d", n)
	}
	worker := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelEmail: sender}, "https://tandem.example.com", o.log, nil)
	if _, err := worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(2, 5*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("%d digests arrived, want 2", len(msgs))
	}
	to := map[string]bool{}
	for _, m := range msgs {
		to[m.To[0]] = true
		if !strings.Contains(m.Text, "Acme / Big: engagement index 25 (was 75 on average; down 50)") {
			t.Errorf("digest does not name Big's fall:\n%s", m.Text)
		}
		if strings.Contains(m.Text, "Small") || strings.Contains(m.HTML, "Small") {
			t.Errorf("digest names Small, a team of 3:\n%s", m.Text)
		}
		if m.HTML == "" {
			t.Error("digest has no HTML part")
		}
	}
	if !to["hr@example.com"] || !to["boss@example.com"] {
		t.Errorf("digests went to %v", to)
	}
}

// TestWeeklyDigestStatesTheThresholdItsSignalsWereDecidedWith: the
// digest's "only name groups of at least k people" is the k its flight
// risks were decided with (privacy.Threshold of the rounds' k), not a
// number of its own. It used to start from a literal 5, so a program at
// k = 3 got a digest naming a team of 3 while promising at least 5.
func TestWeeklyDigestStatesTheThresholdItsSignalsWereDecidedWith(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k         int
		nameSmall bool
	}{{3, true}, {4, false}, {5, false}} {
		t.Run(fmt.Sprintf("k=%d", tc.k), func(t *testing.T) {
			o, now := digestOrg(t, tc.k)
			ctx := context.Background()
			if n, err := o.runner().Digest(ctx, now); err != nil || n != 2 {
				t.Fatalf("digest queued %d (%v), want 2", n, err)
			}
			srv := mailtest.NewServer(t)
			sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port, Security: "none", From: "Tandem <t@example.com>"})
			if err != nil {
				t.Fatal(err)
			}
			worker := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelEmail: sender}, "https://tandem.example.com", o.log, nil)
			if _, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			msgs := srv.WaitFor(2, 5*time.Second)
			if len(msgs) != 2 {
				t.Fatalf("%d digests arrived, want 2", len(msgs))
			}
			for _, m := range msgs {
				if want := fmt.Sprintf("only name groups of at least %d people", tc.k); !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("digest to %s does not say %q:\n%s", m.To[0], want, m.Text)
				}
				if got := strings.Contains(m.Text, "Acme / Small:"); got != tc.nameSmall {
					t.Errorf("digest names Small (3 people): %v, want %v:\n%s", got, tc.nameSmall, m.Text)
				}
			}
		})
	}
}
