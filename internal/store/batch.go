package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// SQLite has one writer, and each transaction's commit costs more than
// the few statements of an answer; on PostgreSQL a commit waits for its
// log to reach the disk, and each statement is a round trip. Answers
// submitted at the same time are therefore written together ("group
// commit", on both engines; batch_postgres.go has PostgreSQL's own
// statements): one goroutine per process takes them in
// arrival order and stores up to maxBatch per transaction. A submission
// refused in the writer (answered or closed since it was checked) writes
// nothing and leaves the others whole; any other failure aborts the whole
// transaction, so nothing is half-written, and every caller of the batch
// hears it. Each caller gets its own result only after the transaction
// holding its answers has committed.
//
// A commit costs about as much as the statements of an answer or two, and
// it empties the page cache of every reader. So under load the writer
// waits up to maxLinger for more answers before it begins: answers then
// arrive every few hundred microseconds, and 10–20 share one commit
// (measured in BENCHMARKS.md). It waits only while answers come in
// together — the previous batch held more than one — so a lone answer is
// written at once.

//
// SQLite has one writer goroutine. PostgreSQL takes writes side by side,
// and most of a batch's time there is waiting: for each statement's round
// trip and for the commit's log flush. So a PostgreSQL store runs
// pgWriters of them, each writing its own batch while the others wait.

const (
	maxBatch  = 64
	maxLinger = time.Millisecond
	pgWriters = 4
)

type submission struct {
	invitationID, roundID, unitID int64
	kinds                         map[int64]pulse.Kind
	answers                       []pulse.Answer
	comment                       string
	now                           time.Time
	done                          chan error
}

type batcher struct {
	once    sync.Once
	mu      sync.Mutex
	closed  bool
	queue   chan *submission
	stopped chan struct{}
}

var errStoreClosed = tandem.Errorf(tandem.EUNAVAILABLE, "the server is shutting down; nothing was saved. Please try again in a moment")

func (s *Store) submitBatched(ctx context.Context, sub submission) error {
	b := &s.batch
	b.once.Do(func() {
		b.queue = make(chan *submission, 4*maxBatch)
		b.stopped = make(chan struct{})
		writers := 1
		if s.engine == Postgres {
			writers = pgWriters
		}
		var wg sync.WaitGroup
		for range writers {
			wg.Go(s.runBatches)
		}
		go func() { wg.Wait(); close(b.stopped) }()
	})
	sub.done = make(chan error, 1)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errStoreClosed
	}
	select {
	case b.queue <- &sub:
		b.mu.Unlock()
	case <-ctx.Done():
		b.mu.Unlock()
		return tandem.Errorf(tandem.EUNAVAILABLE, "the server is busy; nothing was saved. Please try again in a moment")
	}
	// Once queued, the answer will be written or refused: wait for the
	// outcome rather than report a failure that did not happen.
	return <-sub.done
}

func (s *Store) runBatches() {
	b := &s.batch
	busy := false // the last batch held more than one answer
	for first := range b.queue {
		linger := time.Duration(0)
		if busy {
			linger = maxLinger
		}
		batch := b.gather(first, linger)
		busy = len(batch) > 1
		s.writeBatch(batch)
	}
}

// gather returns first with the answers queued behind it, up to maxBatch,
// waiting up to linger for more to arrive.
func (b *batcher) gather(first *submission, linger time.Duration) []*submission {
	batch := []*submission{first}
	var deadline <-chan time.Time
	if linger > 0 {
		t := time.NewTimer(linger)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < maxBatch {
		var sub *submission
		var ok bool
		if deadline == nil {
			select {
			case sub, ok = <-b.queue:
			default:
				return batch
			}
		} else {
			select {
			case sub, ok = <-b.queue:
			case <-deadline:
				return batch
			}
		}
		if !ok {
			return batch // the store is closing
		}
		batch = append(batch, sub)
	}
	return batch
}

// writeBatch stores a batch in one transaction. A refused answer writes
// nothing: its guard is its first statement.
func (s *Store) writeBatch(batch []*submission) {
	if s.engine == Postgres {
		for i, err := range s.writeBatchPostgres(batch) {
			batch[i].done <- err
		}
		return
	}
	ctx := context.Background()
	results := make([]error, len(batch))
	err := s.InTx(ctx, func(tx *Tx) error {
		for i, sub := range batch {
			err := tx.submit(ctx, sub)
			switch err {
			case nil:
			case ErrAlreadyAnswered, ErrRoundClosed, ErrUnknownLink:
				results[i] = err // nothing was written for it
			default:
				return err
			}
		}
		return nil
	})
	for i, sub := range batch {
		if err != nil && results[i] == nil {
			results[i] = fmt.Errorf("store %d answers together: %w", len(batch), err)
		}
		sub.done <- results[i]
	}
}

// stop lets queued submissions finish and refuses new ones.
func (b *batcher) stop() {
	b.mu.Lock()
	if b.closed || b.queue == nil {
		b.closed = true
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.queue)
	b.mu.Unlock()
	<-b.stopped
}
