package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/co2-calculator/co2-calculator/pkg/notifycache"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The session cache (docs/api.md §3.1): a verified access token and the
// principal its session check built are reused for at most
// Config.SessionCacheTTL (≤ MaxSessionCacheTTL), and never past the
// token's or the session's expiry. Whatever revokes a session or changes a
// user's roles notifies NotifyChannel in its transaction; the API's
// listener hands the payload to Service.Invalidate, and the process that
// made the change also evicts at once after its commit. The cache is used
// only while the listener LISTENs (Service.CacheLive): a lost connection
// empties it and every request reads the database until it is back.

// NotifyChannel is the LISTEN/NOTIFY channel of session revocations
// ("session:<uuid>") and user changes ("user:<id>").
const NotifyChannel = "auth_changes"

// The kinds of NotifyChannel payloads.
const (
	notifySession = "session"
	notifyUser    = "user"
)

// MaxSessionCacheTTL bounds Config.SessionCacheTTL.
const MaxSessionCacheTTL = 10 * time.Second

// maxCachedTokens bounds the cache; when full it is emptied.
const maxCachedTokens = 20_000

// NotifySession tells every API process, when tx commits, that session sid
// was revoked.
func NotifySession(ctx context.Context, tx postgres.DBTX, sid uuid.UUID) error {
	return dbsqlc.New(tx).AuthNotify(ctx, notifySession+":"+sid.String())
}

// NotifyUser tells every API process, when tx commits, that user id
// changed (roles, activity).
func NotifyUser(ctx context.Context, tx postgres.DBTX, id int64) error {
	return dbsqlc.New(tx).AuthNotify(ctx, notifyUser+":"+strconv.FormatInt(id, 10))
}

type sessionCache struct {
	flight singleflight.Group
	m      *notifycache.Map[string, cachedToken] // by raw access token
}

type cachedToken struct {
	p          *Principal
	tokenExp   time.Time
	sessionExp time.Time
}

func newSessionCache(ttl time.Duration, now func() time.Time) *sessionCache {
	return &sessionCache{m: notifycache.New[string, cachedToken](maxCachedTokens, min(ttl, MaxSessionCacheTTL), now)}
}

// get returns the principal cached for raw (while its token and session
// are unexpired), or the sequence number a database check must hand back
// to put.
func (c *sessionCache) get(raw string) (*Principal, uint64, bool) {
	e, seq, ok := c.m.Get(raw)
	if now := c.m.Now(); !ok || !now.Before(e.tokenExp) || !now.Before(e.sessionExp) {
		return nil, seq, false
	}
	return e.p, seq, true
}

// put stores a checked token unless an invalidation happened since seq.
func (c *sessionCache) put(raw string, e cachedToken, seq uint64) {
	c.m.Put(raw, e, seq)
}

// evict drops the tokens whose principal matches.
func (c *sessionCache) evict(match func(*Principal) bool) {
	c.m.Evict(func(_ string, e cachedToken) bool { return match(e.p) })
}

func (c *sessionCache) setLive(live bool) {
	c.m.SetLive(live)
}

// Invalidate applies one NotifyChannel payload: the tokens of the session
// or of the user are dropped (anything unrecognised empties the cache).
func (s *Service) Invalidate(payload string) {
	if s.cache == nil {
		return
	}
	kind, id, _ := strings.Cut(payload, ":")
	switch kind {
	case notifySession:
		if sid, err := uuid.Parse(id); err == nil {
			s.evictSession(sid)
			return
		}
	case notifyUser:
		if uid, err := strconv.ParseInt(id, 10, 64); err == nil {
			s.cache.evict(func(p *Principal) bool { return p.User.ID == uid })
			return
		}
	}
	s.cache.evict(func(*Principal) bool { return true })
}

// CacheLive turns the session cache on while the listener receives
// NotifyChannel (true) and off, emptied, when it does not (false).
func (s *Service) CacheLive(live bool) {
	if s.cache != nil {
		s.cache.setLive(live)
	}
}

func (s *Service) evictSession(sid uuid.UUID) {
	if s.cache != nil {
		s.cache.evict(func(p *Principal) bool { return p.SessionID == sid })
	}
}
