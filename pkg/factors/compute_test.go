package factors_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// facilityRows are the emission rows of the facility's report: one per
// source of docs/domain.md §7.6, plus rows no sum counts.
var facilityRows = []struct {
	module   emission.ModuleKey
	et       string
	category string
	scope    int16
	kg       float64
}{
	{emission.ModuleProcessEmissions, "process_emissions.co2", "process_emissions", 1, 100},
	{emission.ModuleBuildings, "buildings.rooms.lighting.office", "buildings_room", 2, 200},
	{emission.ModuleBuildings, "buildings.combustion.natural_gas", "buildings_energy_combustion", 1, 50},
	{emission.ModuleBuildings, "buildings.construction_and_renovation.new_tech", "embodied_energy", 3, 1000}, // not counted
	{emission.ModuleEquipment, "equipment.it", "equipment", 2, 30},
	{emission.ModulePurchases, "purchases.it_equipment", "purchases", 3, 400},
	{emission.ModulePurchases, "purchases.additional.ln2", "purchases", 1, 7},
	{emission.ModuleProfessionalTravel, "professional_travel.plane.economy", "professional_travel", 3, 9999}, // not counted
}

// seedFacility gives unit cf a report for year with facilityRows.
func seedFacility(ctx context.Context, t *testing.T, tx pgx.Tx, year int32, unitID int64) {
	t.Helper()
	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unitID, Year: &year})
	subs := map[emission.ModuleKey]string{emission.ModuleProcessEmissions: "process_gas", emission.ModuleBuildings: "energy_combustion",
		emission.ModuleEquipment: "it", emission.ModulePurchases: "services", emission.ModuleProfessionalTravel: "plane"}
	entries := map[emission.ModuleKey]dbsqlc.DataEntry{}
	var rows []dbsqlc.EmissionsCopyFromParams
	for _, r := range facilityRows {
		rm := rep.Module(r.module)
		e, ok := entries[r.module]
		if !ok {
			e = testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new(subs[r.module])})
			entries[r.module] = e
		}
		rows = append(rows, dbsqlc.EmissionsCopyFromParams{EntryID: e.ID, ReportModuleID: rm.ID, EmissionType: r.et, Scope: r.scope,
			Category: r.category, KgCo2eq: r.kg, Meta: json.RawMessage(`{}`), EngineVersion: emission.EngineVersion, ComputedAt: time.Now()})
	}
	_, err := dbsqlc.New(tx).EmissionsCopyFrom(ctx, rows)
	require.NoError(t, err)
}

func TestComputedSums(t *testing.T) {
	t.Parallel()
	byType := map[emission.EmissionType]float64{}
	for _, r := range facilityRows {
		byType[emission.EmissionType(r.et)] += r.kg
	}
	require.Equal(t, map[string]float64{"kg_co2eq_sum": 787}, factors.ComputedSums(emission.SubFacility, byType))
	require.Equal(t, map[string]float64{
		"kg_co2eq_sum_process_emissions": 100, "kg_co2eq_sum_buildings_energy_combustion": 50, "kg_co2eq_sum_buildings_rooms": 200,
		"kg_co2eq_sum_purchases_common": 400, "kg_co2eq_sum_purchases_additional": 7, "kg_co2eq_sum_equipment": 30,
	}, factors.ComputedSums(emission.SubAnimalFacility, byType))
}

