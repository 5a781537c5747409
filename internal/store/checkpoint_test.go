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
			time.Sleep(100 * time.Microsecond)
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
	// How long the log grows between restarts depends on how much CPU
	// and disk the checkpoints get beside the writer, which a shared
	// machine does not promise; that it keeps restarting while writes
	// go on, and settles short once they pause, does not.
	if len(restarts) < 3 {
		t.Errorf("the log started %d times, want it restarted again and again", len(restarts))
	}
	// Once writes pause, the next checkpoints restart the log and the
	// next write begins it afresh: a few pages, not megabytes.
	settled := false
	deadline := time.Now().Add(10 * time.Second)
	for i := 1; !settled && time.Now().Before(deadline); i++ {
		time.Sleep(20 * time.Millisecond)
		if err := st.InTx(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, "INSERT INTO scratch (id) VALUES (?)", rows+i)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if frames, err := walFrames(path + "-wal"); err != nil {
			t.Fatal(err)
		} else if frames < 64 {
			settled = true
		}
	}
	if !settled {
		t.Errorf("the log did not start afresh within 10 s of the writes pausing")
	}
	t.Logf("longest log: %.1f MB, %d restarts", float64(maxLog)/1e6, len(restarts)-1)
}

// walFrames counts the frames of the log's current generation, reading
// the file as SQLite's recovery does (frames whose salts match the
// header's, from the beginning), so that looking takes no lock and runs
// no checkpoint of its own.
func walFrames(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var header [32]byte
	if _, err := f.ReadAt(header[:], 0); err != nil {
		return 0, nil // not written yet
	}
	pageSize := int64(binary.BigEndian.Uint32(header[8:12]))
	var frame [24]byte
	n := 0
	for off := int64(32); ; off += 24 + pageSize {
		if _, err := f.ReadAt(frame[:], off); err != nil || string(frame[8:16]) != string(header[16:24]) {
			return n, nil
		}
		n++
	}
}
