package store

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
)

var ssoNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// ssoOrg is a store with two units (Acme, and Sales below it).
func ssoOrg(t *testing.T, st *Store) (acme, sales int64) {
	t.Helper()
	importCSV(t, st, "employee_id,email,name,team\nE1,ana@example.com,Ana,Acme/Sales\n", false)
	tree, err := st.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tree.ByPath([]string{"Acme"}).ID, tree.ByPath([]string{"Acme", "Sales"}).ID
}

func TestSSORulesAreStoredNormalizedAndOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, sales := ssoOrg(t, st)
		r := sso.Rule{Kind: sso.RuleDomain, Value: " @Example.COM ", Role: tandem.RoleLeader, ScopeUnitID: sales}
		if err := st.AddSSORule(ctx, &r); err != nil {
			t.Fatalf("add rule: %v", err)
		}
		again := sso.Rule{Kind: sso.RuleDomain, Value: "example.com", Role: tandem.RoleLeader, ScopeUnitID: sales}
		if err := st.AddSSORule(ctx, &again); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("add the same rule twice: %v, want an invalid-input error", err)
		}
		bad := sso.Rule{Kind: sso.RuleGroup, Value: "leads", Role: tandem.RoleLeader, ScopeUnitID: 9999}
		if err := st.AddSSORule(ctx, &bad); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("add a rule for a unit that does not exist: %v, want an invalid-input error", err)
		}
		rules, err := st.SSORules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != 1 || rules[0].Value != "example.com" || rules[0].ScopeUnitID != sales || rules[0].ID != r.ID {
			t.Fatalf("rules = %+v, want the one domain rule, normalized", rules)
		}
		if _, err := st.DeleteSSORule(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if rules, _ := st.SSORules(ctx); len(rules) != 0 {
			t.Errorf("after delete: %+v, want none", rules)
		}
	})
}

func TestSignInSSOCreatesLinksAndUpdatesTheAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, sales := ssoOrg(t, st)
		id := sso.Identity{Issuer: "https://idp.example.com", Subject: "s1", Email: "ben@example.com", EmailVerified: true, Name: "Ben"}

		first, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleLeader, ScopeUnitID: sales}, ssoNow)
		if err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		if !first.Created || first.User.Role != tandem.RoleLeader || first.User.ScopeUnitID != sales || first.User.PasswordHash != "" {
			t.Fatalf("first sign-in = %+v, want a new leader of Sales without a password", first)
		}

		// The address changed at the provider, and the rules now say hr.
		id.Email = "ben.okafor@example.com"
		second, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleHR}, ssoNow.Add(time.Hour))
		if err != nil {
			t.Fatalf("second sign-in: %v", err)
		}
		if second.Created || second.User.ID != first.User.ID || second.User.Role != tandem.RoleHR || second.User.ScopeUnitID != 0 ||
			second.BeforeRole != tandem.RoleLeader || second.BeforeScope != sales || second.User.Email != "ben.okafor@example.com" {
			t.Fatalf("second sign-in = %+v, want the same account, now hr, at the new address", second)
		}
		stored, err := st.User(ctx, first.User.ID)
		if err != nil || stored.Role != tandem.RoleHR || stored.Email != "ben.okafor@example.com" {
			t.Errorf("stored account = %+v, %v; want hr at the new address", stored, err)
		}
	})
}

func TestSignInSSOLinksAPasswordAccountByAddressButNotTwice(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		ssoOrg(t, st)
		u := &tandem.User{Email: "cara@example.com", Role: tandem.RoleAdmin, PasswordHash: "x"}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		id := sso.Identity{Issuer: "https://idp.example.com", Subject: "cara", Email: "cara@example.com", EmailVerified: true}
		got, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleAdmin}, ssoNow)
		if err != nil || !got.Linked || got.User.ID != u.ID {
			t.Fatalf("sign-in = %+v, %v; want cara's account linked", got, err)
		}
		other := sso.Identity{Issuer: "https://idp.example.com", Subject: "mallory", Email: "cara@example.com", EmailVerified: true}
		if _, err := st.SignInSSO(ctx, other, sso.Grant{Role: tandem.RoleAdmin}, ssoNow); tandem.ErrorCode(err) != tandem.EFORBIDDEN {
			t.Errorf("another identity with cara's address: %v, want it refused", err)
		}
	})
}

func TestSignInSSOKeepsTheLastAdminAndDisabledAccountsOut(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		ssoOrg(t, st)
		id := sso.Identity{Issuer: "https://idp.example.com", Subject: "a", Email: "root@example.com", EmailVerified: true}
		first, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleAdmin}, ssoNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleHR}, ssoNow); tandem.ErrorCode(err) != tandem.ECONFLICT {
			t.Errorf("demote the last admin: %v, want a conflict", err)
		}
		u := first.User
		u.Disabled = true
		other := &tandem.User{Email: "second@example.com", Role: tandem.RoleAdmin}
		if err := st.CreateUser(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SignInSSO(ctx, id, sso.Grant{Role: tandem.RoleAdmin}, ssoNow); tandem.ErrorCode(err) != tandem.EFORBIDDEN {
			t.Errorf("sign-in of a disabled account: %v, want it refused", err)
		}
	})
}

func TestSSOLoginIsTakenOnceAndExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		l := SSOLogin{StateHash: "s1", BrowserHash: "b", Nonce: "n", Verifier: "v", Next: "/units", ExpiresAt: ssoNow.Add(10 * time.Minute)}
		if err := st.SaveSSOLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
		got, err := st.TakeSSOLogin(ctx, "s1", ssoNow)
		if err != nil || got.Nonce != "n" || got.Verifier != "v" || got.Next != "/units" || got.BrowserHash != "b" {
			t.Fatalf("take = %+v, %v; want the saved sign-in", got, err)
		}
		if _, err := st.TakeSSOLogin(ctx, "s1", ssoNow); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Errorf("take twice: %v, want not found", err)
		}
		l.StateHash = "s2"
		if err := st.SaveSSOLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TakeSSOLogin(ctx, "s2", ssoNow.Add(10*time.Minute)); tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Errorf("take after expiry: %v, want not found", err)
		}
	})
}
