// Package perm computes permissions from roles (docs/domain.md §2.2–§2.3). It is
// pure: no I/O, no clock. Roles come from a role provider and are stored on
// users.roles; grants and access predicates are derived on every read and
// never stored.
package perm

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Role is one of the four roles of rule R4.
type Role string

// The roles.
const (
	RoleStandard  Role = "calco2.user.standard"
	RolePrincipal Role = "calco2.user.principal"
	RoleMetier    Role = "calco2.backoffice.metier"
	RoleAdmin     Role = "calco2.backoffice.admin"
)

// ScopeKind says what a role or grant covers.
type ScopeKind string

// The scope kinds.
const (
	ScopeGlobal      ScopeKind = "global"
	ScopeUnit        ScopeKind = "unit"
	ScopeOwn         ScopeKind = "own"
	ScopeAffiliation ScopeKind = "affiliation"
)

// kindOf is the fixed scope kind of each role (R4).
var kindOf = map[Role]ScopeKind{
	RoleStandard:  ScopeOwn,
	RolePrincipal: ScopeUnit,
	RoleMetier:    ScopeAffiliation,
	RoleAdmin:     ScopeGlobal,
}

// Scope is where a role or grant applies; CF is empty for global.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	CF   string    `json:"cf,omitempty"`
}

// Assignment is one role with its scope, as stored in users.roles.
type Assignment struct {
	Role  Role  `json:"role"`
	Scope Scope `json:"scope"`
}

// ErrInvalidRole reports an unknown role, an unknown scope kind or a scope
// kind that does not fit the role.
var ErrInvalidRole = errors.New("invalid role")

// Validate checks that the role is known and its scope is the role's kind.
func (a Assignment) Validate() error {
	want, ok := kindOf[a.Role]
	if !ok {
		return fmt.Errorf("%w: unknown role %q", ErrInvalidRole, a.Role)
	}
	if a.Scope.Kind != want {
		return fmt.Errorf("%w: role %s needs scope %s, not %q", ErrInvalidRole, a.Role, want, a.Scope.Kind)
	}
	if (want == ScopeGlobal) != (a.Scope.CF == "") {
		return fmt.Errorf("%w: role %s: scope %s with cf %q", ErrInvalidRole, a.Role, want, a.Scope.CF)
	}
	return nil
}

// New returns the assignment of role on cf with the role's scope kind (cf
// is ignored for the admin role).
func New(role Role, cf string) Assignment {
	k := kindOf[role]
	if k == ScopeGlobal {
		cf = ""
	}
	return Assignment{Role: role, Scope: Scope{Kind: k, CF: cf}}
}

// ParseClaim parses an OIDC role claim value: role@global, role@unit:<cf>,
// role@own:<cf> or role@affiliation:<cf>.
func ParseClaim(s string) (Assignment, error) {
	role, scope, ok := strings.Cut(strings.TrimSpace(s), "@")
	if !ok {
		return Assignment{}, fmt.Errorf("%w: %q has no @scope", ErrInvalidRole, s)
	}
	kind, cf, _ := strings.Cut(scope, ":")
	a := Assignment{Role: Role(role), Scope: Scope{Kind: ScopeKind(kind), CF: strings.TrimSpace(cf)}}
	return a, a.Validate()
}

// Normalize drops invalid assignments and duplicates and sorts the rest.
func Normalize(in []Assignment) []Assignment {
	out := make([]Assignment, 0, len(in))
	for _, a := range in {
		if a.Validate() == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Assignment) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Scope.Kind, b.Scope.Kind), cmp.Compare(a.Scope.CF, b.Scope.CF))
	})
	return out
}

// Equal compares two role sets after normalisation.
func Equal(a, b []Assignment) bool { return slices.Equal(Normalize(a), Normalize(b)) }

// Modules are the eight module keys (R1).
var Modules = []string{
	"headcount", "professional_travel", "buildings", "equipment",
	"purchases", "research_facilities", "external_cloud_ai", "process_emissions",
}

// Actions.
const (
	ActionView   = "view"
	ActionEdit   = "edit"
	ActionSync   = "sync"
	ActionExport = "export"
)

// Back-office resources (without the "backoffice." prefix).
const (
	BOReporting          = "reporting"
	BOUsers              = "users"
	BODocumentation      = "documentation"
	BOUITexts            = "ui_texts"
	BOConfiguration      = "configuration"
	BOPipelineOperations = "pipeline_operations"
	BOLogs               = "logs"
)

// Grant is one permission: actions on a resource within a scope.
type Grant struct {
	Resource string   `json:"resource"`
	Actions  []string `json:"actions"`
	Scope    Scope    `json:"scope"`
}

