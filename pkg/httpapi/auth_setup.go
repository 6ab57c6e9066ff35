package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/devoidc"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// AuthOptions configure NewAuth (from config.API in cmd/api, or tests).
type AuthOptions struct {
	DB            postgres.DB
	PublicBaseURL string
	Keys          auth.Keys
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxAge time.Duration
	CookieSecure  bool
	// DevOIDC serves the built-in provider under /dev-oidc and points the
	// relying party at it (OIDC issuer/client settings are then ignored).
	DevOIDC      bool
	OIDC         auth.OIDCConfig
	RolesClaim   string
	RoleProvider string       // accred, oidc or dev
	Accred       *auth.Accred // provider accred
	Now          func() time.Time
	Logger       *slog.Logger
	// SessionCacheTTL is SESSION_CACHE_TTL (auth.Config.SessionCacheTTL).
	SessionCacheTTL time.Duration
}

// NewAuth builds the identity dependencies of the router. With the dev
// role provider it also upserts the dev fixture units.
func NewAuth(ctx context.Context, o AuthOptions) (AuthDeps, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var d AuthDeps
	oidcCfg := o.OIDC
	if o.DevOIDC {
		p, err := devoidc.New(o.PublicBaseURL, o.Logger)
		if err != nil {
			return d, fmt.Errorf("error starting the development OIDC provider: %w", err)
		}
		d.DevOIDC = p
		oidcCfg.IssuerURL, oidcCfg.ClientID, oidcCfg.ClientSecret = p.Issuer(), devoidc.ClientID, devoidc.ClientSecret
		oidcCfg.HTTPClient = &http.Client{Transport: p.Transport(), Timeout: 10 * time.Second}
	}
	if len(oidcCfg.Scopes) == 0 {
		oidcCfg.Scopes = []string{"openid", "profile", "email"}
	}
	if oidcCfg.UserIDClaim == "" {
		oidcCfg.UserIDClaim = "uniqueid"
	}
	var roles auth.RoleProvider
	switch o.RoleProvider {
	case auth.ProviderAccred:
		if o.Accred == nil {
			return d, errors.New("role provider accred needs an Accred client")
		}
		roles = o.Accred
	case auth.ProviderOIDC:
		claim := o.RolesClaim
		if claim == "" {
			claim = "roles"
		}
		roles = auth.OIDCRoles{Claim: claim, Logger: o.Logger}
	default:
		roles = auth.DevRoles{}
		// A database that is down at start must not stop the API (it starts
		// not ready); the units are then missing until the next start.
		if err := auth.UpsertDevUnits(ctx, o.DB, o.Now()); err != nil {
			o.Logger.ErrorContext(ctx, "could not upsert the dev fixture units", slog.String("error", err.Error()))
		}
	}
	d.CookieSecure = o.CookieSecure
	d.Service = auth.NewService(o.DB, auth.Config{
		PublicBaseURL: o.PublicBaseURL, Keys: o.Keys, AccessTTL: o.AccessTTL, RefreshTTL: o.RefreshTTL,
		SessionMaxAge: o.SessionMaxAge, OIDC: oidcCfg, Roles: roles, Now: o.Now, Logger: o.Logger,
		SessionCacheTTL: o.SessionCacheTTL,
	})
	return d, nil
}

// PrincipalActor is the Deps.Actor of the module data routes: the
// authenticated caller, restricted to their own trips when their access to
// the unit's module comes from an own scope only (D7).
func PrincipalActor(r *http.Request) entry.Actor {
	p := principalFrom(r.Context())
	if p == nil {
		return entry.Actor{}
	}
	id := p.User.ID
	a := entry.Actor{UserID: &id}
	if u, ok := r.Context().Value(unitKey{}).(unitAccess); ok && p.Perms.OwnOnly(u.unit, u.module) {
		a.OwnSciper = p.User.Sciper
	}
	return a
}
