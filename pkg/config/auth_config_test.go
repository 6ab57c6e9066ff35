package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadAPIAuth(t *testing.T) {
	t.Parallel()
	key := "k1:" + strings.Repeat("A", 44) // 33 bytes

	t.Run("DevDefaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(nil))
		require.NoError(t, err)
		require.Empty(t, c.SigningKeys, "dev: a random key is generated at start")
		require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
		require.Equal(t, 24*time.Hour, c.RefreshTokenTTL)
		require.Equal(t, 7*24*time.Hour, c.SessionMaxAge)
		require.True(t, c.CookieSecure)
		require.True(t, c.DevOIDCEnabled)
		require.Equal(t, "dev", c.RoleProvider)
		require.Equal(t, []string{"openid", "profile", "email"}, c.OIDCScopes)
		require.Equal(t, "uniqueid", c.OIDCUserIDClaim)
		require.Equal(t, "roles", c.OIDCRolesClaim)
		require.Equal(t, 30*time.Second, c.AccredTimeout)
	})

	t.Run("RealIssuer", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(map[string]string{"OIDC_ISSUER_URL": "https://idp.example.org", "OIDC_CLIENT_ID": "co2", "COOKIE_SECURE": "false"}))
		require.NoError(t, err)
		require.False(t, c.DevOIDCEnabled, "a real issuer disables the dev provider by default")
		require.False(t, c.CookieSecure)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			env  map[string]string
			want string
		}{
			{name: "KeysRequiredInStaging", env: map[string]string{"APP_ENV": "staging", "OIDC_ISSUER_URL": "https://idp", "OIDC_CLIENT_ID": "c"}, want: "AUTH_SIGNING_KEYS"},
			{name: "KeyTooShort", env: map[string]string{"AUTH_SIGNING_KEYS": "k1:" + strings.Repeat("A", 40)}, want: "AUTH_SIGNING_KEYS"},
			{name: "KeyNoKid", env: map[string]string{"AUTH_SIGNING_KEYS": strings.Repeat("A", 44)}, want: "AUTH_SIGNING_KEYS"},
			{name: "DevOIDCInProduction", env: map[string]string{"APP_ENV": "production", "AUTH_SIGNING_KEYS": key, "DEV_OIDC_ENABLED": "true", "ROLE_PROVIDER": "oidc"}, want: "DEV_OIDC_ENABLED"},
			{name: "DevOIDCWithIssuer", env: map[string]string{"DEV_OIDC_ENABLED": "true", "OIDC_ISSUER_URL": "https://idp", "OIDC_CLIENT_ID": "c"}, want: "DEV_OIDC_ENABLED"},
			{name: "IssuerRequired", env: map[string]string{"APP_ENV": "staging", "AUTH_SIGNING_KEYS": key, "ROLE_PROVIDER": "oidc"}, want: "OIDC_ISSUER_URL"},
			{name: "ClientIDRequired", env: map[string]string{"OIDC_ISSUER_URL": "https://idp"}, want: "OIDC_CLIENT_ID"},
			{name: "DevRolesInProduction", env: map[string]string{"APP_ENV": "production", "AUTH_SIGNING_KEYS": key, "OIDC_ISSUER_URL": "https://idp", "OIDC_CLIENT_ID": "c"}, want: "ROLE_PROVIDER"},
			{name: "AccredNeedsURL", env: map[string]string{"ROLE_PROVIDER": "accred"}, want: "ACCRED_BASE_URL"},
			{name: "TTLOrder", env: map[string]string{"ACCESS_TOKEN_TTL": "48h"}, want: "ACCESS_TOKEN_TTL"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := LoadAPI(lookup(tt.env))
				require.ErrorContains(t, err, tt.want)
			})
		}
	})
}
