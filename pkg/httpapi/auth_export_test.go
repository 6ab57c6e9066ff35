package httpapi

import (
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// AsPrincipal serves h as if p had a valid session (tests of handlers
// whose authorization is covered by the route-walk and login tests).
func AsPrincipal(h http.Handler, p *auth.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// NewTestPrincipal is a principal with the given roles (user id 0).
func NewTestPrincipal(sciper string, roles ...perm.Assignment) *auth.Principal {
	return &auth.Principal{User: dbsqlc.User{Sciper: sciper, Provider: "dev", IsActive: true}, Roles: roles, Perms: perm.For(roles)}
}

// AsAdmin serves h as the dev admin.
func AsAdmin(h http.Handler) http.Handler {
	return AsPrincipal(h, NewTestPrincipal("DEV-000004", perm.New(perm.RoleAdmin, "")))
}

// AsUnitPrincipal serves h as a principal (calco2.user.principal) of the
// unit with that cf who is also an admin, so every unit predicate and
// bo() check passes.
func AsUnitPrincipal(h http.Handler, cf string) http.Handler {
	return AsPrincipal(h, NewTestPrincipal("DEV-000002", perm.New(perm.RolePrincipal, cf), perm.New(perm.RoleAdmin, "")))
}
