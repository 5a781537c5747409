package store

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSQLiteLogStaysShortWhileWritesGoOn writes steadily, with readers
// beside the writer, and watches the log file: the background checkpoints
// must copy it into the database and let it start again from its beginning,
// although the writer itself never checkpoints below writerAutoCheckpoint
// pages.
func TestSQLiteLogStaysShortWhileWritesGoOn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	st, err := Open(ctx, path, Options{checkpointEvery: 5 * time.Millisecond, restartFrames: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var auto int
	if err := st.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != writerAutoCheckpoint {
		t.Fatalf("the writer checkpoints by itself every %d pages, want %d", auto, writerAutoCheckpoint)
	}
	if _, err := st.w.ExecContext(ctx, "CREATE TABLE scratch (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
		t.Fatal(err)
	}

	const rows = 8000
	var done atomic.Bool
	var wg sync.WaitGroup
	// Both are written by the watcher alone and read after wg.Wait.
	var maxLog int64
	restarts := map[uint32]bool{}
	wg.Go(func() { // watch the log file
		var header [32]byte
		for !done.Load() {
			if f, err := os.Open(path + "-wal"); err == nil {
				if fi, err := f.Stat(); err == nil && fi.Size() > maxLog {
					maxLog = fi.Size()
				}
				// Bytes 12–15 of the log's header count its restarts.
				if _, err := f.ReadAt(header[:], 0); err == nil {
					restarts[binary.BigEndian.Uint32(header[12:16])] = true
				}
				f.Close()
			}
			time.Sleep(time.Millisecond)
		}
	})
	wg.Go(func() { // a reader keeps snapshots open now and then
		for !done.Load() {
			var n int
			if err := st.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM scratch").Scan(&n); err != nil {
				t.Error(err)
				return
			}
		}
	})
	blob := make([]byte, 4096)
	for i := range rows {
		if err := st.InTx(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, "INSERT INTO scratch (id, b) VALUES (?, ?)", i+1, blob)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()

	var n int
	if err := st.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM scratch").Scan(&n); err != nil || n != rows {
		t.Fatalf("%d rows (%v), want %d", n, err, rows)
	}
	// Each row takes at least two pages of the log (its leaf and the
	// blob's overflow page): without restarts the log would hold them all.
	written := int64(rows * 2 * 4096)
	if len(restarts) < 3 {
		t.Errorf("the log started %d times, want it restarted again and again", len(restarts))
	}
	if maxLog > written/2 {
		t.Errorf("the log grew to %.1f MB of the %.1f MB written, want it restarted before half", float64(maxLog)/1e6, float64(written)/1e6)
	}
	t.Logf("longest log: %.1f MB, %d restarts", float64(maxLog)/1e6, len(restarts)-1)
}
