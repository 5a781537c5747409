-- Versions of the data reports read. 'released' goes up by one in the same
-- transaction as anything that changes released results or customer
-- totals: a round's close (its results are released), a ratings ingest or
-- correction, a regrouping of stored answers. A computed report is cached
-- under the version it read and is good until the version moves.
CREATE TABLE data_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (name, version) VALUES ('released', 1);
