package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Authorization: one middleware per permission family (docs/api.md,
// docs/domain.md §2.3). Every route of the table is wrapped by exactly one of them, or is
// listed as public in the route-walk test.

type principalKey struct{}

func principalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// WithPrincipal is for tests and internal callers.
func withPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	if p := principalFrom(r.Context()); p != nil {
		return p, nil
	}
	if s.Auth.Service == nil {
		return nil, errUnauthenticated()
	}
	c, err := r.Cookie(cookieAuth)
	if err != nil || c.Value == "" {
		return nil, errUnauthenticated()
	}
	p, err := s.Auth.Service.Authenticate(r.Context(), c.Value)
	switch {
	case errors.Is(err, auth.ErrSessionExpired):
		return nil, errSessionExpired()
	case errors.Is(err, auth.ErrInvalidToken):
		return nil, errUnauthenticated()
	case err != nil:
		return nil, err
	}
	return p, nil
}

// requireAuth is the predicate `auth`.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

func errForbidden(permission string) error {
	return &apperr.Error{Code: apperr.CodeForbidden, Message: "permission missing: " + permission,
		Fields: []apperr.FieldError{{Code: "forbidden", Message: "missing grant", Context: map[string]any{"permission": permission}}}}
}

// requireBO is bo(resource, action): 401 without a session, 403 without the
// grant.
func (s *Server) requireBO(resource, action string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !principalFrom(r.Context()).Perms.BO(resource, action) {
				writeError(w, r, s.Logger, errForbidden("backoffice."+resource+":"+action))
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// UnitPredicate is one of the unit-scoped predicates of docs/domain.md §2.3.
type UnitPredicate int

// The unit predicates.
const (
	UnitMember UnitPredicate = iota
	UnitResults
	ModuleView
	ModuleEdit
	ModuleSync
	ModuleValidate
)

func (p UnitPredicate) String() string {
	return [...]string{"unit_member", "unit_results", "module_view", "module_edit", "module_sync", "module_validate"}[p]
}

// requireUnit checks a unit predicate on {unit_id} (and {module}, {year}
// where the predicate needs them). An unknown unit is 404; a unit the
// caller may not reach is 403.
func (s *Server) requireUnit(pred UnitPredicate) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, ua, err := s.checkUnit(r, pred)
			if err != nil {
				writeError(w, r, s.Logger, err)
				return
			}
			if !ok {
				writeError(w, r, s.Logger, errForbidden(pred.String()))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), unitKey{}, ua)))
		}))
	}
}

type unitKey struct{}

// unitAccess is the unit (and module) a requireUnit check was made on.
type unitAccess struct {
	unit   perm.Unit
	module string
}

func (s *Server) checkUnit(r *http.Request, pred UnitPredicate) (bool, unitAccess, error) {
	p := principalFrom(r.Context())
	id, err := pathUnitID(r)
	if err != nil {
		return false, unitAccess{}, err
	}
	u, err := s.loadUnitCached(r.Context(), id)
	if err != nil {
		return false, unitAccess{}, err
	}
	module := chi.URLParam(r, "module")
	ua := unitAccess{unit: u, module: module}
	switch pred {
	case UnitMember:
		return p.Perms.UnitMember(u), ua, nil
	case UnitResults:
		return p.Perms.UnitResults(u), ua, nil
	case ModuleView:
		return p.Perms.ModuleView(u, module), ua, nil
	}
	// Writes: only the grant is checked here (403); the domain refuses a
	// year that is not open with 409 year_not_open / year_closed (D5).
	switch pred {
	case ModuleEdit:
		return p.Perms.ModuleEdit(u, module, true), ua, nil
	case ModuleSync:
		return p.Perms.ModuleSync(u, module, true), ua, nil
	default:
		return p.Perms.ModuleValidate(u, true), ua, nil
	}
}

// loadUnit is the one unit loader of the permission checks: the unit's cf
// and the cfs of its ancestors (404 when unknown).
func (s *Server) loadUnit(ctx context.Context, id int64) (perm.Unit, error) {
	row, err := dbsqlc.New(s.Pool).UnitGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return perm.Unit{}, apperr.NotFound("unit %d not found", id)
	}
	if err != nil {
		return perm.Unit{}, fmt.Errorf("error reading unit %d: %w", id, err)
	}
	u := perm.Unit{PathCFs: row.PathCfs}
	if row.Cf != nil {
		u.CF = *row.Cf
	}
	return u, nil
}

// pathPipeline reads the head of pipeline {id} for a permission check
// (from the listener's cache when it holds it); found is false for a
// malformed or unknown id (left to the handler: 404).
func (s *Server) pathPipeline(r *http.Request) (pipeline.Head, bool, error) {
	id, err := pathPipelineID(r)
	if err != nil {
		return pipeline.Head{}, false, nil //nolint:nilerr // a malformed id names no pipeline: the handler answers 404
	}
	h, err := s.Listener.Head(r.Context(), s.Pool, id)
	switch {
	case apperr.CodeOf(err) == apperr.CodeNotFound:
		return h, false, nil
	case err != nil:
		return h, true, err
	}
	return h, true, nil
}

// requirePipelineVisible lets through callers who may see the pipeline
// {id} (docs/api.md §10): its creator, module_sync on its unit, or
// bo(pipeline_operations|configuration, view); others get 404. An unknown
// pipeline is left to the handler (404).
func (s *Server) requirePipelineVisible(next http.Handler) http.Handler {
	return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if p.Perms.BO(perm.BOPipelineOperations, perm.ActionView) || p.Perms.BO(perm.BOConfiguration, perm.ActionView) {
			next.ServeHTTP(w, r)
			return
		}
		pl, found, err := s.pathPipeline(r)
		if !found {
			next.ServeHTTP(w, r) // the handler answers 404
			return
		}
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		visible := pl.CreatedBy != nil && *pl.CreatedBy == p.User.ID
		if !visible && pl.UnitID != nil && pl.Module != nil {
			if u, err := s.loadUnit(r.Context(), *pl.UnitID); err == nil {
				visible = p.Perms.ModuleSync(u, *pl.Module, true)
			}
		}
		if !visible {
			writeError(w, r, s.Logger, apperr.NotFound("pipeline %s not found", pl.ID))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// csrf enforces the double-submit token and the Origin check on
// state-changing methods (docs/api.md §1).
func (s *Server) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		// Unknown routes and methods keep their 404 / 405.
		// rc.Routes is the root router (chi keeps the parent's context in
		// sub-routers), so match the full path.
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.Routes != nil {
			if !rc.Routes.Match(chi.NewRouteContext(), r.Method, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
		}
		if err := s.checkCSRF(r); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func errCSRF(msg string) error {
	return apperr.WithReason(apperr.CodeForbidden, "csrf_failed", "%s", msg)
}

func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if origin != publicOrigin(s.PublicBaseURL) {
		return errCSRF("cross-origin request refused")
	}
	return nil
}

func (s *Server) checkCSRF(r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	header := r.Header.Get("X-Csrf-Token")
	c, err := r.Cookie(cookieCSRF)
	if err != nil || c.Value == "" || header == "" || subtle.ConstantTimeCompare([]byte(header), []byte(c.Value)) != 1 {
		return errCSRF("missing or wrong CSRF token")
	}
	return nil
}

// publicOrigin is scheme://host[:port] of PUBLIC_BASE_URL.
func publicOrigin(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
