package store

import (
	"context"
	"errors"
	"sync"
)

// Advisory lock of the scheduler's leader (PostgreSQL): the two-key form,
// the schema's hash and a constant, so installations in different schemas
// of one database elect their leaders apart.
const advisoryLeader = 0x7464_6d02

// ErrNotLeader is what a replica's elector says when another replica runs
// the scheduled jobs.
var ErrNotLeader = errors.New("another tandem replica runs the scheduled jobs")

// Elector decides which of several replicas on one PostgreSQL runs the
// scheduled jobs: the one holding a session advisory lock. The lock lives
// as long as the leader's database connection, so when a leader dies (even
// by SIGKILL) the server releases it and the next replica to ask takes
// over. It satisfies gocron's Elector interface.
type Elector struct {
	s      *Store
	mu     sync.Mutex
	conn   connHolder
	leader bool
}

type connHolder interface {
	QueryRowContext(ctx context.Context, query string, args ...any) rowScanner
	Close() error
}

type rowScanner interface{ Scan(...any) error }

// NewElector returns the leader elector for a PostgreSQL store, or nil for
// SQLite, where one process owns the database and always leads.
func (s *Store) NewElector() *Elector {
	if s.engine != Postgres {
		return nil
	}
	return &Elector{s: s}
}

// IsLeader returns nil when this replica leads, ErrNotLeader when another
// does, or the database error that kept it from finding out.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		c, err := e.s.w.Conn(ctx)
		if err != nil {
			return err
		}
		e.conn = sqlConn{c}
		e.leader = false
	}
	if e.leader {
		// Still leading as long as our connection is alive.
		var one int
		if err := e.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			e.drop()
			return err
		}
		return nil
	}
	var ok bool
	if err := e.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext(current_schema()), $1)", advisoryLeader).Scan(&ok); err != nil {
		e.drop()
		return err
	}
	if !ok {
		return ErrNotLeader
	}
	e.leader = true
	return nil
}

// Resign gives up leadership (at shutdown), so another replica takes over
// at once.
func (e *Elector) Resign() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.drop()
}

func (e *Elector) drop() {
	if e.conn != nil {
		e.conn.Close() // closing the session releases its advisory locks
	}
	e.conn, e.leader = nil, false
}
