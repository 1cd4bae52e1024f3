package store

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. Handlers map them to HTTP statuses in one
// place; nothing else needs to know which engine produced them.
const (
	EINVALID  = "invalid"   // the caller sent something we refuse (400)
	ENOTFOUND = "not_found" // no such object, or not visible to this caller (404)
	ECONFLICT = "conflict"  // a concurrent change or a duplicate won (409)
	ESTATE    = "state"     // the object's state forbids the operation (400/409)
	// EUNAVAILABLE: the database cannot serve the request now (unreachable,
	// shutting down, read-only, full, out of connections, too slow); the same
	// request may well succeed later (503 with Retry-After). See Unavailable.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal" // everything else (500): a bug; never shown to callers
)

// Error is a domain error: a code, a message safe to show the caller, and the
// request field it concerns (Stripe's "param") when there is one.
type Error struct {
	Code    string
	Message string
	Param   string
	// Reason is a more precise code for the caller where Code says too
	// little (Stripe's error codes, e.g. resource_missing for a parameter
	// naming an unknown object).
	Reason string
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Param)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the offending parameter.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Param: param, Message: fmt.Sprintf(format, args...)}
}

// NoSuchPrice is the error for a parameter naming a price that is not one of
// the merchant's, in Stripe's words.
func NoSuchPrice(param, id string) *Error {
	return &Error{Code: EINVALID, Param: param, Reason: "resource_missing", Message: fmt.Sprintf("No such price: '%s'", id)}
}

// ErrorCode returns the code of the first *Error in err's chain, EUNAVAILABLE
// for a failure of the database itself (Unavailable), EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case Unavailable(err):
		return EUNAVAILABLE
	default:
		return EINTERNAL
	}
}

// IsNotFound reports whether err means "no such object".
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
