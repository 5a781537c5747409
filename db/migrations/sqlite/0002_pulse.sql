-- Pulse programs: the question bank, programs, rounds, invitations, the
-- anonymous answers and the outbox.
--
-- Privacy: responses and answers carry no employee id, no invitation id and
-- no precise time. Response ids are random, and answers are stored by
-- (response, question) without a rowid, so neither insertion order nor any
-- column links an answer to the invitation that allowed it.

CREATE TABLE questions (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    text       TEXT NOT NULL,
    kind       TEXT NOT NULL,             -- likert5 | scale0_10 | choice | text
    driver     TEXT NOT NULL DEFAULT '',  -- '' for none
    in_index   INTEGER NOT NULL DEFAULT 0,
    choices    TEXT NOT NULL DEFAULT '',  -- choice: options, one per line
    builtin    INTEGER NOT NULL DEFAULT 0,
    position   INTEGER NOT NULL DEFAULT 0,
    retired    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE programs (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL,
    audience_unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    cron                TEXT NOT NULL,
    timezone            TEXT NOT NULL,
    window_days         INTEGER NOT NULL CHECK (window_days >= 1),
    reminder_days       INTEGER NOT NULL DEFAULT 0,
    questions_per_round INTEGER NOT NULL,
    driver_cycle        INTEGER NOT NULL,
    core_every          INTEGER NOT NULL,
    min_group           INTEGER NOT NULL CHECK (min_group >= 3),
    channel             TEXT NOT NULL DEFAULT 'email',
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE program_exclusions (
    program_id INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (program_id, unit_id)
);

-- The questions a program draws its rounds from.
CREATE TABLE program_questions (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    PRIMARY KEY (program_id, question_id)
);

-- A round exists once per (program, scheduled time), however often a job
-- fires and on however many replicas.
CREATE TABLE rounds (
    id           INTEGER PRIMARY KEY,
    program_id   INTEGER NOT NULL REFERENCES programs(id),
    scheduled_at INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    closes_at    INTEGER NOT NULL,
    remind_at    INTEGER,
    reminded     INTEGER NOT NULL DEFAULT 0,
    closed       INTEGER NOT NULL DEFAULT 0,
    manual       INTEGER NOT NULL DEFAULT 0,
    min_group    INTEGER NOT NULL,
    period       TEXT NOT NULL,             -- the round's date, YYYY-MM-DD, in the program's zone
    created_at   INTEGER NOT NULL,
    UNIQUE (program_id, scheduled_at)
);
CREATE INDEX rounds_open ON rounds (closed, closes_at);

CREATE TABLE round_questions (
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (round_id, question_id)
);

-- Participation only: who was invited and whether they answered (no time).
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    responded   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (round_id, employee_id)
);
CREATE INDEX invitations_round_unit ON invitations (round_id, unit_id);

-- Hashes of the personal links sent for an invitation (the first message
-- and each reminder get their own). The link itself is never stored.
CREATE TABLE invitation_tokens (
    token_hash    TEXT PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE
) WITHOUT ROWID; -- looked up on every answer: one B-tree, not index then table

CREATE TABLE responses (
    id       INTEGER PRIMARY KEY,            -- random, not sequential
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    unit_id  INTEGER NOT NULL REFERENCES org_units(id),
    comment  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX responses_round_unit ON responses (round_id, unit_id);

CREATE TABLE answers (
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    value       REAL,
    text        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- Running totals per round, unit and question, kept with each answer so
-- reports never scan every answer.
CREATE TABLE round_scores (
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    question_id INTEGER NOT NULL REFERENCES questions(id),
    n           INTEGER NOT NULL,
    sum         REAL NOT NULL,
    promoters   INTEGER NOT NULL DEFAULT 0,
    detractors  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, unit_id, question_id)
) WITHOUT ROWID;

-- Messages to send. The worker claims a row with a lease, renders it, sends
-- it and marks it sent; ref names what it is about (an invitation id).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,          -- invite | reminder | digest
    channel         TEXT NOT NULL,          -- email | webhook | log
    recipient       TEXT NOT NULL,
    ref             INTEGER NOT NULL DEFAULT 0,
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

INSERT INTO questions (key, text, kind, driver, in_index, builtin, position, created_at) VALUES
 ('eng.proud',       'I am proud to tell people where I work.',                                   'likert5', 'engagement', 1, 1, 10, 0),
 ('eng.energy',      'Most days I look forward to the work ahead of me.',                        'likert5', 'engagement', 1, 1, 11, 0),
 ('eng.motivated',   'My work here gives me energy rather than draining it.',                    'likert5', 'engagement', 1, 1, 12, 0),
 ('enps',            'How likely is it that you would recommend working here to a friend?',      'scale0_10', 'enps', 0, 1, 20, 0),
 ('rec.noticed',     'When I do good work, someone notices and says so.',                        'likert5', 'recognition', 0, 1, 30, 0),
 ('rec.fair',        'Credit here goes to the people who earned it.',                            'likert5', 'recognition', 0, 1, 31, 0),
 ('grow.skills',     'I am building skills here that will matter for my future.',               'likert5', 'growth', 0, 1, 40, 0),
 ('grow.path',       'I can see a realistic next step for my career here.',                      'likert5', 'growth', 0, 1, 41, 0),
 ('grow.feedback',   'The feedback I get helps me get better at my job.',                        'likert5', 'growth', 0, 1, 42, 0),
 ('mgr.obstacles',   'My manager helps clear the obstacles that slow me down.',                  'likert5', 'manager', 0, 1, 50, 0),
 ('mgr.concerns',    'I can raise a concern with my manager without worrying about the consequences.', 'likert5', 'manager', 0, 1, 51, 0),
 ('mgr.interest',    'My manager is interested in how I am doing, not only in what I deliver.', 'likert5', 'manager', 0, 1, 52, 0),
 ('auto.how',        'I have enough freedom to decide how I do my work.',                        'likert5', 'autonomy', 0, 1, 60, 0),
 ('auto.input',      'When decisions change my work, I am asked for my input first.',            'likert5', 'autonomy', 0, 1, 61, 0),
 ('load.hours',      'My workload fits into normal working hours.',                              'likert5', 'workload', 0, 1, 70, 0),
 ('load.switchoff',  'I can switch off from work when my day is done.',                          'likert5', 'workload', 0, 1, 71, 0),
 ('load.pace',       'I could keep up the current pace of work for a long time.',                'likert5', 'workload', 0, 1, 72, 0),
 ('mission.link',    'I can see how my work moves the company towards its goals.',              'likert5', 'mission', 0, 1, 80, 0),
 ('mission.believe', 'I believe in what this company is trying to achieve.',                     'likert5', 'mission', 0, 1, 81, 0),
 ('peers.help',      'People on my team step in to help each other without being asked.',       'likert5', 'peers', 0, 1, 90, 0),
 ('peers.respect',   'I feel respected by the people I work with.',                              'likert5', 'peers', 0, 1, 91, 0),
 ('cust.equipped',   'I have what I need to serve our customers well.',                          'likert5', 'customer', 0, 1, 100, 0),
 ('cust.fix',        'When a customer has a problem, I am allowed to put it right.',             'likert5', 'customer', 0, 1, 101, 0),
 ('cust.hear',       'I regularly hear how our customers feel about our work.',                  'likert5', 'customer', 0, 1, 102, 0),
 ('stay.year',       'I see myself still working here a year from now.',                         'likert5', 'intent', 0, 1, 110, 0),
 ('stay.looking',    'I seldom think about looking for a job elsewhere.',                        'likert5', 'intent', 0, 1, 111, 0);
