-- Core: settings, the organisation, accounts, sessions, uploads, audit log.
-- Times are Unix seconds (INTEGER); calendar dates are TEXT 'YYYY-MM-DD'.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE org_units (
    id              INTEGER PRIMARY KEY,
    parent_id       INTEGER REFERENCES org_units(id),
    name            TEXT NOT NULL CHECK (name <> ''),
    -- ids from the root down, '/1/5/9/': a subtree is id_path LIKE '/1/5/%'
    id_path         TEXT NOT NULL DEFAULT '',
    customer_facing INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX org_units_parent_name ON org_units (COALESCE(parent_id, 0), name);
CREATE INDEX org_units_id_path ON org_units (id_path);

CREATE TABLE employees (
    id          INTEGER PRIMARY KEY,
    external_id TEXT,
    email       TEXT,
    name        TEXT NOT NULL,
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    manager_id  INTEGER REFERENCES employees(id) ON DELETE SET NULL,
    location    TEXT NOT NULL DEFAULT '',
    hired_on    TEXT,
    exited_on   TEXT,
    exit_type   TEXT NOT NULL DEFAULT '' CHECK (exit_type IN ('', 'voluntary', 'involuntary')),
    regretted   INTEGER NOT NULL DEFAULT 0,
    exit_reason TEXT NOT NULL DEFAULT '',
    -- name and email folded for search (lower case, no accents), kept by
    -- the application: SQLite's LOWER() knows only A-Z
    search      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX employees_external_id ON employees (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX employees_email ON employees (email) WHERE email IS NOT NULL;
CREATE INDEX employees_unit ON employees (unit_id);

-- Which team an employee belonged to from which day: customer ratings are
-- attributed to the agent's team on the day of the rating.
CREATE TABLE employee_units (
    employee_id INTEGER NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    valid_from  TEXT NOT NULL,
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (employee_id, valid_from)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'hr', 'leader')),
    scope_unit_id INTEGER REFERENCES org_units(id),
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Server-side sessions; only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins, for throttling by account and by address across replicas.
CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- One-time links that create the first admin.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Files uploaded for a dry run, applied on confirmation (any replica).
CREATE TABLE uploads (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    filename   TEXT NOT NULL,
    options    TEXT NOT NULL DEFAULT '',
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    user_id    INTEGER,
    user_email TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
