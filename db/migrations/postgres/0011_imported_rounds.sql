-- Rounds imported from past survey results (tandem import history): one
-- per period, closed, with no invitations. They never take a scheduled
-- slot (their scheduled_at is the period's first day plus one second,
-- which no cadence or cron can name), do not count towards which program
-- is the default, and have seq 0, so the question rotation of the rounds
-- the program sends is unchanged.
ALTER TABLE rounds ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;
