package devoidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/co2-calculator/co2-calculator/pkg/devoidc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The provider is a real issuer: discovery, JWKS, authorize with
// login_hint, token endpoint enforcing the client secret and PKCE.
func TestProvider(t *testing.T) {
	t.Parallel()
	var h atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r) //nolint:forcetypeassert // test
	}))
	t.Cleanup(srv.Close)
	p, err := devoidc.New(srv.URL, nil)
	require.NoError(t, err)
	h.Store(p)
	require.Equal(t, srv.URL+"/dev-oidc", p.Issuer())

	ctx := oidc.ClientContext(t.Context(), &http.Client{Transport: p.Transport()}) // in-process, as cmd/api
	prov, err := oidc.NewProvider(ctx, p.Issuer())
	require.NoError(t, err)
	redirect := srv.URL + "/api/v1/auth/callback"
	cfg := &oauth2.Config{ClientID: devoidc.ClientID, ClientSecret: devoidc.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}

	codeFor := func(t *testing.T, key, verifier string) string {
		t.Helper()
		u := cfg.AuthCodeURL("st", oidc.Nonce("no"), oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", key))
		c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == "/api/v1/auth/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "st", loc.Query().Get("state"))
		return loc.Query().Get("code")
	}

	t.Run("CodeFlowWithPKCE", func(t *testing.T) {
		t.Parallel()
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, codeFor(t, "metier", v), oauth2.VerifierOption(v))
		require.NoError(t, err)
		raw, _ := tok.Extra("id_token").(string)
		idt, err := prov.Verifier(&oidc.Config{ClientID: devoidc.ClientID}).Verify(ctx, raw)
		require.NoError(t, err)
		require.Equal(t, "no", idt.Nonce)
		require.Equal(t, "DEV-000003", idt.Subject)
		var claims map[string]any
		require.NoError(t, idt.Claims(&claims))
		require.Equal(t, "DEV-000003", claims["uniqueid"])
		require.Equal(t, "dev-metier@example.org", claims["email"])
		require.Equal(t, []any{"calco2.backoffice.metier@affiliation:13030"}, claims["roles"])
	})

	t.Run("WrongVerifier", func(t *testing.T) {
		t.Parallel()
		_, err := cfg.Exchange(ctx, codeFor(t, "admin", oauth2.GenerateVerifier()), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		require.ErrorContains(t, err, "invalid_grant")
	})

	t.Run("WrongSecret", func(t *testing.T) {
		t.Parallel()
		// A config of its own: copying an oauth2.Config copies its internal
		// auth-style cache, which concurrent exchanges update.
		bad := oauth2.Config{ClientID: cfg.ClientID, ClientSecret: "nope", Endpoint: cfg.Endpoint,
			RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes}
		v := oauth2.GenerateVerifier()
		_, err := bad.Exchange(ctx, codeFor(t, "admin", v), oauth2.VerifierOption(v))
		require.Error(t, err)
	})

	t.Run("UnknownRequest", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/dev-oidc/login?authRequestID=nope", nil)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code)
	})
}
