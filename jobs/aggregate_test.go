package jobs_test

import (
	"context"
	"encoding/json"
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
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// statsFixture is an open year with a unit's report: one process-gas entry
// (G1: R134a 2 kg → 2 860 kg) and one member (FTE 1 → 200 kg food),
// computed by the engine; modules are left dirty as a write would.
type statsFixture struct {
	year int32
	rep  testfactory.ReportBundle
	gas  dbsqlc.DataEntry
}

func newStatsFixture(ctx context.Context, t *testing.T, tx pgx.Tx) statsFixture {
	t.Helper()
	year := testfactory.Year(ctx, t, tx, nil).Year
	unit := testfactory.Unit(ctx, t, tx, nil)
	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year})
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("process_gas")})
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("member")})
	pe, hc := rep.Module(emission.ModuleProcessEmissions), rep.Module(emission.ModuleHeadcount)
	gas := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas")})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member")})
	for _, m := range []emission.ModuleKey{emission.ModuleProcessEmissions, emission.ModuleHeadcount} {
		lk, err := calc.LoadLookup(ctx, tx, int(year), m)
		require.NoError(t, err)
		entries, err := dbsqlc.New(tx).EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{Year: year, Module: string(m), Limit: 100})
		require.NoError(t, err)
		_, err = calc.ComputeAndStore(ctx, tx, lk, entries, time.Now())
		require.NoError(t, err)
	}
	_, err := dbsqlc.New(tx).ReportModulesMarkStatsDirty(ctx, []int64{pe.ID, hc.ID})
	require.NoError(t, err)
	return statsFixture{year: year, rep: rep, gas: gas}
}

func decodeStats(ctx context.Context, t *testing.T, tx pgx.Tx, id int64) (*report.ModuleStats, dbsqlc.ReportModule) {
	t.Helper()
	rm, err := dbsqlc.New(tx).ReportModuleGet(ctx, id)
	require.NoError(t, err)
	s, err := report.DecodeModuleStats(rm.Stats)
	require.NoError(t, err)
	return s, rm
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	setup := func(t *testing.T) (pgx.Tx, statsFixture, *rivertest.Worker[jobs.AggregateArgs, pgx.Tx]) {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		f := newStatsFixture(ctx, t, tx)
		w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, &jobs.AggregateWorker{DB: tx})
		return tx, f, w
	}

	t.Run("RefreshesStatsThenNoOp", func(t *testing.T) {
		t.Parallel()
		tx, f, w := setup(t)
		res, err := w.Work(ctx, t, tx, jobs.AggregateArgs{Year: int(f.year)}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)

		pe, rm := decodeStats(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions).ID)
		require.Nil(t, rm.StatsDirtyAt)
		require.InDelta(t, 2860.0, pe.TotalKg, 1e-9)
		require.InDelta(t, 2860.0, pe.ByScope["1"], 1e-9)
		hc, _ := decodeStats(ctx, t, tx, f.rep.Module(emission.ModuleHeadcount).ID)
		require.InDelta(t, 200.0, hc.TotalKg, 1e-9)
		require.InDelta(t, 200.0, hc.AdditionalKg, 1e-9)
		require.InDelta(t, 1.0, hc.FTE.Total, 1e-12)

		r, err := dbsqlc.New(tx).ReportGet(ctx, f.rep.Report.ID)
		require.NoError(t, err)
		require.NotNil(t, r.StatsComputedAt)
		var rs report.ReportStats
		require.NoError(t, json.Unmarshal(r.Stats, &rs))
		require.InDelta(t, 3060.0, rs.All.TotalKg, 1e-9)
		require.Zero(t, rs.Validated.TotalKg)
		require.Zero(t, availableJobs(ctx, t, tx, "aggregate"), "no follow-up")

		// Second run: nothing dirty, stats untouched, no follow-up.
		before := rm.StatsComputedAt
		res, err = w.Work(ctx, t, tx, jobs.AggregateArgs{Year: int(f.year)}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		_, rm = decodeStats(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions).ID)
		require.Equal(t, before, rm.StatsComputedAt)
	})

	t.Run("LaterChangeChainsFollowUp", func(t *testing.T) {
		t.Parallel()
		tx, f, w := setup(t)
		// A change stamped after the run's t0 is left for a follow-up run.
		eq := f.rep.Module(emission.ModuleEquipment)
		_, err := tx.Exec(ctx, "UPDATE report_modules SET stats_dirty_at = clock_timestamp() + interval '1 hour' WHERE id = $1", eq.ID)
		require.NoError(t, err)
		_, err = w.Work(ctx, t, tx, jobs.AggregateArgs{Year: int(f.year)}, nil)
		require.NoError(t, err)
		_, rm := decodeStats(ctx, t, tx, eq.ID)
		require.NotNil(t, rm.StatsDirtyAt, "not refreshed, still dirty")
		_, rm = decodeStats(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions).ID)
		require.Nil(t, rm.StatsDirtyAt)
		require.Equal(t, 1, availableJobs(ctx, t, tx, "aggregate"), "follow-up chained")
	})

	t.Run("InsertOpts", func(t *testing.T) {
		t.Parallel()
		opts := jobs.AggregateArgs{}.InsertOpts()
		require.Equal(t, 10, opts.MaxAttempts)
		require.True(t, opts.UniqueOpts.ByArgs)
		opts = jobs.EmissionRecalcArgs{}.InsertOpts()
		require.Equal(t, 5, opts.MaxAttempts)
		require.Equal(t, jobs.QueueCompute, opts.Queue)
	})
}

// availableJobs counts jobs of a kind waiting to run (the job worked by
// rivertest is completed and not counted).
func availableJobs(ctx context.Context, t *testing.T, tx pgx.Tx, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'available'", kind).Scan(&n))
	return n
}
