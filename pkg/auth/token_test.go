package auth_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
)

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k32 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	keys, err := auth.ParseKeys("new:" + k32 + ", old:" + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("o", 40))))
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.Equal(t, "new", keys[0].ID)
	for _, bad := range []string{"", "nokid", ":" + k32, "a:" + base64.StdEncoding.EncodeToString([]byte("short")), "a:%%%", "a:" + k32 + ",a:" + k32} {
		_, err := auth.ParseKeys(bad)
		require.Error(t, err, bad)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	keys := auth.GenerateKeys()
	tok := &auth.Tokens{Keys: keys, Issuer: "https://co2.example.org", TTL: 15 * time.Minute, Now: clock}
	sid := uuid.New()
	raw, exp, err := tok.Issue(42, sid, "123456")
	require.NoError(t, err)
	require.Equal(t, exp, now.Add(15*time.Minute))

	claims, gotSID, uid, err := tok.Verify(raw)
	require.NoError(t, err)
	require.Equal(t, sid, gotSID)
	require.Equal(t, int64(42), uid)
	require.Equal(t, "123456", claims.Sciper)
	require.Equal(t, "access", claims.Typ)
	require.Equal(t, jwt.ClaimStrings{"co2-api"}, claims.Audience)

	sign := func(method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(method, c)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		require.NoError(t, err)
		return s
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://co2.example.org", "aud": "co2-api", "sub": "42", "sid": sid.String(), "typ": "access",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	tests := []struct{ name, token string }{
		{name: "AlgNone", token: sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, keys[0].ID, base())},
		{name: "WrongKid", token: sign(jwt.SigningMethodHS256, keys[0].Secret, "other", base())},
		{name: "NoKid", token: sign(jwt.SigningMethodHS256, keys[0].Secret, "", base())},
		{name: "WrongKey", token: sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), keys[0].ID, base())},
		{name: "HS512", token: sign(jwt.SigningMethodHS512, keys[0].Secret, keys[0].ID, base())},
		{name: "WrongIssuer", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("iss", "https://evil"))},
		{name: "WrongAudience", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("aud", "other"))},
		{name: "WrongType", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("typ", "refresh"))},
		{name: "Expired", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("exp", now.Add(-6*time.Second).Unix()))},
		{name: "NoExpiry", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, without("exp"))},
		{name: "BadSID", token: sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("sid", "x"))},
		{name: "Tampered", token: raw[:len(raw)-2] + "AA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := tok.Verify(tt.token)
			require.ErrorIs(t, err, auth.ErrInvalidToken)
		})
	}
	t.Run("SkewAccepted", func(t *testing.T) {
		t.Parallel()
		_, _, _, err := tok.Verify(sign(jwt.SigningMethodHS256, keys[0].Secret, keys[0].ID, with("exp", now.Add(-4*time.Second).Unix())))
		require.NoError(t, err)
	})
	t.Run("RotatedKeyVerifies", func(t *testing.T) {
		t.Parallel()
		rotated := &auth.Tokens{Keys: append(auth.GenerateKeys(), keys...), Issuer: tok.Issuer, TTL: tok.TTL, Now: clock}
		_, _, _, err := rotated.Verify(raw)
		require.NoError(t, err)
	})
}

func TestFlowCookie(t *testing.T) {
	t.Parallel()
	now := time.Now()
	keys := auth.GenerateKeys()
	f := auth.Flow{State: "s", Nonce: "n", Verifier: "v", ReturnTo: "/x", Lang: "fr", Expires: now.Add(auth.FlowTTL)}
	sealed, err := auth.SealFlow(keys, f)
	require.NoError(t, err)
	require.NotContains(t, sealed, "\"state\"")
	got, err := auth.OpenFlow(keys, sealed, now)
	require.NoError(t, err)
	require.Equal(t, f.State, got.State)
	require.Equal(t, f.Verifier, got.Verifier)

	_, err = auth.OpenFlow(keys, sealed, now.Add(auth.FlowTTL))
	require.ErrorIs(t, err, auth.ErrFlow, "expired")
	_, err = auth.OpenFlow(auth.GenerateKeys(), sealed, now)
	require.ErrorIs(t, err, auth.ErrFlow, "other key")
	_, err = auth.OpenFlow(keys, sealed[:len(sealed)-3]+"AAA", now)
	require.ErrorIs(t, err, auth.ErrFlow, "tampered")
	_, err = auth.OpenFlow(keys, "", now)
	require.ErrorIs(t, err, auth.ErrFlow)
}

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/":                     "/",
		"/en/results?year=2025": "/en/results?year=2025",
		"//evil.com":            "/",
		"https://evil.com":      "/",
		`/\evil.com`:            "/",
		"/%0d%0aSet-Cookie:x":   "/%0d%0aSet-Cookie:x",
		"/a\nb":                 "/",
		"evil.com":              "/",
		"":                      "/",
		"javascript:alert(1)":   "/",
		"///evil.com":           "/",
	}
	for in, want := range tests {
		require.Equal(t, want, auth.SafeReturnTo(in), in)
	}
}
