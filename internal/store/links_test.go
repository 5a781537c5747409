package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// linkRound starts a round for n people with one answer link each,
// minted by st, and returns the round, the link hashes and a valid set
// of answers.
func linkRound(t *testing.T, st *Store, n int) (pulse.Round, []string, []pulse.Answer) {
	t.Helper()
	ctx := context.Background()
	p := newProgram(t, st, n)
	now := testNow
	r, _, err := st.CreateRound(ctx, &p, now, true, now)
	if err != nil {
		t.Fatal(err)
	}
	invs, _ := st.RoundInvitations(ctx, r.ID)
	var hashes []string
	for i, inv := range invs {
		h := fmt.Sprintf("hash-%d", i)
		if err := st.AddInvitationToken(ctx, inv.ID, h); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	qs, _ := st.RoundQuestions(ctx, r.ID)
	var answers []pulse.Answer
	for _, q := range qs {
		if q.Kind == pulse.Likert5 {
			answers = append(answers, pulse.Answer{QuestionID: q.ID, Value: 4, HasValue: true})
		}
	}
	return r, hashes, answers
}

func TestALinkMintedByAnotherProcessIsFoundInTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	minter, err := Open(ctx, path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer minter.Close()
	r, hashes, answers := linkRound(t, minter, 5)
	other, err := Open(ctx, path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	now := testNow
	inv, err := other.InvitationToSubmit(ctx, hashes[0])
	if err != nil || inv.RoundID != r.ID || inv.Responded {
		t.Fatalf("other process: invitation %+v, %v; want round %d, not answered", inv, err, r.ID)
	}
	if err := other.SubmitResponse(ctx, hashes[0], answers, "", now); err != nil {
		t.Fatalf("answer through the other process: %v", err)
	}
	// Both refuse a second answer: the minter remembers the link, but the
	// write finds it answered.
	for name, st := range map[string]*Store{"minter": minter, "other": other} {
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", now); err != ErrAlreadyAnswered {
			t.Errorf("%s: second answer: %v, want ErrAlreadyAnswered", name, err)
		}
	}
	if err := other.SubmitResponse(ctx, "hash-of-no-link", answers, "", now); err != ErrUnknownLink {
		t.Errorf("unknown link: %v, want ErrUnknownLink", err)
	}
	got, _ := minter.Round(ctx, r.ID)
	if got.Responded != 1 {
		t.Errorf("%d answered, want 1", got.Responded)
	}
}

func TestARoundClosedByTheSchedulerRefusesLinksMintedHere(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		r, hashes, answers := linkRound(t, st, 5)
		// The scheduler's clock runs ahead of this one: the round is
		// closed in the database while the remembered closing time has
		// not passed here.
		if n, err := st.CloseDueRounds(ctx, r.ClosesAt.Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("close: %d rounds, %v", n, err)
		}
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", testNow); err != ErrRoundClosed {
			t.Errorf("answer to a closed round: %v, want ErrRoundClosed", err)
		}
		if got, _ := st.Round(ctx, r.ID); got.Responded != 0 {
			t.Errorf("%d answered, want 0", got.Responded)
		}
	})
}

func TestRememberedLinksOfClosedRoundsAreSweptAway(t *testing.T) {
	var c linkCache
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range sweepEvery - 1 {
		c.remember(fmt.Sprintf("closed-%d", i), link{invitationID: int64(i), closesAt: now.Add(-time.Hour)}, now)
	}
	c.remember("open", link{invitationID: 1, closesAt: now.Add(time.Hour)}, now)
	if _, ok := c.lookup("closed-0"); ok {
		t.Error("a link of a closed round is still remembered after the sweep")
	}
	if l, ok := c.lookup("open"); !ok || l.invitationID != 1 {
		t.Errorf("the open round's link: %+v, %v; want invitation 1", l, ok)
	}
	if len(c.m) != 1 {
		t.Errorf("%d links remembered, want 1", len(c.m))
	}
}

func TestAStartingServerRemembersTheOpenLinksSentBefore(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		r, hashes, answers := linkRound(t, st, 5)
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", testNow); err != nil {
			t.Fatal(err)
		}
		// Forget everything, as a new process knows nothing yet.
		st.links.mu.Lock()
		st.links.m = nil
		st.links.mu.Unlock()
		n, err := st.RememberOpenLinks(ctx, testNow)
		if err != nil || n != 4 {
			t.Fatalf("remembered %d links (%v), want the 4 unanswered", n, err)
		}
		for _, h := range hashes[1:] {
			if l, ok := st.links.lookup(h); !ok || l.roundID != r.ID {
				t.Errorf("link %s: %+v, %v; want it remembered for round %d", h, l, ok, r.ID)
			}
		}
		// After the round closes nothing is loaded.
		if n, err := st.RememberOpenLinks(ctx, r.ClosesAt); err != nil || n != 0 {
			t.Errorf("after closing: %d links (%v), want 0", n, err)
		}
	})
}
