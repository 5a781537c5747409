package store

import (
	"testing"
	"time"
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
