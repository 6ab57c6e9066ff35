package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

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
	case apperr.CodeUnavailable:
		return http.StatusServiceUnavailable, "not_ready"
	default:
		return http.StatusInternalServerError, "internal"
	}
}

// writeError renders err. Application errors keep their message; anything
// else is logged with its cause and answered with a generic 500.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	body := errorPayload{Details: []apperr.FieldError{}}
	status := http.StatusInternalServerError
	if ae, ok := errors.AsType[*apperr.Error](err); ok {
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
	writeJSON(w, status, errorBody{Error: body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The status line is sent; nothing else can be done for the client.
		slog.Default().Debug("response encoding failed", slog.String("error", err.Error()))
	}
}
