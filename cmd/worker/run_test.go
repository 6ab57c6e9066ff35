package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// A worker is in the workers table from before its River client starts
// until after it stops, heartbeats meanwhile, and its River client id is
// its worker id (so river_job.attempted_by names the worker process).
func TestRunWorkerRegistration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	env := map[string]string{
		"DATABASE_URL": schema.URL, "ADMIN_ADDR": "127.0.0.1:0", "WORKER_QUEUES": "default=1", "SCHEDULE_ECB": "",
		"BLOB_LOCAL_DIR": t.TempDir(), "WORKER_HEARTBEAT_INTERVAL": "100ms",
	}
	cfg, err := config.LoadWorker(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(runCtx, nil, cfg, testdb.QuietLogger(), nil) }()

	var (
		id    string
		first time.Time
	)
	require.Eventually(t, func() bool {
		return schema.Pool.QueryRow(ctx, "SELECT id, heartbeat_at FROM workers").Scan(&id, &first) == nil
	}, 10*time.Second, 10*time.Millisecond, "the worker registers itself")
	require.Eventually(t, func() bool {
		var last time.Time
		err := schema.Pool.QueryRow(ctx, "SELECT heartbeat_at FROM workers WHERE id = $1", id).Scan(&last)
		return err == nil && last.After(first)
	}, 10*time.Second, 10*time.Millisecond, "and heartbeats")
	require.Eventually(t, func() bool {
		var leader string
		err := schema.Pool.QueryRow(ctx, "SELECT leader_id FROM river_leader").Scan(&leader)
		return err == nil && leader == id
	}, 20*time.Second, 10*time.Millisecond, "the River client (elected leader, alone) has the worker's id")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}
	var n int
	require.NoError(t, schema.Pool.QueryRow(ctx, "SELECT count(*) FROM workers").Scan(&n))
	require.Zero(t, n, "a stopped worker removes its row")
}
