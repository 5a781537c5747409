-- Each closed round's agreement inputs per unit (issue 19: rollups
-- written once a round is closed): the respondents' engagement index
-- moments (n, mean, sum of squared deviations) and rwg(J) over the index
-- items with the respondents it counts. A report reads these instead of
-- every individual answer: 25 million answers at 50,000 employees and two
-- years of weeks were most of a server's first report. Written by the
-- housekeeping as rounds close (and for older rounds after an upgrade),
-- or by a report that needs a round not yet saved; a round's rows and
-- its round_agreement_sets row go in one transaction, so a round with a
-- set row has all its unit rows (none when no one answered an index
-- item). NULL stands for NaN (no value).
CREATE TABLE round_agreement (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    unit_id  BIGINT NOT NULL REFERENCES org_units(id),
    n        BIGINT NOT NULL,
    mean     DOUBLE PRECISION,
    ss       DOUBLE PRECISION,
    rwg      DOUBLE PRECISION,
    rwg_n    BIGINT NOT NULL,
    PRIMARY KEY (round_id, unit_id)
);

CREATE TABLE round_agreement_sets (
    round_id BIGINT PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
    units    BIGINT NOT NULL
);
