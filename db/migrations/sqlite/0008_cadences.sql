-- Cadences: a program's schedule as structured data instead of a cron
-- string typed by HR (issue 14). `cadence` holds pulse.Cadence as JSON
-- (its zone stays in `timezone`); `cadence_note` says what the move from
-- cron did to the program, for its page. Tandem fills both for existing
-- programs right after this file runs, in the same transaction
-- (store.afterMigration["cadences"]): a plain weekly cron becomes a weekly
-- cadence, the old "every two weeks" and "first Monday" crons become what
-- they said, and any other cron restricting both day fields, with six
-- fields or an @ shorthand, pauses its program. `cron` stays, with the
-- expression of admin cron cadences and '' for the others.
ALTER TABLE programs ADD COLUMN cadence TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN cadence_note TEXT NOT NULL DEFAULT '';

-- The dates (YYYY-MM-DD in the program's zone) HR chose to skip.
CREATE TABLE program_skips (
    program_id INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    PRIMARY KEY (program_id, day)
);
