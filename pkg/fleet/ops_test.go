package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fleet"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ArgsScrubbedErrorsCut", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		var id int64
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO river_job (kind, queue, state, attempt, max_attempts, attempted_at,
			args, errors)
			VALUES ('fleet_test', 'default', 'retryable', 5, 9, now(),
			        '{"user": "u", "Password": "p", "nested": [{"access_token": "a"}, {"deep": {"secret": "s"}}]}',
			        ARRAY(SELECT jsonb_build_object('at', '2026-01-02T03:04:05Z', 'attempt', n, 'error', 'e' || n, 'trace', 't')
			              FROM generate_series(1, 5) n))
			RETURNING id`).Scan(&id))

		j, err := fleet.GetJob(ctx, tx, id)
		require.NoError(t, err)
		require.JSONEq(t, `{"user": "u", "Password": "[redacted]",
			"nested": [{"access_token": "[redacted]"}, {"deep": {"secret": "[redacted]"}}]}`, string(j.Args))
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		require.Equal(t, []fleet.AttemptError{{At: at, Attempt: 3, Error: "e3"}, {At: at, Attempt: 4, Error: "e4"},
			{At: at, Attempt: 5, Error: "e5"}}, j.Errors)
		require.Equal(t, "retryable", j.State)
		require.Equal(t, int16(9), j.MaxAttempts)

		_, err = fleet.GetJob(ctx, tx, id+1)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
	t.Run("UnknownState", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		_, _, err := fleet.Jobs(ctx, tx, fleet.JobFilter{States: []string{"running", "stuck"}, Limit: 10})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		items, total, err := fleet.Jobs(ctx, tx, fleet.JobFilter{States: []string{"running"}, Limit: 10})
		require.NoError(t, err)
		require.Empty(t, items)
		require.Equal(t, int64(0), total)
	})
}

func TestWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	for id, silent := range map[string]time.Duration{"w-live": 59 * time.Second, "w-silent": 61 * time.Second,
		"w-forgotten": fleet.DefaultForgetAfter + time.Second} {
		require.NoError(t, fleet.NewHeartbeat(tx, testdb.QuietLogger(), fleet.HeartbeatConfig{ID: id,
			Queues: map[string]int{"default": 1}}).Beat(ctx))
		_, err := tx.Exec(ctx, `UPDATE workers SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1`,
			id, silent.Seconds())
		require.NoError(t, err)
	}
	ws, err := fleet.Workers(ctx, tx)
	require.NoError(t, err)
	got := map[string]bool{}
	for _, w := range ws {
		got[w.ID] = w.Live
		require.JSONEq(t, `{"default": 1}`, string(w.Queues))
	}
	require.Equal(t, map[string]bool{"w-live": true, "w-silent": false}, got, "live within 60 s, listed for an hour")
}
