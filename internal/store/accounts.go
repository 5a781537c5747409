package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

const userColumns = "id, email, name, role, COALESCE(scope_unit_id, 0), password_hash, disabled, created_at"

func scanUser(sc interface{ Scan(...any) error }) (tandem.User, error) {
	var u tandem.User
	var role string
	var created int64
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &role, &u.ScopeUnitID, &u.PasswordHash, &u.Disabled, &created)
	u.Role, u.CreatedAt = tandem.Role(role), fromUnix(created)
	return u, err
}

// CountUsers returns the number of accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// CreateUser adds an account. u.PasswordHash must already be a hash.
func (s *Store) CreateUser(ctx context.Context, u *tandem.User) error {
	u.Email = tandem.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.now()
	id, err := s.insert(ctx, s.w, `INSERT INTO users (email, name, role, scope_unit_id, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Email, u.Name, string(u.Role), nullInt(u.ScopeUnitID), u.PasswordHash, u.Disabled, now.Unix(), now.Unix())
	if isUniqueViolation(err) {
		return tandem.Errorf(tandem.ECONFLICT, "an account for %s already exists", u.Email)
	} else if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, now.UTC().Truncate(time.Second)
	return nil
}

// UpdateUser saves name, role, scope and disabled (not the password).
func (s *Store) UpdateUser(ctx context.Context, u *tandem.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := s.exec(ctx, tx.tx, `UPDATE users SET name = ?, role = ?, scope_unit_id = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			u.Name, string(u.Role), nullInt(u.ScopeUnitID), u.Disabled, s.now().Unix(), u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tandem.Errorf(tandem.ENOTFOUND, "account %d does not exist", u.ID)
		}
		var admins int
		if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = ?", false).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return tandem.Errorf(tandem.ECONFLICT, "this would leave no active admin; make someone else admin first")
		}
		if u.Disabled {
			_, err = s.exec(ctx, tx.tx, "DELETE FROM sessions WHERE user_id = ?", u.ID)
		}
		return err
	})
}

// SetPassword replaces a user's password hash and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := s.exec(ctx, tx.tx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, s.now().Unix(), userID); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx.tx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
}

// UserByEmail returns the account for email.
func (s *Store) UserByEmail(ctx context.Context, email string) (tandem.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.r, "SELECT "+userColumns+" FROM users WHERE email = ?", tandem.NormalizeEmail(email)))
	if err == sql.ErrNoRows {
		return u, tandem.Errorf(tandem.ENOTFOUND, "no account for %s", email)
	}
	return u, err
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id int64) (tandem.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.r, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return u, tandem.Errorf(tandem.ENOTFOUND, "account %d does not exist", id)
	}
	return u, err
}

// Users returns every account by email.
func (s *Store) Users(ctx context.Context) ([]tandem.User, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+userColumns+" FROM users ORDER BY email")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tandem.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Session is a signed-in browser.
type Session struct {
	IDHash    string
	UserID    int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
}

// CreateSession stores a new session. Only the hash of the cookie value is
// stored, so a copy of the database cannot be used to sign in.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	_, err := s.exec(ctx, s.w, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, sess.IDHash, sess.UserID, sess.CSRFToken, unix(sess.CreatedAt), unix(sess.CreatedAt), unix(sess.ExpiresAt))
	return err
}

// SessionUser returns the live session with idHash and its user. Expired
// sessions and disabled users are not found.
func (s *Store) SessionUser(ctx context.Context, idHash string, now time.Time) (Session, tandem.User, error) {
	var sess Session
	var created, seen, expires int64
	row := s.queryRow(ctx, s.r, `SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.email, u.name, u.role, COALESCE(u.scope_unit_id, 0), u.password_hash, u.disabled, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = ?`,
		idHash, now.Unix(), false)
	var u tandem.User
	var role string
	var ucreated int64
	err := row.Scan(&sess.IDHash, &sess.UserID, &sess.CSRFToken, &created, &seen, &expires,
		&u.ID, &u.Email, &u.Name, &role, &u.ScopeUnitID, &u.PasswordHash, &u.Disabled, &ucreated)
	if err == sql.ErrNoRows {
		return sess, u, tandem.Errorf(tandem.EUNAUTHORIZED, "your session has ended; please sign in again")
	} else if err != nil {
		return sess, u, err
	}
	u.Role, u.CreatedAt = tandem.Role(role), fromUnix(ucreated)
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
	return sess, u, nil
}

// TouchSession extends a session's idle expiry.
func (s *Store) TouchSession(ctx context.Context, idHash string, now, expires time.Time) error {
	_, err := s.exec(ctx, s.w, "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?", now.Unix(), expires.Unix(), idHash)
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.exec(ctx, s.w, "DELETE FROM sessions WHERE id_hash = ?", idHash)
	return err
}

