package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Audience and token type of access tokens (docs/api.md §3.1).
const (
	Audience   = "co2-api"
	typeAccess = "access"
	// ClockSkew is the leeway accepted on exp/iat/nbf.
	ClockSkew = 5 * time.Second
	minKeyLen = 32
)

// Key is one HS256 signing key.
type Key struct {
	ID     string
	Secret []byte
}

// Keys are the signing keys; the first signs, all verify.
type Keys []Key

// ParseKeys parses AUTH_SIGNING_KEYS: a comma list of kid:base64key, each
// key at least 32 bytes (standard or URL base64, padded or not).
func ParseKeys(s string) (Keys, error) {
	var out Keys
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, b64, ok := strings.Cut(part, ":")
		kid = strings.TrimSpace(kid)
		if !ok || kid == "" {
			return nil, errors.New("want kid:base64key")
		}
		var key []byte
		var err error
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if key, err = enc.DecodeString(strings.TrimSpace(b64)); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: invalid base64", kid)
		}
		if len(key) < minKeyLen {
			return nil, fmt.Errorf("key %q: %d bytes, need at least %d", kid, len(key), minKeyLen)
		}
		for _, k := range out {
			if k.ID == kid {
				return nil, fmt.Errorf("key id %q listed twice", kid)
			}
		}
		out = append(out, Key{ID: kid, Secret: key})
	}
	if len(out) == 0 {
		return nil, errors.New("no key")
	}
	return out, nil
}

// GenerateKeys returns one random key (dev and test only).
func GenerateKeys() Keys {
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	return Keys{{ID: "dev-" + hex.EncodeToString(b[32:]), Secret: b[:32]}}
}

// AccessClaims are the claims of the auth_token JWT.
type AccessClaims struct {
	jwt.RegisteredClaims
	SID    string `json:"sid"`
	Sciper string `json:"sciper"`
	Typ    string `json:"typ"`
}

// ErrInvalidToken is returned for any access token that fails validation.
var ErrInvalidToken = errors.New("invalid access token")

// Tokens issues and verifies access tokens.
type Tokens struct {
	Keys   Keys
	Issuer string // PUBLIC_BASE_URL
	TTL    time.Duration
	Now    func() time.Time
}

// Issue signs an access token for the user and session.
func (t *Tokens) Issue(userID int64, sid uuid.UUID, sciper string) (string, time.Time, error) {
	now := t.Now().Truncate(time.Second)
	exp := now.Add(t.TTL)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: t.Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: strconv.FormatInt(userID, 10),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		SID: sid.String(), Sciper: sciper, Typ: typeAccess,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.Keys[0].ID
	s, err := tok.SignedString(t.Keys[0].Secret)
	return s, exp, err
}

// Verify validates an access token: algorithm HS256 only, known kid,
// signature, iss, aud, typ, exp (with ClockSkew).
func (t *Tokens) Verify(raw string) (AccessClaims, uuid.UUID, int64, error) {
	var claims AccessClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		for _, k := range t.Keys {
			if k.ID == kid {
				return k.Secret, nil
			}
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(t.Now))
	if err != nil {
		return claims, uuid.Nil, 0, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if claims.Typ != typeAccess {
		return claims, uuid.Nil, 0, fmt.Errorf("%w: typ %q", ErrInvalidToken, claims.Typ)
	}
	sid, err := uuid.Parse(claims.SID)
	if err != nil {
		return claims, uuid.Nil, 0, fmt.Errorf("%w: sid", ErrInvalidToken)
	}
	uid, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil {
		return claims, uuid.Nil, 0, fmt.Errorf("%w: sub", ErrInvalidToken)
	}
	return claims, sid, uid, nil
}

// RandomToken returns 32 random bytes, base64url (refresh and CSRF tokens).
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
