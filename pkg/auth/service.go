package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/oauth2"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Errors of the session layer (mapped to 401 by the HTTP adapter).
var (
	ErrSessionExpired = errors.New("session expired or revoked")
	ErrInvalidRefresh = errors.New("invalid refresh token")
	ErrLoginFailed    = errors.New("login failed")
)

// RefreshGrace is how long a rotated refresh token may be presented once
// more (parallel tabs).
const RefreshGrace = 20 * time.Second

// RolesFallback is how old stored roles may be when the role provider is
// unreachable at login.
const RolesFallback = 24 * time.Hour

// OIDCConfig configures the relying party.
type OIDCConfig struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	Scopes       []string
	UserIDClaim  string
	// HTTPClient makes discovery, JWKS and token calls (nil: default).
	HTTPClient *http.Client
}

// Config configures the Service.
type Config struct {
	PublicBaseURL string
	Keys          Keys
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxAge time.Duration
	OIDC          OIDCConfig
	Roles         RoleProvider
	Now           func() time.Time
	Logger        *slog.Logger
	// SessionCacheTTL is how long a checked access token is reused
	// (SESSION_CACHE_TTL, at most MaxSessionCacheTTL; 0: every request
	// reads its session). The cache is used only once CacheLive(true) says
	// the revocations are heard (cache.go).
	SessionCacheTTL time.Duration
}

// Service runs logins and sessions.
type Service struct {
	cfg    Config
	db     postgres.DB
	tokens *Tokens
	audit  *audit.Writer
	cache  *sessionCache // nil: no cache

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewService builds the service; OIDC discovery happens at first login.
func NewService(db postgres.DB, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, db: db, audit: &audit.Writer{Now: cfg.Now},
		tokens: &Tokens{Keys: cfg.Keys, Issuer: cfg.PublicBaseURL, TTL: cfg.AccessTTL, Now: cfg.Now},
	}
	if cfg.SessionCacheTTL > 0 {
		s.cache = newSessionCache(cfg.SessionCacheTTL, cfg.Now)
	}
	return s
}

// Tokens returns the access-token issuer/verifier.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Config returns the configuration.
func (s *Service) Config() Config { return s.cfg }

// Meta describes the HTTP request behind an action (for sessions and audit).
type Meta struct {
	IP        *netip.Addr
	UserAgent *string
	RequestID *string
	Route     *string
}

// Issued are the credentials set as cookies.
type Issued struct {
	Access         string
	AccessExp      time.Time
	Refresh        string
	CSRF           string
	SessionID      uuid.UUID
	SessionExpires time.Time
	User           dbsqlc.User
}

// Principal is the authenticated caller.
type Principal struct {
	User      dbsqlc.User
	SessionID uuid.UUID
	Roles     []perm.Assignment
	Perms     *perm.Set
}

// Name is the display name or the SCIPER.
func (p *Principal) Name() string {
	if p.User.DisplayName != nil && *p.User.DisplayName != "" {
		return *p.User.DisplayName
	}
	return p.User.Sciper
}

// StoredRoles decodes users.roles.
func StoredRoles(raw json.RawMessage) []perm.Assignment {
	var roles []perm.Assignment
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &roles)
	}
	return perm.Normalize(roles)
}

func (s *Service) ctxWithClient(ctx context.Context) context.Context {
	if s.cfg.OIDC.HTTPClient != nil {
		return oidc.ClientContext(ctx, s.cfg.OIDC.HTTPClient)
	}
	return ctx
}

func (s *Service) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.ctxWithClient(context.WithoutCancel(ctx)), s.cfg.OIDC.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: OIDC discovery: %w", ErrUpstream, err)
	}
	s.provider = p
	return p, nil
}

func (s *Service) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.cfg.OIDC.ClientID, ClientSecret: s.cfg.OIDC.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: s.cfg.PublicBaseURL + "/api/v1/auth/callback",
		Scopes: s.cfg.OIDC.Scopes,
	}
}

