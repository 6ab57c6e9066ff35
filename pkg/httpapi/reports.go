package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Units, reports and module status (api.md §4). Permissions, enforced by
// the auth middleware that wraps the route group (not here):
//
//	GET   /units/{unit_id}                                    unit_results(u)
//	GET   /units/{unit_id}/reports                            unit_results(u)
//	GET   /units/{unit_id}/years/{year}/report                unit_results(u)
//	PUT   /units/{unit_id}/years/{year}/report                unit_member(u) (+ year open, checked here)
//	PATCH /units/{unit_id}/years/{year}/modules/{module}/status module_validate(u)

// unitPath parses {unit_id}; a malformed id names no unit (404).
func unitPath(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "unit_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("unknown unit %q", chi.URLParam(r, "unit_id"))
	}
	return id, nil
}

// unitYearPath parses {unit_id} and {year}.
func unitYearPath(r *http.Request) (int64, int32, error) {
	id, err := unitPath(r)
	if err != nil {
		return 0, 0, err
	}
	y, err := strconv.ParseInt(chi.URLParam(r, "year"), 10, 32)
	if err != nil || y < 2000 || y > 2100 {
		return 0, 0, apperr.NotFound("unknown year %q", chi.URLParam(r, "year"))
	}
	return id, int32(y), nil
}

// respond renders (v, err) from a handler body.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, status, v)
}

func (s *Server) getUnit(w http.ResponseWriter, r *http.Request) {
	id, err := unitPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	u, err := report.GetUnit(r.Context(), s.Pool, id)
	s.respond(w, r, http.StatusOK, u, err)
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) {
	id, err := unitPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	// TODO(auth): restrict to the years visible to the caller (non-admins
	// see open and closed years only).
	list, err := report.List(r.Context(), s.Pool, id, nil)
	s.respond(w, r, http.StatusOK, list, err)
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	v, err := report.Get(r.Context(), s.Pool, unitID, year)
	s.respond(w, r, http.StatusOK, v, err)
}

func (s *Server) putReport(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	type result struct {
		view    report.View
		created bool
	}
	res, err := postgres.WithTxV(r.Context(), s.Pool, func(ctx context.Context, tx pgx.Tx) (result, error) {
		v, created, err := report.Ensure(ctx, tx, unitID, year)
		return result{v, created}, err
	})
	status := http.StatusOK
	if res.created {
		status = http.StatusCreated
	}
	s.respond(w, r, status, res.view, err)
}

type moduleStatusRequest struct {
	Status string `json:"status"`
}

func decodeReportJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return apperr.Invalid("could not read the request body")
	}
	if len(body) > maxJSONBody {
		return apperr.New(apperr.CodeTooLarge, "request body exceeds 1 MiB")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apperr.Invalid("malformed JSON body")
	}
	return nil
}

func (s *Server) patchModuleStatus(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	var req moduleStatusRequest
	if err := decodeReportJSON(r, &req); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	in := report.SetStatusInput{UnitID: unitID, Year: year, Module: chi.URLParam(r, "module"), Status: req.Status, ActorID: s.actor(r).UserID}
	v, err := postgres.WithTxV(r.Context(), s.Pool, func(ctx context.Context, tx pgx.Tx) (report.ModuleView, error) {
		return report.SetModuleStatus(ctx, tx, in, s.ReportAudit)
	})
	s.respond(w, r, http.StatusOK, v, err)
}
