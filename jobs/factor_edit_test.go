package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// A factor change through the API (pkg/factors) enqueues emission_recalc,
// and that recalculation makes the stored emissions follow: an edited
// value is used, a deleted factor is used by nothing.
func TestFactorEditRecalculated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx  pgx.Tx
		f   statsFixture
		svc *factors.Service
		pe  dbsqlc.ReportModule
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		f := newStatsFixture(ctx, t, tx) // a process-gas entry computed with the refrigerant factor (2 kg × 1 430)
		client, err := jobs.NewInsertClient(nil)
		require.NoError(t, err)
		return &testBundle{tx: tx, f: f, pe: f.rep.Module(emission.ModuleProcessEmissions),
			svc: &factors.Service{DB: tx, Recalc: jobs.EnqueueRecalc(client)}}
	}
	recalc := func(t *testing.T, b *testBundle) {
		t.Helper()
		job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, &jobs.EmissionRecalcArgs{}, nil)
		require.Equal(t, jobs.EmissionRecalcArgs{Year: int(b.f.year), Module: "process_emissions"}, *job.Args)
		w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, &jobs.EmissionRecalcWorker{DB: b.tx})
		res, err := w.WorkJob(ctx, t, b.tx, job.JobRow)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
	}
	entry := func(t *testing.T, b *testBundle) (dbsqlc.DataEntry, []dbsqlc.Emission) {
		t.Helper()
		q := dbsqlc.New(b.tx)
		e, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: b.f.gas.ID, ReportModuleID: b.pe.ID, Submodule: "process_gas"})
		require.NoError(t, err)
		rows, err := q.EmissionsByEntry(ctx, e.ID)
		require.NoError(t, err)
		return e, rows
	}
	gasFactor := func(t *testing.T, b *testBundle) int64 {
		t.Helper()
		e, _ := entry(t, b)
		require.NotNil(t, e.PrimaryFactorID)
		require.InDelta(t, 2860.0, e.KgCo2eq, 1e-9)
		return *e.PrimaryFactorID
	}

	t.Run("DeletedFactorUsedByNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := gasFactor(t, b)
		_, err := b.svc.Delete(ctx, nil, id, nil)
		require.NoError(t, err)
		recalc(t, b)

		e, rows := entry(t, b)
		require.Equal(t, "no_factor", e.CalcStatus)
		require.Zero(t, e.KgCo2eq, "nothing keeps the deleted factor's value")
		require.Nil(t, e.PrimaryFactorID)
		require.Empty(t, rows, "no emission row is left")
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM emissions WHERE factor_id = $1`, id).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("EditedValueUsed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := gasFactor(t, b)
		_, err := b.svc.Update(ctx, nil, id, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": 1000.0}}, nil)
		require.NoError(t, err)
		recalc(t, b)
		e, rows := entry(t, b)
		require.Equal(t, "ok", e.CalcStatus)
		require.InDelta(t, 2000.0, e.KgCo2eq, 1e-9, "2 kg × 1 000")
		require.Len(t, rows, 1)
		require.Equal(t, &id, rows[0].FactorID)
	})

	t.Run("PurgedFactorUsedByNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := gasFactor(t, b)
		// The group had an upload that did not assert the factor: it is
		// stale, and the purge deletes it.
		testfactory.Upload(ctx, t, b.tx, &testfactory.UploadOpts{Year: &b.f.year, Module: new("process_emissions"),
			Submodule: new("process_gas"), Import: new("succeeded")})
		res, err := b.svc.PurgeStale(ctx, nil, b.f.year, "process_gas")
		require.NoError(t, err)
		require.Equal(t, 1, res.Deleted)
		recalc(t, b)
		e, _ := entry(t, b)
		require.Equal(t, "no_factor", e.CalcStatus)
		require.Zero(t, e.KgCo2eq)
		require.NotEqual(t, &id, e.PrimaryFactorID)
	})
}

// The computed path of factor_import refreshes the facility factors in
// its transaction and chains the recalculation of research_facilities.
func TestFactorImportComputed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	year := testfactory.Year(ctx, t, tx, nil).Year
	unit := testfactory.Unit(ctx, t, tx, nil)
	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year})
	pe := rep.Module(emission.ModuleProcessEmissions)
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas")})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas")})
	computeYear(ctx, t, tx, year, emission.ModuleProcessEmissions)
	f := testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("facility"),
		Classification: map[string]string{"researchfacility_id": *unit.Cf, "researchfacility_name": "EM"},
		Values:         map[string]any{"use_unit": "hours", "total_use": 100}})

	w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{},
		&jobs.FactorImportWorker{Factors: &factors.Service{DB: tx}})
	res, err := w.Work(ctx, t, tx, jobs.FactorImportArgs{Year: int(year), Submodule: "facility", Method: jobs.MethodComputed}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)

	got, err := (&factors.Service{DB: tx}).Get(ctx, f.ID)
	require.NoError(t, err)
	require.Equal(t, factors.SourceComputed, got.Source)
	require.InDelta(t, 2860.0, got.Values["kg_co2eq_sum"], 1e-9, "the facility's own process emissions")
	job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobs.EmissionRecalcArgs{}, nil)
	require.Equal(t, jobs.EmissionRecalcArgs{Year: int(year), Module: "research_facilities"}, *job.Args)

	// A submodule that cannot be computed fails for good.
	res, err = w.Work(ctx, t, tx, jobs.FactorImportArgs{Year: int(year), Submodule: "plane", Method: jobs.MethodComputed}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCancelled, res.EventKind)
}

// computeYear computes the entries of a module-year (the state after an
// import).
func computeYear(ctx context.Context, t *testing.T, tx pgx.Tx, year int32, module emission.ModuleKey) {
	t.Helper()
	lk, err := calc.LoadLookup(ctx, tx, int(year), module)
	require.NoError(t, err)
	entries, err := dbsqlc.New(tx).EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{Year: year, Module: string(module), Limit: 1000})
	require.NoError(t, err)
	_, err = calc.ComputeAndStore(ctx, tx, lk, entries, time.Now())
	require.NoError(t, err)
}
