package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

const signalTimeout = 5 * time.Second

type listenerBundle struct {
	appName  string // application_name of the listener's connection
	listener *pipeline.Listener
	pool     *pgxpool.Pool
}

// setupListener runs a Listener in a fresh schema until the test ends and
// returns once it is LISTENing (it wakes every subscriber when connected).
func setupListener(ctx context.Context, t *testing.T) *listenerBundle {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	cc := schema.Pool.Config().ConnConfig.Copy()
	appName := testdb.RandomName("listener_")
	cc.RuntimeParams["application_name"] = appName
	listener := pipeline.NewListener(cc, testdb.QuietLogger())

	ready, unsubscribe := listener.Subscribe(uuid.New())
	defer unsubscribe()

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.Run(runCtx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(signalTimeout):
			t.Error("Listener.Run did not return after its context was cancelled")
		}
	})
	requireSignal(t, ready, "listener never connected")
	return &listenerBundle{appName: appName, listener: listener, pool: schema.Pool}
}

// newPipeline creates a pipeline (Create sends no notification).
func (b *listenerBundle) newPipeline(ctx context.Context, t *testing.T) uuid.UUID {
	t.Helper()
	p, err := pipeline.Create(ctx, b.pool, pipeline.CreateParams{Kind: pipeline.KindExport, Trigger: pipeline.TriggerUser})
	require.NoError(t, err)
	return p.ID
}

// refresh runs Refresh in a committed transaction, which notifies.
func (b *listenerBundle) refresh(ctx context.Context, t *testing.T, id uuid.UUID) {
	t.Helper()
	require.NoError(t, postgres.WithTx(ctx, b.pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := pipeline.Refresh(ctx, tx, id, time.Now())
		return err
	}))
}

func requireSignal(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(signalTimeout):
		require.FailNow(t, msg)
	}
}

// requireNoSignal checks, without waiting, that ch holds no signal. Call it
// after a later notification was seen: the listener handles notifications in
// order, so an earlier signal would already be there.
func requireNoSignal(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
		require.FailNow(t, msg)
	default:
	}
}

func TestListener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("IgnoresOtherPipelines", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		idA, idB := bundle.newPipeline(ctx, t), bundle.newPipeline(ctx, t)
		chA, unsubA := bundle.listener.Subscribe(idA)
		defer unsubA()
		chB, unsubB := bundle.listener.Subscribe(idB)
		defer unsubB()

		bundle.refresh(ctx, t, idB)
		requireSignal(t, chB, "no signal for the refreshed pipeline")
		requireNoSignal(t, chA, "signalled for another pipeline's change")

		bundle.refresh(ctx, t, idA)
		requireSignal(t, chA, "no signal for the refreshed pipeline")
		requireNoSignal(t, chA, "one change gave two signals")
		requireNoSignal(t, chB, "signalled for another pipeline's change")
	})

	t.Run("ReconnectsAfterLostConnection", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		id := bundle.newPipeline(ctx, t)
		ch, unsub := bundle.listener.Subscribe(id)
		defer unsub()

		var oldPID int32
		require.NoError(t, bundle.pool.QueryRow(ctx,
			`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, bundle.appName).Scan(&oldPID))
		var terminated bool
		require.NoError(t, bundle.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, oldPID).Scan(&terminated))
		require.True(t, terminated)

		// Subscribers are woken to re-read what they may have missed.
		requireSignal(t, ch, "no wake-up after the connection was lost")

		// Once the new connection listens, notifications flow again.
		require.Eventually(t, func() bool {
			var n int
			err := bundle.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE application_name = $1 AND pid <> $2 AND query = 'LISTEN pipeline_updates'`,
				bundle.appName, oldPID).Scan(&n)
			return err == nil && n == 1
		}, signalTimeout, 20*time.Millisecond, "listener never reconnected")
		select { // drop the wake-up sent on reconnection
		case <-ch:
		default:
		}
		bundle.refresh(ctx, t, id)
		requireSignal(t, ch, "no signal after reconnection")
	})

	t.Run("RolledBackRefreshSendsNothing", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		idA, idB := bundle.newPipeline(ctx, t), bundle.newPipeline(ctx, t)
		chA, unsubA := bundle.listener.Subscribe(idA)
		defer unsubA()
		chB, unsubB := bundle.listener.Subscribe(idB)
		defer unsubB()

		tx, err := bundle.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = pipeline.Refresh(ctx, tx, idA, time.Now())
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))

		bundle.refresh(ctx, t, idB)
		requireSignal(t, chB, "no signal for the refreshed pipeline")
		requireNoSignal(t, chA, "signalled for a rolled-back change")
	})

	t.Run("SignalsEverySubscriber", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		id := bundle.newPipeline(ctx, t)
		ch1, unsub1 := bundle.listener.Subscribe(id)
		defer unsub1()
		ch2, unsub2 := bundle.listener.Subscribe(id)
		defer unsub2()

		bundle.refresh(ctx, t, id)
		requireSignal(t, ch1, "first subscriber not signalled")
		requireSignal(t, ch2, "second subscriber not signalled")
	})

	t.Run("SignalsOnCommittedRefresh", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		id := bundle.newPipeline(ctx, t)
		ch, unsub := bundle.listener.Subscribe(id)
		defer unsub()

		bundle.refresh(ctx, t, id)
		requireSignal(t, ch, "no signal within 5 s of a committed Refresh")
	})

	t.Run("UnsubscribeStopsSignals", func(t *testing.T) {
		t.Parallel()
		bundle := setupListener(ctx, t)
		idA, idB := bundle.newPipeline(ctx, t), bundle.newPipeline(ctx, t)
		gone, unsubGone := bundle.listener.Subscribe(idA)
		kept, unsubKept := bundle.listener.Subscribe(idA)
		defer unsubKept()
		chB, unsubB := bundle.listener.Subscribe(idB)
		defer unsubB()
		unsubGone()

		bundle.refresh(ctx, t, idA)
		requireSignal(t, kept, "remaining subscriber not signalled")
		bundle.refresh(ctx, t, idB) // barrier: A's notification is fully handled
		requireSignal(t, chB, "no signal for the refreshed pipeline")
		requireNoSignal(t, gone, "signalled after unsubscribing")
	})
}