var global = Scope{Kind: ScopeGlobal}

func grantsOf(a Assignment) []Grant {
	switch a.Role {
	case RolePrincipal:
		out := make([]Grant, 0, len(Modules)+1)
		for _, m := range Modules {
			out = append(out, Grant{Resource: "modules." + m, Actions: []string{ActionView, ActionEdit, ActionSync}, Scope: a.Scope})
		}
		return append(out, Grant{Resource: "module_status", Actions: []string{ActionEdit}, Scope: a.Scope})
	case RoleStandard:
		return []Grant{
			{Resource: "modules.professional_travel", Actions: []string{ActionView, ActionEdit}, Scope: a.Scope},
			{Resource: "modules.external_cloud_ai", Actions: []string{ActionView, ActionEdit}, Scope: a.Scope},
		}
	case RoleMetier:
		return []Grant{
			{Resource: "backoffice." + BOReporting, Actions: []string{ActionView, ActionExport}, Scope: a.Scope},
			{Resource: "backoffice." + BOUsers, Actions: []string{ActionView, ActionEdit, ActionExport}, Scope: global},
			{Resource: "backoffice." + BODocumentation, Actions: []string{ActionView, ActionEdit}, Scope: global},
			{Resource: "backoffice." + BOUITexts, Actions: []string{ActionView, ActionEdit}, Scope: global},
		}
	case RoleAdmin:
		return []Grant{
			{Resource: "backoffice." + BOReporting, Actions: []string{ActionView, ActionExport}, Scope: global},
			{Resource: "backoffice." + BOUsers, Actions: []string{ActionView, ActionEdit, ActionExport}, Scope: global},
			{Resource: "backoffice." + BODocumentation, Actions: []string{ActionView, ActionEdit}, Scope: global},
			{Resource: "backoffice." + BOUITexts, Actions: []string{ActionView, ActionEdit}, Scope: global},
			{Resource: "backoffice." + BOConfiguration, Actions: []string{ActionView, ActionEdit}, Scope: global},
			{Resource: "backoffice." + BOPipelineOperations, Actions: []string{ActionView, ActionEdit}, Scope: global},
			{Resource: "backoffice." + BOLogs, Actions: []string{ActionView}, Scope: global},
		}
	default:
		return nil
	}
}

// Unit is what the predicates need to know about a unit: its cf and the
// cfs of its path (ancestors and itself, root first; "" where unknown).
type Unit struct {
	CF      string
	PathCFs []string
}

// Set is the permissions of one caller.
type Set struct {
	roles  []Assignment
	grants []Grant
}

// For computes the permissions of a role set. Multiple roles merge (union).
func For(roles []Assignment) *Set {
	s := &Set{roles: Normalize(roles)}
	for _, a := range s.roles {
		for _, g := range grantsOf(a) {
			i := slices.IndexFunc(s.grants, func(x Grant) bool { return x.Resource == g.Resource && x.Scope == g.Scope })
			if i < 0 {
				s.grants = append(s.grants, Grant{Resource: g.Resource, Actions: slices.Clone(g.Actions), Scope: g.Scope})
				continue
			}
			for _, act := range g.Actions {
				if !slices.Contains(s.grants[i].Actions, act) {
					s.grants[i].Actions = append(s.grants[i].Actions, act)
				}
			}
		}
	}
	slices.SortFunc(s.grants, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Scope.Kind, b.Scope.Kind), cmp.Compare(a.Scope.CF, b.Scope.CF))
	})
	return s
}

// Roles returns the normalised roles.
func (s *Set) Roles() []Assignment { return slices.Clone(s.roles) }

// Grants returns the merged grants, sorted.
func (s *Set) Grants() []Grant { return slices.Clone(s.grants) }

func covers(sc Scope, u Unit) bool {
	switch sc.Kind {
	case ScopeGlobal:
		return true
	case ScopeUnit, ScopeOwn:
		return u.CF != "" && sc.CF == u.CF
	case ScopeAffiliation:
		return sc.CF != "" && slices.Contains(u.PathCFs, sc.CF)
	default:
		return false
	}
}

// has reports a grant of action on resource whose scope is accepted by ok.
func (s *Set) has(resource, action string, ok func(Scope) bool) bool {
	for _, g := range s.grants {
		if g.Resource == resource && slices.Contains(g.Actions, action) && ok(g.Scope) {
			return true
		}
	}
	return false
}

func onUnit(u Unit) func(Scope) bool {
	return func(sc Scope) bool { return (sc.Kind == ScopeUnit || sc.Kind == ScopeOwn) && covers(sc, u) }
}

