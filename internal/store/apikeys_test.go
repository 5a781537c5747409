package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestAPIKeysAreStoredHashedAndCheckedByToken(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		admin := &tandem.User{Email: "admin@example.com", Role: tandem.RoleAdmin, PasswordHash: "x"}
		if err := st.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		expires := testNow.Add(48 * time.Hour)
		token, k, err := st.CreateAPIKey(ctx, " Zendesk webhook ", []string{ScopeReportsRead, ScopeRatingsWrite}, admin.ID, expires)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, "tdm_") || len(token) != 47 || k.Prefix != token[4:12] || k.Name != "Zendesk webhook" {
			t.Fatalf("token %q, key %+v", token, k)
		}
		if strings.Join(k.Scopes, " ") != "ratings:write reports:read" {
			t.Errorf("scopes %v, want both in canonical order", k.Scopes)
		}
		var stored string
		st.DB().QueryRow(st.q("SELECT key_hash FROM api_keys WHERE id = ?"), k.ID).Scan(&stored)
		if stored != auth.HashToken(token) || strings.Contains(stored, token[4:]) {
			t.Errorf("stored %q, want only the hash of the token", stored)
		}

		now := testNow
		got, err := st.APIKeyByToken(ctx, auth.HashToken(token), now)
		if err != nil || got.ID != k.ID || !got.HasScope(ScopeRatingsWrite) || got.CreatedBy != admin.ID {
			t.Fatalf("by token: %+v %v", got, err)
		}
		if got.LastUsedAt.IsZero() {
			t.Error("last used was not noted")
		}
		// Used again within the minute: not written again.
		if _, err := st.APIKeyByToken(ctx, auth.HashToken(token), now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		keys, _ := st.APIKeys(ctx)
		if len(keys) != 1 || keys[0].LastUsedAt.Unix() != now.Unix() {
			t.Errorf("last used %v, want %v (at most once a minute)", keys[0].LastUsedAt, now)
		}
		if _, err := st.APIKeyByToken(ctx, auth.HashToken(token), now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		keys, _ = st.APIKeys(ctx)
		if keys[0].LastUsedAt.Unix() != now.Add(2*time.Minute).Unix() {
			t.Errorf("last used %v, want a minute later noted", keys[0].LastUsedAt)
		}

		for name, c := range map[string]struct {
			hash string
			at   time.Time
			want string
		}{
			"unknown": {auth.HashToken("tdm_nope"), now, "not known"},
			"expired": {auth.HashToken(token), expires.Add(time.Second), "expired"},
		} {
			if _, err := st.APIKeyByToken(ctx, c.hash, c.at); tandem.ErrorCode(err) != tandem.EUNAUTHORIZED || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want unauthorized saying %q", name, err, c.want)
			}
		}
		if err := st.RevokeAPIKey(ctx, k.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.APIKeyByToken(ctx, auth.HashToken(token), now); tandem.ErrorCode(err) != tandem.EUNAUTHORIZED || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("revoked key: %v, want unauthorized", err)
		}
		if err := st.RevokeAPIKey(ctx, 9999, now); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Errorf("revoke a missing key: %v, want not found", err)
		}
	})
}

func TestAPIKeysNeedANameAKnownScopeAndAFutureExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		for name, c := range map[string]struct {
			name    string
			scopes  []string
			expires time.Time
			field   string
		}{
			"no name":       {"", []string{ScopeRatingsWrite}, time.Time{}, "name"},
			"no scope":      {"k", nil, time.Time{}, "scopes"},
			"unknown scope": {"k", []string{"admin"}, time.Time{}, "scopes"},
			"past expiry":   {"k", []string{ScopeRatingsWrite}, testNow.Add(-time.Hour), "expires"},
		} {
			_, _, err := st.CreateAPIKey(ctx, c.name, c.scopes, 0, c.expires)
			if te, ok := err.(*tandem.Error); !ok || te.Field != c.field {
				t.Errorf("%s: %v, want a problem with %s", name, err, c.field)
			}
		}
		if _, k, err := st.CreateAPIKey(ctx, "cli", []string{ScopeReportsRead}, 0, time.Time{}); err != nil || !k.ExpiresAt.IsZero() || k.CreatedBy != 0 {
			t.Errorf("a key without expiry or creator: %+v %v", k, err)
		}
	})
}
