package httpapi

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// Module overview and module extras (docs/api.md §5): GET P, P/breakdown,
// .../modules/headcount/members and .../modules/professional_travel/trips-map.

// aggregateEnqueuer inserts aggregate{year} with River in the write's
// transaction (docs/jobs.md §2.3); a unique duplicate answer is fine.
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
			id, err := pathUnitID(r)
			var u perm.Unit
			if err == nil {
				u, err = s.loadUnit(r.Context(), id)
			}
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

// moduleOverview answers GET P (module_view).
func (s *Server) moduleOverview(r *http.Request) (response, error) {
	sc, err := pathModuleScope(r)
	if err != nil {
		return response{}, err
	}
	return reply(s.entries.Overview(r.Context(), s.actor(r), sc))
}

// moduleBreakdown answers GET P/breakdown?by=class|top_class (module_view).
func (s *Server) moduleBreakdown(r *http.Request) (response, error) {
	sc, err := pathModuleScope(r)
	if err != nil {
		return response{}, err
	}
	return reply(s.entries.Breakdown(r.Context(), s.actor(r), sc, r.URL.Query().Get("by")))
}

// headcountMembers answers GET .../modules/headcount/members (module_view
// on headcount or professional_travel): callers without a unit-scoped
// grant on either module get only themselves.
func (s *Server) headcountMembers(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
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
	return reply(s.entries.Members(r.Context(), unitID, year, only))
}

// tripsMap answers GET .../modules/professional_travel/trips-map
// (module_view; own scope applies).
func (s *Server) tripsMap(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	return reply(s.entries.TripsMap(r.Context(), s.actor(r), unitID, year))
}
