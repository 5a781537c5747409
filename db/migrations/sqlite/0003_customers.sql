-- Customer ratings (CSAT 1-5, NPS 0-10, CES 1-7), their running totals per
-- unit and period, and API keys for the JSON API.

CREATE TABLE csat_events (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,          -- Unix seconds
    day         TEXT NOT NULL,             -- YYYY-MM-DD (UTC) of occurred_at
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    agent_id    INTEGER REFERENCES employees(id),
    metric      TEXT NOT NULL CHECK (metric IN ('csat', 'nps', 'ces')),
    score       REAL NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (source, external_id)
);
-- No index beyond (source, external_id): reports read csat_totals, never
-- the events, and an index on a million-row import costs a third of its
-- time. Add one with the first query that needs it.

-- Running totals per period: kind 'W' (ISO week, period = its Monday) or
-- 'M' (calendar month, period = its first day). top = ratings in the top
-- two boxes (CSAT 4-5), promoters/detractors for NPS (9-10 / 0-6).
CREATE TABLE csat_totals (
    kind       TEXT NOT NULL CHECK (kind IN ('W', 'M')),
    period     TEXT NOT NULL,
    unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    metric     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    sum        REAL NOT NULL,
    top        INTEGER NOT NULL DEFAULT 0,
    promoters  INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, period, unit_id, metric)
) WITHOUT ROWID;

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,            -- first characters, to recognise a key
    key_hash     TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,            -- space separated
    created_by   INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
