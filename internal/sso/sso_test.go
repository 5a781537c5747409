package sso_test

import (
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// rules an admin might set up: Entra object ids and a Keycloak-style group
// name, an address, a domain.
var rules = []sso.Rule{
	{ID: 1, Kind: sso.RuleGroup, Value: "5f3c1b0e-7a52-4c1a-9d7e-0b8e6f2a1c44", Role: tandem.RoleAdmin},
	{ID: 2, Kind: sso.RuleGroup, Value: "tandem-hr", Role: tandem.RoleHR},
	{ID: 3, Kind: sso.RuleGroup, Value: "sales-leads", Role: tandem.RoleLeader, ScopeUnitID: 10},
	{ID: 4, Kind: sso.RuleGroup, Value: "support-leads", Role: tandem.RoleLeader, ScopeUnitID: 20},
	{ID: 5, Kind: sso.RuleDomain, Value: "example.com", Role: tandem.RoleLeader, ScopeUnitID: 10},
	{ID: 6, Kind: sso.RuleEmail, Value: "cara@example.com", Role: tandem.RoleLeader, ScopeUnitID: 20},
}

func TestResolveGrantsTheRoleOfTheRulesThatMatch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		id        sso.Identity
		wantRole  tandem.Role
		wantScope int64
		wantRules []int64
		wantErr   string // substring of the refusal; "" for a grant
	}{
		{name: "group by object id", id: sso.Identity{Email: "ana@corp.test", EmailVerified: true, Groups: []string{"5F3C1B0E-7A52-4C1A-9D7E-0B8E6F2A1C44"}},
			wantRole: tandem.RoleAdmin, wantRules: []int64{1}},
		{name: "group by name", id: sso.Identity{Email: "ben@corp.test", EmailVerified: true, Groups: []string{"other", "tandem-hr"}},
			wantRole: tandem.RoleHR, wantRules: []int64{2}},
		{name: "leader of a unit through a group", id: sso.Identity{Email: "dan@corp.test", EmailVerified: true, Groups: []string{"sales-leads"}},
			wantRole: tandem.RoleLeader, wantScope: 10, wantRules: []int64{3}},
		{name: "domain", id: sso.Identity{Email: "eve@Example.com", EmailVerified: true},
			wantRole: tandem.RoleLeader, wantScope: 10, wantRules: []int64{5}},
		{name: "subdomain is not the domain", id: sso.Identity{Email: "eve@eu.example.com", EmailVerified: true},
			wantErr: "no sign-in rule matches"},
		{name: "highest role wins across group and domain", id: sso.Identity{Email: "fay@example.com", EmailVerified: true, Groups: []string{"tandem-hr"}},
			wantRole: tandem.RoleHR, wantRules: []int64{2}},
		{name: "same unit twice is one grant", id: sso.Identity{Email: "gil@example.com", EmailVerified: true, Groups: []string{"sales-leads"}},
			wantRole: tandem.RoleLeader, wantScope: 10, wantRules: []int64{3, 5}},
		{name: "own address decides alone, even below the group's role", id: sso.Identity{Email: "Cara@example.com", EmailVerified: true, Groups: []string{"tandem-hr"}},
			wantRole: tandem.RoleLeader, wantScope: 20, wantRules: []int64{6}},
		{name: "unverified address matches no address or domain rule", id: sso.Identity{Email: "cara@example.com", EmailVerified: false},
			wantErr: "not verified"},
		{name: "unverified address still matches groups", id: sso.Identity{Email: "cara@example.com", EmailVerified: false, Groups: []string{"tandem-hr"}},
			wantRole: tandem.RoleHR, wantRules: []int64{2}},
		{name: "leader of two units is refused", id: sso.Identity{Email: "hal@corp.test", EmailVerified: true, Groups: []string{"sales-leads", "support-leads"}},
			wantErr: "more than one unit"},
		{name: "no rule", id: sso.Identity{Email: "ivy@corp.test", EmailVerified: true, Groups: []string{"everyone"}},
			wantErr: "Tandem has no role for ivy@corp.test"},
		{name: "Google sends no groups", id: sso.Identity{Email: "jo@corp.test", EmailVerified: true},
			wantErr: "no sign-in rule matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := sso.Resolve(rules, tc.id)
			if tc.wantErr != "" {
				if err == nil || tandem.ErrorCode(err) != tandem.EFORBIDDEN || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve = %+v, %v; want a forbidden error containing %q", g, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v, want %s", err, tc.wantRole)
			}
			var ids []int64
			for _, r := range g.Rules {
				ids = append(ids, r.ID)
			}
			if g.Role != tc.wantRole || g.ScopeUnitID != tc.wantScope || !equal(ids, tc.wantRules) {
				t.Errorf("Resolve = %s of unit %d by rules %v, want %s of unit %d by rules %v", g.Role, g.ScopeUnitID, ids, tc.wantRole, tc.wantScope, tc.wantRules)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRuleValidateSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		rule      sso.Rule
		wantField string
	}{
		{sso.Rule{Kind: sso.RuleGroup, Value: "  tandem-hr ", Role: tandem.RoleHR}, ""},
		{sso.Rule{Kind: sso.RuleDomain, Value: "@Example.COM", Role: tandem.RoleHR}, ""},
		{sso.Rule{Kind: sso.RuleEmail, Value: " Ana@Example.com", Role: tandem.RoleAdmin}, ""},
		{sso.Rule{Kind: sso.RuleGroup, Value: " ", Role: tandem.RoleHR}, "value"},
		{sso.Rule{Kind: sso.RuleDomain, Value: "example", Role: tandem.RoleHR}, "value"},
		{sso.Rule{Kind: sso.RuleDomain, Value: "ex ample.com", Role: tandem.RoleHR}, "value"},
		{sso.Rule{Kind: sso.RuleEmail, Value: "ana@", Role: tandem.RoleHR}, "value"},
		{sso.Rule{Kind: "claim", Value: "x", Role: tandem.RoleHR}, "kind"},
		{sso.Rule{Kind: sso.RuleGroup, Value: "leads", Role: tandem.RoleLeader}, "unit"},
		{sso.Rule{Kind: sso.RuleGroup, Value: "hr", Role: tandem.RoleHR, ScopeUnitID: 3}, "unit"},
		{sso.Rule{Kind: sso.RuleGroup, Value: "x", Role: "owner"}, "role"},
	} {
		r := tc.rule
		r.Normalize()
		err := r.Validate()
		var got string
		if err != nil {
			var ok bool
			if got, ok = fieldOf(err); !ok {
				t.Errorf("Validate(%+v) = %v, want a field error", tc.rule, err)
			}
		}
		if got != tc.wantField {
			t.Errorf("Validate(%+v) = %v, want an error on %q", tc.rule, err, tc.wantField)
		}
	}
}

func fieldOf(err error) (string, bool) {
	te, ok := err.(*tandem.Error)
	if !ok {
		return "", false
	}
	return te.Field, true
}
