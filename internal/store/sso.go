package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// SSORules returns the single sign-on rules, by kind and value.
func (s *Store) SSORules(ctx context.Context) ([]sso.Rule, error) {
	rows, err := s.query(ctx, s.r, `SELECT id, kind, value, role, COALESCE(scope_unit_id, 0), created_at FROM sso_rules ORDER BY kind, value, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sso.Rule
	for rows.Next() {
		var r sso.Rule
		var kind, role string
		var created int64
		if err := rows.Scan(&r.ID, &kind, &r.Value, &role, &r.ScopeUnitID, &created); err != nil {
			return nil, err
		}
		r.Kind, r.Role, r.CreatedAt = sso.RuleKind(kind), tandem.Role(role), fromUnix(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddSSORule normalizes, checks and stores a rule.
func (s *Store) AddSSORule(ctx context.Context, r *sso.Rule) error {
	r.Normalize()
	if err := r.Validate(); err != nil {
		return err
	}
	now := s.now()
	id, err := s.insert(ctx, s.w, `INSERT INTO sso_rules (kind, value, role, scope_unit_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		string(r.Kind), r.Value, string(r.Role), nullInt(r.ScopeUnitID), now.Unix())
	switch {
	case isUniqueViolation(err):
		return tandem.FieldErrorf("value", "this rule exists already")
	case isForeignKeyViolation(err):
		return tandem.FieldErrorf("unit", "unit %d does not exist", r.ScopeUnitID)
	case err != nil:
		return err
	}
	r.ID, r.CreatedAt = id, now.UTC().Truncate(time.Second)
	return nil
}

// DeleteSSORule removes a rule and returns it.
func (s *Store) DeleteSSORule(ctx context.Context, id int64) (sso.Rule, error) {
	var r sso.Rule
	err := s.InTx(ctx, func(tx *Tx) error {
		var kind, role string
		err := s.queryRow(ctx, tx.tx, "SELECT id, kind, value, role, COALESCE(scope_unit_id, 0) FROM sso_rules WHERE id = ?", id).
			Scan(&r.ID, &kind, &r.Value, &role, &r.ScopeUnitID)
		if err == sql.ErrNoRows {
			return tandem.Errorf(tandem.ENOTFOUND, "there is no sign-in rule %d", id)
		} else if err != nil {
			return err
		}
		r.Kind, r.Role = sso.RuleKind(kind), tandem.Role(role)
		_, err = s.exec(ctx, tx.tx, "DELETE FROM sso_rules WHERE id = ?", id)
		return err
	})
	return r, err
}

// SSOLogin is a sign-in under way: what the callback must find again.
type SSOLogin struct {
	StateHash   string
	BrowserHash string
	Nonce       string
	Verifier    string
	Next        string
	ExpiresAt   time.Time
}

// SaveSSOLogin stores a sign-in under way.
func (s *Store) SaveSSOLogin(ctx context.Context, l SSOLogin) error {
	_, err := s.exec(ctx, s.w, `INSERT INTO sso_logins (state_hash, browser_hash, nonce, verifier, next, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		l.StateHash, l.BrowserHash, l.Nonce, l.Verifier, l.Next, l.ExpiresAt.Unix())
	return err
}

// TakeSSOLogin returns the sign-in of a state and forgets it, so that each
// is used once. An unknown or expired state is ENOTFOUND.
func (s *Store) TakeSSOLogin(ctx context.Context, stateHash string, now time.Time) (SSOLogin, error) {
	var l SSOLogin
	err := s.InTx(ctx, func(tx *Tx) error {
		var expires int64
		err := s.queryRow(ctx, tx.tx, "SELECT state_hash, browser_hash, nonce, verifier, next, expires_at FROM sso_logins WHERE state_hash = ?", stateHash).
			Scan(&l.StateHash, &l.BrowserHash, &l.Nonce, &l.Verifier, &l.Next, &expires)
		if err == sql.ErrNoRows {
			return tandem.Errorf(tandem.ENOTFOUND, "this sign-in is unknown, was finished already or took too long")
		} else if err != nil {
			return err
		}
		l.ExpiresAt = fromUnix(expires)
		res, err := s.exec(ctx, tx.tx, "DELETE FROM sso_logins WHERE state_hash = ?", stateHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tandem.Errorf(tandem.ENOTFOUND, "this sign-in was finished already")
		}
		if !now.Before(l.ExpiresAt) {
			return tandem.Errorf(tandem.ENOTFOUND, "this sign-in took too long")
		}
		return nil
	})
	return l, err
}

// SSOSignIn is what a single sign-on did to the account.
type SSOSignIn struct {
	User tandem.User
	// Created is true for a new account, Linked for an existing account
	// signing in through the provider for the first time.
	Created, Linked bool
	// Before is the role and scope before this sign-in (zero when
	// Created); they differ from User's when the rules or the person's
	// groups changed.
	BeforeRole  tandem.Role
	BeforeScope int64
}

// SignInSSO finds the account of a person the identity provider vouched
// for and gives it the role and scope of g, in one transaction: the account
// linked to the identity, else the account with the identity's address
// (which is then linked, only when the provider has verified that
// address), else a new account without a password. A
// disabled account stays refused, and an account linked to another
// identity is not taken over. Demoting the last active admin is refused.
func (s *Store) SignInSSO(ctx context.Context, id sso.Identity, g sso.Grant, now time.Time) (SSOSignIn, error) {
	var out SSOSignIn
	if err := tandem.ValidateRoleScope(g.Role, g.ScopeUnitID); err != nil {
		return out, err
	}
	email := tandem.NormalizeEmail(id.Email)
	key := id.Key()
	err := s.InTx(ctx, func(tx *Tx) error {
		out = SSOSignIn{}
		var subject sql.NullString
		row := s.queryRow(ctx, tx.tx, "SELECT "+userColumns+", sso_subject FROM users WHERE sso_subject = ?", key)
		u, err := scanUserWith(row, &subject)
		if err == sql.ErrNoRows {
			row = s.queryRow(ctx, tx.tx, "SELECT "+userColumns+", sso_subject FROM users WHERE email = ?", email)
			u, err = scanUserWith(row, &subject)
			switch {
			case err == sql.ErrNoRows:
				u = tandem.User{Email: email, Name: id.Name, Role: g.Role, ScopeUnitID: g.ScopeUnitID}
				if err := u.Validate(); err != nil {
					return err
				}
				uid, err := s.insert(ctx, tx.tx, `INSERT INTO users (email, name, role, scope_unit_id, password_hash, disabled, sso_subject, created_at, updated_at)
					VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)`, u.Email, u.Name, string(u.Role), nullInt(u.ScopeUnitID), false, key, now.Unix(), now.Unix())
				if err != nil {
					return err
				}
				u.ID, u.CreatedAt = uid, now.UTC().Truncate(time.Second)
				out.User, out.Created = u, true
				return nil
			case err != nil:
				return err
			case subject.Valid && subject.String != key:
				return tandem.Errorf(tandem.EFORBIDDEN, "The Tandem account for %s belongs to another account of your identity provider. Ask a Tandem admin to check it.", email)
			case !id.EmailVerified:
				// Only the address ties this person to the account: one the
				// provider has not verified could be anyone's.
				return tandem.Errorf(tandem.EFORBIDDEN, "A Tandem account for %s exists, but your identity provider says this address is not verified, so Tandem cannot tell that the account is yours. Verify the address with your identity provider, or ask a Tandem admin.", email)
			}
			out.Linked = true
		} else if err != nil {
			return err
		}
		if u.Disabled {
			return tandem.Errorf(tandem.EFORBIDDEN, "Your Tandem account (%s) is switched off. Ask a Tandem admin to switch it on.", u.Email)
		}
		out.BeforeRole, out.BeforeScope = u.Role, u.ScopeUnitID
		if u.Role == tandem.RoleAdmin && g.Role != tandem.RoleAdmin {
			var admins int
			if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = ? AND id <> ?", false, u.ID).Scan(&admins); err != nil {
				return err
			}
			if admins == 0 {
				return tandem.Errorf(tandem.ECONFLICT, "The sign-in rules no longer make you an admin, but you are Tandem's last admin. Another admin must be named first (Settings, Single sign-on, or tandem user add --role admin).")
			}
		}
		name := u.Name
		if id.Name != "" {
			name = id.Name
		}
		// The address follows the provider too, when the provider has
		// verified it and no other account has it.
		newEmail := u.Email
		if email != "" && email != u.Email && id.EmailVerified {
			var taken int
			if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM users WHERE email = ? AND id <> ?", email, u.ID).Scan(&taken); err != nil {
				return err
			}
			if taken == 0 {
				newEmail = email
			}
		}
		if _, err := s.exec(ctx, tx.tx, `UPDATE users SET email = ?, name = ?, role = ?, scope_unit_id = ?, sso_subject = ?, updated_at = ? WHERE id = ?`,
			newEmail, name, string(g.Role), nullInt(g.ScopeUnitID), key, now.Unix(), u.ID); err != nil {
			return err
		}
		u.Email, u.Name, u.Role, u.ScopeUnitID = newEmail, name, g.Role, g.ScopeUnitID
		out.User = u
		return nil
	})
	if isForeignKeyViolation(err) {
		return out, tandem.Errorf(tandem.ECONFLICT, "a sign-in rule names unit %d, which no longer exists; an admin must fix the rule", g.ScopeUnitID)
	}
	return out, err
}

// EndSSOSessions ends every session of the account linked to an identity
// (a person the rules no longer admit) and returns that account's address,
// "" when no account is linked.
func (s *Store) EndSSOSessions(ctx context.Context, id sso.Identity) (string, error) {
	var email string
	err := s.InTx(ctx, func(tx *Tx) error {
		var uid int64
		err := s.queryRow(ctx, tx.tx, "SELECT id, email FROM users WHERE sso_subject = ?", id.Key()).Scan(&uid, &email)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx.tx, "DELETE FROM sessions WHERE user_id = ?", uid)
		return err
	})
	return email, err
}

func scanUserWith(row interface{ Scan(...any) error }, subject *sql.NullString) (tandem.User, error) {
	var u tandem.User
	var role string
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.ScopeUnitID, &u.PasswordHash, &u.Disabled, &created, subject)
	u.Role, u.CreatedAt = tandem.Role(role), fromUnix(created)
	return u, err
}

// SSORuleString describes a rule for the audit log.
func SSORuleString(r sso.Rule) string {
	s := fmt.Sprintf("%s %q → %s", r.Kind, r.Value, r.Role)
	if r.ScopeUnitID != 0 {
		s += fmt.Sprintf(" of unit %d", r.ScopeUnitID)
	}
	return s
}
