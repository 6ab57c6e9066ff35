package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Module overview and module extras (api.md §5): GET P, P/breakdown,
// .../modules/headcount/members and .../modules/professional_travel/trips-map.

// aggregateEnqueuer inserts aggregate{year} with River in the write's
// transaction (jobs.md §2.3); a unique duplicate answer is fine.
func aggregateEnqueuer(client pipeline.Inserter) entry.AggregateEnqueuer {
	return func(ctx context.Context, tx pgx.Tx, year int32) error {
		_, err := client.InsertTx(ctx, tx, jobs.AggregateArgs{Year: int(year)}, nil)
		return err
	}
}

// requireModuleView is module_view(u, m) for routes whose module is fixed
// in the path: the caller needs module_view on u for one of modules (an
// unknown unit is 404, no grant 403). The first module granted is recorded
// for the own-scope rules (PrincipalActor).
func (s *Server) requireModuleView(modules ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := principalFrom(r.Context())
			u, err := s.pathUnit(r)
			if err != nil {
				writeError(w, r, s.Logger, err)
				return
			}
			for _, m := range modules {
				if p.Perms.ModuleView(u, m) {
					ctx := context.WithValue(r.Context(), unitKey{}, unitAccess{unit: u, module: m})
					next.ServeHTTP(w, r.WithContext(ctx))
					return
				}
			}
			writeError(w, r, s.Logger, errForbidden(ModuleView.String()))
		}))
	}
}

// pathUnit loads the unit {unit_id} for a permission check.
func (s *Server) pathUnit(r *http.Request) (perm.Unit, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "unit_id"), 10, 64)
	if err != nil {
		return perm.Unit{}, apperr.NotFound("unit not found")
	}
	row, err := dbsqlc.New(s.Pool).UnitGet(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return perm.Unit{}, apperr.NotFound("unit %d not found", id)
	}
	if err != nil {
		return perm.Unit{}, err
	}
	u := perm.Unit{PathCFs: row.PathCfs}
	if row.Cf != nil {
		u.CF = *row.Cf
	}
	return u, nil
}

// moduleScope parses /units/{unit_id}/years/{year}/modules/{module}; an
// unknown module is 404.
func moduleScope(r *http.Request) (entry.ModuleScope, error) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		return entry.ModuleScope{}, err
	}
	sc := entry.ModuleScope{UnitID: unitID, Year: year, Module: emission.ModuleKey(chi.URLParam(r, "module"))}
	if _, ok := emission.LookupModule(sc.Module); !ok {
		return sc, apperr.NotFound("unknown module %q", sc.Module)
	}
	return sc, nil
}

// moduleOverview answers GET P (module_view).
func (s *Server) moduleOverview(w http.ResponseWriter, r *http.Request) {
	sc, err := moduleScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	v, err := s.entries.Overview(r.Context(), s.actor(r), sc)
	s.respond(w, r, http.StatusOK, v, err)
}

// moduleBreakdown answers GET P/breakdown?by=class|top_class (module_view).
func (s *Server) moduleBreakdown(w http.ResponseWriter, r *http.Request) {
	sc, err := moduleScope(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	v, err := s.entries.Breakdown(r.Context(), s.actor(r), sc, r.URL.Query().Get("by"))
	s.respond(w, r, http.StatusOK, v, err)
}

// headcountMembers answers GET .../modules/headcount/members (module_view
// on headcount or professional_travel): callers without a unit-scoped
// grant on either module get only themselves.
func (s *Server) headcountMembers(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	only := ""
	if p := principalFrom(r.Context()); p != nil {
		if ua, ok := r.Context().Value(unitKey{}).(unitAccess); ok {
			unitScoped := func(m emission.ModuleKey) bool {
				return p.Perms.ModuleView(ua.unit, string(m)) && !p.Perms.OwnOnly(ua.unit, string(m))
			}
			if !unitScoped(emission.ModuleHeadcount) && !unitScoped(emission.ModuleProfessionalTravel) {
				only = p.User.Sciper
			}
		}
	}
	v, err := s.entries.Members(r.Context(), unitID, year, only)
	s.respond(w, r, http.StatusOK, v, err)
}

// tripsMap answers GET .../modules/professional_travel/trips-map
// (module_view; own scope applies).
func (s *Server) tripsMap(w http.ResponseWriter, r *http.Request) {
	unitID, year, err := unitYearPath(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	v, err := s.entries.TripsMap(r.Context(), s.actor(r), unitID, year)
	s.respond(w, r, http.StatusOK, v, err)
}
