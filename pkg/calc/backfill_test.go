package calc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// TestBackfillSortValues: the entries computed before migration 000012 get
// their sort values from the engine, once, and nothing else changes.
func TestBackfillSortValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)
	rep := testfactory.Report(ctx, t, tx, nil)
	year := rep.Report.Year
	gva := testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{Latitude: new(46.238098), Longitude: new(6.10895)})
	zrh := testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{Latitude: new(47.458056), Longitude: new(8.548056)})
	room := testfactory.Room(ctx, t, tx, &testfactory.RoomOpts{SurfaceM2: new(42.0)})

	travel, buildings := rep.Module(emission.ModuleProfessionalTravel), rep.Module(emission.ModuleBuildings)
	trip := func(trips int) dbsqlc.DataEntry {
		return testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
			Data: map[string]any{"origin_iata": *gva.IataCode, "destination_iata": *zrh.IataCode, "user_institutional_id": "100001",
				"cabin_class": "economy", "number_of_trips": trips}, KgCO2eq: new(12.5)})
	}
	old, newer := trip(1), trip(2)
	// Computed since the migration: its value stays.
	require.NoError(t, q.EntrySetComputed(ctx, dbsqlc.EntrySetComputedParams{ID: newer.ID, KgCo2eq: 12.5, CalcStatus: "ok", DistanceKm: new(999.0)}))
	unknown := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
		Data: map[string]any{"origin_iata": "QQQ", "destination_iata": *zrh.IataCode, "user_institutional_id": "100001", "cabin_class": "economy"}})
	listed := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &buildings, Submodule: new("room"),
		Data: map[string]any{"building_name": room.BuildingName, "room_name": room.RoomName, "room_type": "office"}})
	fuel := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &buildings, Submodule: new("energy_combustion")})
	for _, m := range []emission.ModuleKey{emission.ModuleProfessionalTravel, emission.ModuleBuildings} {
		_, err := tx.Exec(ctx, "INSERT INTO entry_sort_backfill (year, module) VALUES ($1, $2)", year, string(m))
		require.NoError(t, err)
	}

	n, err := calc.BackfillSortValues(ctx, tx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "the old trip and the room")
	get := func(e dbsqlc.DataEntry) dbsqlc.DataEntry {
		t.Helper()
		got, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: e.ReportModuleID, Submodule: e.Submodule})
		require.NoError(t, err)
		return got
	}
	got := get(old)
	require.InDelta(t, 325, *got.DistanceKm, 0, "P2")
	require.Nil(t, got.SurfaceM2)
	require.InDelta(t, 12.5, got.KgCo2eq, 0, "numbers untouched")
	require.Equal(t, old.CalcStatus, got.CalcStatus)
	require.Equal(t, old.ComputedAt, got.ComputedAt)
	require.InDelta(t, 999, *get(newer).DistanceKm, 0)
	require.Nil(t, get(unknown).DistanceKm)
	require.InDelta(t, 42, *get(listed).SurfaceM2, 0)
	require.Nil(t, get(fuel).SurfaceM2)
	pending, err := q.EntrySortBackfillPending(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)

	n, err = calc.BackfillSortValues(ctx, tx)
	require.NoError(t, err)
	require.Zero(t, n, "done once")
}
