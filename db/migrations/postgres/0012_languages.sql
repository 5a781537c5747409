-- Employees in their own language (issue 17, item 10).
--
-- The language an employee is spoken to in: a BCP 47 tag from the
-- roster's optional "language" column ('' for none, then the browser's
-- and the organisation's). It lives on the employee only: responses and
-- answers never record the language they were given in.
ALTER TABLE employees ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- Translations of custom questions, by language code ('de', 'pt-BR').
-- Answers keep the question's id, so answers in every language count
-- together. choices: the options of a choice question, one per line, in
-- the question's order ('' for other kinds).
CREATE TABLE question_translations (
    question_id BIGINT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    lang        TEXT NOT NULL CHECK (lang <> ''),
    text        TEXT NOT NULL CHECK (text <> ''),
    choices     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (question_id, lang)
);
