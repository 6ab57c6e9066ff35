package httpapi

import (
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Results (api.md §6, R2.8). Every route needs unit_results(u) (principal
// or standard user of the unit, back-office in scope — D8), enforced by the
// auth middleware wrapping the route group. Figures come from the stored
// statistics (one indexed read of the report modules), never from a scan of
// emission rows.

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

func (s *Server) resultsSummary(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err == nil {
		var opt report.Options
		if opt, err = s.resultsOptions(r); err == nil {
			var v report.Summary
			v, err = report.GetSummary(r.Context(), s.Pool, unitID, year, opt)
			s.respond(w, r, http.StatusOK, v, err)
			return
		}
	}
	writeError(w, r, s.Logger, err)
}

func (s *Server) resultsBreakdown(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err == nil {
		var opt report.Options
		if opt, err = s.resultsOptions(r); err == nil {
			var v report.Breakdown
			v, err = report.GetBreakdown(r.Context(), s.Pool, unitID, year, opt)
			s.respond(w, r, http.StatusOK, v, err)
			return
		}
	}
	writeError(w, r, s.Logger, err)
}

func (s *Server) resultsIT(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err == nil {
		var opt report.Options
		if opt, err = s.resultsOptions(r); err == nil {
			var v report.IT
			v, err = report.GetIT(r.Context(), s.Pool, unitID, year, opt)
			s.respond(w, r, http.StatusOK, v, err)
			return
		}
	}
	writeError(w, r, s.Logger, err)
}

func (s *Server) resultsYearly(w http.ResponseWriter, r *http.Request) {
	unitID, err := unitPath(r)
	if err == nil {
		var opt report.Options
		if opt, err = s.resultsOptions(r); err == nil {
			var v []report.YearPoint
			v, err = report.GetYearly(r.Context(), s.Pool, unitID, opt)
			s.respond(w, r, http.StatusOK, v, err)
			return
		}
	}
	writeError(w, r, s.Logger, err)
}