func TestCompute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(ctx, t)
	unit := testfactory.Unit(ctx, t, b.tx, nil)
	seedFacility(ctx, t, b.tx, b.year, unit.ID)
	noReport := testfactory.Unit(ctx, t, b.tx, nil)
	cf := *unit.Cf

	facility := func(id, name string, vals map[string]any) dbsqlc.Factor {
		return testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("facility"),
			Classification: map[string]string{"researchfacility_id": id, "researchfacility_name": name}, Values: vals})
	}
	computed := facility(cf, "EM", map[string]any{"use_unit": "hours", "total_use": 100})
	kept := facility(cf, "EM bis", map[string]any{"use_unit": "hours", "total_use": 100, "kg_co2eq_sum": 5, "kg_co2eq_sum_from_csv": true})
	unknown := facility("no-such-cf", "Ghost", map[string]any{"use_unit": "hours", "total_use": 1})
	facility(*noReport.Cf, "Empty", map[string]any{"use_unit": "hours", "total_use": 1})
	animal := testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("animal_facility"),
		Classification: map[string]string{"researchfacility_id": cf, "researchfacility_name": "AF", "researchfacility_type": "mice"},
		Values:         map[string]any{"use_unit": "cage_days", "total_use": 900, "equipment_share": 0.5}})

	var out factors.ComputeOutcome
	finish := func(_ context.Context, _ pgx.Tx, o factors.ComputeOutcome) error { out = o; return nil }
	require.NoError(t, b.svc.Compute(ctx, b.year, emission.SubFacility, finish))

	require.Equal(t, b.year, out.Year)
	require.Equal(t, emission.ModuleResearchFacilities, out.Module)
	require.Equal(t, map[string]any{"factors_computed": 2, "factors_unchanged": 2, "row_warnings": 2}, out.Result.Counters)
	warns, ok := out.Result.RowErrors.([]ingest.RowError)
	require.True(t, ok)
	require.Len(t, warns, 2)
	require.ElementsMatch(t, []string{factors.CodeUnknownUnit, factors.CodeNoReport}, []string{warns[0].Code, warns[1].Code})
	require.Equal(t, ingest.SeverityWarning, warns[0].Severity)

	get := func(id int64) factors.Factor {
		f, err := b.svc.Get(ctx, id)
		require.NoError(t, err)
		return f
	}
	f := get(computed.ID)
	require.Equal(t, factors.SourceComputed, f.Source)
	require.InDelta(t, 787.0, f.Values["kg_co2eq_sum"], 1e-9, "process, buildings without embodied, equipment, purchases")
	require.Equal(t, int64(2), f.Version)
	f = get(kept.ID)
	require.InDelta(t, 5.0, f.Values["kg_co2eq_sum"], 0, "a sum given by a person is kept")
	require.Equal(t, factors.SourceComputed, f.Source)
	f = get(unknown.ID)
	require.Equal(t, factors.SourceCSV, f.Source, "left unchanged")
	require.Equal(t, int64(1), f.Version)
	require.Equal(t, int64(1), recalcSeq(ctx, t, b.tx, b.year, "research_facilities"))
	require.Equal(t, []string{factors.EventUpdate}, auditEvents(ctx, t, b.tx, "factor", itoa(computed.ID)))

	// Animal facilities: one sum per source; the shares stay.
	require.NoError(t, b.svc.Compute(ctx, b.year, emission.SubAnimalFacility, finish))
	f = get(animal.ID)
	require.Equal(t, map[string]any{"use_unit": "cage_days", "total_use": 900.0, "equipment_share": 0.5,
		"kg_co2eq_sum_process_emissions": 100.0, "kg_co2eq_sum_buildings_energy_combustion": 50.0, "kg_co2eq_sum_buildings_rooms": 200.0,
		"kg_co2eq_sum_purchases_common": 400.0, "kg_co2eq_sum_purchases_additional": 7.0, "kg_co2eq_sum_equipment": 30.0}, f.Values)

	// A second run changes nothing.
	require.NoError(t, b.svc.Compute(ctx, b.year, emission.SubAnimalFacility, finish))
	require.Equal(t, map[string]any{"factors_computed": 0, "factors_unchanged": 1, "row_warnings": 0}, out.Result.Counters)

	err := b.svc.Compute(ctx, b.year, emission.SubPlane, finish)
	require.Equal(t, apperr.CodeInvalid, apperr.CodeOf(err))
	closed := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("closed")}).Year
	err = b.svc.Compute(ctx, closed, emission.SubFacility, finish)
	requireReason(t, err, apperr.CodeConflict, "year_closed")
}

func TestRequestCompute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(ctx, t)
	p, err := b.svc.RequestCompute(ctx, nil, b.year, "animal_facility")
	require.NoError(t, err)
	require.Equal(t, "factor_compute", p.Kind)
	require.Len(t, p.Jobs, 1)
	require.Equal(t, "factor_import", p.Jobs[0].Kind)
	require.Equal(t, []string{factors.EventCompute}, auditEvents(ctx, t, b.tx, "factor", itoa(int64(b.year))+"/animal_facility"))

	_, err = b.svc.RequestCompute(ctx, nil, b.year, "plane")
	requireFields(t, err, map[string]string{"submodule": "invalid_enum"})
	closed := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("closed")}).Year
	_, err = b.svc.RequestCompute(ctx, nil, closed, "facility")
	requireReason(t, err, apperr.CodeConflict, "year_closed")
}
