package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// startWorker runs the real worker (run) on a test schema until the
// benchmark ends.
func startWorker(b *testing.B, schema testdb.Schema, queues string, extra ...string) {
	b.Helper()
	env := map[string]string{
		"DATABASE_URL": schema.URL, "ADMIN_ADDR": "127.0.0.1:0", "WORKER_QUEUES": queues, "SCHEDULE_ECB": "",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := config.LoadWorker(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := make(chan struct{})
	logger := testdb.QuietLogger()
	if os.Getenv("BENCH_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	go func() { done <- run(ctx, nil, cfg, logger, func(string) { close(started) }) }()
	<-started
	b.Cleanup(func() { cancel(); require.NoError(b, <-done) })
}

func insertClient(b *testing.B) *river.Client[pgx.Tx] {
	b.Helper()
	c, err := jobs.NewInsertClient(nil) // the API's configuration
	require.NoError(b, err)
	return c
}

// BenchmarkJobChainLatency measures the time from the commit of an
// inserting transaction (as the API does with InsertTx) to the worker
// starting the job (River's attempted_at), one job at a time, over 1 000
// jobs. Reports p50/p95/max in ms.
func BenchmarkJobChainLatency(b *testing.B) {
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, b)
	startWorker(b, schema, "default=10")
	client := insertClient(b)
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("BENCH_LATENCY_JOBS")); err == nil && v > 0 {
		n = v
	}
	// Wait for the worker to be fully started (first job run).
	waitStarted(b, schema.Pool, insertOne(b, client, schema.Pool), 30*time.Second)

	lat := make([]time.Duration, 0, n)
	b.ResetTimer()
	for range n {
		id := insertOne(b, client, schema.Pool)
		committed := time.Now()
		attempted := waitStarted(b, schema.Pool, id, 10*time.Second)
		lat = append(lat, attempted.Sub(committed))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[n/2]), "p50_ms")
	b.ReportMetric(ms(lat[n*95/100]), "p95_ms")
	b.ReportMetric(ms(lat[n-1]), "max_ms")
	fmt.Printf("job chain latency over %d jobs: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", n, ms(lat[n/2]), ms(lat[n*95/100]), ms(lat[n-1]))
}

// BenchmarkWorkerThroughput measures how fast the worker drains 20 000
// pre-inserted trivial jobs.
func BenchmarkWorkerThroughput(b *testing.B) {
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, b)
	client := insertClient(b)
	const n = 20000
	params := make([]river.InsertManyParams, 0, 1000)
	for i := 0; i < n; i += 1000 {
		params = params[:0]
		for range 1000 {
			params = append(params, river.InsertManyParams{Args: jobs.NoopArgs{}})
		}
		tx, err := schema.Pool.Begin(ctx)
		require.NoError(b, err)
		_, err = client.InsertManyFastTx(ctx, tx, params)
		require.NoError(b, err)
		require.NoError(b, tx.Commit(ctx))
	}
	b.ResetTimer()
	start := time.Now()
	startWorker(b, schema, "default=200")
	deadline := start.Add(5 * time.Minute)
	for {
		var done int
		require.NoError(b, schema.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&done))
		if done == n {
			break
		}
		require.True(b, time.Now().Before(deadline), "only %d of %d jobs done", done, n)
		<-time.After(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "jobs/s")
	fmt.Printf("worker throughput: %d trivial jobs in %s = %.0f jobs/s (MaxWorkers 200, FetchCooldown 20ms)\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}

func insertOne(b *testing.B, client *river.Client[pgx.Tx], pool *pgxpool.Pool) int64 {
	b.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(b, err)
	res, err := client.InsertTx(ctx, tx, jobs.NoopArgs{}, nil)
	require.NoError(b, err)
	require.NoError(b, tx.Commit(ctx))
	return res.Job.ID
}

// waitStarted waits for a worker to pick a job up and returns when it did
// (River's attempted_at, set by the fetch).
func waitStarted(b *testing.B, pool *pgxpool.Pool, id int64, timeout time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var state string
		var attempted *time.Time
		require.NoError(b, pool.QueryRow(context.Background(), `SELECT state::text, attempted_at FROM river_job WHERE id = $1`, id).Scan(&state, &attempted))
		if attempted != nil {
			return *attempted
		}
		require.True(b, time.Now().Before(deadline), "job %d still %s", id, state)
		<-time.After(time.Millisecond)
	}
}
