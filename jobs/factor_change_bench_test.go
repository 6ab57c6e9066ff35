package jobs_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// BenchmarkFactorChange measures a factor change end to end: the domain
// call of PATCH /factors/{id} (factors.Service.Update: the new value, the
// module-year's recalculation requested in a factor_edit pipeline) on a
// module-year of BENCH_FACTOR_N process-gas entries (default 1 000 000),
// then a started River worker (compute queue, pipeline middleware) running
// the emission_recalc it enqueued and the aggregate that chains. It prints
// the time from the edit to the recalculation's completion and to the
// pipeline's end. The data setup is BenchmarkEmissionRecalc's (COPY, then
// one untimed computation: the state after an import).
func BenchmarkFactorChange(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_FACTOR_N")); err == nil && v > 0 {
		n = v
	}
	schema := testdb.TestSchema(ctx, b)
	db := schema.Pool
	var year int32
	require.NoError(b, postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		year = testfactory.Year(ctx, b, tx, nil).Year
		rep := testfactory.Report(ctx, b, tx, &testfactory.ReportOpts{Year: &year})
		copyGasEntries(ctx, b, tx, rep.Module(emission.ModuleProcessEmissions), n)
		return nil
	}))
	_, err := db.Exec(ctx, "VACUUM ANALYZE data_entries")
	require.NoError(b, err)
	f := testfactory.Factor(ctx, b, db, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas"),
		Values: map[string]any{"ef_kg_co2eq_per_unit": 1.0, "unit": "kg"}})
	lk, err := calc.LoadLookup(ctx, db, int(year), emission.ModuleProcessEmissions)
	require.NoError(b, err)
	done, _, err := (&jobs.EmissionRecalcWorker{DB: db}).RecalculateForTest(ctx, year, emission.ModuleProcessEmissions, lk)
	require.NoError(b, err)
	require.Equal(b, int64(n), done)

	completed := startComputeWorker(ctx, b, db)
	insert, err := jobs.NewInsertClient(nil)
	require.NoError(b, err)
	svc := &factors.Service{DB: db, Recalc: jobs.EnqueueRecalc(insert)}

	ef := 1.0
	var edit, recalc, total time.Duration
	runs := 0
	for b.Loop() {
		ef += 0.25
		start := time.Now()
		w, err := svc.Update(ctx, nil, f.ID, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": ef}}, nil)
		require.NoError(b, err)
		edit += time.Since(start)
		recalcDone := waitCompleted(b, completed, "emission_recalc")
		recalc += recalcDone.Sub(start)
		waitCompleted(b, completed, "aggregate")
		p, _, err := pipeline.Get(ctx, db, w.Pipeline.ID)
		require.NoError(b, err)
		require.Equal(b, "SUCCESS", p.Status, "the factor_edit pipeline ends with its jobs")
		total += time.Since(start)
		runs++
	}
	b.StopTimer()
	var kg float64
	require.NoError(b, db.QueryRow(ctx, "SELECT sum(kg_co2eq) FROM data_entries").Scan(&kg))
	require.InDelta(b, 2*ef*float64(n), kg, 1e-6*kg, "every entry reflects the edited factor")
	avg := func(d time.Duration) time.Duration { return (d / time.Duration(runs)).Round(time.Millisecond) }
	b.ReportMetric(avg(recalc).Seconds(), "s/recalc")
	b.ReportMetric(avg(total).Seconds(), "s/pipeline")
	fmt.Printf("factor change on %d entries: edit %s, recalculated after %s (%.0f entries/s), pipeline SUCCESS after %s\n",
		n, avg(edit), avg(recalc), float64(n)/avg(recalc).Seconds(), avg(total))
}

// startComputeWorker runs a River client working the compute queue (with
// the pipeline middleware) until the benchmark ends; it returns the events
// of the jobs it finishes (completed, failed, cancelled).
func startComputeWorker(ctx context.Context, b *testing.B, db *pgxpool.Pool) <-chan *river.Event {
	b.Helper()
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(db), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueCompute: {MaxWorkers: 4}},
		Workers:           jobs.Workers(jobs.Deps{Pool: db, Logger: logger}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(db, logger, jobs.AutoPipelines())},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(b, err)
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	require.NoError(b, client.Start(ctx))
	b.Cleanup(func() {
		cancel()
		stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		require.NoError(b, client.Stop(stopCtx))
	})
	return events
}

// waitCompleted waits for the next completion of a job of kind (any other
// outcome fails) and returns when it finished.
func waitCompleted(b *testing.B, events <-chan *river.Event, kind string) time.Time {
	b.Helper()
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case ev := <-events:
			require.Equal(b, river.EventKindJobCompleted, ev.Kind, "%s: %v", ev.Job.Kind, ev.Job.Errors)
			if ev.Job.Kind == kind {
				return time.Now()
			}
		case <-timeout:
			b.Fatalf("no %s completed", kind)
		}
	}
}
