package jobs_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestEmissionRecalc(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx pgx.Tx
		f  statsFixture
		pe dbsqlc.ReportModule
	}
	// setup: the process-emissions module is validated with fresh stats and
	// one recalculation is requested (seq 1).
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		f := newStatsFixture(ctx, t, tx)
		pe := f.rep.Module(emission.ModuleProcessEmissions)
		_, err := report.SetModuleStatus(ctx, tx, report.SetStatusInput{UnitID: pe.UnitID, Year: f.year, Module: "process_emissions", Status: "validated"})
		require.NoError(t, err)
		require.NoError(t, report.RefreshModuleIDs(ctx, tx, []int64{pe.ID}, time.Now()))
		_, err = dbsqlc.New(tx).ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: f.year, Module: "process_emissions", Reason: "factors"})
		require.NoError(t, err)
		return &testBundle{tx: tx, f: f, pe: pe}
	}
	worker := func(t *testing.T, w *jobs.EmissionRecalcWorker) *rivertest.Worker[jobs.EmissionRecalcArgs, pgx.Tx] {
		t.Helper()
		return rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w)
	}
	setFactor := func(t *testing.T, b *testBundle, ef float64) {
		t.Helper()
		testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.f.year, Submodule: new("process_gas"),
			Values: map[string]any{"ef_kg_co2eq_per_unit": ef, "unit": "kg"}})
	}
	entryKg := func(t *testing.T, b *testBundle) float64 {
		t.Helper()
		e, err := dbsqlc.New(b.tx).EntryGet(ctx, dbsqlc.EntryGetParams{ID: b.f.gas.ID, ReportModuleID: b.pe.ID, Submodule: "process_gas"})
		require.NoError(t, err)
		return e.KgCo2eq
	}

	t.Run("FactorChangeKeepsValidatedAndFlags", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		setFactor(t, b, 2000)
		res, err := worker(t, &jobs.EmissionRecalcWorker{DB: b.tx, BatchSize: 1}).Work(ctx, t, b.tx,
			jobs.EmissionRecalcArgs{Year: int(b.f.year), Module: "process_emissions"}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)

		require.InDelta(t, 4000.0, entryKg(t, b), 1e-9) // 2 kg × 2 000
		rm, err := dbsqlc.New(b.tx).ReportModuleGet(ctx, b.pe.ID)
		require.NoError(t, err)
		require.Equal(t, "validated", rm.Status, "D6: a recalculation never un-validates")
		require.True(t, rm.RecomputedAfterValidation)
		require.NotNil(t, rm.StatsDirtyAt)

		st, err := dbsqlc.New(b.tx).ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: b.f.year, Module: "process_emissions"})
		require.NoError(t, err)
		require.Equal(t, int64(1), st.RecalcDoneSeq)
		require.NotNil(t, st.LastRecalcAt)

		agg := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, &jobs.AggregateArgs{}, nil)
		require.Equal(t, int(b.f.year), agg.Args.Year)
		require.Zero(t, availableJobs(ctx, t, b.tx, "emission_recalc"), "no follow-up")
	})

	t.Run("UnchangedFactorDoesNotFlag", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := worker(t, &jobs.EmissionRecalcWorker{DB: b.tx}).Work(ctx, t, b.tx,
			jobs.EmissionRecalcArgs{Year: int(b.f.year), Module: "process_emissions"}, nil)
		require.NoError(t, err)
		rm, err := dbsqlc.New(b.tx).ReportModuleGet(ctx, b.pe.ID)
		require.NoError(t, err)
		require.False(t, rm.RecomputedAfterValidation)
		require.NotNil(t, rm.StatsDirtyAt, "touched modules are dirty")
		require.InDelta(t, 2860.0, entryKg(t, b), 1e-9)
	})

	t.Run("RequestDuringRunChainsFollowUp", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bumped := false
		// The clock is read once per batch: use it to land a new request
		// while the job runs (after it read seq0).
		now := func() time.Time {
			if !bumped {
				bumped = true
				_, err := dbsqlc.New(b.tx).ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: b.f.year, Module: "process_emissions", Reason: "factors"})
				require.NoError(t, err)
			}
			return time.Now()
		}
		_, err := worker(t, &jobs.EmissionRecalcWorker{DB: b.tx, Now: now}).Work(ctx, t, b.tx,
			jobs.EmissionRecalcArgs{Year: int(b.f.year), Module: "process_emissions"}, nil)
		require.NoError(t, err)
		st, err := dbsqlc.New(b.tx).ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: b.f.year, Module: "process_emissions"})
		require.NoError(t, err)
		require.Equal(t, int64(1), st.RecalcDoneSeq, "done = seq0, not the later request")
		require.Equal(t, int64(2), st.RecalcRequestedSeq)
		require.Equal(t, 1, availableJobs(ctx, t, b.tx, "emission_recalc"), "follow-up chained")
	})

	t.Run("ClosedYearSkipped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		setFactor(t, b, 2000)
		_, err := dbsqlc.New(b.tx).YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Year: b.f.year, Status: "closed", FromStatuses: []string{"open"}})
		require.NoError(t, err)
		res, err := worker(t, &jobs.EmissionRecalcWorker{DB: b.tx}).Work(ctx, t, b.tx,
			jobs.EmissionRecalcArgs{Year: int(b.f.year), Module: "process_emissions"}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.InDelta(t, 2860.0, entryKg(t, b), 1e-9, "frozen")
		require.Zero(t, availableJobs(ctx, t, b.tx, "aggregate"))
	})
}

func TestECBFXSyncRequestsRecalc(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: new(int32(2025))})                        // open
	testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: new(int32(2024)), Status: new("closed")}) // frozen

	srv := httptest.NewServer(fakes.NewECB(ecbFixtures))
	t.Cleanup(srv.Close)
	w := &jobs.ECBFXSyncWorker{
		DB: tx, Client: fx.NewClient(srv.URL, []string{"CHF", "USD", "GBP"}, srv.Client()), Logger: testdb.QuietLogger(),
		Now: func() time.Time { return time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC) },
	}
	res, err := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).Work(ctx, t, tx, jobs.ECBFXSyncArgs{Years: []int{2024, 2025}}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)

	require.Equal(t, 2, availableJobs(ctx, t, tx, "emission_recalc"), "purchases and external_cloud_ai of 2025")
	q := dbsqlc.New(tx)
	for _, m := range []string{"purchases", "external_cloud_ai"} {
		st, err := q.ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: 2025, Module: m})
		require.NoError(t, err)
		require.Equal(t, int64(1), st.RecalcRequestedSeq)
		require.NotNil(t, st.FxChangedAt)
		_, err = q.ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: 2024, Module: m})
		require.ErrorIs(t, err, pgx.ErrNoRows, "closed years are frozen")
	}
}
