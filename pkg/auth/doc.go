// Package auth is the identity side of cmd/api (docs/api.md §3, R7): signing
// keys and access tokens (HS256 JWT), the sealed oidc_flow cookie, the OIDC
// relying party (go-oidc + x/oauth2, code flow with PKCE S256), the role
// providers (accred, oidc, dev) and the session store with refresh-token
// rotation. Permissions computed from roles live in package perm.
//
// Every time-dependent function takes its clock from a `now func()
// time.Time`, so tests never sleep.
package auth
