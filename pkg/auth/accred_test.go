package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

const accredFixtures = "../../../shared/data/external/accred"

// The expected role mapping of docs/jobs.md §9.2, through the real HTTP
// client and the fake Accred server.
func TestAccredRoles(t *testing.T) {
	t.Parallel()
	fake := fakes.NewAccred(accredFixtures, "user", "pass")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	a := &auth.Accred{BaseURL: srv.URL, Username: "user", Password: "pass", Client: &http.Client{Timeout: 5 * time.Second}}
	tests := []struct {
		sciper   string
		roles    []perm.Assignment
		function string
	}{
		{sciper: "100001", roles: []perm.Assignment{perm.New(perm.RolePrincipal, "7918"), perm.New(perm.RoleStandard, "7918")}, function: "Full Professor"},
		{sciper: "100005", roles: []perm.Assignment{perm.New(perm.RoleStandard, "7918")}},
		{sciper: "100007", roles: []perm.Assignment{perm.New(perm.RoleStandard, "7918")}},
		{sciper: "200001", roles: []perm.Assignment{perm.New(perm.RoleMetier, "1100")}},
		{sciper: "200002", roles: []perm.Assignment{perm.New(perm.RoleAdmin, ""), perm.New(perm.RoleMetier, "1200")}},
		{sciper: "200003", roles: []perm.Assignment{}, function: "Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.sciper, func(t *testing.T) {
			t.Parallel()
			res, err := a.Resolve(t.Context(), auth.Identity{Sciper: tt.sciper})
			require.NoError(t, err)
			require.Equal(t, perm.Normalize(tt.roles), res.Roles)
			require.NotNil(t, res.Email)
			if tt.function != "" {
				require.Equal(t, tt.function, *res.FunctionTitle)
			}
		})
	}
	t.Run("Memberships", func(t *testing.T) {
		t.Parallel()
		res, err := a.Resolve(t.Context(), auth.Identity{Sciper: "100001"})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"7918": "principal"}, perm.Memberships(res.Roles))
	})
	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		bad := &auth.Accred{BaseURL: srv.URL, Username: "user", Password: "nope"}
		_, err := bad.Resolve(t.Context(), auth.Identity{Sciper: "100001"})
		require.ErrorIs(t, err, auth.ErrUpstream)
	})
	t.Run("Unreachable", func(t *testing.T) {
		t.Parallel()
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		_, err := (&auth.Accred{BaseURL: dead.URL}).Resolve(t.Context(), auth.Identity{Sciper: "100001"})
		require.ErrorIs(t, err, auth.ErrUpstream)
	})
}

func TestOIDCRolesClaim(t *testing.T) {
	t.Parallel()
	p := auth.OIDCRoles{Claim: "roles"}
	res, err := p.Resolve(t.Context(), auth.Identity{Claims: map[string]any{"roles": []any{
		"calco2.user.principal@unit:7918", "calco2.backoffice.admin@global", "bogus", 42, "calco2.user.standard@planet:1",
	}}})
	require.NoError(t, err)
	require.Equal(t, perm.Normalize([]perm.Assignment{perm.New(perm.RolePrincipal, "7918"), perm.New(perm.RoleAdmin, "")}), res.Roles)
	res, err = p.Resolve(t.Context(), auth.Identity{Claims: map[string]any{}})
	require.NoError(t, err)
	require.Empty(t, res.Roles)
}
