package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestModuleAndReportStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("HandComputedSums", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		setStatus(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions), report.StatusValidated)
		setStatus(ctx, t, tx, f.rep.Module(emission.ModuleHeadcount), report.StatusInProgress)
		f.refreshAll(ctx, t, tx)

		pe := moduleStats(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions).ID)
		require.InDelta(t, 2860.0, pe.TotalKg, 1e-9) // G1: R134a 2 kg × 1 430
		require.InDelta(t, 2860.0, pe.MainKg, 1e-9)
		require.Zero(t, pe.AdditionalKg)
		require.InDelta(t, 2860.0, pe.ByScope["1"], 1e-9)
		require.InDelta(t, 2860.0, pe.ByCategory["process_emissions"], 1e-9)
		require.InDelta(t, 2860.0, pe.ByEmissionType["process_emissions.refrigerants"], 1e-9)
		require.Equal(t, map[string]int64{"process_gas": 1}, pe.EntriesBySubmodule)
		require.Nil(t, pe.FTE)

		hc := moduleStats(ctx, t, tx, f.rep.Module(emission.ModuleHeadcount).ID)
		require.InDelta(t, 300.0, hc.TotalKg, 1e-9) // (1 + 0.5) FTE × 100 kg × 2 kg CO2/kg
		require.InDelta(t, 300.0, hc.AdditionalKg, 1e-9)
		require.InDelta(t, 300.0, hc.ByScope["3"], 1e-9)
		require.InDelta(t, 300.0, hc.ByCategory["food"], 1e-9)
		require.Equal(t, emission.Quantity{Value: 150, Unit: "kg"}, hc.QuantityByEmissionType["food.vegetarian"])
		require.NotNil(t, hc.FTE)
		require.InDelta(t, 1.5, hc.FTE.Total, 1e-12)
		require.InDelta(t, 1.5, hc.FTE.BySiusCode["53"], 1e-12)
		require.Equal(t, int64(2), hc.Entries())
		require.Zero(t, hc.CalcIssues)

		rs := reportStats(ctx, t, tx, f.rep.Report.ID)
		require.InDelta(t, 3160.0, rs.All.TotalKg, 1e-9)
		require.InDelta(t, 2860.0, rs.All.MainKg, 1e-9)
		require.InDelta(t, 300.0, rs.All.AdditionalKg, 1e-9)
		require.InDelta(t, 1.5, *rs.All.FTE, 1e-12)
		require.InDelta(t, 2860.0, rs.Validated.TotalKg, 1e-9)
		require.Nil(t, rs.Validated.FTE, "headcount not validated")
		require.Equal(t, map[string]float64{"process_emissions": 2860}, rs.Validated.ByModule)
		require.Equal(t, "process_emissions", *rs.HighestCategoryModule)

		r, err := dbsqlc.New(tx).ReportGet(ctx, f.rep.Report.ID)
		require.NoError(t, err)
		require.Equal(t, "in_progress", r.OverallStatus)
		require.Equal(t, int16(1), r.ValidatedModules)
		require.Equal(t, int16(8), r.EnabledModules)
	})

	t.Run("CompareAndClear", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		q := dbsqlc.New(tx)
		pe := f.rep.Module(emission.ModuleProcessEmissions)
		hc := f.rep.Module(emission.ModuleHeadcount)
		_, err := q.ReportModulesMarkStatsDirty(ctx, []int64{pe.ID, hc.ID})
		require.NoError(t, err)
		t0, err := q.DBClock(ctx)
		require.NoError(t, err)
		dirty, err := q.ReportModulesDirty(ctx, dbsqlc.ReportModulesDirtyParams{Year: f.year, DirtyBefore: t0})
		require.NoError(t, err)
		require.Len(t, dirty, 2)

		// A write lands on headcount after the read: its flag must survive.
		_, err = tx.Exec(ctx, "UPDATE report_modules SET stats_dirty_at = clock_timestamp() WHERE id = $1", hc.ID)
		require.NoError(t, err)
		_, err = report.RefreshModules(ctx, tx, dirty, time.Now())
		require.NoError(t, err)

		got, err := q.ReportModuleGet(ctx, pe.ID)
		require.NoError(t, err)
		require.Nil(t, got.StatsDirtyAt)
		got, err = q.ReportModuleGet(ctx, hc.ID)
		require.NoError(t, err)
		require.NotNil(t, got.StatsDirtyAt)
		require.InDelta(t, 300.0, moduleStats(ctx, t, tx, hc.ID).TotalKg, 1e-9, "stats are still written")
	})

	t.Run("CurrentStatsAreNotComputedAgain", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		q := dbsqlc.New(tx)
		pe := f.rep.Module(emission.ModuleProcessEmissions)
		hc := f.rep.Module(emission.ModuleHeadcount)
		_, err := q.ReportModulesMarkStatsDirty(ctx, []int64{pe.ID, hc.ID})
		require.NoError(t, err)
		// An import stores the stats of its module in the transaction that
		// marked it dirty.
		require.NoError(t, report.StoreCurrentStats(ctx, tx, []report.ModuleRef{{ID: pe.ID, Module: pe.Module}}, time.Now()))
		require.InDelta(t, 2860.0, moduleStats(ctx, t, tx, pe.ID).TotalKg, 1e-9)

		// The entry changes behind the dirty flag's back: were the stats
		// computed again, they would show it.
		_, err = tx.Exec(ctx, "UPDATE data_entries SET kg_co2eq = 2 * kg_co2eq WHERE report_module_id = $1", pe.ID)
		require.NoError(t, err)
		t0, err := q.DBClock(ctx)
		require.NoError(t, err)
		dirty, err := q.ReportModulesDirty(ctx, dbsqlc.ReportModulesDirtyParams{Year: f.year, DirtyBefore: t0})
		require.NoError(t, err)
		current := map[int64]bool{}
		for _, d := range dirty {
			current[d.ID] = d.StatsCurrent
		}
		require.Equal(t, map[int64]bool{pe.ID: true, hc.ID: false}, current)
		reports, err := report.RefreshModules(ctx, tx, dirty, time.Now())
		require.NoError(t, err)
		require.Equal(t, []int64{f.rep.Report.ID}, reports)
		require.NoError(t, report.RefreshReports(ctx, tx, reports, time.Now()))

		require.InDelta(t, 2860.0, moduleStats(ctx, t, tx, pe.ID).TotalKg, 1e-9, "current stats kept")
		require.InDelta(t, 300.0, moduleStats(ctx, t, tx, hc.ID).TotalKg, 1e-9, "the other module computed")
		for _, id := range []int64{pe.ID, hc.ID} {
			got, err := q.ReportModuleGet(ctx, id)
			require.NoError(t, err)
			require.Nil(t, got.StatsDirtyAt, "module %d cleared", id)
		}
		require.InDelta(t, 3160.0, reportStats(ctx, t, tx, f.rep.Report.ID).All.TotalKg, 1e-9, "the report refreshed")

		// A later change stamps another dirty value: computed again.
		_, err = tx.Exec(ctx, "UPDATE report_modules SET stats_dirty_at = clock_timestamp() WHERE id = $1", pe.ID)
		require.NoError(t, err)
		dirty, err = q.ReportModulesDirty(ctx, dbsqlc.ReportModulesDirtyParams{Year: f.year, DirtyBefore: t0.Add(time.Hour)})
		require.NoError(t, err)
		require.Len(t, dirty, 1)
		require.False(t, dirty[0].StatsCurrent)
		_, err = report.RefreshModules(ctx, tx, dirty, time.Now())
		require.NoError(t, err)
		require.InDelta(t, 5720.0, moduleStats(ctx, t, tx, pe.ID).TotalKg, 1e-9)
	})

	t.Run("EmptyModule", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		f.refreshAll(ctx, t, tx)
		s := moduleStats(ctx, t, tx, f.rep.Module(emission.ModuleEquipment).ID)
		require.Zero(t, s.TotalKg)
		require.Equal(t, map[string]float64{"1": 0, "2": 0, "3": 0}, s.ByScope)
		require.Empty(t, s.EntriesBySubmodule)
	})
}
