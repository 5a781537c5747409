-- Retention: earlier periods of employment of rehired people, and internal
-- service quality (a team rating the service it gets from another team).

-- Past stints. The current (or last) stint stays on the employees row; a
-- rehire moves the finished one here instead of erasing it.
CREATE TABLE employments (
    id          INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    hired_on    TEXT,
    exited_on   TEXT NOT NULL,
    exit_type   TEXT NOT NULL DEFAULT '',
    regretted   INTEGER NOT NULL DEFAULT 0,
    exit_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX employments_employee ON employments (employee_id);

-- The provider teams a service question lets respondents rate.
CREATE TABLE question_providers (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (question_id, unit_id)
);

-- Which provider an internal-service answer rates.
ALTER TABLE answers ADD COLUMN provider_unit_id INTEGER REFERENCES org_units(id);

-- Running totals of service ratings per round, rater unit and provider.
CREATE TABLE service_scores (
    round_id         INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    rater_unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    provider_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    n                INTEGER NOT NULL,
    sum              REAL NOT NULL,
    PRIMARY KEY (round_id, rater_unit_id, provider_unit_id)
) WITHOUT ROWID;
