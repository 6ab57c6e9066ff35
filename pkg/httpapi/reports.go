package httpapi

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Units, reports and module status (docs/api.md §4). Permissions, enforced
// by the middleware that wraps the route group (not here):
//
//	GET   /units/{unit_id}                                    unit_results(u)
//	GET   /units/{unit_id}/reports                            unit_results(u)
//	GET   /units/{unit_id}/years/{year}/report                unit_results(u)
//	PUT   /units/{unit_id}/years/{year}/report                unit_member(u) (+ year open, checked by report.Ensure)
//	PATCH /units/{unit_id}/years/{year}/modules/{module}/status module_validate(u)

func (s *Server) getUnit(r *http.Request) (response, error) {
	id, err := pathUnitID(r)
	if err != nil {
		return response{}, err
	}
	return reply(report.GetUnit(r.Context(), s.Pool, id))
}

func (s *Server) listReports(r *http.Request) (response, error) {
	id, err := pathUnitID(r)
	if err != nil {
		return response{}, err
	}
	// TODO(auth): restrict to the years visible to the caller (non-admins
	// see open and closed years only).
	return reply(report.List(r.Context(), s.Pool, id, nil))
}

func (s *Server) getReport(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	return reply(report.Get(r.Context(), s.Pool, unitID, year))
}

// putReport ensures the report exists: 201 when created, 200 when it was
// there.
func (s *Server) putReport(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	type result struct {
		view    report.View
		created bool
	}
	res, err := postgres.WithTxV(r.Context(), s.Pool, func(ctx context.Context, tx pgx.Tx) (result, error) {
		v, created, err := report.Ensure(ctx, tx, unitID, year)
		return result{v, created}, err
	})
	if err != nil {
		return response{}, err
	}
	if res.created {
		return created(res.view), nil
	}
	return ok(res.view), nil
}

type moduleStatusRequest struct {
	Status string `json:"status"`
}

func (s *Server) patchModuleStatus(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	var req moduleStatusRequest
	if err := decodeJSON(r, &req); err != nil {
		return response{}, err
	}
	in := report.SetStatusInput{UnitID: unitID, Year: year, Module: chi.URLParam(r, "module"), Status: req.Status, ActorID: s.actor(r).UserID}
	return reply(postgres.WithTxV(r.Context(), s.Pool, func(ctx context.Context, tx pgx.Tx) (report.ModuleView, error) {
		return report.SetModuleStatus(ctx, tx, in)
	}))
}
