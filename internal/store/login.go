package store

import (
	"context"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Sign-in attempts are judged by the failures recorded in login_failures
// (account, address, time), which every replica shares. The judgement and
// the count are one step: CountLoginAttempt decides and records an attempt
// inside one transaction that holds the account's and the address's locks,
// before the caller spends a password hash on it, so that parallel
// attempts — on one replica or several — cannot all pass a limit they
// would pass one at a time. The rule itself is the caller's (auth.Throttle).

// LoginCounts are the recent failed sign-ins an attempt is judged by: of
// the account from anywhere, from the address at any account, and of the
// account from the address (the pair), each with the time of its latest.
type LoginCounts struct {
	Account, Address, Pair             int
	AccountLast, AddressLast, PairLast time.Time
}

// CountLoginAttempt decides whether the attempt to sign in to email from ip
// at now may check a password, and counts it: allow gets the failures since
// since and says yes or no; a yes is recorded as a failure at once (the
// returned id), before any password is checked, and LoginSucceeded removes
// it when the password was right. Attempts at one account or from one
// address are decided one at a time: SQLite's single writer serialises the
// transaction, and on PostgreSQL it takes advisory locks on the account and
// then on the address (always in that order, so two attempts cannot wait
// for each other).
func (s *Store) CountLoginAttempt(ctx context.Context, email, ip string, now, since time.Time,
	allow func(LoginCounts) bool) (id int64, allowed bool, err error) {
	email = tandem.NormalizeEmail(email)
	err = s.InTx(ctx, func(tx *Tx) error {
		if s.engine == Postgres {
			for _, key := range []string{"login-account:" + email, "login-address:" + ip} {
				if _, err := s.exec(ctx, tx.tx, "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || ?, 0))", key); err != nil {
					return err
				}
			}
		}
		n, err := s.loginCounts(ctx, tx.tx, email, ip, since)
		if err != nil {
			return err
		}
		if allowed = allow(n); !allowed {
			return nil
		}
		id, err = s.insert(ctx, tx.tx, "INSERT INTO login_failures (email, ip, at) VALUES (?, ?, ?)", email, ip, now.Unix())
		return err
	})
	return id, allowed, err
}

// loginCounts reads the failures since a time for an account, an address
// and the two together.
func (s *Store) loginCounts(ctx context.Context, q queryer, email, ip string, since time.Time) (LoginCounts, error) {
	var n LoginCounts
	var a, b, c int64
	err := s.queryRow(ctx, q, `SELECT
		(SELECT COUNT(*) FROM login_failures WHERE email = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE email = ? AND at > ?),
		(SELECT COUNT(*) FROM login_failures WHERE ip = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE ip = ? AND at > ?),
		(SELECT COUNT(*) FROM login_failures WHERE email = ? AND ip = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE email = ? AND ip = ? AND at > ?)`,
		email, since.Unix(), email, since.Unix(), ip, since.Unix(), ip, since.Unix(),
		email, ip, since.Unix(), email, ip, since.Unix()).Scan(&n.Account, &a, &n.Address, &b, &n.Pair, &c)
	n.AccountLast, n.AddressLast, n.PairLast = fromUnix(a), fromUnix(b), fromUnix(c)
	return n, err
}

// LoginSucceeded records a good password for the attempt id: the attempt
// and the account's earlier failures are forgotten.
func (s *Store) LoginSucceeded(ctx context.Context, id int64, email, ip string, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		_, err := s.exec(ctx, tx.tx, "DELETE FROM login_failures WHERE id = ? OR email = ?", id, tandem.NormalizeEmail(email))
		return err
	})
}
