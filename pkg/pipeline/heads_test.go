package pipeline_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// The heads the listener keeps (the 304 path of GET /pipelines/{id}): read
// once, kept current by the notifications, never trusted without them.
func TestListenerHead(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	// bump changes the version behind the listener's back (no NOTIFY).
	bump := func(t *testing.T, b *listenerBundle, id uuid.UUID) int64 {
		t.Helper()
		var v int64
		require.NoError(t, b.pool.QueryRow(ctx, `UPDATE pipelines SET version = version + 1 WHERE id = $1 RETURNING version`, id).Scan(&v))
		return v
	}

	t.Run("CachedAndKeptCurrent", func(t *testing.T) {
		t.Parallel()
		b := setupListener(ctx, t)
		id := b.newPipeline(ctx, t)
		h, err := b.listener.Head(ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, id, h.ID)
		v0 := h.Version

		silent := bump(t, b, id)
		h, err = b.listener.Head(ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, v0, h.Version, "the head is served from the cache")

		ch, unsub := b.listener.Subscribe(id)
		defer unsub()
		b.refresh(ctx, t, id) // notifies its new version
		requireSignal(t, ch, "no notification")
		h, err = b.listener.Head(ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, silent+1, h.Version, "the notification carried the new version")
	})

	t.Run("NotCachedWithoutListener", func(t *testing.T) {
		t.Parallel()
		b := setupListener(ctx, t)
		id := b.newPipeline(ctx, t)
		var none *pipeline.Listener
		_, err := none.Head(ctx, b.pool, id)
		require.NoError(t, err)
		v := bump(t, b, id)
		h, err := none.Head(ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, v, h.Version)
	})

	t.Run("DroppedWhenDisconnected", func(t *testing.T) {
		t.Parallel()
		b := setupListener(ctx, t)
		id := b.newPipeline(ctx, t)
		_, err := b.listener.Head(ctx, b.pool, id)
		require.NoError(t, err)
		ch, unsub := b.listener.Subscribe(id)
		defer unsub()
		_, err = b.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, b.appName)
		require.NoError(t, err)
		requireSignal(t, ch, "no wake-up after the connection was lost") // the heads were dropped before
		v := bump(t, b, id)
		h, err := b.listener.Head(ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, v, h.Version, "read from the database")
	})

	t.Run("UnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setupListener(ctx, t)
		_, err := b.listener.Head(ctx, b.pool, uuid.New())
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
}
