package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// copyGasEntries loads n process-gas entries of one report module with COPY.
func copyGasEntries(ctx context.Context, tb testing.TB, tx pgx.Tx, rm dbsqlc.ReportModule, n int) {
	tb.Helper()
	q := dbsqlc.New(tx)
	data := json.RawMessage(`{"category":"refrigerants","subcategory":"R134a","quantity":2}`)
	for start := 0; start < n; start += 10000 {
		size := min(10000, n-start)
		ids, err := q.EntryIDsReserve(ctx, int32(size))
		require.NoError(tb, err)
		rows := make([]dbsqlc.EntriesCopyFromParams, size)
		for i := range rows {
			rows[i] = dbsqlc.EntriesCopyFromParams{
				ID: ids[i], ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: rm.Year, Module: rm.Module,
				Submodule: "process_gas", Data: data, Source: "csv_year", CalcStatus: "pending",
			}
		}
		_, err = q.EntriesCopyFrom(ctx, rows)
		require.NoError(tb, err)
	}
}

// BenchmarkEmissionRecalc recomputes N stored entries of one module
// (BENCH_RECALC_N, default 200 000) after a factor change and reports
// entries/s and the seconds per million entries, with the default
// parallelism (jobs.RecalcParallel batches at once) and, in the same run,
// one batch at a time; the target is 1 M entries in < 20 s (issue 17).
// The timer covers both.
//
// It is production-like: the entries are committed in a schema of their
// own, the worker uses a pool and every batch commits. Before each run the
// factor value changes, so every entry's kg and emission rows change. The
// first, untimed run computes the pending entries once (the state after an
// import).
func BenchmarkEmissionRecalc(b *testing.B) {
	ctx := context.Background()
	n := 200000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RECALC_N")); err == nil && v > 0 {
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

	ef := 1.0
	setFactor := func() *emission.Lookup {
		b.Helper()
		ef += 0.25
		testfactory.Factor(ctx, b, db, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas"),
			Values: map[string]any{"ef_kg_co2eq_per_unit": ef, "unit": "kg"}})
		lk, err := calc.LoadLookup(ctx, db, int(year), emission.ModuleProcessEmissions)
		require.NoError(b, err)
		return lk
	}
	w := &jobs.EmissionRecalcWorker{DB: db}
	done, _, err := w.RecalculateForTest(ctx, year, emission.ModuleProcessEmissions, setFactor())
	require.NoError(b, err)
	require.Equal(b, int64(n), done)

	// Each iteration times the default parallelism (jobs.RecalcParallel
	// batches at once) and one batch at a time: two runs of each, the
	// sequential ones between the parallel ones, so that a drift of the
	// machine's load weighs on both alike.
	seq := &jobs.EmissionRecalcWorker{DB: db, Parallel: 1}
	var par, one time.Duration
	runs := 0
	recalc := func(w *jobs.EmissionRecalcWorker, into *time.Duration) {
		b.StopTimer()
		lk := setFactor()
		b.StartTimer()
		start := time.Now()
		done, issues, err := w.RecalculateForTest(ctx, year, emission.ModuleProcessEmissions, lk)
		*into += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, int64(n), done)
		require.Zero(b, issues)
	}
	for b.Loop() {
		recalc(w, &par)
		recalc(seq, &one)
		recalc(seq, &one)
		recalc(w, &par)
		runs += 2
	}
	var kg float64
	require.NoError(b, db.QueryRow(ctx, "SELECT sum(kg_co2eq) FROM data_entries").Scan(&kg))
	require.InDelta(b, 2*ef*float64(n), kg, 1e-6*kg, "every entry reflects the last factor")
	rate := float64(n*runs) / par.Seconds()
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(1e6/rate, "s/1M-entries")
	b.ReportMetric(1e6*one.Seconds()/float64(n*runs), "s/1M-entries-sequential")
}
