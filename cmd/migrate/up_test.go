package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// sortValuesMigration is the migration that stores the entries' sort
// values (000012_entry_sort_values).
const sortValuesMigration = 12

// TestRunUpBackfillsSortValues: entries computed by a version before
// migration 000012 get their sort values from `migrate up` (the migration,
// then calc.BackfillSortValues), and a second `migrate up` changes nothing.
func TestRunUpBackfillsSortValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	pool := schema.Pool
	m, err := postgres.NewMigrator(schema.URL, schema.Name, testdb.QuietLogger())
	require.NoError(t, err)

	// Reference data and reports at the latest version, kept by the way down.
	rep := testfactory.Report(ctx, t, pool, nil)
	gva := testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{Latitude: new(46.238098), Longitude: new(6.10895)})
	zrh := testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{Latitude: new(47.458056), Longitude: new(8.548056)})
	room := testfactory.Room(ctx, t, pool, &testfactory.RoomOpts{SurfaceM2: new(42.0)})

	// Down to the version before 000012.
	appVersion := func() uint {
		t.Helper()
		vs, err := m.Versions(ctx)
		require.NoError(t, err)
		for _, v := range vs {
			if v.Set == "app" {
				return v.Version
			}
		}
		t.Fatal("no app migration set")
		return 0
	}
	for appVersion() >= sortValuesMigration {
		require.NoError(t, m.Down(ctx, 1))
	}
	var hasColumn bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'data_entries' AND column_name = 'distance_km')`).Scan(&hasColumn))
	require.False(t, hasColumn)

	// Entries computed by that version: totals set, no sort values.
	insert := func(module emission.ModuleKey, sub, data string) int64 {
		t.Helper()
		rm := rep.Module(module)
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO data_entries (report_module_id, unit_id, year, module, submodule, data,
			source, calc_status, kg_co2eq, computed_at) VALUES ($1, $2, $3, $4, $5, $6, 'csv_unit', 'ok', 12.5, now()) RETURNING id`,
			rm.ID, rm.UnitID, rm.Year, rm.Module, sub, data).Scan(&id))
		return id
	}
	trip := insert(emission.ModuleProfessionalTravel, "plane", `{"origin_iata": "`+*gva.IataCode+`", "destination_iata": "`+*zrh.IataCode+
		`", "user_institutional_id": "100001", "cabin_class": "economy", "number_of_trips": 2}`)
	unknown := insert(emission.ModuleProfessionalTravel, "plane", `{"origin_iata": "QQQ", "destination_iata": "`+*zrh.IataCode+
		`", "user_institutional_id": "100001", "cabin_class": "economy"}`)
	listed := insert(emission.ModuleBuildings, "room", `{"building_name": "`+room.BuildingName+`", "room_name": "`+room.RoomName+
		`", "room_type": "office"}`)
	member := insert(emission.ModuleHeadcount, "member", `{"name": "Ada", "sius_code": "53", "user_institutional_id": "100001", "fte": 1}`)

	type state struct {
		DistanceKm, SurfaceM2 *float64
		Kg                    float64
		Version               int32
	}
	read := func() map[int64]state {
		t.Helper()
		out := map[int64]state{}
		for _, id := range []int64{trip, unknown, listed, member} {
			var s state
			require.NoError(t, pool.QueryRow(ctx, `SELECT distance_km, surface_m2, kg_co2eq, version FROM data_entries WHERE id = $1`, id).
				Scan(&s.DistanceKm, &s.SurfaceM2, &s.Kg, &s.Version))
			out[id] = s
		}
		return out
	}

	var out bytes.Buffer
	require.NoError(t, runUp(ctx, m, pool, &out))
	require.Contains(t, out.String(), "entry sort values: 2 entries filled")
	require.Equal(t, uint(0), func() uint {
		var n uint
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM entry_sort_backfill`).Scan(&n))
		return n
	}(), "every module-year done")
	got := read()
	require.InDelta(t, 650, *got[trip].DistanceKm, 0, "P2 twice")
	require.Nil(t, got[trip].SurfaceM2)
	require.Nil(t, got[unknown].DistanceKm, "no distance for an unknown airport")
	require.InDelta(t, 42, *got[listed].SurfaceM2, 0, "the reference room's surface")
	require.Nil(t, got[member].DistanceKm)
	for id, s := range got {
		require.InDelta(t, 12.5, s.Kg, 0, "entry %d: numbers untouched", id)
		require.EqualValues(t, 1, s.Version, "entry %d: not an entry write", id)
	}

	// Idempotent: a second run finds nothing to do and changes nothing.
	out.Reset()
	require.NoError(t, runUp(ctx, m, pool, &out))
	require.Empty(t, out.String())
	require.Equal(t, got, read())
}
