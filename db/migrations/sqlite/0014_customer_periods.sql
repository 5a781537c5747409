-- The released-data version at which each period's customer totals last
-- changed (issue 19: reports that cost what changed). A report server keeps
-- the totals it has read and, when the released version moves, reads again
-- only the periods changed since the version it holds. Written in the
-- transaction that changes csat_totals, after it moves the version. A
-- period without a row has not changed since this table was made.
CREATE TABLE csat_periods (
    kind    TEXT NOT NULL CHECK (kind IN ('W', 'M')),
    metric  TEXT NOT NULL,
    period  TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (kind, metric, period)
) WITHOUT ROWID;
