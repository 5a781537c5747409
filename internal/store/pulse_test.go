package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// newProgram imports a team of size people under Acme/Team and saves a
// weekly program for Acme.
func newProgram(t *testing.T, st *Store, size int) pulse.Program {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name,team,hired_on\n")
	for i := 0; i < size; i++ {
		fmt.Fprintf(&b, "p%d@example.com,Person %d,Acme/Team,2020-01-01\n", i, i)
	}
	importCSV(t, st, b.String(), false)
	tree, _ := st.Tree(context.Background())
	p := pulse.Defaults()
	p.AudienceUnitID = tree.ByPath([]string{"Acme"}).ID
	p.Cadence.Zone = "Europe/Berlin"
	if err := st.SaveProgram(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundIsUniquePerProgramAndSlotEvenUnderConcurrentCreates(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 6)
		slot := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		created := make(chan bool, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, c, err := st.CreateRound(ctx, &p, slot, false, slot)
				if err != nil {
					t.Error(err)
				}
				created <- c
			}()
		}
		wg.Wait()
		close(created)
		n := 0
		for c := range created {
			if c {
				n++
			}
		}
		rounds, _ := st.Rounds(ctx, p.ID)
		if n != 1 || len(rounds) != 1 {
			t.Fatalf("%d creations reported, %d rounds stored; want exactly one", n, len(rounds))
		}
		if rounds[0].Invited != 6 || rounds[0].Period != "2026-03-02" {
			t.Errorf("round %+v: want 6 invited, period 2026-03-02", rounds[0])
		}
		msgs, _ := st.OutboxMessages(ctx, "pending", 100)
		if len(msgs) != 6 {
			t.Errorf("%d invitations queued, want 6", len(msgs))
		}
	})
}

func TestARepeatedSendNowClickReturnsTheRoundJustStarted(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 5)
		click := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		first, created, err := st.CreateRound(ctx, &p, click, true, click)
		if err != nil || !created {
			t.Fatalf("first click: created %v, %v", created, err)
		}
		if first.TimeZone != p.Cadence.Zone || first.ProgramName != p.Name {
			t.Errorf("the new round says zone %q, program %q; want %q, %q", first.TimeZone, first.ProgramName, p.Cadence.Zone, p.Name)
		}
		// Two more clicks from two replicas, in later seconds: new slots,
		// but within the guard of the first.
		var wg sync.WaitGroup
		for _, later := range []time.Duration{2 * time.Second, 3 * time.Second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := click.Add(later)
				again, created, err := st.CreateRound(ctx, &p, at, true, at)
				if err != nil || created || again.ID != first.ID {
					t.Errorf("click %v later: round %d, created %v, %v; want round %d, not created", later, again.ID, created, err, first.ID)
				}
			}()
		}
		wg.Wait()
		if msgs, _ := st.OutboxMessages(ctx, "pending", 100); len(msgs) != 5 {
			t.Errorf("%d invitations queued after three clicks, want 5 (one each)", len(msgs))
		}
		// A scheduled slot the same day is skipped: one round a day.
		slot := click.Add(30 * time.Second)
		if _, created, err := st.CreateRound(ctx, &p, slot, false, slot); created || !pulse.IsDayTaken(err) {
			t.Errorf("a scheduled round 30 s after the click: created %v, %v; want it skipped (%v)", created, err, pulse.ErrDayTaken)
		}
		// A click after the guard, while the round is open, is refused.
		later := click.Add(pulse.ManualRoundGuard + time.Second)
		if r, created, err := st.CreateRound(ctx, &p, later, true, later); created || tandem.ErrorCode(err) != tandem.ECONFLICT {
			t.Errorf("a click %v after the first: round %d, created %v, %v; want a refusal: round 1 is open", pulse.ManualRoundGuard+time.Second, r.ID, created, err)
		}
		// Once it has closed, a click is a new round.
		after := first.ClosesAt.Add(time.Second)
		if r, created, err := st.CreateRound(ctx, &p, after, true, after); err != nil || !created || r.ID == first.ID {
			t.Errorf("a click after round 1 closed: round %d, created %v, %v; want a new round", r.ID, created, err)
		}
		if rounds, _ := st.Rounds(ctx, p.ID); len(rounds) != 2 {
			t.Errorf("%d rounds stored, want 2 (the click, and the one after it closed)", len(rounds))
		}
	})
}

