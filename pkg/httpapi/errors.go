package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// errorBody is the JSON error envelope of docs/api.md §1.1.
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Details []apperr.FieldError `json:"details"`
}

// httpStatus is the one mapping from application error codes to HTTP.
func httpStatus(code apperr.Code) (int, string) {
	switch code {
	case apperr.CodeInvalid:
		return http.StatusBadRequest, "bad_request"
	case apperr.CodeUnauthorized:
		return http.StatusUnauthorized, "unauthenticated"
	case apperr.CodeForbidden:
		return http.StatusForbidden, "forbidden"
	case apperr.CodeNotFound:
		return http.StatusNotFound, "not_found"
	case apperr.CodeConflict:
		return http.StatusConflict, "conflict"
	case apperr.CodeGone:
		return http.StatusGone, "gone"
	case apperr.CodePrecondition:
		return http.StatusPreconditionFailed, "precondition_failed"
	case apperr.CodeTooLarge:
		return http.StatusRequestEntityTooLarge, "payload_too_large"
	case apperr.CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType, "unsupported_media_type"
	case apperr.CodeValidation:
		return http.StatusUnprocessableEntity, "validation_failed"
	case apperr.CodeTooMany:
		return http.StatusTooManyRequests, "too_many_requests"
	case apperr.CodeUnavailable:
		return http.StatusServiceUnavailable, "not_ready"
	default:
		return http.StatusInternalServerError, "internal"
	}
}

// retryAfter is the Retry-After (seconds) of 503 and 429 answers.
const retryAfter = "5"

// writeError renders err. Application errors keep their message; a request
// body that stopped arriving is 408; a database that cannot be reached is
// 503 database_unavailable (dbUnavailable); anything else is logged with
// its cause and answered with a generic 500. 503 and 429 carry
// Retry-After.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	body := errorPayload{Details: []apperr.FieldError{}}
	status := http.StatusInternalServerError
	if _, ok := errors.AsType[*bodyTimeoutError](err); ok || bodyTimedOut(r) {
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusRequestTimeout, errorBody{Error: errorPayload{Code: "request_timeout",
			Message: "the request body did not arrive in time", Details: body.Details}})
		return
	}
	if clientGone(r, err) {
		// Nobody reads the answer: not a server failure. 499 (nginx's
		// "client closed request") keeps it out of the 5xx metrics.
		logger.DebugContext(r.Context(), "request abandoned by the client",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		w.WriteHeader(statusClientClosed)
		return
	}
	ae, isApp := errors.AsType[*apperr.Error](err)
	if (!isApp || ae.Code == apperr.CodeInternal) && dbUnavailable(err) {
		logger.WarnContext(r.Context(), "database unavailable",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		ae, isApp = apperr.WithReason(apperr.CodeUnavailable, "database_unavailable", "the database is unavailable, retry later"), true
	}
	if isApp {
		status, body.Code = httpStatus(ae.Code)
		if ae.Reason != "" && status != http.StatusInternalServerError {
			body.Code = string(ae.Reason)
		}
		body.Message = ae.Message
		if ae.Fields != nil {
			body.Details = ae.Fields
		}
	}
	if status == http.StatusInternalServerError {
		logger.ErrorContext(r.Context(), "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		body.Code, body.Message = "internal", "internal error"
		body.Details = []apperr.FieldError{}
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, errorBody{Error: body})
}

// statusClientClosed is the status recorded for a request whose client
// went away before its answer (nginx's 499; never seen by the client).
const statusClientClosed = 499

// clientGone reports whether err is the request's own context ending
// because the client disconnected (or the server is shutting the
// connection), rather than a failure of the server.
func clientGone(r *http.Request, err error) bool {
	return errors.Is(r.Context().Err(), context.Canceled) && errors.Is(err, context.Canceled)
}

// dbUnavailable reports whether err means that the database cannot be
// reached or is not accepting work (an outage, a restart, a failover, a
// full connection table), as opposed to a failing query: no connection
// could be made, the connection broke, or the server refused it with a
// class 08 (connection exception), 57P01–57P03 (shutdown, starting up) or
// 53300 (too many connections) error.
func dbUnavailable(err error) bool {
	if _, ok := errors.AsType[*clientBodyError](err); ok {
		return false // the client's connection, not the database's
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			return true
		}
		return false
	}
	if ne, ok := errors.AsType[net.Error](err); ok && !ne.Timeout() {
		return true // a refused, reset or closed database connection
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The status line is sent; nothing else can be done for the client.
		slog.Default().Debug("response encoding failed", slog.String("error", err.Error()))
	}
}