// BeginLogin returns the IdP URL to redirect to and the sealed flow cookie.
func (s *Service) BeginLogin(ctx context.Context, returnTo, loginHint, lang string) (string, string, error) {
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return "", "", err
	}
	f := Flow{State: RandomToken(), Nonce: RandomToken(), Verifier: oauth2.GenerateVerifier(),
		ReturnTo: SafeReturnTo(returnTo), Lang: SafeLang(lang), Expires: s.cfg.Now().Add(FlowTTL)}
	sealed, err := SealFlow(s.cfg.Keys, f)
	if err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return s.oauth2Config(p).AuthCodeURL(f.State, opts...), sealed, nil
}

// LoginError carries the flow's language for the failure redirect.
type LoginError struct {
	Err  error
	Lang string
}

func (e *LoginError) Error() string { return e.Err.Error() }
func (e *LoginError) Unwrap() error { return e.Err }

// CompleteLogin handles the callback. Errors wrap ErrFlow (state mismatch
// or expired flow), ErrUpstream (role provider down, 503) or
// ErrLoginFailed (audited auth.login_failed); anything else is internal.
func (s *Service) CompleteLogin(ctx context.Context, sealed string, q url.Values, meta Meta) (Issued, Flow, error) {
	now := s.cfg.Now()
	f, err := OpenFlow(s.cfg.Keys, sealed, now)
	if err != nil {
		return Issued{}, f, &LoginError{Err: err, Lang: "en"}
	}
	if q.Get("state") == "" || q.Get("state") != f.State {
		return Issued{}, f, &LoginError{Err: fmt.Errorf("%w: state mismatch", ErrFlow), Lang: f.Lang}
	}
	fail := func(reason string, cause error) (Issued, Flow, error) {
		s.auditLoginFailed(ctx, reason, meta)
		return Issued{}, f, &LoginError{Err: fmt.Errorf("%w: %s: %w", ErrLoginFailed, reason, cause), Lang: f.Lang}
	}
	if e := q.Get("error"); e != "" {
		return fail("idp_error", errors.New(e))
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return Issued{}, f, &LoginError{Err: err, Lang: f.Lang}
	}
	cctx := s.ctxWithClient(ctx)
	tok, err := s.oauth2Config(p).Exchange(cctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return fail("code_exchange", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return fail("no_id_token", errors.New("token response without id_token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID, Now: s.cfg.Now}).Verify(cctx, rawID)
	if err != nil {
		return fail("id_token_invalid", err)
	}
	if idt.Nonce != f.Nonce {
		return fail("nonce_mismatch", errors.New("nonce mismatch"))
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return fail("claims", err)
	}
	id, err := s.identity(idt.Subject, claims)
	if err != nil {
		return fail("identity", err)
	}
	iss, err := s.login(ctx, id, meta, now)
	switch {
	case errors.Is(err, ErrUpstream):
		return Issued{}, f, &LoginError{Err: err, Lang: f.Lang}
	case errors.Is(err, ErrLoginFailed):
		return fail("user_inactive", err)
	case err != nil:
		return Issued{}, f, err
	}
	return iss, f, nil
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	default:
		return ""
	}
}

// identity extracts SCIPER, e-mail and name from the ID token claims.
func (s *Service) identity(sub string, claims map[string]any) (Identity, error) {
	id := Identity{Subject: sub, Claims: claims, Sciper: claimString(claims[s.cfg.OIDC.UserIDClaim])}
	if id.Sciper == "" && s.cfg.Roles.Name() == ProviderOIDC {
		id.Sciper = sub
	}
	if id.Sciper == "" {
		return id, fmt.Errorf("claim %q missing", s.cfg.OIDC.UserIDClaim)
	}
	id.Email = claimString(claims["email"])
	if id.Email == "" {
		id.Email = claimString(claims["preferred_username"])
	}
	id.Name = claimString(claims["name"])
	if id.Name == "" {
		id.Name = strings.TrimSpace(claimString(claims["given_name"]) + " " + claimString(claims["family_name"]))
	}
	if id.Name == "" {
		id.Name, _, _ = strings.Cut(id.Email, "@")
	}
	return id, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// login resolves roles and, in one transaction, upserts the user, rebuilds
// unit_users, opens the session and audits auth.login.
func (s *Service) login(ctx context.Context, id Identity, meta Meta, now time.Time) (Issued, error) {
	q := dbsqlc.New(s.db)
	existing, err := q.UserGetBySciper(ctx, id.Sciper)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Issued{}, err
	}
	res, rerr := s.cfg.Roles.Resolve(ctx, id)
	fresh := rerr == nil
	if !fresh {
		if !exists || existing.RolesSyncedAt == nil || now.Sub(*existing.RolesSyncedAt) >= RolesFallback {
			return Issued{}, fmt.Errorf("%w: %w", ErrUpstream, rerr)
		}
		s.cfg.Logger.WarnContext(ctx, "role provider unavailable at login; using stored roles",
			slog.String("sciper", id.Sciper), slog.String("error", rerr.Error()))
		res = Resolved{Roles: StoredRoles(existing.Roles)}
	}
	email, name := nonEmpty(id.Email), nonEmpty(id.Name)
	if res.Email != nil {
		email = res.Email
	}
	if res.DisplayName != nil {
		name = res.DisplayName
	}
	// Two first logins of one user at the same time may collide on a unique
	// index (e-mail) or deadlock; the second attempt then sees the row.
	var iss Issued
	for attempt := 0; ; attempt++ {
		iss, err = s.loginTx(ctx, id, res, fresh, exists, email, name, meta, now)
		var pgErr *pgconn.PgError
		if attempt == 0 && errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "40P01") {
			exists = true
			continue
		}
		return iss, err
	}
}

func (s *Service) loginTx(ctx context.Context, id Identity, res Resolved, fresh, exists bool, email, name *string, meta Meta, now time.Time) (Issued, error) {
	return postgres.WithTxV(ctx, s.db, func(ctx context.Context, tx pgx.Tx) (Issued, error) {
		q := dbsqlc.New(tx)
		u, err := q.UserUpsert(ctx, dbsqlc.UserUpsertParams{Sciper: id.Sciper, Provider: s.cfg.Roles.Name(),
			OidcSubject: nonEmpty(id.Subject), Email: email, DisplayName: name, FunctionTitle: res.FunctionTitle})
		if err != nil {
			return Issued{}, fmt.Errorf("error upserting user: %w", err)
		}
		if !u.IsActive {
			return Issued{}, fmt.Errorf("%w: user %s is inactive", ErrLoginFailed, u.Sciper)
		}
		if fresh {
			prev := StoredRoles(u.Roles)
			if u, err = s.applyRoles(ctx, tx, u, res.Roles, now); err != nil {
				return Issued{}, err
			}
			if exists && !perm.Equal(prev, res.Roles) {
				if err := s.AuditRolesChanged(ctx, tx, u, prev, res.Roles, meta); err != nil {
					return Issued{}, err
				}
			}
		}
		if err := q.UserTouchLoginAt(ctx, dbsqlc.UserTouchLoginAtParams{At: &now, ID: u.ID}); err != nil {
			return Issued{}, err
		}
		u.LastLoginAt = &now
		iss, err := s.createSession(ctx, tx, u, meta, now)
		if err != nil {
			return Issued{}, err
		}
		uid := u.ID
		_, err = s.audit.Write(ctx, tx, audit.Event{OccurredAt: now, ActorUserID: &uid, ActorSciper: u.Sciper, ActorName: u.DisplayName,
			Action: audit.ActionCreate, Event: "auth.login", EntityType: "user", EntityID: strconv.FormatInt(u.ID, 10),
			HandledIDs: []string{u.Sciper}, IP: meta.IP, UserAgent: meta.UserAgent, RequestID: meta.RequestID, Route: meta.Route,
			Snapshot: map[string]any{"sciper": u.Sciper, "email": u.Email, "display_name": u.DisplayName,
				"function_title": u.FunctionTitle, "provider": u.Provider, "roles": StoredRoles(u.Roles)}})
		if err != nil {
			return Issued{}, fmt.Errorf("error auditing auth.login: %w", err)
		}
		return iss, nil
	})
}

// ApplyRoles stores roles (with roles_synced_at = now) and rebuilds the
// user's unit_users rows (docs/domain.md §2.2).
func (s *Service) applyRoles(ctx context.Context, tx pgx.Tx, u dbsqlc.User, roles []perm.Assignment, now time.Time) (dbsqlc.User, error) {
	return ApplyRoles(ctx, tx, u, roles, now)
}

// ApplyRoles stores roles and rebuilds unit_users (login and role_sync).
func ApplyRoles(ctx context.Context, tx postgres.DBTX, u dbsqlc.User, roles []perm.Assignment, now time.Time) (dbsqlc.User, error) {
	q := dbsqlc.New(tx)
	b, err := json.Marshal(perm.Normalize(roles))
	if err != nil {
		return u, err
	}
	changed := !perm.Equal(StoredRoles(u.Roles), roles)
	u, err = q.UserSetRolesAt(ctx, dbsqlc.UserSetRolesAtParams{Roles: b, SyncedAt: now, ID: u.ID})
	if err != nil {
		return u, fmt.Errorf("error storing roles: %w", err)
	}
	if changed {
		// The cached principals of the user's sessions are dropped
		// everywhere on commit (cache.go).
		if err := NotifyUser(ctx, tx, u.ID); err != nil {
			return u, fmt.Errorf("error notifying the role change: %w", err)
		}
	}
	members := perm.Memberships(roles)
	cfs := make([]string, 0, len(members))
	for cf := range members {
		cfs = append(cfs, cf)
	}
	units, err := q.UnitsByCFs(ctx, cfs)
	if err != nil {
		return u, err
	}
	ids, rs := []int64{}, []string{}
	for _, unit := range units {
		if unit.Cf != nil {
			ids, rs = append(ids, unit.ID), append(rs, members[*unit.Cf])
		}
	}
	if err := q.UnitUsersReplaceForUser(ctx, dbsqlc.UnitUsersReplaceForUserParams{UserID: u.ID, UnitIds: ids, Roles: rs}); err != nil {
		return u, fmt.Errorf("error rebuilding unit_users: %w", err)
	}
	return u, nil
}

// AuditRolesChanged writes user.roles_changed.
func (s *Service) AuditRolesChanged(ctx context.Context, tx pgx.Tx, u dbsqlc.User, prev, next []perm.Assignment, meta Meta) error {
	return WriteRolesChanged(ctx, tx, s.audit, u, prev, next, meta)
}

// WriteRolesChanged writes user.roles_changed with a diff of the roles.
func WriteRolesChanged(ctx context.Context, tx postgres.DBTX, w *audit.Writer, u dbsqlc.User, prev, next []perm.Assignment, meta Meta) error {
	_, err := w.Write(ctx, tx, audit.Event{ActorType: audit.ActorSystem, ActorSciper: audit.SciperSystem, Action: audit.ActionUpdate,
		Event: "user.roles_changed", EntityType: "user_roles", EntityID: strconv.FormatInt(u.ID, 10), HandledIDs: []string{u.Sciper},
		IP: meta.IP, RequestID: meta.RequestID, Route: meta.Route,
		Snapshot: map[string]any{"roles": perm.Normalize(next), "previous": perm.Normalize(prev)}})
	if err != nil {
		return fmt.Errorf("error auditing user.roles_changed: %w", err)
	}
	return nil
}

func hashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

func (s *Service) createSession(ctx context.Context, tx pgx.Tx, u dbsqlc.User, meta Meta, now time.Time) (Issued, error) {
	q := dbsqlc.New(tx)
	sess, err := q.SessionCreate(ctx, dbsqlc.SessionCreateParams{UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionMaxAge), Ip: meta.IP, UserAgent: meta.UserAgent})
	if err != nil {
		return Issued{}, fmt.Errorf("error creating session: %w", err)
	}
	return s.issue(ctx, q, u, sess, now)
}

// issue creates a refresh token in the session and signs an access token.
func (s *Service) issue(ctx context.Context, q *dbsqlc.Queries, u dbsqlc.User, sess dbsqlc.Session, now time.Time) (Issued, error) {
	refresh := RandomToken()
	exp := now.Add(s.cfg.RefreshTTL)
	if exp.After(sess.ExpiresAt) {
		exp = sess.ExpiresAt
	}
	if _, err := q.RefreshTokenCreate(ctx, dbsqlc.RefreshTokenCreateParams{SessionID: sess.ID, TokenHash: hashToken(refresh), IssuedAt: now, ExpiresAt: exp}); err != nil {
		return Issued{}, fmt.Errorf("error creating refresh token: %w", err)
	}
	access, accessExp, err := s.tokens.Issue(u.ID, sess.ID, u.Sciper)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Access: access, AccessExp: accessExp, Refresh: refresh, CSRF: RandomToken(), SessionID: sess.ID, SessionExpires: sess.ExpiresAt, User: u}, nil
}

