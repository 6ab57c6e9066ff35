package perm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
)

// Units of the dev fixtures (docs/domain.md §2.1).
var (
	labDemo  = perm.Unit{CF: "7918", PathCFs: []string{"10000", "13030", "13031", "7918"}}
	labOther = perm.Unit{CF: "13033", PathCFs: []string{"10000", "13030", "13031", "13033"}}
	labSB    = perm.Unit{CF: "14001", PathCFs: []string{"10000", "14000", "14001"}}
	noCF     = perm.Unit{CF: "", PathCFs: []string{"10000", "13030", ""}}
)

var (
	standard       = []perm.Assignment{perm.New(perm.RoleStandard, "7918")}
	principal      = []perm.Assignment{perm.New(perm.RolePrincipal, "7918")}
	metier         = []perm.Assignment{perm.New(perm.RoleMetier, "13030")}
	admin          = []perm.Assignment{perm.New(perm.RoleAdmin, "")}
	principalOther = []perm.Assignment{perm.New(perm.RolePrincipal, "13033")}
	none           = []perm.Assignment{}
)

func TestParseClaim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    perm.Assignment
		wantErr bool
	}{
		{in: "calco2.backoffice.admin@global", want: perm.New(perm.RoleAdmin, "")},
		{in: "calco2.backoffice.metier@affiliation:13030", want: perm.New(perm.RoleMetier, "13030")},
		{in: "calco2.user.principal@unit:7918", want: perm.New(perm.RolePrincipal, "7918")},
		{in: "calco2.user.standard@own:7918", want: perm.New(perm.RoleStandard, "7918")},
		{in: "calco2.user.standard@unit:7918", wantErr: true},
		{in: "calco2.user.superuser@global", wantErr: true},
		{in: "calco2.user.principal", wantErr: true},
		{in: "calco2.user.principal@unit:", wantErr: true},
		{in: "calco2.backoffice.admin@global:1", wantErr: true},
		{in: "calco2.user.principal@planet:7918", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := perm.ParseClaim(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, perm.ErrInvalidRole)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeAndEqual(t *testing.T) {
	t.Parallel()
	a := []perm.Assignment{perm.New(perm.RoleStandard, "7918"), perm.New(perm.RolePrincipal, "7918"), perm.New(perm.RoleStandard, "7918"),
		{Role: "calco2.user.superuser", Scope: perm.Scope{Kind: perm.ScopeGlobal}}}
	require.Equal(t, []perm.Assignment{perm.New(perm.RolePrincipal, "7918"), perm.New(perm.RoleStandard, "7918")}, perm.Normalize(a))
	require.True(t, perm.Equal(a, []perm.Assignment{perm.New(perm.RolePrincipal, "7918"), perm.New(perm.RoleStandard, "7918")}))
	require.False(t, perm.Equal(a, principal))
}

func TestMemberships(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]string{"7918": "principal"}, perm.Memberships(append(standard, principal...)))
	require.Equal(t, map[string]string{"7918": "standard"}, perm.Memberships(standard))
	require.Equal(t, map[string]string{"7918": "standard", "13033": "principal"}, perm.Memberships(append(standard, principalOther...)))
	require.Empty(t, perm.Memberships(append(metier, admin...)))
}

func TestGrants(t *testing.T) {
	t.Parallel()
	g := perm.For(metier).Grants()
	require.Equal(t, []perm.Grant{
		{Resource: "backoffice.documentation", Actions: []string{"view", "edit"}, Scope: perm.Scope{Kind: perm.ScopeGlobal}},
		{Resource: "backoffice.reporting", Actions: []string{"view", "export"}, Scope: perm.Scope{Kind: perm.ScopeAffiliation, CF: "13030"}},
		{Resource: "backoffice.ui_texts", Actions: []string{"view", "edit"}, Scope: perm.Scope{Kind: perm.ScopeGlobal}},
		{Resource: "backoffice.users", Actions: []string{"view", "edit", "export"}, Scope: perm.Scope{Kind: perm.ScopeGlobal}},
	}, g)
	require.Len(t, perm.For(principal).Grants(), 9)
	require.Len(t, perm.For(standard).Grants(), 2)
	require.Len(t, perm.For(admin).Grants(), 7)
	// Union: metier + admin merge global users grants into one.
	require.Len(t, perm.For(append(metier, admin...)).Grants(), 8)
	for _, g := range perm.For(admin).Grants() {
		require.NotContains(t, g.Resource, "modules.", "admin has no modules grants")
	}
}

