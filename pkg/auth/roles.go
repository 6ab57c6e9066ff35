package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
)

// Role provider names (ROLE_PROVIDER).
const (
	ProviderAccred = "accred"
	ProviderOIDC   = "oidc"
	ProviderDev    = "dev"
)

// ErrUpstream reports that the role provider could not be reached.
var ErrUpstream = errors.New("role provider unavailable")

// Identity is who the IdP says logged in.
type Identity struct {
	Sciper  string
	Subject string
	Email   string
	Name    string
	Claims  map[string]any
}

// Resolved is what a role provider answers: roles plus optional profile
// fields (nil keeps the IdP's or the stored value).
type Resolved struct {
	Roles         []perm.Assignment
	Email         *string
	DisplayName   *string
	FunctionTitle *string
}

// RoleProvider resolves the roles of an identity.
type RoleProvider interface {
	Name() string
	Resolve(ctx context.Context, id Identity) (Resolved, error)
}

// OIDCRoles reads roles from a claim (provider "oidc").
type OIDCRoles struct {
	Claim  string
	Logger *slog.Logger
}

// Name implements RoleProvider.
func (OIDCRoles) Name() string { return ProviderOIDC }

// Resolve parses the roles claim; unknown roles or scopes are ignored with
// a warning.
func (p OIDCRoles) Resolve(ctx context.Context, id Identity) (Resolved, error) {
	return Resolved{Roles: RolesFromClaim(ctx, p.Logger, id.Claims[p.Claim])}, nil
}

// RolesFromClaim parses a roles claim (array of strings).
func RolesFromClaim(ctx context.Context, logger *slog.Logger, v any) []perm.Assignment {
	list, _ := v.([]any)
	out := []perm.Assignment{}
	for _, item := range list {
		s, _ := item.(string)
		a, err := perm.ParseClaim(s)
		if err != nil {
			if logger != nil {
				logger.WarnContext(ctx, "ignoring role claim", slog.String("value", fmt.Sprint(item)), slog.String("error", err.Error()))
			}
			continue
		}
		out = append(out, a)
	}
	return perm.Normalize(out)
}

// DevRoles are the fixture roles (provider "dev").
type DevRoles struct{}

// Name implements RoleProvider.
func (DevRoles) Name() string { return ProviderDev }

// Resolve returns the fixture user's roles; an unknown SCIPER has none.
func (DevRoles) Resolve(_ context.Context, id Identity) (Resolved, error) {
	for _, u := range DevUsers {
		if u.Sciper == id.Sciper {
			return Resolved{Roles: u.Roles, Email: &u.Email, DisplayName: &u.Name, FunctionTitle: &u.Function}, nil
		}
	}
	return Resolved{Roles: []perm.Assignment{}}, nil
}
