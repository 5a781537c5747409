package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

func TestAnAnswerAloneIsWrittenWithoutWaiting(t *testing.T) {
	b := &batcher{queue: make(chan *submission, maxBatch)}
	b.queue <- &submission{}
	b.queue <- &submission{}
	// No linger: what is queued goes with the first, and nothing more is
	// awaited (an hour's linger would hang the test if it were).
	if got := b.gather(&submission{}, 0); len(got) != 3 {
		t.Errorf("batch of %d, want the first and the 2 queued", len(got))
	}
}

func TestUnderLoadTheWriterWaitsForMoreAnswersUntilTheBatchIsFull(t *testing.T) {
	b := &batcher{queue: make(chan *submission, maxBatch)}
	go func() {
		for range 2 * maxBatch {
			b.queue <- &submission{}
		}
	}()
	// With an hour to wait, gather can only return by filling the batch.
	if got := b.gather(&submission{}, time.Hour); len(got) != maxBatch {
		t.Errorf("batch of %d, want a full batch of %d", len(got), maxBatch)
	}
}

func TestLingerEndsAtItsDeadlineAndWhenTheStoreCloses(t *testing.T) {
	b := &batcher{queue: make(chan *submission, maxBatch)}
	if got := b.gather(&submission{}, time.Millisecond); len(got) != 1 {
		t.Errorf("batch of %d after the deadline, want 1", len(got))
	}
	b.queue <- &submission{}
	close(b.queue)
	if got := b.gather(&submission{}, time.Hour); len(got) != 2 {
		t.Errorf("batch of %d when the queue closed, want 2", len(got))
	}
}

func TestABatchStoresEachFirstAnswerAndRefusesTheRestWritingNothingForThem(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		r, _, answers := linkRound(t, st, 6)
		invs, err := st.RoundInvitations(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := st.RoundQuestions(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[int64]pulse.Kind{}
		for _, q := range qs {
			kinds[q.ID] = q.Kind
		}
		open, late := testNow, r.ClosesAt.Add(time.Minute)
		sub := func(inv InvitationRef, now time.Time, comment string) *submission {
			return &submission{invitationID: inv.ID, roundID: r.ID, unitID: inv.UnitID, kinds: kinds,
				answers: answers, comment: comment, now: now, done: make(chan error, 1)}
		}
		batch := []*submission{
			sub(invs[0], open, "first"),
			sub(invs[0], open, "the same link again"),
			sub(invs[1], late, "after the close"),
			sub(InvitationRef{ID: 987654321, UnitID: invs[2].UnitID}, open, "no such invitation"),
			sub(invs[3], open, "second"),
		}
		st.writeBatch(batch)
		want := []error{nil, ErrAlreadyAnswered, ErrRoundClosed, ErrUnknownLink, nil}
		for i, s := range batch {
			if got := <-s.done; got != want[i] {
				t.Errorf("submission %d (%s): %v, want %v", i, s.comment, got, want[i])
			}
		}
		var comments []string
		rows, err := st.query(ctx, st.r, "SELECT comment FROM responses WHERE round_id = ? ORDER BY comment", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			comments = append(comments, c)
		}
		rows.Close()
		if fmt.Sprint(comments) != "[first second]" {
			t.Errorf("stored responses %q, want the first and the second", comments)
		}
		var nAnswers, responded int
		st.queryRow(ctx, st.r, "SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.round_id = ?", r.ID).Scan(&nAnswers)
		st.queryRow(ctx, st.r, "SELECT COUNT(*) FROM invitations WHERE round_id = ? AND responded = ?", r.ID, true).Scan(&responded)
		if nAnswers != 2*len(answers) || responded != 2 {
			t.Errorf("%d answers and %d invitations answered, want %d and 2", nAnswers, responded, 2*len(answers))
		}
		sc, err := st.query(ctx, st.r, "SELECT question_id, n, sum FROM round_scores WHERE round_id = ?", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		totals := 0
		for sc.Next() {
			var q, n int64
			var sum float64
			sc.Scan(&q, &n, &sum)
			totals++
			if n != 2 || sum != 8 {
				t.Errorf("question %d: n=%d sum=%v, want 2 answers of 4 (sum 8)", q, n, sum)
			}
		}
		sc.Close()
		if totals != len(answers) {
			t.Errorf("%d running totals, want one per answered question (%d)", totals, len(answers))
		}
	})
}