// Authenticate validates an access token and its session (reused from the
// session cache for at most SessionCacheTTL, cache.go).
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, ErrInvalidToken
	}
	if s.cache == nil {
		return s.checkToken(ctx, raw, 0)
	}
	if p, _, ok := s.cache.get(raw); ok {
		return p, nil
	}
	// The requests that miss together (a poll burst when the entry
	// expires) share one check; it outlives a caller that goes away.
	ch := s.cache.flight.DoChan(raw, func() (any, error) {
		p, seq, ok := s.cache.get(raw)
		if ok {
			return p, nil
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCheckTimeout)
		defer cancel()
		return s.checkToken(ctx, raw, seq)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Principal), nil //nolint:forcetypeassert // the flight returns a *Principal or an error
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sharedCheckTimeout bounds a session check shared by several requests
// (it does not end with the request that started it).
const sharedCheckTimeout = 10 * time.Second

// checkToken verifies raw and reads its session; the principal goes to the
// cache unless an invalidation happened since seq.
func (s *Service) checkToken(ctx context.Context, raw string, seq uint64) (*Principal, error) {
	claims, sid, uid, err := s.tokens.Verify(raw)
	if err != nil {
		return nil, err
	}
	row, err := dbsqlc.New(s.db).SessionWithUser(ctx, sid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrSessionExpired
	}
	if err != nil {
		return nil, err
	}
	if row.Session.UserID != uid {
		return nil, ErrInvalidToken
	}
	if row.Session.RevokedAt != nil || !s.cfg.Now().Before(row.Session.ExpiresAt) || !row.User.IsActive {
		return nil, ErrSessionExpired
	}
	roles := StoredRoles(row.User.Roles)
	p := &Principal{User: row.User, SessionID: sid, Roles: roles, Perms: perm.For(roles)}
	if s.cache != nil && claims.ExpiresAt != nil {
		s.cache.put(raw, cachedToken{p: p, tokenExp: claims.ExpiresAt.Time, sessionExp: row.Session.ExpiresAt}, seq)
	}
	return p, nil
}

// Refresh rotates a refresh token (docs/api.md §3.1). A rotated token presented
// again within RefreshGrace yields one more fresh token (the grace is then
// spent, marked by replaced_by pointing to the token itself); any other
// reuse revokes the session (reuse_detected) and answers ErrSessionExpired.
func (s *Service) Refresh(ctx context.Context, raw string, meta Meta) (Issued, error) {
	if raw == "" {
		return Issued{}, ErrInvalidRefresh
	}
	now := s.cfg.Now()
	var reuse bool
	var revoked uuid.UUID
	iss, err := postgres.WithTxV(ctx, s.db, func(ctx context.Context, tx pgx.Tx) (Issued, error) {
		q := dbsqlc.New(tx)
		row, err := q.RefreshTokenByHashForUpdate(ctx, hashToken(raw))
		if errors.Is(err, pgx.ErrNoRows) {
			return Issued{}, ErrInvalidRefresh
		}
		if err != nil {
			return Issued{}, err
		}
		rt, sess := row.RefreshToken, row.Session
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) {
			return Issued{}, ErrSessionExpired
		}
		if rt.RotatedAt != nil {
			graceSpent := rt.ReplacedBy != nil && *rt.ReplacedBy == rt.ID
			if graceSpent || now.Sub(*rt.RotatedAt) >= RefreshGrace {
				if _, err := q.SessionRevoke(ctx, dbsqlc.SessionRevokeParams{RevokedAt: now, Reason: "reuse_detected", SessionID: sess.ID}); err != nil {
					return Issued{}, err
				}
				if err := NotifySession(ctx, tx, sess.ID); err != nil {
					return Issued{}, err
				}
				reuse, revoked = true, sess.ID
				return Issued{}, nil // commit the revocation
			}
		} else if !now.Before(rt.ExpiresAt) {
			return Issued{}, ErrInvalidRefresh
		}
		u, err := q.UserGet(ctx, sess.UserID)
		if err != nil {
			return Issued{}, err
		}
		if !u.IsActive {
			return Issued{}, ErrSessionExpired
		}
		iss, err := s.issue(ctx, q, u, sess, now)
		if err != nil {
			return Issued{}, err
		}
		newRT, err := q.RefreshTokenByHashForUpdate(ctx, hashToken(iss.Refresh))
		if err != nil {
			return Issued{}, err
		}
		replaced := newRT.RefreshToken.ID
		if rt.RotatedAt != nil {
			replaced = rt.ID // grace spent
		}
		if err := q.RefreshTokenRotate(ctx, dbsqlc.RefreshTokenRotateParams{RotatedAt: &now, ReplacedBy: &replaced, ID: rt.ID}); err != nil {
			return Issued{}, err
		}
		if err := q.SessionTouch(ctx, dbsqlc.SessionTouchParams{LastUsedAt: now, ID: sess.ID}); err != nil {
			return Issued{}, err
		}
		s.auditBestEffort(ctx, tx, audit.Event{OccurredAt: now, ActorUserID: &u.ID, ActorSciper: u.Sciper, ActorName: u.DisplayName,
			Action: audit.ActionUpdate, Event: "auth.refresh", EntityType: "session", EntityID: sess.ID.String(),
			HandledIDs: []string{u.Sciper}, IP: meta.IP, UserAgent: meta.UserAgent, RequestID: meta.RequestID, Route: meta.Route})
		return iss, nil
	})
	if err != nil {
		return Issued{}, err
	}
	if reuse {
		s.evictSession(revoked)
		s.cfg.Logger.WarnContext(ctx, "refresh token reuse detected; session revoked")
		return Issued{}, ErrSessionExpired
	}
	return iss, nil
}

