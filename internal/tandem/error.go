// Package tandem holds Tandem's domain: the organisation, its people, the
// accounts that look at them, and the rules that do not depend on storage or
// HTTP. Every other package speaks in these types.
//
// Rules with their one home here: what a viewer of a scope may see of the
// unit tree (Tree.InScope: everything for scope 0, a leader's own subtree
// otherwise).
package tandem

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web package.
const (
	EINVALID      = "invalid"      // the input is wrong; Message says how to fix it
	ENOTFOUND     = "not_found"    // no such thing, or not visible to the caller
	ECONFLICT     = "conflict"     // the change collides with existing data
	EUNAUTHORIZED = "unauthorized" // not signed in or credentials wrong
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	ETOOMANY      = "too_many"     // throttled; try again later
	EUNAVAILABLE  = "unavailable"  // a dependency is down or busy; retry
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is the error a person sees. Code selects the HTTP status; Message is
// written for the person (what went wrong and what to do); Field names the
// form field or column at fault, when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error about one field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of err if it is an *Error, and a
// generic message otherwise: internal details are logged, not shown.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. It has been logged; please try again."
}
