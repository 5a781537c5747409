package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// SQLite in WAL mode copies the log back into the database file at a
// checkpoint, and by default the connection whose commit takes the log past
// 1,000 pages runs it, inside that commit: the copy and its two fsyncs
// (10–30 ms on a virtual disk) then stall the single writer, and every
// answer queued behind it, several times a second under load.
//
// So a goroutine of its own checkpoints every checkpointEvery, PASSIVE (it
// neither waits for nor blocks readers or the writer), on a connection of
// its own: that is where the copying and the slow fsyncs happen. Only the
// log's restart needs the writer: the log starts again from its beginning
// when a write transaction begins with every page of it copied and no
// reader left in it, which a copy running beside a busy writer never
// achieves. So once the log is past restartFrames pages, the goroutine
// catches up with what was written meanwhile and then, on the writer's
// connection between two of its transactions, runs a RESTART checkpoint:
// it copies the little that is left and waits (at most restartWait) for
// readers still in the log, so that the next write starts it afresh. The
// writer checkpoints by itself only as a last resort, past
// writerAutoCheckpoint pages (if this goroutine cannot).

const (
	writerDriver         = "sqlite3-tandem-writer"
	checkpointEvery      = 100 * time.Millisecond
	restartFrames        = 8192 // pages: 32 MB of log
	restartWait          = 5 * time.Millisecond
	writerAutoCheckpoint = 4 * restartFrames
)

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint), nil)
		return err
	}})
}

// checkpointer runs the background checkpoints of one SQLite store.
type checkpointer struct {
	db     *sql.DB // its own connection
	writer *sql.DB
	log    *slog.Logger
	// busyTimeout is the writer's usual lock wait, restored after a
	// restart checkpoint shortened it.
	busyTimeout time.Duration
	// every and restart are checkpointEvery and restartFrames; tests
	// make them smaller.
	every   time.Duration
	restart int
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

func (c *checkpointer) start() {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.run()
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.checkpoint(context.Background())
		// A failure loses nothing: the writer checkpoints by itself past
		// writerAutoCheckpoint pages. Say so once, not ten times a second.
		if err != nil && !failing {
			c.log.Warn("background checkpoint of the SQLite log failed; the writer will checkpoint by itself", "err", err)
		} else if err == nil && failing {
			c.log.Info("background checkpoints of the SQLite log work again")
		}
		failing = err != nil
	}
}

// checkpoint copies what it can of the log into the database file, and
// lets a long log restart.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	logFrames, err := passiveCheckpoint(ctx, c.db)
	if err != nil || logFrames < c.restart {
		return err
	}
	// Catch up with what was written during that copy (until under 64
	// pages, 256 KB, came in meanwhile, at most three more passes), so
	// that the writer's own pass has little to copy and sync.
	for range 3 {
		before := logFrames
		if logFrames, err = passiveCheckpoint(ctx, c.db); err != nil {
			return err
		}
		if logFrames-before < 64 {
			break
		}
	}
	return c.restartLog(ctx)
}

// restartLog runs a RESTART checkpoint on the writer's connection, waiting
// at most restartWait for readers (the writer waits as long).
func (c *checkpointer) restartLog(ctx context.Context) error {
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
		return err
	}
	var busy, logFrames, copied int
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &logFrames, &copied)
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", c.busyTimeout.Milliseconds())); rerr != nil {
		// A writer that gives up on locks after 5 ms must not stay in
		// the pool: drop the connection, and the next is opened whole.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(err, rerr)
	}
	return err
}

// passiveCheckpoint runs a PASSIVE checkpoint on db and returns the
// length of the log in pages.
func passiveCheckpoint(ctx context.Context, db *sql.DB) (logFrames int, err error) {
	var busy, copied int
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
	return logFrames, err
}

// close stops the checkpoints and closes their connection; closing twice
// is harmless.
func (c *checkpointer) close() error {
	c.closing.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
