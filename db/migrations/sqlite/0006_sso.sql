-- Single sign-on (OpenID Connect): which identity-provider account an
-- account is, the admin's rules that map groups, addresses and domains to
-- roles, and sign-ins under way between the redirect and the callback.

-- The identity provider's issuer and subject ("issuer subject") of an
-- account that signed in through it; NULL for password-only accounts.
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX users_sso_subject ON users (sso_subject) WHERE sso_subject IS NOT NULL;

-- A group (name or id, as the provider sends it), an email address or an
-- email domain, and the role it grants; a leader rule names the unit led.
CREATE TABLE sso_rules (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('group', 'email', 'domain')),
    value         TEXT NOT NULL CHECK (value <> ''),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'hr', 'leader')),
    scope_unit_id INTEGER REFERENCES org_units(id),
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX sso_rules_unique ON sso_rules (kind, value, role, COALESCE(scope_unit_id, 0));

-- A sign-in between the redirect to the provider and its callback, keyed by
-- a hash of its state; bound to the browser that started it by a hash of a
-- cookie. Used once, within minutes.
CREATE TABLE sso_logins (
    state_hash   TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    next         TEXT NOT NULL DEFAULT '',
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sso_logins_expires ON sso_logins (expires_at);
