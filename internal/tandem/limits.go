package tandem

import (
	"fmt"
	"unicode/utf8"
)

// Limits on the text people and files give Tandem. Every importer, form and
// API checks against these (with CheckLength), so a 15 MB name cannot be
// stored and then sent on every page that lists people. Lengths are in
// characters (runes), not bytes.
const (
	// MaxNameLength bounds a person's name, a unit's name (one level of
	// a team path), an account's and a program's name, a location and an
	// option of a choice question.
	MaxNameLength = 200
	// MaxEmailLength is the longest address SMTP carries (RFC 5321).
	MaxEmailLength = 254
	// MaxIDLength bounds an employee id from an HR system.
	MaxIDLength = 100
	// MaxCommentLength bounds an exit reason (answer comments have
	// pulse.MaxTextLength, rating comments their own limit).
	MaxCommentLength = 2000
	// MaxUnitDepth is the most levels a team path may have.
	MaxUnitDepth = 20
	// MaxQuestionLength bounds the text of a question.
	MaxQuestionLength = 500
)

// CheckLength returns a field error when value is longer than max
// characters. The error gives the length, never the value, which may be
// megabytes.
func CheckLength(field, value string, max int) error {
	if len(value) <= max { // bytes ≥ runes: the common case without counting
		return nil
	}
	if n := utf8.RuneCountInString(value); n > max {
		return FieldErrorf(field, "is %s characters long; shorten it to at most %d", thousands(n), max)
	}
	return nil
}

// Shorten returns s cut to at most n characters, with "…" when cut, for
// quoting a value in a message.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
