-- Anonymity in storage: every round decides once, at its start, the unit
-- each invited person's answers are stored under (privacy.StorageGroups):
-- a group of at least k invitees. Responses, running totals and the
-- invitations' unit all name the storage group, never a smaller unit.
-- When a round closes its invitations, links and messages are deleted and
-- only these counts remain.
CREATE TABLE round_groups (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    unit_id  BIGINT NOT NULL REFERENCES org_units(id),
    invited  INTEGER NOT NULL CHECK (invited > 0),
    PRIMARY KEY (round_id, unit_id)
);

-- Rounds stored before storage groups existed are regrouped by the store
-- when it opens (store.regroupRounds); this marks the ones done.
ALTER TABLE rounds ADD COLUMN grouped BOOLEAN NOT NULL DEFAULT FALSE;

-- The link hashes of closed rounds, kept apart from any person so that an
-- old link still says "this round has closed" rather than "not valid".
CREATE TABLE expired_links (
    token_hash TEXT PRIMARY KEY,
    round_id   BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE
);
