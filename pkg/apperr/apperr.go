// Package apperr defines the one application error type. Handlers and
// domain code return *Error for expected outcomes (bad input, missing rows,
// conflicts, permission problems); anything else is an internal error whose
// cause is logged and never shown to the client. The HTTP mapping lives in
// one place, package httpapi.
package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// Code classifies an application error.
type Code string

const (
	CodeInvalid          Code = "invalid"             // 400
	CodeUnauthorized     Code = "unauthorized"        // 401
	CodeForbidden        Code = "forbidden"           // 403
	CodeNotFound         Code = "not_found"           // 404
	CodeConflict         Code = "conflict"            // 409
	CodeGone             Code = "gone"                // 410
	CodePrecondition     Code = "precondition_failed" // 412
	CodeTooLarge         Code = "payload_too_large"   // 413
	CodeUnsupportedMedia Code = "unsupported_media"   // 415
	CodeValidation       Code = "validation_failed"   // 422
	CodeTooMany          Code = "too_many_requests"   // 429
	CodeUnavailable      Code = "unavailable"         // 503
	CodeInternal         Code = "internal"            // 500
)

// FieldError is one field-level problem of a request body or query.
// Context holds extra keys of the detail object (docs/api.md §1.1 "context
// keys", e.g. conflicting_entry_id); they never override field, code or
// message.
type FieldError struct {
	Field   string         `json:"field"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Context map[string]any `json:"-"`
}

// MarshalJSON writes field, code, message and the context keys.
func (f FieldError) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 3+len(f.Context))
	maps.Copy(m, f.Context)
	m["field"], m["code"], m["message"] = f.Field, f.Code, f.Message
	return json.Marshal(m)
}

// Error is the application error.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Cause   error
	// Reason, when set, is the specific code shown instead of the
	// generic one of Code (docs/api.md §1.1: invalid_sort, year_closed,
	// duplicate_institutional_id …); the HTTP status still comes from Code.
	Reason Reason
}

// Reason is a specific error code shown to the client instead of the
// generic one of Code (docs/api.md §1.1), and the failure code of a job that
// ends on the same error (year_closed, no_valid_rows, …). Packages declare
// their reasons as typed constants next to the rule that produces them.
type Reason string

// Label is the code shown for e: its Reason, else its Code.
func (e *Error) Label() string {
	if e.Reason != "" {
		return string(e.Reason)
	}
	return string(e.Code)
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New builds an error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a 404 error.
func NotFound(format string, args ...any) *Error { return New(CodeNotFound, format, args...) }

// Invalid is a 400 error.
func Invalid(format string, args ...any) *Error { return New(CodeInvalid, format, args...) }

// Validation is a 422 error carrying field errors.
func Validation(msg string, fields ...FieldError) *Error {
	return &Error{Code: CodeValidation, Message: msg, Fields: fields}
}

// WithReason builds an error whose wire code is reason (see Error.Reason).
func WithReason(code Code, reason Reason, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.Reason = reason
	return e
}

// CodeOf returns the code of an application error, or CodeInternal.
func CodeOf(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}
