package jobs_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// With a pool, the batches of a recalculation run side by side (each in
// its own transaction, under the module-year lock in shared mode): every
// entry of the module-year is computed exactly once, across report modules
// whose entries interleave by id, and every touched report module is
// flagged.
func TestEmissionRecalcParallelBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.TestSchema(ctx, t).Pool
	const perModule = 250
	var year int32
	var rms []int64
	require.NoError(t, postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		year = testfactory.Year(ctx, t, tx, nil).Year
		a := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{Year: &year}).Module(emission.ModuleProcessEmissions)
		b := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{Year: &year}).Module(emission.ModuleProcessEmissions)
		rms = []int64{a.ID, b.ID}
		for range perModule / 50 { // interleaved: 50 of a, 50 of b, …
			copyGasEntries(ctx, t, tx, a, 50)
			copyGasEntries(ctx, t, tx, b, 50)
		}
		return nil
	}))
	testfactory.Factor(ctx, t, db, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas"),
		Values: map[string]any{"ef_kg_co2eq_per_unit": 3.0, "unit": "kg"}})
	lk, err := calc.LoadLookup(ctx, db, int(year), emission.ModuleProcessEmissions)
	require.NoError(t, err)

	w := &jobs.EmissionRecalcWorker{DB: db, BatchSize: 7, Parallel: 3}
	done, issues, err := w.RecalculateForTest(ctx, year, emission.ModuleProcessEmissions, lk)
	require.NoError(t, err)
	require.Equal(t, int64(2*perModule), done)
	require.Zero(t, issues)

	var n, ok, rows int
	var kg float64
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE calc_status = 'ok'), coalesce(sum(kg_co2eq), 0)
		FROM data_entries WHERE year = $1`, year).Scan(&n, &ok, &kg))
	require.Equal(t, 2*perModule, n)
	require.Equal(t, n, ok)
	require.InDelta(t, 2*perModule*2*3.0, kg, 1e-6) // quantity 2 × 3 kg per entry
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM emissions WHERE report_module_id = ANY($1)`, rms).Scan(&rows))
	require.Equal(t, n, rows, "one emission row per entry")
	var flagged int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM report_modules WHERE id = ANY($1) AND stats_dirty_at IS NOT NULL`, rms).Scan(&flagged))
	require.Equal(t, 2, flagged)
}
