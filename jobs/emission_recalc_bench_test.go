package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
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
// (BENCH_RECALC_N, default 200 000) and reports entries/s; the target is
// 1 M entries in < 30 s (≥ 33 000 entries/s).
func BenchmarkEmissionRecalc(b *testing.B) {
	ctx := context.Background()
	n := 200000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RECALC_N")); err == nil && v > 0 {
		n = v
	}
	tx := testdb.TestTx(ctx, b)
	year := testfactory.Year(ctx, b, tx, nil).Year
	rep := testfactory.Report(ctx, b, tx, &testfactory.ReportOpts{Year: &year})
	testfactory.Factor(ctx, b, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas")})
	copyGasEntries(ctx, b, tx, rep.Module(emission.ModuleProcessEmissions), n)
	w := rivertest.NewWorker(b, riverpgxv5.New(nil), &river.Config{}, &jobs.EmissionRecalcWorker{DB: tx})

	var total time.Duration
	runs := 0
	for b.Loop() {
		start := time.Now()
		_, err := w.Work(ctx, b, tx, jobs.EmissionRecalcArgs{Year: int(year), Module: "process_emissions"}, nil)
		require.NoError(b, err)
		total += time.Since(start)
		runs++
	}
	rate := float64(n*runs) / total.Seconds()
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(1e6/rate, "s/1M-entries")
}