func TestAnswerIsStoredOnceAndWithoutItsPerson(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 5)
		now := testNow
		r, _, err := st.CreateRound(ctx, &p, now, true, now)
		if err != nil {
			t.Fatal(err)
		}
		invs, _ := st.RoundInvitations(ctx, r.ID)
		if err := st.AddInvitationToken(ctx, invs[0].ID, "hash-1"); err != nil {
			t.Fatal(err)
		}
		qs, _ := st.RoundQuestions(ctx, r.ID)
		var answers []pulse.Answer
		for _, q := range qs {
			if q.Kind == pulse.Scale010 {
				answers = append(answers, pulse.Answer{QuestionID: q.ID, Value: 9, HasValue: true})
			} else if q.Kind == pulse.Likert5 {
				answers = append(answers, pulse.Answer{QuestionID: q.ID, Value: 4, HasValue: true})
			}
		}
		if err := st.SubmitResponse(ctx, "hash-1", answers, "nice", now); err != nil {
			t.Fatal(err)
		}
		if err := st.SubmitResponse(ctx, "hash-1", answers, "again", now); err != ErrAlreadyAnswered {
			t.Errorf("second submission: %v, want ErrAlreadyAnswered", err)
		}
		if err := st.SubmitResponse(ctx, "nope", answers, "", now); err == nil {
			t.Error("unknown token accepted")
		}
		got, _ := st.Round(ctx, r.ID)
		if got.Responded != 1 {
			t.Errorf("participation %d, want 1", got.Responded)
		}
		// While the round is open its answers are in no aggregate read.
		if scores, _ := st.Scores(ctx, []int64{r.ID}); len(scores) != 0 {
			t.Errorf("the open round's scores: %d rows, want none before it closes", len(scores))
		}
		if resp, _ := st.Respondents(ctx, []int64{r.ID}); sumCounts(resp[r.ID]) != 0 {
			t.Errorf("the open round's respondents: %v, want none before it closes", resp)
		}
		if texts, _ := st.TextAnswers(ctx, r.ID); len(texts) != 0 {
			t.Errorf("the open round's comments: %v, want none before it closes", texts)
		}
		// After the window, answers are refused.
		if err := st.AddInvitationToken(ctx, invs[1].ID, "hash-2"); err != nil {
			t.Fatal(err)
		}
		if err := st.SubmitResponse(ctx, "hash-2", answers, "", r.ClosesAt); err != ErrRoundClosed {
			t.Errorf("answer at closing time: %v, want ErrRoundClosed", err)
		}
		if _, err := st.CloseDueRounds(ctx, r.ClosesAt); err != nil {
			t.Fatal(err)
		}
		scores, _ := st.Scores(ctx, []int64{r.ID})
		for _, s := range scores {
			if s.N != 1 {
				t.Errorf("question %d counted %d times, want 1", s.QuestionID, s.N)
			}
		}
		if len(scores) == 0 {
			t.Error("the closed round has no scores")
		}
		resp, _ := st.Respondents(ctx, []int64{r.ID})
		if total := sumCounts(resp[r.ID]); total != 1 {
			t.Errorf("%d responses, want 1", total)
		}
		if texts, _ := st.TextAnswers(ctx, r.ID); len(texts) != 1 || texts[0].Text != "nice" {
			t.Errorf("the closed round's comments: %v, want the one given", texts)
		}
		// The closed round's links say so, and a second answer is refused
		// as closed.
		if _, err := st.InvitationByToken(ctx, "hash-1"); err != ErrRoundClosed {
			t.Errorf("an answered link after close: %v, want ErrRoundClosed", err)
		}
		if err := st.SubmitResponse(ctx, "hash-2", answers, "", r.ClosesAt); err != ErrRoundClosed {
			t.Errorf("answer after close: %v, want ErrRoundClosed", err)
		}
	})
}

