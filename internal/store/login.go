package store

import (
	"context"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Sign-in attempts are judged by the failures recorded in login_failures
// (account, address, time) and the addresses each account signed in from
// (login_addresses), which every replica shares. The judgement and the
// count are one step: CountLoginAttempt decides and records an attempt
// inside one transaction that holds the account's and the address's locks,
// before the caller spends a password hash on it, so that parallel
// attempts — on one replica or several — cannot all pass a limit they
// would pass one at a time. The rule itself is the caller's (auth.Throttle).

// KnownAddressFor is how long an address that signed in to an account
// stays known for it without another good sign-in.
const KnownAddressFor = 365 * 24 * time.Hour

// LoginCounts are the recent failed sign-ins an attempt is judged by: of
// the account from anywhere, from the address at any account, and of the
// account from the address (the pair), each with the time of its latest;
// and whether the address has signed in to the account before.
type LoginCounts struct {
	Account, Address, Pair             int
	AccountLast, AddressLast, PairLast time.Time
	Known                              bool
}

// LoginAttempt is one try to sign in.
type LoginAttempt struct {
	Email, IP string
	At        time.Time
	// Since is the start of the window failures count in.
	Since time.Time
}

// CountLoginAttempt decides whether an attempt may check a password, and
// counts it: allow gets the failures since a.Since and says yes or no; a
// yes is recorded as a failure at once (the returned id), before any
// password is checked, and LoginSucceeded removes it when the password was
// right. Attempts at one account or from one address are decided one at a
// time: SQLite's single writer serialises the transaction, and on
// PostgreSQL it takes advisory locks on the account and then on the
// address (always in that order, so two attempts cannot wait for each
// other).
func (s *Store) CountLoginAttempt(ctx context.Context, a LoginAttempt, allow func(LoginCounts) bool) (id int64, allowed bool, err error) {
	email := tandem.NormalizeEmail(a.Email)
	err = s.InTx(ctx, func(tx *Tx) error {
		if s.engine == Postgres {
			for _, key := range []string{"login-account:" + email, "login-address:" + a.IP} {
				if _, err := s.exec(ctx, tx.tx, "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || ?, 0))", key); err != nil {
					return err
				}
			}
		}
		n, err := s.loginCounts(ctx, tx.tx, email, a.IP, a.Since, a.At)
		if err != nil {
			return err
		}
		if allowed = allow(n); !allowed {
			return nil
		}
		id, err = s.insert(ctx, tx.tx, "INSERT INTO login_failures (email, ip, at) VALUES (?, ?, ?)", email, a.IP, a.At.Unix())
		return err
	})
	return id, allowed, err
}

// loginCounts reads the failures since a time for an account, an address
// and the two together, and whether the address is known for the account
// at now.
func (s *Store) loginCounts(ctx context.Context, q queryer, email, ip string, since, now time.Time) (LoginCounts, error) {
	var n LoginCounts
	var a, b, c int64
	var known int
	err := s.queryRow(ctx, q, `SELECT
		(SELECT COUNT(*) FROM login_failures WHERE email = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE email = ? AND at > ?),
		(SELECT COUNT(*) FROM login_failures WHERE ip = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE ip = ? AND at > ?),
		(SELECT COUNT(*) FROM login_failures WHERE email = ? AND ip = ? AND at > ?),
		(SELECT COALESCE(MAX(at), 0) FROM login_failures WHERE email = ? AND ip = ? AND at > ?),
		(SELECT COUNT(*) FROM login_addresses WHERE email = ? AND ip = ? AND last_at > ?)`,
		email, since.Unix(), email, since.Unix(), ip, since.Unix(), ip, since.Unix(),
		email, ip, since.Unix(), email, ip, since.Unix(), email, ip, now.Add(-KnownAddressFor).Unix()).
		Scan(&n.Account, &a, &n.Address, &b, &n.Pair, &c, &known)
	n.AccountLast, n.AddressLast, n.PairLast, n.Known = fromUnix(a), fromUnix(b), fromUnix(c), known > 0
	return n, err
}

// LoginSucceeded records a good password for the attempt id: the attempt
// and the earlier failures of the account from that address are
// forgotten (not those from elsewhere: a good sign-in must not reset
// someone else's slowing), and the address becomes known for the account.
func (s *Store) LoginSucceeded(ctx context.Context, id int64, email, ip string, now time.Time) error {
	email = tandem.NormalizeEmail(email)
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM login_failures WHERE id = ? OR (email = ? AND ip = ?)", id, email, ip); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx.tx, `INSERT INTO login_addresses (email, ip, last_at) VALUES (?, ?, ?)
			ON CONFLICT (email, ip) DO UPDATE SET last_at = excluded.last_at`, email, ip, now.Unix())
		return err
	})
}

// LoginThrottle is one account and address with recent failures, for the
// admins' list.
type LoginThrottle struct {
	Email, IP string
	// Failures and Last are the pair's; AddressFailures and AddressLast
	// those of the address over all accounts.
	Failures, AddressFailures int
	Last, AddressLast         time.Time
	Known                     bool
}

// LoginThrottles lists the account and address pairs with failures since a
// time, latest first, at most limit.
func (s *Store) LoginThrottles(ctx context.Context, since, now time.Time, limit int) ([]LoginThrottle, error) {
	rows, err := s.query(ctx, s.r, `SELECT f.email, f.ip, COUNT(*), MAX(f.at),
		(SELECT COUNT(*) FROM login_failures g WHERE g.ip = f.ip AND g.at > ?),
		(SELECT MAX(g.at) FROM login_failures g WHERE g.ip = f.ip AND g.at > ?),
		(SELECT COUNT(*) FROM login_addresses k WHERE k.email = f.email AND k.ip = f.ip AND k.last_at > ?)
		FROM login_failures f WHERE f.at > ? GROUP BY f.email, f.ip ORDER BY MAX(f.at) DESC, f.email, f.ip LIMIT ?`,
		since.Unix(), since.Unix(), now.Add(-KnownAddressFor).Unix(), since.Unix(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LoginThrottle
	for rows.Next() {
		var t LoginThrottle
		var last, addrLast int64
		var known int
		if err := rows.Scan(&t.Email, &t.IP, &t.Failures, &last, &t.AddressFailures, &addrLast, &known); err != nil {
			return nil, err
		}
		t.Last, t.AddressLast, t.Known = fromUnix(last), fromUnix(addrLast), known > 0
		out = append(out, t)
	}
	return out, rows.Err()
}

// ClearLoginFailures forgets the failures of an account from an address;
// with email "", every failure from the address.
func (s *Store) ClearLoginFailures(ctx context.Context, email, ip string) (int64, error) {
	q, args := "DELETE FROM login_failures WHERE email = ? AND ip = ?", []any{tandem.NormalizeEmail(email), ip}
	if email == "" {
		q, args = "DELETE FROM login_failures WHERE ip = ?", []any{ip}
	}
	res, err := s.exec(ctx, s.w, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