// Logout revokes the caller's session and all its refresh tokens; the
// session's tokens leave every API process's session cache.
func (s *Service) Logout(ctx context.Context, p *Principal, meta Meta) error {
	now := s.cfg.Now()
	defer s.evictSession(p.SessionID)
	return postgres.WithTx(ctx, s.db, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := dbsqlc.New(tx).SessionRevoke(ctx, dbsqlc.SessionRevokeParams{RevokedAt: now, Reason: "logout", SessionID: p.SessionID}); err != nil {
			return err
		}
		if err := NotifySession(ctx, tx, p.SessionID); err != nil {
			return err
		}
		s.auditBestEffort(ctx, tx, audit.Event{OccurredAt: now, ActorUserID: &p.User.ID, ActorSciper: p.User.Sciper, ActorName: p.User.DisplayName,
			Action: audit.ActionDelete, Event: "auth.logout", EntityType: "session", EntityID: p.SessionID.String(),
			HandledIDs: []string{p.User.Sciper}, IP: meta.IP, UserAgent: meta.UserAgent, RequestID: meta.RequestID, Route: meta.Route})
		return nil
	})
}

// auditBestEffort writes an auth event in a savepoint; a failure is logged
// (audit_failure=true) and does not fail the request (docs/jobs.md §11.1).
func (s *Service) auditBestEffort(ctx context.Context, tx pgx.Tx, ev audit.Event) {
	err := postgres.WithTx(ctx, tx, func(ctx context.Context, sp pgx.Tx) error {
		_, err := s.audit.Write(ctx, sp, ev)
		return err
	})
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit write failed", slog.Bool("audit_failure", true), slog.String("event", ev.Event), slog.String("error", err.Error()))
	}
}

func (s *Service) auditLoginFailed(ctx context.Context, reason string, meta Meta) {
	err := postgres.WithTx(ctx, s.db, func(ctx context.Context, tx pgx.Tx) error {
		_, err := s.audit.Write(ctx, tx, audit.Event{ActorSciper: audit.SciperUnknown, Action: audit.ActionCreate, Event: "auth.login_failed",
			EntityType: "user", EntityID: "unknown", Reason: reason, IP: meta.IP, UserAgent: meta.UserAgent, RequestID: meta.RequestID,
			Route: meta.Route, Snapshot: map[string]any{"reason": reason}})
		return err
	})
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit write failed", slog.Bool("audit_failure", true), slog.String("event", "auth.login_failed"), slog.String("error", err.Error()))
	}
}

// EndSessionURL is the IdP's end_session_endpoint, when it advertises one.
func (s *Service) EndSessionURL(ctx context.Context) *string {
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return nil
	}
	var c struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&c); err != nil || c.EndSession == "" {
		return nil
	}
	return &c.EndSession
}