func sumCounts(c pulse.UnitCounts) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func TestOutboxLeaseHandsEachMessageToOneWorker(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 30)
		now := testNow
		if _, _, err := st.CreateRound(ctx, &p, now, true, now); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					msgs, err := st.ClaimOutbox(ctx, now, time.Minute, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(msgs) == 0 {
						return
					}
					mu.Lock()
					for _, m := range msgs {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 30 {
			t.Errorf("%d messages claimed, want 30", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("message %d claimed %d times", id, n)
			}
		}
		// After the lease ends, an unsent message is handed out again.
		again, _ := st.ClaimOutbox(ctx, now.Add(2*time.Minute), time.Minute, 100)
		if len(again) != 30 {
			t.Errorf("after the lease: %d claimable, want 30", len(again))
		}
		if err := st.MarkSent(ctx, again[0].ID, now); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkRetry(ctx, again[1].ID, "550 no such user", time.Time{}); err != nil {
			t.Fatal(err)
		}
		counts, _ := st.OutboxCounts(ctx)
		if counts["sent"] != 1 || counts["failed"] != 1 || counts["pending"] != 28 {
			t.Errorf("outbox counts %v", counts)
		}
	})
}

func TestClosingARoundForgetsItsMessagesAndRemindersComeOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := newProgram(t, st, 5)
		start := testNow.Add(-72 * time.Hour)
		r, _, err := st.CreateRound(ctx, &p, start, true, start)
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := st.ClaimOutbox(ctx, start, time.Second, 100)
		for _, m := range msgs {
			st.MarkSent(ctx, m.ID, start)
		}
		now := start.Add(time.Duration(p.ReminderDays)*24*time.Hour + time.Minute)
		n, err := st.QueueDueReminders(ctx, now)
		if err != nil || n != 5 {
			t.Fatalf("reminders queued %d (%v), want 5", n, err)
		}
		if n, _ := st.QueueDueReminders(ctx, now.Add(time.Hour)); n != 0 {
			t.Errorf("reminders queued again: %d", n)
		}
		closed, err := st.CloseDueRounds(ctx, r.ClosesAt)
		if err != nil || closed != 1 {
			t.Fatalf("closed %d (%v), want 1", closed, err)
		}
		// Who was invited, and who was reminded (those who had not
		// answered), is forgotten with the round's invitations.
		counts, _ := st.OutboxCounts(ctx)
		if len(counts) != 0 {
			t.Errorf("after closing the outbox holds %v, want no message of the round left", counts)
		}
		var invs int
		st.DB().QueryRow("SELECT COUNT(*) FROM invitations WHERE round_id = ?", r.ID).Scan(&invs)
		if invs != 0 {
			t.Errorf("%d invitations left after closing, want none", invs)
		}
		if inv, resp, _ := st.Participation(ctx, r.ID); sumCounts(inv) != 5 || sumCounts(resp) != 0 {
			t.Errorf("participation after closing: invited %v, answered %v; want 5 and 0", inv, resp)
		}
	})
}

func TestConcurrentAnswersAreEachStoredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := testNow
		r, hashes, answers := linkRound(t, st, 60)
		// Every invitation answered twice at once, plus unknown tokens.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, dup, bad := 0, 0, 0
		for _, h := range hashes {
			for j := 0; j < 2; j++ {
				wg.Add(1)
				go func(token string) {
					defer wg.Done()
					err := st.SubmitResponse(ctx, token, answers, "", now)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case err == ErrAlreadyAnswered:
						dup++
					default:
						bad++
						t.Errorf("submission: %v", err)
					}
				}(h)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.SubmitResponse(ctx, "no-such-token", answers, "", now); err == nil {
				t.Error("an unknown token was accepted")
			}
		}()
		wg.Wait()
		if ok != 60 || dup != 60 {
			t.Fatalf("%d stored, %d refused as answered twice; want 60 and 60", ok, dup)
		}
		scores, _ := st.Scores(ctx, []int64{r.ID})
		for _, s := range scores {
			if s.N != 60 || s.Sum != 240 {
				t.Errorf("question %d: n=%d sum=%v, want 60 and 240", s.QuestionID, s.N, s.Sum)
			}
		}
		got, _ := st.Round(ctx, r.ID)
		if got.Responded != 60 {
			t.Errorf("participation %d, want 60", got.Responded)
		}
	})
}

func TestAServiceQuestionNamingAMissingTeamIsRefusedWhole(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		newProgram(t, st, 3)
		tree, _ := st.Tree(ctx)
		var team int64
		for _, u := range tree.Walk() {
			if u.Name == "Team" {
				team = u.ID
			}
		}
		before, _ := st.Questions(ctx)
		q := &pulse.Question{Text: "How well does Team help you?", Kind: pulse.Service, Providers: []int64{team, 987654}}
		err := st.CreateQuestion(ctx, q)
		if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(tandem.ErrorMessage(err), "unit 987654 does not exist") {
			t.Fatalf("CreateQuestion = %v, want invalid: unit 987654 does not exist", err)
		}
		if after, _ := st.Questions(ctx); len(after) != len(before) {
			t.Errorf("%d questions stored after a refused one", len(after)-len(before))
		}
		var links int
		st.DB().QueryRow("SELECT COUNT(*) FROM question_providers").Scan(&links)
		if links != 0 {
			t.Errorf("%d provider links left behind", links)
		}
		q = &pulse.Question{Text: "How well does Team help you?", Kind: pulse.Service, Providers: []int64{team}}
		if err := st.CreateQuestion(ctx, q); err != nil {
			t.Fatalf("the same question with an existing team: %v", err)
		}
	})
}

func TestQuestionsAddedAtOnceEachGetTheirOwnKey(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		before, _ := st.Questions(ctx)
		const n = 8
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := &pulse.Question{Text: fmt.Sprintf("Custom question %d?", i), Kind: pulse.Likert5}
				if err := st.CreateQuestion(ctx, q); err != nil {
					t.Errorf("question %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		after, _ := st.Questions(ctx)
		keys := map[string]bool{}
		for _, q := range after {
			keys[q.Key] = true
		}
		if len(after) != len(before)+n || len(keys) != len(after) {
			t.Errorf("%d questions with %d distinct keys after %d concurrent adds to %d", len(after), len(keys), n, len(before))
		}
	})
}

func TestATakenResponseIDIsDrawnAgainWithoutLosingTheAnswer(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		r, hashes, answers := linkRound(t, st, 5)
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", testNow); err != nil {
			t.Fatal(err)
		}
		var taken int64
		if err := st.r.QueryRowContext(ctx, st.q("SELECT id FROM responses WHERE round_id = ?"), r.ID).Scan(&taken); err != nil {
			t.Fatal(err)
		}
		// The next draw hits the stored response's id, then a free one.
		free := taken ^ 1
		draws := []int64{taken, free}
		orig := drawResponseID
		drawResponseID = func() (int64, error) { id := draws[0]; draws = draws[1:]; return id, nil }
		defer func() { drawResponseID = orig }()
		if err := st.SubmitResponse(ctx, hashes[1], answers, "second", testNow); err != nil {
			t.Fatalf("answer whose first id was taken: %v", err)
		}
		var comment string
		if err := st.r.QueryRowContext(ctx, st.q("SELECT comment FROM responses WHERE id = ?"), free).Scan(&comment); err != nil || comment != "second" {
			t.Errorf("response under the second id: %q, %v; want the second answer", comment, err)
		}
	})
}