// Every predicate for every fixture role on every fixture unit.
func TestPredicates(t *testing.T) {
	t.Parallel()
	type want struct {
		member, results, travelView, headcountView, headcountEdit, travelEdit, sync, validate, ownOnlyTravel bool
	}
	tests := []struct {
		name  string
		roles []perm.Assignment
		unit  perm.Unit
		want  want
	}{
		{"AdminLabDemo", admin, labDemo, want{results: true}},
		{"AdminNoCF", admin, noCF, want{results: true}},
		{"MetierInSubtree", metier, labDemo, want{results: true}},
		{"MetierOtherInSubtree", metier, labOther, want{results: true}},
		{"MetierOutsideSubtree", metier, labSB, want{}},
		{"NoRoles", none, labDemo, want{}},
		{"PrincipalNoCF", principal, noCF, want{}},
		{"PrincipalOtherUnit", principal, labOther, want{}},
		{"PrincipalOwnUnit", principal, labDemo, want{member: true, results: true, travelView: true, headcountView: true, headcountEdit: true, travelEdit: true, sync: true, validate: true}},
		{"PrincipalOtherOnOther", principalOther, labOther, want{member: true, results: true, travelView: true, headcountView: true, headcountEdit: true, travelEdit: true, sync: true, validate: true}},
		{"PrincipalOtherOnLabDemo", principalOther, labDemo, want{}},
		{"StandardOwnUnit", standard, labDemo, want{member: true, results: true, travelView: true, travelEdit: true, ownOnlyTravel: true}},
		{"StandardOtherUnit", standard, labSB, want{}},
		{"StandardAndPrincipal", append(standard, principal...), labDemo, want{member: true, results: true, travelView: true, headcountView: true, headcountEdit: true, travelEdit: true, sync: true, validate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := perm.For(tt.roles)
			got := want{
				member:        s.UnitMember(tt.unit),
				results:       s.UnitResults(tt.unit),
				travelView:    s.ModuleView(tt.unit, "professional_travel"),
				headcountView: s.ModuleView(tt.unit, "headcount"),
				headcountEdit: s.ModuleEdit(tt.unit, "headcount", true),
				travelEdit:    s.ModuleEdit(tt.unit, "professional_travel", true),
				sync:          s.ModuleSync(tt.unit, "headcount", true),
				validate:      s.ModuleValidate(tt.unit, true),
				ownOnlyTravel: s.OwnOnly(tt.unit, "professional_travel"),
			}
			require.Equal(t, tt.want, got)
			// A year that is not open forbids every write.
			require.False(t, s.ModuleEdit(tt.unit, "professional_travel", false))
			require.False(t, s.ModuleSync(tt.unit, "headcount", false))
			require.False(t, s.ModuleValidate(tt.unit, false))
			for _, m := range perm.Modules {
				if m != "professional_travel" && m != "external_cloud_ai" && !tt.want.headcountView {
					require.False(t, s.ModuleView(tt.unit, m), m)
				}
			}
		})
	}
}

func TestBackOffice(t *testing.T) {
	t.Parallel()
	resources := []string{perm.BOReporting, perm.BOUsers, perm.BODocumentation, perm.BOUITexts, perm.BOConfiguration, perm.BOPipelineOperations, perm.BOLogs}
	actions := []string{perm.ActionView, perm.ActionEdit, perm.ActionExport}
	allowed := map[string]map[string]bool{
		"admin": {"reporting:view": true, "reporting:export": true, "users:view": true, "users:edit": true, "users:export": true,
			"documentation:view": true, "documentation:edit": true, "ui_texts:view": true, "ui_texts:edit": true,
			"configuration:view": true, "configuration:edit": true, "pipeline_operations:view": true, "pipeline_operations:edit": true, "logs:view": true},
		"metier": {"reporting:view": true, "reporting:export": true, "users:view": true, "users:edit": true, "users:export": true,
			"documentation:view": true, "documentation:edit": true, "ui_texts:view": true, "ui_texts:edit": true},
		"principal": {},
		"standard":  {},
	}
	roles := map[string][]perm.Assignment{"admin": admin, "metier": metier, "principal": principal, "standard": standard}
	for name, want := range allowed {
		s := perm.For(roles[name])
		for _, res := range resources {
			for _, act := range actions {
				require.Equal(t, want[res+":"+act], s.BO(res, act), "%s bo(%s, %s)", name, res, act)
			}
		}
	}
	require.Equal(t, []string{"reporting", "data", "factors", "integrations", "pipelines", "audit", "users", "documentation"}, perm.For(admin).BackofficePages())
	require.Equal(t, []string{"reporting", "users", "documentation"}, perm.For(metier).BackofficePages())
	require.Empty(t, perm.For(principal).BackofficePages())

	g, cfs := perm.For(metier).ReportingScope()
	require.False(t, g)
	require.Equal(t, []string{"13030"}, cfs)
	g, _ = perm.For(admin).ReportingScope()
	require.True(t, g)
	require.True(t, perm.For(admin).IsAdmin())
	require.False(t, perm.For(metier).IsAdmin())
}
