// Package sso holds the rules of single sign-on that do not depend on the
// protocol, the database or HTTP: who a person is according to their
// identity provider ([Identity]), the admin's rules that map groups, email
// addresses and domains to a Tandem role ([Rule]), and the one function that
// decides which role and scope a sign-in gets ([Resolve]). The OpenID
// Connect client that produces an Identity lives in internal/openid.
package sso

import (
	"slices"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Identity is a person as their identity provider describes them in a
// verified ID token.
type Identity struct {
	// Issuer and Subject together name the provider's account for good;
	// the email address may change, the subject does not.
	Issuer  string
	Subject string
	// Email is the address the provider gives (normalized), "" if none.
	Email string
	// EmailVerified is false only when the provider says the address is
	// not verified; providers that send no email_verified claim (Entra
	// ID) leave it true.
	EmailVerified bool
	Name          string
	// Groups are the values of the configured groups claim: names or ids,
	// as the provider sends them.
	Groups []string
}

// Key is what the account remembers of the identity: issuer and subject.
func (id Identity) Key() string { return id.Issuer + " " + id.Subject }

// RuleKind says what a rule matches.
type RuleKind string

// Rule kinds.
const (
	// RuleGroup matches a value of the groups claim (a group's name, or its
	// object id for Microsoft Entra ID).
	RuleGroup RuleKind = "group"
	// RuleEmail matches one verified email address.
	RuleEmail RuleKind = "email"
	// RuleDomain matches every verified address at a domain (not its
	// subdomains).
	RuleDomain RuleKind = "domain"
)

// Rule grants a role to the people it matches.
type Rule struct {
	ID          int64
	Kind        RuleKind
	Value       string
	Role        tandem.Role
	ScopeUnitID int64
	CreatedAt   time.Time
}

// Normalize trims the value and lower-cases addresses and domains (and a
// domain's leading @), so that rules compare as they match.
func (r *Rule) Normalize() {
	r.Value = strings.TrimSpace(r.Value)
	switch r.Kind {
	case RuleEmail:
		r.Value = tandem.NormalizeEmail(r.Value)
	case RuleDomain:
		r.Value = strings.TrimPrefix(strings.ToLower(r.Value), "@")
	}
}

// Validate checks a normalized rule before it is stored.
func (r *Rule) Validate() error {
	switch r.Kind {
	case RuleGroup:
		if r.Value == "" {
			return tandem.FieldErrorf("value", "give the group's name or id, as your identity provider sends it in the groups claim")
		}
		if len(r.Value) > 256 {
			return tandem.FieldErrorf("value", "a group name or id is at most 256 characters")
		}
	case RuleEmail:
		if err := tandem.ValidateEmail(r.Value); err != nil {
			return tandem.FieldErrorf("value", "%s", tandem.ErrorMessage(err))
		}
	case RuleDomain:
		if !validDomain(r.Value) {
			return tandem.FieldErrorf("value", "%q is not a domain; write the part after the @, such as example.com", r.Value)
		}
	default:
		return tandem.FieldErrorf("kind", "%q is not a kind of rule; use group, email or domain", r.Kind)
	}
	return tandem.ValidateRoleScope(r.Role, r.ScopeUnitID)
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Matches reports whether r applies to id. Email and domain rules need an
// address the provider has not called unverified.
func (r Rule) Matches(id Identity) bool {
	switch r.Kind {
	case RuleGroup:
		return slices.ContainsFunc(id.Groups, func(g string) bool { return strings.EqualFold(strings.TrimSpace(g), r.Value) })
	case RuleEmail:
		return id.Email != "" && id.EmailVerified && tandem.NormalizeEmail(id.Email) == r.Value
	case RuleDomain:
		at := strings.LastIndex(id.Email, "@")
		return at > 0 && id.EmailVerified && strings.ToLower(id.Email[at+1:]) == r.Value
	}
	return false
}

// Grant is the role and scope a sign-in gets, and the rules that gave it.
type Grant struct {
	Role        tandem.Role
	ScopeUnitID int64
	Rules       []Rule
}

// Resolve decides the role and scope of a person signing in:
//
//   - Rules for the person's own address decide alone when there are any,
//     so an admin can give one person a role other than their group's.
//   - Otherwise every matching group and domain rule counts, and the role
//     that may do the most wins (admin, then hr, then leader).
//   - Several leader rules for different units cannot be merged (an
//     account leads one unit): the sign-in is refused until an admin
//     changes the rules.
//
// A person no rule matches is refused with an EFORBIDDEN error.
func Resolve(rules []Rule, id Identity) (Grant, error) {
	var personal, general []Rule
	for _, r := range rules {
		if !r.Matches(id) {
			continue
		}
		if r.Kind == RuleEmail {
			personal = append(personal, r)
		} else {
			general = append(general, r)
		}
	}
	matched := general
	if len(personal) > 0 {
		matched = personal
	}
	if len(matched) == 0 {
		return Grant{}, tandem.Errorf(tandem.EFORBIDDEN, "%s", notMapped(id))
	}
	best := tandem.Role("")
	for _, r := range matched {
		if r.Role.Rank() > best.Rank() {
			best = r.Role
		}
	}
	g := Grant{Role: best}
	for _, r := range matched {
		if r.Role != best {
			continue
		}
		if best == tandem.RoleLeader && g.ScopeUnitID != 0 && r.ScopeUnitID != g.ScopeUnitID {
			return Grant{}, tandem.Errorf(tandem.EFORBIDDEN, "The sign-in rules make you leader of more than one unit, and a Tandem account leads one unit (with everything below it). Ask a Tandem admin to change the rules under Settings, Single sign-on.")
		}
		g.ScopeUnitID = r.ScopeUnitID
		g.Rules = append(g.Rules, r)
	}
	return g, nil
}

func notMapped(id Identity) string {
	who := id.Email
	if who == "" {
		who = "your account"
	}
	msg := "Tandem has no role for " + who + ": no sign-in rule matches your groups"
	if id.Email != "" && id.EmailVerified {
		msg += ", your email address or its domain"
	}
	msg += ". Ask a Tandem admin to add you under Settings, Single sign-on"
	if !id.EmailVerified {
		msg += " (your identity provider says your email address is not verified, so rules for addresses and domains do not apply)"
	}
	return msg + "."
}
