package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
)

// The audit API (docs/api.md §13): adapters over package audit.

// detailOutOfRange is the detail code of a value outside its bounds.
const detailOutOfRange = "out_of_range"

// listAuditEvents is GET /audit/events (bo(logs, view)): newest first,
// cursor-paginated ({items, next_cursor}).
func (s *Server) listAuditEvents(r *http.Request) (response, error) {
	limit, err := queryCount(r, "limit", audit.MaxListLimit)
	if ae, ok := errors.AsType[*apperr.Error](err); ok && len(ae.Fields) == 1 && ae.Fields[0].Code == detailOutOfRange {
		return response{}, apperr.Validation(ae.Message, ae.Fields...) // docs/api.md §13: above 100 → 422
	}
	if err != nil {
		return response{}, err
	}
	from, err := queryTime(r, "from")
	if err != nil {
		return response{}, err
	}
	to, err := queryTime(r, "to")
	if err != nil {
		return response{}, err
	}
	q := r.URL.Query()
	f := audit.Filter{ActorSciper: q.Get("actor_sciper"), Events: queryValues(r, "event"), Actions: queryValues(r, "action"),
		EntityType: q.Get("entity_type"), EntityID: q.Get("entity_id"), From: from, To: to, Q: q.Get("q"),
		Module: q.Get("module"), ShipStatuses: queryValues(r, "ship_status")}
	return reply(audit.List(r.Context(), s.Pool, f, q.Get("cursor"), limit))
}

// getAuditEvent is GET /audit/events/{id} (bo(logs, view)).
func (s *Server) getAuditEvent(r *http.Request) (response, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return response{}, apperr.NotFound("audit event %q not found", raw)
	}
	return reply(audit.Get(r.Context(), s.Pool, id))
}

// auditStats is GET /audit/stats?from=&to= (bo(logs, view)).
func (s *Server) auditStats(r *http.Request) (response, error) {
	from, err := queryTime(r, "from")
	if err != nil {
		return response{}, err
	}
	to, err := queryTime(r, "to")
	if err != nil {
		return response{}, err
	}
	return reply(audit.CountStats(r.Context(), s.Pool, from, to))
}

// verifyAudit is GET /audit/verify?from_seq=&to_seq= (bo(logs, view)):
// the report of audit.Verify; audited audit.verify.
func (s *Server) verifyAudit(r *http.Request) (response, error) {
	from, err := queryID(r, "from_seq")
	if err != nil {
		return response{}, err
	}
	to, err := queryID(r, "to_seq")
	if err != nil {
		return response{}, err
	}
	return reply(audit.VerifyRange(r.Context(), s.Pool, callerUserID(r.Context()), from, to))
}

// retryFailedRequest is the (empty) body of POST
// /audit/shipping/retry-failed.
type retryFailedRequest struct{}

// retryFailedAnswer is the answer of POST /audit/shipping/retry-failed.
type retryFailedAnswer struct {
	ResetCount int64 `json:"reset_count"`
}

// retryFailedShipping is POST /audit/shipping/retry-failed
// (bo(configuration, edit)): failed events are pending again; audited
// audit.retry_failed.
func (s *Server) retryFailedShipping(r *http.Request) (response, error) {
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &retryFailedRequest{}); err != nil {
			return response{}, err
		}
	}
	n, err := audit.RetryFailed(r.Context(), s.Pool, callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return ok(retryFailedAnswer{ResetCount: n}), nil
}
