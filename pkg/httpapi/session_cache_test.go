package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func cacheTTL(on bool) time.Duration {
	if on {
		return auth.MaxSessionCacheTTL
	}
	return 0
}

// startCacheListener wires a pipeline listener to the session cache as
// cmd/api does and waits until it listens.
func (e *authEnv) startCacheListener(t *testing.T, svc *auth.Service) {
	t.Helper()
	e.notified, e.states = make(chan string, 16), make(chan bool, 16)
	e.listenerApp = testdb.RandomName("listener_")
	l := startListenerWith(t, e.schema, e.listenerApp, func(l *pipeline.Listener) {
		l.Handle(auth.NotifyChannel, svc.Invalidate)
		l.OnState(svc.CacheLive)
		l.Handle(auth.NotifyChannel, func(p string) { e.notified <- p })
		l.OnState(func(live bool) { e.states <- live })
	})
	e.listener = l
	require.True(t, <-e.states, "the listener is live")
}

func (e *authEnv) waitNotified(t *testing.T, want string) {
	t.Helper()
	for {
		select {
		case got := <-e.notified:
			if got == want {
				return
			}
		case <-time.After(waitTimeout):
			t.Fatalf("no %s notification", want)
		}
	}
}

// settle waits until the listener has handled every notification sent
// before it (a login's role change among them): notifications reach the
// listener in commit order, so once its own marker arrives none is left in
// flight that could evict what the next request caches.
func (e *authEnv) settle(t *testing.T) {
	t.Helper()
	marker := "settle:" + uuid.NewString()
	_, err := e.schema.Pool.Exec(t.Context(), `SELECT pg_notify($1, $2)`, auth.NotifyChannel, marker)
	require.NoError(t, err)
	e.waitNotified(t, marker)
}

// The session cache (docs/api.md §3.1): a checked token is reused for at
// most SESSION_CACHE_TTL, but a logout, a reuse detection, a revocation or
// a role change anywhere applies at once.
func TestSessionCache(t *testing.T) { //nolint:tparallel // the subtests log in as the same user, in turn, on one listener
	t.Parallel()
	e := newAuthEnv(t, &authEnvOpts{sessionCache: true})
	ctx := t.Context()
	var unitID int64
	require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT id FROM units WHERE cf = '7918'`).Scan(&unitID))
	unitURL := "/api/v1/units/" + strconv.FormatInt(unitID, 10)

	// sessionOf is the session id of a login.
	sessionOf := func(t *testing.T, s *session) string {
		t.Helper()
		var sid string
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT s.id::text FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE u.sciper = $1 ORDER BY s.created_at DESC LIMIT 1`, "DEV-000002").Scan(&sid))
		return sid
	}
	requireStatus := func(t *testing.T, s *session, path string, want int) {
		t.Helper()
		rec := s.do(t, http.MethodGet, path, nil)
		require.Equal(t, want, rec.Code, rec.Body.String())
	}

	// The subtests log in as the same user one after the other: each
	// owns its session.
	t.Run("CachedUntilTTL", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		sid := sessionOf(t, s)
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		// A revocation that does not notify (a hand-made change) is seen
		// once the cached check is older than SESSION_CACHE_TTL.
		_, err := e.schema.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, sid)
		require.NoError(t, err)
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		e.clock.Advance(auth.MaxSessionCacheTTL)
		requireStatus(t, s, "/api/v1/me", http.StatusUnauthorized)
	})

	t.Run("LogoutAtOnce", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		old := s.clone()
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		rec := s.do(t, http.MethodPost, "/api/v1/auth/logout", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = old.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "session_expired", errorCode(t, rec))
	})

	t.Run("ReuseDetectionAtOnce", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		stale := s.clone()
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		require.Equal(t, http.StatusNoContent, s.refresh(t).Code)
		requireStatus(t, s, "/api/v1/me", http.StatusOK) // the new token is cached too
		e.clock.Advance(auth.RefreshGrace)
		require.Equal(t, http.StatusUnauthorized, stale.refresh(t).Code, "the rotated token is reused")
		requireStatus(t, s, "/api/v1/me", http.StatusUnauthorized)
		requireStatus(t, stale, "/api/v1/me", http.StatusUnauthorized)
	})

	t.Run("RevokedElsewhere", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		sid := sessionOf(t, s)
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		// Another API process revokes the session (a logout there).
		require.NoError(t, postgres.WithTx(ctx, e.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, sid)
			if err != nil {
				return err
			}
			return auth.NotifySession(ctx, tx, uuid.MustParse(sid))
		}))
		e.waitNotified(t, "session:"+sid)
		requireStatus(t, s, "/api/v1/me", http.StatusUnauthorized)
	})

	t.Run("RoleChangeAtOnce", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		requireStatus(t, s, unitURL, http.StatusOK)
		// The worker's role_sync takes the principal role away.
		u, err := dbsqlc.New(e.schema.Pool).UserGetBySciper(ctx, "DEV-000002")
		require.NoError(t, err)
		require.NoError(t, postgres.WithTx(ctx, e.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
			_, err := auth.ApplyRoles(ctx, tx, u, nil, time.Now())
			return err
		}))
		e.waitNotified(t, "user:"+strconv.FormatInt(u.ID, 10))
		requireStatus(t, s, unitURL, http.StatusForbidden)
	})

	t.Run("OffWhileDisconnected", func(t *testing.T) {
		s := e.login(t, "principal")
		e.settle(t)
		sid := sessionOf(t, s)
		requireStatus(t, s, "/api/v1/me", http.StatusOK)
		_, err := e.schema.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1`, e.listenerApp)
		require.NoError(t, err)
		require.False(t, <-e.states, "the listener lost its connection")
		// No revocation can be heard now: every request reads its session.
		_, err = e.schema.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, sid)
		require.NoError(t, err)
		requireStatus(t, s, "/api/v1/me", http.StatusUnauthorized)
		require.True(t, <-e.states, "the listener reconnects")
	})
}
