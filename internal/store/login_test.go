package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// eachReplicaPair runs fn against two stores on one database, as two
// replicas have: two SQLite stores on one file (each with its own writer
// connection), and two PostgreSQL stores on one schema when
// TANDEM_TEST_POSTGRES names a server.
func eachReplicaPair(t *testing.T, fn func(t *testing.T, a, b *Store)) {
	t.Helper()
	t.Run(SQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tandem.db")
		a, b := openAt(t, path), openAt(t, path)
		fn(t, a, b)
	})
	if dsn := os.Getenv("TANDEM_TEST_POSTGRES"); dsn != "" {
		t.Run(Postgres, func(t *testing.T) {
			schema := testPostgresSchema(t, dsn)
			a, b := openAt(t, schema), openAt(t, schema)
			fn(t, a, b)
		})
	}
}

func openAt(t *testing.T, dsn string) *Store {
	t.Helper()
	st, err := Open(context.Background(), dsn, Options{Now: testClock})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testPostgresSchema creates a schema of its own on the server at dsn and
// returns a DSN that uses it; the schema is dropped when the test ends.
func testPostgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The machine's clock only makes the schema's name unique.
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var loginNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestLoginAttemptsAreDecidedAndCountedAtomicallyAcrossReplicas sends 100
// parallel attempts at one account, half through each of two replicas,
// each allowed only while fewer than 5 failures are counted: exactly 5 are
// allowed and 5 counted, on both engines. A check-then-count would let
// most of them through.
func TestLoginAttemptsAreDecidedAndCountedAtomicallyAcrossReplicas(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, a, b *Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for i := range 100 {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ip := fmt.Sprintf("10.0.%d.%d", i/50, i%50)
				_, ok, err := st.CountLoginAttempt(ctx, LoginAttempt{Email: "ana@example.com", IP: ip, At: loginNow, Since: loginNow.Add(-15 * time.Minute)},
					func(n LoginCounts) bool { return n.Account < 5 })
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if allowed != 5 {
			t.Errorf("%d of 100 parallel attempts allowed, want 5", allowed)
		}
		n, err := a.loginCounts(ctx, a.r, "ana@example.com", "10.0.0.1", loginNow.Add(-15*time.Minute), loginNow)
		if err != nil {
			t.Fatal(err)
		}
		if n.Account != 5 {
			t.Errorf("%d failures counted for the account, want 5", n.Account)
		}
	})
}

// TestLoginCountsSeparateAccountAddressAndPair records failures from two
// addresses at two accounts and reads each count back; a success removes
// the pair's failures and makes the address known.
func TestLoginCountsSeparateAccountAddressAndPair(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		since := loginNow.Add(-15 * time.Minute)
		yes := func(LoginCounts) bool { return true }
		for i, x := range []struct{ email, ip string }{
			{"ana@example.com", "10.0.0.1"}, {"ana@example.com", "10.0.0.1"}, {"ana@example.com", "10.0.0.2"},
			{"ben@example.com", "10.0.0.1"},
		} {
			if _, _, err := st.CountLoginAttempt(ctx, LoginAttempt{Email: x.email, IP: x.ip, At: loginNow.Add(time.Duration(i) * time.Second), Since: since}, yes); err != nil {
				t.Fatal(err)
			}
		}
		// An attempt before the window does not count.
		if _, _, err := st.CountLoginAttempt(ctx, LoginAttempt{Email: "ana@example.com", IP: "10.0.0.1", At: since.Add(-time.Second), Since: since.Add(-time.Hour)}, yes); err != nil {
			t.Fatal(err)
		}
		var got LoginCounts
		id, _, err := st.CountLoginAttempt(ctx, LoginAttempt{Email: "ana@example.com", IP: "10.0.0.1", At: loginNow.Add(10 * time.Second), Since: since},
			func(n LoginCounts) bool { got = n; return true })
		if err != nil {
			t.Fatal(err)
		}
		want := LoginCounts{Account: 3, Address: 3, Pair: 2,
			AccountLast: loginNow.Add(2 * time.Second), AddressLast: loginNow.Add(3 * time.Second), PairLast: loginNow.Add(time.Second)}
		if got != want {
			t.Errorf("counts\n got %+v\nwant %+v", got, want)
		}
		if err := st.LoginSucceeded(ctx, id, "ana@example.com", "10.0.0.1", loginNow.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := st.loginCounts(ctx, st.r, "ana@example.com", "10.0.0.1", since, loginNow.Add(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// The pair's failures are forgotten and the address is known; the
		// account's failures from elsewhere stay.
		if n.Pair != 0 || !n.Known || n.Account != 1 {
			t.Errorf("after a success from the address: %+v, want no failures of the pair, the address known, 1 failure of the account from elsewhere", n)
		}
		// A year later the address is no longer known.
		if n, _ := st.loginCounts(ctx, st.r, "ana@example.com", "10.0.0.1", since, loginNow.Add(KnownAddressFor+time.Minute)); n.Known {
			t.Error("an address unused for longer than KnownAddressFor is still known")
		}
	})
}