// Auth is true for any caller with a session (the predicate `auth`).
func (s *Set) Auth() bool { return s != nil }

// UnitMember: the caller has a unit or own scope on u's cf.
func (s *Set) UnitMember(u Unit) bool {
	for _, a := range s.roles {
		if (a.Scope.Kind == ScopeUnit || a.Scope.Kind == ScopeOwn) && covers(a.Scope, u) {
			return true
		}
	}
	return false
}

// UnitResults: unit_member(u), or any global role, or reporting:view on an
// affiliation whose subtree contains u (D8).
func (s *Set) UnitResults(u Unit) bool {
	if s.UnitMember(u) {
		return true
	}
	for _, a := range s.roles {
		if a.Scope.Kind == ScopeGlobal {
			return true
		}
	}
	return s.has("backoffice."+BOReporting, ActionView, func(sc Scope) bool { return covers(sc, u) })
}

// ModuleView: grant modules.m view on u (unit or own scope).
func (s *Set) ModuleView(u Unit, module string) bool {
	return s.has("modules."+module, ActionView, onUnit(u))
}

// ModuleEdit: grant modules.m edit on u and the year is open. Callers apply
// the own-scope ownership rules (docs/domain.md §9.3) when OwnOnly is true.
func (s *Set) ModuleEdit(u Unit, module string, yearOpen bool) bool {
	return yearOpen && s.has("modules."+module, ActionEdit, onUnit(u))
}

// ModuleSync: grant modules.m sync on u and the year is open.
func (s *Set) ModuleSync(u Unit, module string, yearOpen bool) bool {
	return yearOpen && s.has("modules."+module, ActionSync, onUnit(u))
}

// ModuleValidate: grant module_status edit on u and the year is open.
func (s *Set) ModuleValidate(u Unit, yearOpen bool) bool {
	return yearOpen && s.has("module_status", ActionEdit, onUnit(u))
}

// OwnOnly reports that the caller's access to module m of u comes only from
// an own scope (standard users: they see and edit only their own rows, D7).
func (s *Set) OwnOnly(u Unit, module string) bool {
	unitScoped := s.has("modules."+module, ActionView, func(sc Scope) bool { return sc.Kind == ScopeUnit && covers(sc, u) })
	ownScoped := s.has("modules."+module, ActionView, func(sc Scope) bool { return sc.Kind == ScopeOwn && covers(sc, u) })
	return ownScoped && !unitScoped
}

// BO: grant backoffice.<resource> with action at any scope.
func (s *Set) BO(resource, action string) bool {
	return s.has("backoffice."+resource, action, func(Scope) bool { return true })
}

// ReportingScope returns the reach of backoffice.reporting:view: global, or
// the affiliation cfs whose subtrees the caller may report on.
func (s *Set) ReportingScope() (isGlobal bool, affiliationCFs []string) {
	for _, g := range s.grants {
		if g.Resource != "backoffice."+BOReporting || !slices.Contains(g.Actions, ActionView) {
			continue
		}
		if g.Scope.Kind == ScopeGlobal {
			return true, nil
		}
		affiliationCFs = append(affiliationCFs, g.Scope.CF)
	}
	return false, affiliationCFs
}

// IsAdmin reports a global role (admins see every year and unit).
func (s *Set) IsAdmin() bool {
	return slices.ContainsFunc(s.roles, func(a Assignment) bool { return a.Scope.Kind == ScopeGlobal })
}

// BackofficePages lists the back-office pages of /me (docs/api.md §3).
func (s *Set) BackofficePages() []string {
	pages := []string{}
	add := func(ok bool, names ...string) {
		if ok {
			pages = append(pages, names...)
		}
	}
	add(s.BO(BOReporting, ActionView), "reporting")
	add(s.BO(BOConfiguration, ActionView), "data", "factors", "integrations")
	add(s.BO(BOPipelineOperations, ActionView), "pipelines")
	add(s.BO(BOLogs, ActionView), "audit")
	add(s.BO(BOUsers, ActionView), "users")
	add(s.BO(BODocumentation, ActionView), "documentation")
	return pages
}

// Memberships maps unit cf → unit_users role ("principal" or "standard")
// for every unit or own scope: principal when any principal scope matches
// (docs/domain.md §2.2).
func Memberships(roles []Assignment) map[string]string {
	out := map[string]string{}
	for _, a := range Normalize(roles) {
		switch a.Scope.Kind {
		case ScopeUnit:
			if a.Role == RolePrincipal {
				out[a.Scope.CF] = "principal"
			}
		case ScopeOwn:
			if _, ok := out[a.Scope.CF]; !ok {
				out[a.Scope.CF] = "standard"
			}
		}
	}
	return out
}
