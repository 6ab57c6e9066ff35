package calc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestComputeAndStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)

	rep := testfactory.Report(ctx, t, tx, nil)
	year := rep.Report.Year
	// worked example H1: food.vegetarian 100 kg/FTE at 2 kg CO2-eq/kg.
	f := testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("member")})
	rm := rep.Module(emission.ModuleHeadcount)
	member := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm,
		Data: map[string]any{"name": "Ada", "sius_code": "54", "user_institutional_id": "100001", "fte": 0.8}})
	student := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("student"),
		Data: map[string]any{"fte": 2}})

	lk, err := calc.LoadLookup(ctx, tx, int(year), emission.ModuleHeadcount)
	require.NoError(t, err)
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

	for range 2 { // computing twice replaces the rows, never duplicates them
		got, err := calc.ComputeAndStore(ctx, tx, lk, []dbsqlc.DataEntry{member, student}, now)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, emission.StatusOK, got[0].Outcome.Status)
		require.Len(t, got[0].Rows, 1)
		require.InDelta(t, 0.8*100*2, float64(got[0].Outcome.Kg), 1e-9)
		require.Equal(t, emission.StatusNoFactor, got[1].Outcome.Status, "no student factor")
		require.Empty(t, got[1].Rows)
	}

	rows, err := q.EmissionsByEntry(ctx, member.ID)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "food.vegetarian", rows[0].EmissionType)
	require.Equal(t, f.ID, *rows[0].FactorID)
	require.InDelta(t, 160, rows[0].KgCo2eq, 1e-9)
	require.Equal(t, emission.EngineVersion, rows[0].EngineVersion)

	stored, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: member.ID, ReportModuleID: rm.ID, Submodule: "member"})
	require.NoError(t, err)
	require.Equal(t, "ok", stored.CalcStatus)
	require.InDelta(t, 160, stored.KgCo2eq, 1e-9)
	require.InDelta(t, 160, stored.KgCo2eqAdditional, 1e-9, "food is an additional category")
	require.Equal(t, f.ID, *stored.PrimaryFactorID)

	st, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: student.ID, ReportModuleID: rm.ID, Submodule: "student"})
	require.NoError(t, err)
	require.Equal(t, "no_factor", st.CalcStatus)
	require.NotNil(t, st.CalcMessage)
	require.Zero(t, st.KgCo2eq)
}

func TestLoadLookupReferenceData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	year := testfactory.Year(ctx, t, tx, nil).Year
	testfactory.Location(ctx, t, tx, nil)
	testfactory.Room(ctx, t, tx, nil)
	_, err := dbsqlc.New(tx).FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: year, Currency: "CHF", PerEur: 0.936, Source: "manual"})
	require.NoError(t, err)

	travel, err := calc.LoadLookup(ctx, tx, int(year), emission.ModuleProfessionalTravel)
	require.NoError(t, err)
	require.NotNil(t, travel.Locations)
	require.Nil(t, travel.Rooms)

	buildings, err := calc.LoadLookup(ctx, tx, int(year), emission.ModuleBuildings)
	require.NoError(t, err)
	require.NotNil(t, buildings.Rooms)

	purchases, err := calc.LoadLookup(ctx, tx, int(year), emission.ModulePurchases)
	require.NoError(t, err)
	require.InDelta(t, 0.936, purchases.FX["CHF"], 0)
}

// TestRecomputeAndStore checks that rewriting rows in place stores exactly
// what delete + COPY stores, and that entries whose rows no longer match
// (new factor, no row any more, more rows before) are replaced.
func TestRecomputeAndStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)

	rep := testfactory.Report(ctx, t, tx, nil)
	year := rep.Report.Year
	rm := rep.Module(emission.ModuleHeadcount)
	setFactor := func(perUnit float64) *emission.Lookup {
		t.Helper()
		testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year, Submodule: new("member"),
			Values: map[string]any{"number_of_unit_per_fte": perUnit, "ef_kg_co2eq_per_unit": 2, "unit": "kg"}})
		lk, err := calc.LoadLookup(ctx, tx, int(year), emission.ModuleHeadcount)
		require.NoError(t, err)
		return lk
	}
	lk := setFactor(100)
	a := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm,
		Data: map[string]any{"name": "Ada", "sius_code": "54", "user_institutional_id": "100001", "fte": 0.8}})
	b := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm,
		Data: map[string]any{"name": "Bob", "sius_code": "54", "user_institutional_id": "100002", "fte": 0.5}})
	student := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("student"),
		Data: map[string]any{"fte": 2}})
	entries := []dbsqlc.DataEntry{a, b, student}
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	_, err := calc.ComputeAndStore(ctx, tx, lk, entries, now)
	require.NoError(t, err)
	before, err := q.EmissionsByEntries(ctx, []int64{a.ID})
	require.NoError(t, err)
	require.Len(t, before, 1)
	// b's row moves to emission_rows, stale (as an older engine stored
	// rows): it must be replaced, not updated.
	_, err = tx.Exec(ctx, `UPDATE data_entries SET row_emission_type = NULL, row_scope = NULL, row_category = NULL,
		row_quantity = NULL, row_quantity_unit = NULL, row_meta = NULL, row_engine_version = NULL WHERE id = $1`, b.ID)
	require.NoError(t, err)
	_, err = q.EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{{
		EntryID: b.ID, ReportModuleID: rm.ID, EmissionType: "food.vegetarian", Scope: 3, Category: "food",
		KgCo2eq: 1, Meta: []byte(`{}`), EngineVersion: "old", ComputedAt: now,
	}})
	require.NoError(t, err)

	lk = setFactor(50)
	later := now.Add(time.Hour)
	got, err := calc.RecomputeAndStore(ctx, tx, lk, entries, later)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.InDelta(t, 0.8*50*2, float64(got[0].Outcome.Kg), 1e-9)

	rows, err := q.EmissionsByEntries(ctx, []int64{a.ID, b.ID, student.ID})
	require.NoError(t, err)
	require.Len(t, rows, 2, "one row each for a and b, none for the student")
	require.Equal(t, before[0].ID, rows[0].ID, "a's row is rewritten in place")
	require.InDelta(t, 80, rows[0].KgCo2eq, 1e-9)
	require.InDelta(t, 50, rows[1].KgCo2eq, 1e-9)

	// The same computation through delete + COPY stores the same values.
	_, err = calc.ComputeAndStore(ctx, tx, lk, entries, later)
	require.NoError(t, err)
	want, err := q.EmissionsByEntries(ctx, []int64{a.ID, b.ID, student.ID})
	require.NoError(t, err)
	require.Len(t, want, len(rows))
	for i := range rows {
		rows[i].ID, want[i].ID = 0, 0
		require.JSONEq(t, string(want[i].Meta), string(rows[i].Meta))
		rows[i].Meta, want[i].Meta = nil, nil
		require.Equal(t, want[i], rows[i])
	}
	stored, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: a.ID, ReportModuleID: rm.ID, Submodule: "member"})
	require.NoError(t, err)
	require.InDelta(t, 80, stored.KgCo2eq, 1e-9)
}
