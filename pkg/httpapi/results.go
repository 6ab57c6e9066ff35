package httpapi

import (
	"context"
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Results (docs/api.md §6, R2.8). Every route needs unit_results(u)
// (principal or standard user of the unit, back-office in scope — D8),
// enforced by the middleware wrapping the route group. Figures come from
// the stored statistics (one indexed read of the report modules), never
// from a scan of emission rows.

// resultsOptions parses scope and exclude_modules.
func (s *Server) resultsOptions(r *http.Request) (report.Options, error) {
	q := r.URL.Query()
	scope, err := report.ParseScope(q.Get("scope"))
	if err != nil {
		return report.Options{}, err
	}
	ex, err := report.ParseExcludeModules(q["exclude_modules"])
	if err != nil {
		return report.Options{}, err
	}
	return report.Options{Scope: scope, ExcludeModules: ex, CarKgPerKm: s.CarKgPerKm}, nil
}

// unitYearResults is the endpoint of a unit-year results view.
func unitYearResults[T any](s *Server, get func(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt report.Options) (T, error)) endpoint {
	return func(r *http.Request) (response, error) {
		unitID, year, err := pathUnitYear(r)
		if err != nil {
			return response{}, err
		}
		opt, err := s.resultsOptions(r)
		if err != nil {
			return response{}, err
		}
		return reply(get(r.Context(), s.Pool, unitID, year, opt))
	}
}

// resultsSummary is served from the results cache while it is live
// (cache.go).
func (s *Server) resultsSummary(r *http.Request) (response, error) {
	return unitYearResults(s, func(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt report.Options) (report.Summary, error) {
		opt.Cache = s.caches.results
		return report.GetSummary(ctx, db, unitID, year, opt)
	})(r)
}

func (s *Server) resultsBreakdown(r *http.Request) (response, error) {
	return unitYearResults(s, report.GetBreakdown)(r)
}

func (s *Server) resultsIT(r *http.Request) (response, error) {
	return unitYearResults(s, report.GetIT)(r)
}

func (s *Server) resultsYearly(r *http.Request) (response, error) {
	unitID, err := pathUnitID(r)
	if err != nil {
		return response{}, err
	}
	opt, err := s.resultsOptions(r)
	if err != nil {
		return response{}, err
	}
	return reply(report.GetYearly(r.Context(), s.Pool, unitID, opt))
}
