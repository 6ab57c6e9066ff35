package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
)

// setupAuth wires identity and access from the configuration: signing keys
// (random per process in dev/test when unset), the role provider, the
// development OIDC provider and the River UI. The River UI's background
// services run until ctx ends.
func setupAuth(ctx context.Context, cfg config.API, pool *pgxpool.Pool, client *river.Client[pgx.Tx], logger *slog.Logger) (httpapi.AuthDeps, http.Handler, error) {
	var keys auth.Keys
	if cfg.SigningKeys == "" {
		logger.WarnContext(ctx, "AUTH_SIGNING_KEYS is not set: using a random per-process signing key (sessions end when the API restarts)",
			slog.String("app_env", cfg.AppEnv))
		keys = auth.GenerateKeys()
	} else {
		var err error
		if keys, err = auth.ParseKeys(cfg.SigningKeys); err != nil {
			return httpapi.AuthDeps{}, nil, fmt.Errorf("AUTH_SIGNING_KEYS: %w", err)
		}
	}
	var accred *auth.Accred
	if cfg.AccredBaseURL != "" {
		accred = &auth.Accred{BaseURL: cfg.AccredBaseURL, Username: cfg.AccredUsername, Password: cfg.AccredPassword,
			Client: &http.Client{Timeout: cfg.AccredTimeout}, LoginTimeout: 5 * time.Second}
	}
	d, err := httpapi.NewAuth(ctx, httpapi.AuthOptions{
		DB: pool, PublicBaseURL: cfg.PublicBaseURL, Keys: keys,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, SessionMaxAge: cfg.SessionMaxAge,
		CookieSecure: cfg.CookieSecure, DevOIDC: cfg.DevOIDCEnabled, SessionCacheTTL: cfg.SessionCacheTTL,
		OIDC: auth.OIDCConfig{IssuerURL: cfg.OIDCIssuerURL, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			Scopes: cfg.OIDCScopes, UserIDClaim: cfg.OIDCUserIDClaim},
		RolesClaim: cfg.OIDCRolesClaim, RoleProvider: cfg.RoleProvider, Accred: accred, Logger: logger,
	})
	if err != nil {
		return d, nil, err
	}
	if cfg.DevOIDCEnabled {
		logger.WarnContext(ctx, "development OIDC provider enabled", slog.String("issuer", cfg.PublicBaseURL+"/dev-oidc"))
	}
	ui, err := httpapi.NewRiverUI(ctx, client, logger)
	if err != nil {
		return d, nil, fmt.Errorf("error creating the River UI: %w", err)
	}
	return d, ui, nil
}
