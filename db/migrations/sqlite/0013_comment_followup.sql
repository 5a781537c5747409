-- What leaders do with comments (issue 17, item 5).
--
-- An acknowledgement marks one comment as read and taken up. It names the
-- comment by its response and question (0: the response's general
-- comment) and the leader who acknowledged it; nothing about the person
-- who wrote it, and nothing is ever sent to them.
CREATE TABLE comment_acks (
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    user_email  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- A "you said, we did" note a leader attaches to a closed round for a
-- unit they may see. The people of that unit (and its subtree) read it in
-- their invitation to the program's next round, by email and on the
-- answer page.
CREATE TABLE round_notes (
    round_id   INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    text       TEXT NOT NULL CHECK (text <> ''),
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    user_email TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (round_id, unit_id)
) WITHOUT ROWID;
