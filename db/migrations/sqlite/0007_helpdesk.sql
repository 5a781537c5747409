-- Helpdesk connectors: Zendesk and Freshdesk accounts whose customer
-- ratings Tandem pulls on a schedule (internal/helpdesk).

CREATE TABLE helpdesk_connectors (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('zendesk', 'freshdesk')),
    name            TEXT NOT NULL,
    source          TEXT NOT NULL UNIQUE,      -- the source of its ratings in csat_events
    base_url        TEXT NOT NULL,             -- https://acme.zendesk.com
    options         TEXT NOT NULL DEFAULT '',  -- kind-specific (Zendesk: which CSAT to read)
    secret          TEXT NOT NULL,             -- credentials, AES-GCM sealed with TANDEM_SECRET_KEY
    active          INTEGER NOT NULL DEFAULT 1,
    every_seconds   INTEGER NOT NULL,          -- time between syncs
    lookback_days   INTEGER NOT NULL,          -- how far back each sync re-reads, to follow changed ratings
    start_at        INTEGER NOT NULL,          -- ratings from this time on (Unix seconds)
    cursor          TEXT NOT NULL DEFAULT '',  -- where the next sync resumes (JSON, the connector's own)
    next_sync_at    INTEGER NOT NULL DEFAULT 0,
    sync_requested  INTEGER NOT NULL DEFAULT 0,
    -- The replica syncing holds a lease, renewed with every page it saves;
    -- a page is saved only under the lease, so two replicas never sync one
    -- connector at once.
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_started_at  INTEGER NOT NULL DEFAULT 0,
    last_finished_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    last_fetched    INTEGER NOT NULL DEFAULT 0,
    last_added      INTEGER NOT NULL DEFAULT 0,
    last_updated    INTEGER NOT NULL DEFAULT 0,
    last_unchanged  INTEGER NOT NULL DEFAULT 0,
    last_set_aside  INTEGER NOT NULL DEFAULT 0,
    last_unrated    INTEGER NOT NULL DEFAULT 0,
    total_added     INTEGER NOT NULL DEFAULT 0,
    total_updated   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The helpdesk's groups, and the unit each is mapped to: a rating whose
-- agent is not on the roster is attributed to its group's unit.
CREATE TABLE helpdesk_groups (
    connector_id INTEGER NOT NULL REFERENCES helpdesk_connectors(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    unit_id      INTEGER REFERENCES org_units(id) ON DELETE SET NULL,
    seen_at      INTEGER NOT NULL,
    PRIMARY KEY (connector_id, group_id)
);

-- Ratings a sync could not attribute (no one on the roster, no mapped
-- group, a date outside the agent's employment): listed, never dropped.
-- A later sync that stores the rating removes it from here.
CREATE TABLE helpdesk_set_aside (
    connector_id  INTEGER NOT NULL REFERENCES helpdesk_connectors(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    occurred_at   INTEGER NOT NULL,   -- 0 when the helpdesk's time could not be read
    created_at    INTEGER NOT NULL,   -- the helpdesk's creation time, where a sync rewinds to
    score         TEXT NOT NULL,
    agent         TEXT NOT NULL DEFAULT '',
    group_name    TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (connector_id, external_id)
);
