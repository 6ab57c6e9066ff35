package report_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func stats(total, main, additional float64, byScope, byCat, byType map[string]float64) *report.ModuleStats {
	return &report.ModuleStats{
		TotalKg: total, MainKg: main, AdditionalKg: additional, ByScope: byScope, ByCategory: byCat,
		ByEmissionType: byType, EntriesBySubmodule: map[string]int64{},
	}
}

// r1 stores docs/domain.md §13 example R1: validated headcount (FTE 10,
// 4 000 kg), travel 6 000 kg, buildings 2 500 kg incl. 500 kg embodied; the
// previous year has a validated total of 10 000 kg.
func r1(ctx context.Context, t *testing.T, tx pgx.Tx) (unitID int64, year int32) {
	t.Helper()
	prev, cur := yearPair()
	for _, y := range []int32{prev, cur} {
		testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: &y})
	}
	unit := testfactory.Unit(ctx, t, tx, nil)
	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &cur})
	hc := stats(4000, 0, 4000, map[string]float64{"3": 4000}, map[string]float64{"food": 2500, "commuting": 1500},
		map[string]float64{"food.vegetarian": 2500, "commuting.car": 1500})
	hc.FTE = &report.FTE{Total: 10, BySiusCode: map[string]float64{"53": 10}}
	storeStats(ctx, t, tx, rep.Module(emission.ModuleHeadcount), hc)
	storeStats(ctx, t, tx, rep.Module(emission.ModuleProfessionalTravel), stats(6000, 6000, 0, map[string]float64{"3": 6000},
		map[string]float64{"professional_travel": 6000}, map[string]float64{"professional_travel.plane.economy": 6000}))
	b := stats(2500, 2000, 500, map[string]float64{"2": 2000, "3": 500},
		map[string]float64{"buildings_room": 2000, "embodied_energy": 500},
		map[string]float64{"buildings.rooms.lighting.office": 2000, "buildings.construction_and_renovation.new_tech": 500})
	b.EmbodiedByBuilding = map[string]map[string]float64{
		"BC": {"buildings.construction_and_renovation.new_tech": 300},
		"BX": {"buildings.construction_and_renovation.new_tech": 200},
	}
	storeStats(ctx, t, tx, rep.Module(emission.ModuleBuildings), b)
	// In progress: shown in the module list, never in the headline.
	storeStats(ctx, t, tx, rep.Module(emission.ModuleEquipment), stats(1000, 1000, 0, map[string]float64{"2": 1000},
		map[string]float64{"equipment": 1000}, map[string]float64{"equipment.it": 1000}))
	for _, m := range []emission.ModuleKey{emission.ModuleHeadcount, emission.ModuleProfessionalTravel, emission.ModuleBuildings} {
		setStatus(ctx, t, tx, rep.Module(m), report.StatusValidated)
	}
	setStatus(ctx, t, tx, rep.Module(emission.ModuleEquipment), report.StatusInProgress)

	prevRep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &prev})
	storeStats(ctx, t, tx, prevRep.Module(emission.ModuleProfessionalTravel), stats(10000, 10000, 0, map[string]float64{"3": 10000},
		map[string]float64{"professional_travel": 10000}, map[string]float64{"professional_travel.plane.economy": 10000}))
	setStatus(ctx, t, tx, prevRep.Module(emission.ModuleProfessionalTravel), report.StatusValidated)
	return unit.ID, cur
}

func TestResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SummaryR1", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		unitID, year := r1(ctx, t, tx)
		s, err := report.GetSummary(ctx, tx, unitID, year, report.Options{})
		require.NoError(t, err)
		require.InDelta(t, 12500.0, s.Totals.KgCO2eq, 0)
		require.InDelta(t, 12.5, s.Totals.TCO2eq, 0)
		require.InDelta(t, 10.0, *s.Totals.FTE, 0)
		require.InDelta(t, 1.25, *s.Totals.TCO2eqPerFTE, 0)
		require.Equal(t, int64(41722), s.Totals.EquivalentCarKm)
		require.InDelta(t, 10.0, *s.Totals.PreviousYearTCO2eq, 0)
		require.InDelta(t, 25.0, *s.Totals.YoYPercent, 0)
		require.Equal(t, map[string]float64{"1": 0, "2": 2, "3": 10.5}, s.ByScopeTCO2eq)
		require.Equal(t, []string{"headcount", "professional_travel", "buildings"}, s.ValidatedModules)
		require.Len(t, s.Modules, 8)
		eq := s.Modules[3]
		require.Equal(t, "equipment", eq.Module)
		require.False(t, eq.Validated)
		require.InDelta(t, 1.0, eq.TCO2eq, 0, "shown for information")
		travel := s.Modules[1]
		require.InDelta(t, 10.0, *travel.PreviousYearTCO2eq, 0)
		require.InDelta(t, -40.0, *travel.YoYPercent, 0)
		require.Nil(t, s.Modules[0].PreviousYearTCO2eq, "headcount not validated last year")
		require.InDelta(t, 0.2996, s.CarKgPerKm, 0)
	})

	t.Run("SummaryExcludeModules", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		unitID, year := r1(ctx, t, tx)
		s, err := report.GetSummary(ctx, tx, unitID, year, report.Options{ExcludeModules: []string{"professional_travel"}, CarKgPerKm: 0.2})
		require.NoError(t, err)
		require.InDelta(t, 6.5, s.Totals.TCO2eq, 0)
		require.InDelta(t, 0.65, *s.Totals.TCO2eqPerFTE, 0)
		require.Equal(t, int64(32500), s.Totals.EquivalentCarKm)
		require.InDelta(t, 0.0, *s.Totals.PreviousYearTCO2eq, 0)
		require.Nil(t, s.Totals.YoYPercent, "previous is 0")
		require.Len(t, s.Modules, 7)

		s, err = report.GetSummary(ctx, tx, unitID, year, report.Options{ExcludeModules: []string{"headcount"}})
		require.NoError(t, err)
		require.Nil(t, s.Totals.FTE)
		require.Nil(t, s.Totals.TCO2eqPerFTE)
	})

	t.Run("BreakdownR1", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		unitID, year := r1(ctx, t, tx)
		b, err := report.GetBreakdown(ctx, tx, unitID, year, report.Options{})
		require.NoError(t, err)
		require.Equal(t, "validated", b.Scope)
		require.InDelta(t, 12.5, b.TotalTCO2eq, 0)
		require.Len(t, b.Categories, 12)
		var main, additional float64
		for _, c := range b.Categories {
			if c.Group == "main" {
				main += c.TCO2eq
			} else {
				additional += c.TCO2eq
			}
		}
		require.InDelta(t, 8.0, main, 1e-12)
		require.InDelta(t, 4.5, additional, 1e-12)
		require.Equal(t, "process_emissions", b.Categories[0].Category)
		eqCat := b.Categories[3]
		require.Equal(t, "equipment", eqCat.Category)
		require.Zero(t, eqCat.TCO2eq, "equipment is in progress")
		require.False(t, eqCat.Validated)
		travel := b.Categories[7]
		require.Equal(t, "professional_travel", travel.Category)
		require.True(t, travel.Validated)
		require.InDelta(t, 0.6, *travel.TCO2eqPerFTE, 0)
		require.Equal(t, []report.EmissionTypeT{{EmissionType: "professional_travel.plane.economy", Key: "economy", ParentKey: "plane", TCO2eq: 6}}, travel.EmissionTypes)
		require.Equal(t, []report.BuildingT{{BuildingName: "BC", TCO2eq: 0.3}, {BuildingName: "BX", TCO2eq: 0.2}}, b.EmbodiedByBuilding)
		require.Equal(t, []report.CategoryT{{Category: "new_tech", TCO2eq: 0.5}}, b.EmbodiedByCategory)

		all, err := report.GetBreakdown(ctx, tx, unitID, year, report.Options{Scope: "all"})
		require.NoError(t, err)
		require.InDelta(t, 13.5, all.TotalTCO2eq, 0)
		require.InDelta(t, 1.0, all.Categories[3].TCO2eq, 0)

		_, err = report.GetBreakdown(ctx, tx, unitID, year, report.Options{Scope: "nope"})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
	})

	t.Run("ComputedFixtureValidatedVsAll", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		setStatus(ctx, t, tx, f.rep.Module(emission.ModuleProcessEmissions), report.StatusValidated)
		setStatus(ctx, t, tx, f.rep.Module(emission.ModuleHeadcount), report.StatusInProgress)
		f.refreshAll(ctx, t, tx)

		s, err := report.GetSummary(ctx, tx, f.unit.ID, f.year, report.Options{})
		require.NoError(t, err)
		require.InDelta(t, 2860.0, s.Totals.KgCO2eq, 0)
		require.Nil(t, s.Totals.FTE, "headcount not validated")
		require.Equal(t, int64(9546), s.Totals.EquivalentCarKm) // 2 860 / 0.2996
		require.Nil(t, s.Totals.PreviousYearTCO2eq)

		all, err := report.GetBreakdown(ctx, tx, f.unit.ID, f.year, report.Options{Scope: "all"})
		require.NoError(t, err)
		require.InDelta(t, 3.16, all.TotalTCO2eq, 0)
		require.InDelta(t, 1.5, *all.TotalFTE, 0)
		food := all.Categories[9]
		require.Equal(t, "food", food.Category)
		require.InDelta(t, 0.2, *food.TCO2eqPerFTE, 0)
		require.InDelta(t, 150.0, *food.EmissionTypes[0].Quantity, 1e-9)

		val, err := report.GetBreakdown(ctx, tx, f.unit.ID, f.year, report.Options{ExcludeModules: []string{"process_emissions"}})
		require.NoError(t, err)
		require.Zero(t, val.TotalTCO2eq)
	})

	t.Run("ITAndYearly", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		unitID, year := r1(ctx, t, tx)
		it, err := report.GetIT(ctx, tx, unitID, year, report.Options{Scope: "all"})
		require.NoError(t, err)
		require.InDelta(t, 1.0, it.TotalTCO2eq, 0)
		require.InDelta(t, 1.0, it.ByScopeTCO2eq["2"], 0)
		require.InDelta(t, 7.4, *it.PercentOfTotal, 0) // 1 000 / 13 500
		require.Equal(t, "equipment_it", it.Categories[0].Key)
		require.InDelta(t, 100.0, *it.Categories[0].Percent, 0)

		val, err := report.GetIT(ctx, tx, unitID, year, report.Options{})
		require.NoError(t, err)
		require.Zero(t, val.TotalTCO2eq)

		ys, err := report.GetYearly(ctx, tx, unitID, report.Options{})
		require.NoError(t, err)
		require.Equal(t, []report.YearPoint{
			{Year: year - 1, TCO2eq: 10, ValidatedModules: 1, EnabledModules: 8},
			{Year: year, TCO2eq: 12.5, ValidatedModules: 3, EnabledModules: 8},
		}, ys)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		_, err := report.GetSummary(ctx, tx, -1, 2020, report.Options{})
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		_, err = report.GetYearly(ctx, tx, -1, report.Options{})
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("ParseExcludeModules", func(t *testing.T) {
		t.Parallel()
		got, err := report.ParseExcludeModules([]string{"research_facilities,equipment", "", "purchases"})
		require.NoError(t, err)
		require.Equal(t, []string{"research_facilities", "equipment", "purchases"}, got)
		_, err = report.ParseExcludeModules([]string{"bogus"})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
	})
}
