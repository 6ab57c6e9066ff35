package httpapi

import (
	"net/http"
	"slices"
	"sort"

	"github.com/co2-calculator/co2-calculator/pkg/backoffice"
)

// Back-office reporting (docs/api.md §11): adapters over package
// backoffice. Every route needs bo(reporting, view), enforced by the
// middleware wrapping the route group; what the caller sees is clamped to
// its reporting scope (backoffice.ScopeOf its permissions): a metier user
// reaches the subtree of their affiliation, an administrator every unit.

// Query parameters of the report lists (docs/api.md §11).
const paramStatus = "status"

var (
	filterParams = []string{"year", "affiliation", "unit", paramStatus, "module_status", "q"}
	pagingParams = []string{"page", "limit"}
)

// knownParams refuses a query parameter the operation does not take: 400
// invalid_filter with an unknown_field detail (a misspelt filter must not
// widen the answer silently).
func knownParams(r *http.Request, names ...[]string) error {
	var unknown []string
	for k := range r.URL.Query() {
		if !slices.ContainsFunc(names, func(set []string) bool { return slices.Contains(set, k) }) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return backoffice.InvalidFilter(unknown[0], "unknown_field", "unknown query parameter %q", unknown[0])
}

// reportingScope is the caller's reporting scope.
func reportingScope(r *http.Request) backoffice.Scope {
	return backoffice.ScopeOf(principalFrom(r.Context()).Perms)
}

// queryFilters parses the common reporting filters (values are checked by
// package backoffice).
func queryFilters(r *http.Request) (backoffice.Filters, error) {
	f := backoffice.Filters{Statuses: queryValues(r, paramStatus), ModuleStatuses: queryValues(r, "module_status")}
	var err error
	if f.Years, err = queryYears(r, "year"); err != nil {
		return f, err
	}
	if f.Affiliations, err = queryIDs(r, "affiliation"); err != nil {
		return f, err
	}
	if f.Units, err = queryIDs(r, "unit"); err != nil {
		return f, err
	}
	if q := queryString(r, "q"); q != nil {
		f.Q = *q
	}
	return f, nil
}

// reportQuery parses the parameters of a report list: the filters, sort,
// page and limit, plus extra (refused when unknown).
func reportQuery(r *http.Request, extra ...string) (backoffice.Query, pageParams, error) {
	var q backoffice.Query
	if err := knownParams(r, filterParams, pagingParams, []string{"sort"}, extra); err != nil {
		return q, pageParams{}, err
	}
	p, err := queryPage(r)
	if err != nil {
		return q, p, err
	}
	if q.Filters, err = queryFilters(r); err != nil {
		return q, p, err
	}
	if q.Sort, err = backoffice.ParseSort(r.URL.Query().Get("sort")); err != nil {
		return q, p, err
	}
	q.Page = backoffice.Page{Limit: p.Limit, Offset: int(p.offset())}
	return q, p, nil
}

// backofficeYears is GET /backoffice/years.
func (s *Server) backofficeYears(r *http.Request) (response, error) {
	if err := knownParams(r); err != nil {
		return response{}, err
	}
	return reply(backoffice.Years(r.Context(), s.Pool, reportingScope(r)))
}

// backofficeAffiliations is GET /backoffice/affiliations.
func (s *Server) backofficeAffiliations(r *http.Request) (response, error) {
	if err := knownParams(r, []string{"level", "q"}, pagingParams); err != nil {
		return response{}, err
	}
	p, err := queryPage(r)
	if err != nil {
		return response{}, err
	}
	aq := backoffice.AffiliationQuery{Page: backoffice.Page{Limit: p.Limit, Offset: int(p.offset())}}
	if aq.Level, err = queryInt(r, "level"); err != nil {
		return response{}, err
	}
	if q := queryString(r, "q"); q != nil {
		aq.Q = *q
	}
	items, total, err := backoffice.Affiliations(r.Context(), s.Pool, reportingScope(r), aq)
	if err != nil {
		return response{}, err
	}
	return ok(newPage(items, p, total)), nil
}

// backofficeUnits is GET /backoffice/units.
func (s *Server) backofficeUnits(r *http.Request) (response, error) {
	q, p, err := reportQuery(r)
	if err != nil {
		return response{}, err
	}
	items, total, err := backoffice.Units(r.Context(), s.Pool, reportingScope(r), q)
	if err != nil {
		return response{}, err
	}
	return ok(newPage(items, p, total)), nil
}

// backofficeOverview is GET /backoffice/overview.
func (s *Server) backofficeOverview(r *http.Request) (response, error) {
	if err := knownParams(r, filterParams); err != nil {
		return response{}, err
	}
	f, err := queryFilters(r)
	if err != nil {
		return response{}, err
	}
	return reply(backoffice.GetOverview(r.Context(), s.Pool, reportingScope(r), f))
}

// backofficeUsage is GET /backoffice/usage.
func (s *Server) backofficeUsage(r *http.Request) (response, error) {
	q, p, err := reportQuery(r)
	if err != nil {
		return response{}, err
	}
	items, total, err := backoffice.Usage(r.Context(), s.Pool, reportingScope(r), q)
	if err != nil {
		return response{}, err
	}
	return ok(newPage(items, p, total)), nil
}

// backofficeResults is GET /backoffice/results.
func (s *Server) backofficeResults(r *http.Request) (response, error) {
	q, p, err := reportQuery(r, "basis")
	if err != nil {
		return response{}, err
	}
	items, total, err := backoffice.Results(r.Context(), s.Pool, reportingScope(r), q, r.URL.Query().Get("basis"))
	if err != nil {
		return response{}, err
	}
	return ok(newPage(items, p, total)), nil
}