// DeleteExpired removes expired sessions, uploads, setup links, single
// sign-ins left unfinished, old login failures and addresses not used to
// sign in for KnownAddressFor.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for _, q := range []string{
			"DELETE FROM sessions WHERE expires_at <= ?",
			"DELETE FROM uploads WHERE expires_at <= ?",
			"DELETE FROM setup_tokens WHERE expires_at <= ?",
			"DELETE FROM sso_logins WHERE expires_at <= ?",
		} {
			if _, err := s.exec(ctx, tx.tx, q, now.Unix()); err != nil {
				return err
			}
		}
		if _, err := s.exec(ctx, tx.tx, "DELETE FROM login_failures WHERE at <= ?", now.Add(-24*time.Hour).Unix()); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx.tx, "DELETE FROM login_addresses WHERE last_at <= ?", now.Add(-KnownAddressFor).Unix())
		return err
	})
}

// CreateSetupToken stores a one-time setup link's hash.
func (s *Store) CreateSetupToken(ctx context.Context, hash string, expires time.Time) error {
	_, err := s.exec(ctx, s.w, "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?, ?)", hash, expires.Unix())
	return err
}

// SetupTokenValid reports whether a setup link can still be used.
func (s *Store) SetupTokenValid(ctx context.Context, hash string, now time.Time) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?", hash, now.Unix()).Scan(&n)
	return n == 1, err
}

// CreateFirstAdmin uses a setup link to create the first admin, once: the
// link is spent and the account created in one transaction, and refused if
// any account exists already.
func (s *Store) CreateFirstAdmin(ctx context.Context, tokenHash string, u *tandem.User, now time.Time) error {
	u.Email = tandem.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := s.exec(ctx, tx.tx, "UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
			now.Unix(), tokenHash, now.Unix())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tandem.Errorf(tandem.ENOTFOUND, "this setup link has expired or was used already; restart tandem serve to print a new one")
		}
		var users int
		if err := s.queryRow(ctx, tx.tx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
			return err
		}
		if users > 0 {
			return tandem.Errorf(tandem.ECONFLICT, "an account exists already; sign in instead")
		}
		id, err := s.insert(ctx, tx.tx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.Email, u.Name, string(u.Role), u.PasswordHash, now.Unix(), now.Unix())
		u.ID = id
		return err
	})
}

// Setting returns a setting's value, or "" when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.queryRow(ctx, s.r, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.exec(ctx, s.w, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

// Upload is a file kept between a dry run and its confirmation.
type Upload struct {
	IDHash   string
	UserID   int64
	Kind     string
	Filename string
	Options  string
	Data     []byte
}

// SaveUpload keeps an uploaded file until expires.
func (s *Store) SaveUpload(ctx context.Context, u Upload, now, expires time.Time) error {
	_, err := s.exec(ctx, s.w, `INSERT INTO uploads (id_hash, user_id, kind, filename, options, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.IDHash, u.UserID, u.Kind, u.Filename, u.Options, u.Data, now.Unix(), expires.Unix())
	return err
}

// Upload returns a kept upload of the given user.
func (s *Store) Upload(ctx context.Context, idHash string, userID int64, now time.Time) (Upload, error) {
	var u Upload
	err := s.queryRow(ctx, s.r, `SELECT id_hash, user_id, kind, filename, options, data FROM uploads
		WHERE id_hash = ? AND user_id = ? AND expires_at > ?`, idHash, userID, now.Unix()).
		Scan(&u.IDHash, &u.UserID, &u.Kind, &u.Filename, &u.Options, &u.Data)
	if err == sql.ErrNoRows {
		return u, tandem.Errorf(tandem.ENOTFOUND, "this upload has expired or was applied already; upload the file again")
	}
	return u, err
}

// DeleteUpload forgets an upload.
func (s *Store) DeleteUpload(ctx context.Context, idHash string) error {
	_, err := s.exec(ctx, s.w, "DELETE FROM uploads WHERE id_hash = ?", idHash)
	return err
}

// AuditEntry is one admin action.
type AuditEntry struct {
	ID        int64
	At        time.Time
	UserID    int64
	UserEmail string
	Action    string
	Detail    string
}

// Audit records an admin action.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := s.exec(ctx, s.w, "INSERT INTO audit_log (at, user_id, user_email, action, detail) VALUES (?, ?, ?, ?, ?)",
		e.At.Unix(), nullInt(e.UserID), e.UserEmail, e.Action, e.Detail)
	return err
}

// AuditLog returns the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.query(ctx, s.r, "SELECT id, at, COALESCE(user_id, 0), user_email, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.UserEmail, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// OrgLanguageKey is the setting that holds the organisation's default
// language (a BCP 47 code), spoken to employees whose roster gives none
// and whose browser asks for none Tandem speaks.
const OrgLanguageKey = "language"

// OrgLanguage returns the organisation's default language, "" when unset.
func (s *Store) OrgLanguage(ctx context.Context) (string, error) {
	return s.Setting(ctx, OrgLanguageKey)
}
