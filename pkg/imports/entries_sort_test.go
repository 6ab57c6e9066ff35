package imports_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// TestEntryWriterStoresSortValues: imported entries are COPYed with the sort
// values the entry lists sort by (data_entries.distance_km, surface_m2).
func TestEntryWriterStoresSortValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	rep := testfactory.Report(ctx, t, tx, nil)
	gva := testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{Latitude: new(46.238098), Longitude: new(6.10895)})
	zrh := testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{Latitude: new(47.458056), Longitude: new(8.548056)})
	room := testfactory.Room(ctx, t, tx, &testfactory.RoomOpts{SurfaceM2: new(42.0)})

	write := func(module emission.ModuleKey, sub emission.SubmoduleKey, data map[string]any, owner string) dbsqlc.DataEntry {
		t.Helper()
		lk, err := calc.LoadLookup(ctx, tx, int(rep.Report.Year), module)
		require.NoError(t, err)
		raw, err := json.Marshal(data)
		require.NoError(t, err)
		p, err := emission.DecodePayload(sub, raw)
		require.NoError(t, err)
		rm := rep.Module(module)
		w := imports.NewEntryWriter(ctx, tx, lk, imports.EntryTarget{Year: rep.Report.Year, Source: "csv_unit"}, time.Now(), 0)
		require.NoError(t, w.Add(ingest.DataRow{Module: module, Submodule: sub, Payload: p, Data: raw, OwnerSciper: owner}, rm.ID, rm.UnitID))
		written, err := w.Close()
		require.NoError(t, err)
		require.Equal(t, 1, written.Loaded)
		rows, err := dbsqlc.New(tx).EntriesByReportModule(ctx, rm.ID)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		return rows[0]
	}
	trip := write(emission.ModuleProfessionalTravel, emission.SubPlane, map[string]any{"origin_iata": *gva.IataCode,
		"destination_iata": *zrh.IataCode, "user_institutional_id": "100001", "cabin_class": "economy", "number_of_trips": 2}, "100001")
	require.InDelta(t, 650, *trip.DistanceKm, 0, "P2 twice")
	require.Nil(t, trip.SurfaceM2)
	listed := write(emission.ModuleBuildings, emission.SubRoom, map[string]any{"building_name": room.BuildingName,
		"room_name": room.RoomName, "room_type": "office"}, "")
	require.InDelta(t, 42, *listed.SurfaceM2, 0, "the reference room's surface")
	require.Nil(t, listed.DistanceKm)
}
