package tandem

import (
	"strings"
	"time"
)

// Role is what an account may do.
type Role string

// Roles. An admin does everything; hr manages the roster and pulse programs
// for the whole organisation; a leader reads the unit they lead and its
// subtree, nothing else.
const (
	RoleAdmin  Role = "admin"
	RoleHR     Role = "hr"
	RoleLeader Role = "leader"
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleHR, RoleLeader:
		return r, nil
	}
	return "", FieldErrorf("role", "%q is not a role; use admin, hr or leader", s)
}

// User is an account that signs in to Tandem. Employees do not need one:
// they answer pulses through personal links.
type User struct {
	ID    int64
	Email string
	Name  string
	Role  Role
	// ScopeUnitID is the unit a leader leads (with its subtree); 0 for admin
	// and hr, who see the whole organisation.
	ScopeUnitID  int64
	PasswordHash string
	CreatedAt    time.Time
	Disabled     bool
}

// CanEdit reports whether u may change the roster and programs.
func (u *User) CanEdit() bool { return u.Role == RoleAdmin || u.Role == RoleHR }

// IsAdmin reports whether u manages accounts and keys.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Validate checks a user before it is stored.
func (u *User) Validate() error {
	if err := ValidateEmail(u.Email); err != nil {
		return &Error{Code: EINVALID, Field: "email", Message: err.(*Error).Message}
	}
	if err := CheckLength("name", u.Name, MaxNameLength); err != nil {
		return err
	}
	return ValidateRoleScope(u.Role, u.ScopeUnitID)
}

// ValidateRoleScope checks a role and the unit it is limited to: a leader
// leads one unit (with its subtree); admin and hr see everything. Accounts
// and the single sign-on rules that grant roles both follow it.
func ValidateRoleScope(role Role, scopeUnitID int64) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if role == RoleLeader && scopeUnitID == 0 {
		return FieldErrorf("unit", "a leader needs the unit they lead")
	}
	if role != RoleLeader && scopeUnitID != 0 {
		return FieldErrorf("unit", "only leaders are scoped to a unit; %s sees the whole organisation", role)
	}
	return nil
}

// Rank orders roles by what they may do: admin above hr above leader.
func (r Role) Rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleHR:
		return 2
	case RoleLeader:
		return 1
	}
	return 0
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// ValidatePassword checks a new password.
func ValidatePassword(p string) error {
	if len([]rune(p)) < MinPasswordLength {
		return FieldErrorf("password", "must be at least %d characters long", MinPasswordLength)
	}
	if len(p) > 256 {
		return FieldErrorf("password", "must be at most 256 bytes long")
	}
	return nil
}
