package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// API key scopes: what a key may do.
const (
	ScopeRatingsWrite = "ratings:write" // POST customer ratings
	ScopeReportsRead  = "reports:read"  // GET reports
	ScopeMetricsRead  = "metrics:read"  // GET /metrics
)

// APIScopes lists every scope, in the order pages show them.
var APIScopes = []string{ScopeRatingsWrite, ScopeReportsRead, ScopeRosterWrite, ScopeMetricsRead}

// APIKeyPrefix starts every API key, so that a key is recognisable in a
// configuration file or a secret scanner.
const APIKeyPrefix = "tdm_"

// APIKey is a key for the JSON API. Only a hash of the key is stored; the
// key itself is shown once, when it is created.
type APIKey struct {
	ID   int64
	Name string
	// Prefix is the first 8 characters after "tdm_", to recognise a key.
	Prefix    string
	Scopes    []string
	CreatedBy int64
	CreatedAt time.Time
	// ExpiresAt is zero for a key that does not expire.
	ExpiresAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// HasScope reports whether k grants scope.
func (k *APIKey) HasScope(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Active reports whether k works at now: not revoked, not expired.
func (k *APIKey) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

const apiKeyColumns = "id, name, prefix, scopes, COALESCE(created_by, 0), created_at, COALESCE(expires_at, 0), COALESCE(revoked_at, 0), COALESCE(last_used_at, 0)"

func scanAPIKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var scopes string
	var created, expires, revoked, used int64
	err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &k.CreatedBy, &created, &expires, &revoked, &used)
	k.Scopes = strings.Fields(scopes)
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromUnix(created), fromUnix(expires), fromUnix(revoked), fromUnix(used)
	return k, err
}

// CreateAPIKey makes a key with the given scopes, valid until expires (zero:
// no expiry), and returns it with the token — "tdm_" and 256 random bits —
// which is not stored and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, name string, scopes []string, createdBy int64, expires time.Time) (string, APIKey, error) {
	name = strings.TrimSpace(name)
	now := s.now()
	switch {
	case name == "":
		return "", APIKey{}, tandem.FieldErrorf("name", "give the key a name that says where it is used, such as \"Zendesk webhook\"")
	case utf8.RuneCountInString(name) > 100:
		return "", APIKey{}, tandem.FieldErrorf("name", "the name is longer than 100 characters")
	case len(scopes) == 0:
		return "", APIKey{}, tandem.FieldErrorf("scopes", "choose at least one scope: %s", strings.Join(APIScopes, " or "))
	case !expires.IsZero() && !expires.After(now):
		return "", APIKey{}, tandem.FieldErrorf("expires", "the expiry date has passed; choose a later one, or none")
	}
	var clean []string
	for _, want := range APIScopes {
		for _, sc := range scopes {
			if sc == want {
				clean = append(clean, want)
				break
			}
		}
	}
	for _, sc := range scopes {
		known := false
		for _, k := range APIScopes {
			known = known || sc == k
		}
		if !known {
			return "", APIKey{}, tandem.FieldErrorf("scopes", "%q is not a scope; use %s", sc, strings.Join(APIScopes, " or "))
		}
	}
	token := APIKeyPrefix + auth.NewToken()
	k := APIKey{Name: name, Prefix: token[len(APIKeyPrefix) : len(APIKeyPrefix)+8], Scopes: clean, CreatedBy: createdBy,
		CreatedAt: now.UTC().Truncate(time.Second), ExpiresAt: expires}
	var exp sql.NullInt64
	if !expires.IsZero() {
		exp = sql.NullInt64{Int64: expires.Unix(), Valid: true}
		k.ExpiresAt = expires.UTC().Truncate(time.Second)
	}
	id, err := s.insert(ctx, s.w, `INSERT INTO api_keys (name, prefix, key_hash, scopes, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, k.Name, k.Prefix, auth.HashToken(token), strings.Join(clean, " "), nullInt(createdBy), now.Unix(), exp)
	if err != nil {
		return "", APIKey{}, err
	}
	k.ID = id
	return token, k, nil
}

// APIKeys returns every key, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY id DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKey returns one key by id.
func (s *Store) APIKey(ctx context.Context, id int64) (APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, s.r, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return k, tandem.Errorf(tandem.ENOTFOUND, "API key %d does not exist", id)
	}
	return k, err
}

// RevokeAPIKey ends a key at now. Revoking a revoked key changes nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, now time.Time) error {
	res, err := s.exec(ctx, s.w, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now.Unix(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "API key %d does not exist", id)
	}
	return nil
}

// apiKeyTouchEvery is how stale last_used_at may get: a busy key is not
// written on every request.
const apiKeyTouchEvery = time.Minute

// APIKeyByToken returns the live key whose token hashes to hash, and notes
// its use (at most once a minute). An unknown, expired or revoked key is
// EUNAUTHORIZED, with a message saying which and what to do.
func (s *Store) APIKeyByToken(ctx context.Context, hash string, now time.Time) (APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, s.r, "SELECT "+apiKeyColumns+" FROM api_keys WHERE key_hash = ?", hash))
	switch {
	case err == sql.ErrNoRows:
		return APIKey{}, tandem.Errorf(tandem.EUNAUTHORIZED, "this API key is not known; check that it was copied whole, or ask an admin for a new one (Settings, API keys)")
	case err != nil:
		return APIKey{}, err
	case !k.RevokedAt.IsZero():
		return APIKey{}, tandem.Errorf(tandem.EUNAUTHORIZED, "API key %q (tdm_%s…) was revoked on %s; ask an admin for a new one",
			k.Name, k.Prefix, tandem.FormatDate(k.RevokedAt))
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return APIKey{}, tandem.Errorf(tandem.EUNAUTHORIZED, "API key %q (tdm_%s…) expired on %s; ask an admin for a new one",
			k.Name, k.Prefix, k.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if now.Sub(k.LastUsedAt) >= apiKeyTouchEvery {
		// Noting the use is bookkeeping: a busy writer must not refuse the
		// request, so a failure here is ignored and retried next time.
		if _, err := s.exec(ctx, s.w, "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND COALESCE(last_used_at, 0) <= ?",
			now.Unix(), k.ID, now.Add(-apiKeyTouchEvery).Unix()); err == nil {
			k.LastUsedAt = now.UTC().Truncate(time.Second)
		}
	}
	return k, nil
}
