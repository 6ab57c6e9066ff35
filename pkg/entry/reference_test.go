package entry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestTaxonomy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.factor(t, emission.SubIT, map[string]string{"equipment_class": "Laptop"}, map[string]any{"active_power_w": 30, "standby_power_w": 2,
		"active_usage_hours_per_week": 40, "standby_usage_hours_per_week": 128, "ef_kg_co2eq_per_kwh": 0.1})
	b.factor(t, emission.SubIT, map[string]string{"equipment_class": "laptop", "sub_class": "Gaming"}, map[string]any{"active_power_w": 90,
		"standby_power_w": 3, "ef_kg_co2eq_per_kwh": 0.1})
	b.factor(t, emission.SubIT, map[string]string{"equipment_class": "Monitor"}, map[string]any{"active_power_w": 20, "standby_power_w": 1, "ef_kg_co2eq_per_kwh": 0.1})

	tax, err := b.svc.Taxonomy(b.ctx, emission.SubIT, &b.year)
	require.NoError(t, err)
	require.Equal(t, "equipment_class", *tax.KindField)
	require.Equal(t, "sub_class", *tax.SubkindField)
	require.Len(t, tax.Nodes, 2, "laptop grouped case-insensitively")
	laptop := tax.Nodes[0]
	require.Equal(t, "Laptop", laptop.Value)
	require.EqualValues(t, 30, laptop.Defaults["active_power_w"])
	require.EqualValues(t, 40, laptop.Defaults["active_usage_hours_per_week"])
	require.Len(t, laptop.Children, 1)
	require.Equal(t, "Gaming", laptop.Children[0].Value)
	require.EqualValues(t, 90, laptop.Children[0].Defaults["active_power_w"])

	none, err := b.svc.Taxonomy(b.ctx, emission.SubMember, &b.year)
	require.NoError(t, err)
	require.Empty(t, none.Nodes)
	require.Nil(t, none.KindField)

	_, err = b.svc.Taxonomy(b.ctx, "nope", &b.year)
	requireAppErr(t, err, apperr.CodeNotFound, "")
	_, err = b.svc.Taxonomy(b.ctx, emission.SubEmbodiedEnergy, &b.year)
	requireAppErr(t, err, apperr.CodeNotFound, "")
}

func TestReferenceLookups(t *testing.T) { //nolint:tparallel // the subtests share the test transaction
	t.Parallel()
	b := setup(t)
	testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{IATA: new("GVA"), Name: new("Geneva Cointrin International Airport"),
		Municipality: new("Geneva"), AirportSize: new("large_airport"), Latitude: &gva[0], Longitude: &gva[1]})
	testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{IATA: new("ZRH"), Name: new("Zurich Airport"),
		Municipality: new("Zurich"), AirportSize: new("large_airport"), Latitude: &zrh[0], Longitude: &zrh[1]})
	testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{IATA: new("CDG"), Name: new("Charles de Gaulle International Airport"),
		CountryCode: new("FR"), AirportSize: new("large_airport"), Latitude: new(49.012798), Longitude: new(2.55)})

	t.Run("Distance", func(t *testing.T) {
		d, err := b.svc.PreviewDistance(b.ctx, "plane", "gva", "ZRH", 0)
		require.NoError(t, err)
		require.InDelta(t, 229.79, d.GreatCircleKm, 0.01) // P2
		require.InDelta(t, 325, d.OneTripKm, 0)
		d, err = b.svc.PreviewDistance(b.ctx, "plane", "GVA", "CDG", 2)
		require.NoError(t, err)
		require.InDelta(t, 503, d.OneTripKm, 0) // P1
		require.InDelta(t, 1006, d.DistanceKm, 0)
		_, err = b.svc.PreviewDistance(b.ctx, "plane", "GVA", "XXX", 1)
		requireAppErr(t, err, apperr.CodeNotFound, "")
		_, err = b.svc.PreviewDistance(b.ctx, "bus", "GVA", "ZRH", 1)
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
	})

	t.Run("Rooms", func(t *testing.T) {
		room := testfactory.Room(b.ctx, t, b.tx, &testfactory.RoomOpts{BuildingName: new("ZZTEST"), RoomName: new("ZZTEST-150")})
		rooms, err := b.svc.Rooms(b.ctx, "zztest", "150", 0)
		require.NoError(t, err)
		require.Len(t, rooms, 1)
		require.Equal(t, room.RoomName, rooms[0].RoomName)
		buildings, err := b.svc.Buildings(b.ctx, "ECUBLENS")
		require.NoError(t, err)
		require.Contains(t, buildings, entryBuilding("ECUBLENS", "ZZTEST"))
	})

	t.Run("Search", func(t *testing.T) {
		got, err := b.svc.SearchLocations(b.ctx, "plane", "genev", 0)
		require.NoError(t, err)
		require.NotEmpty(t, got)
		require.Equal(t, "GVA", *got[0].IATACode)
		_, err = b.svc.SearchLocations(b.ctx, "plane", "g", 0)
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
		_, err = b.svc.SearchLocations(b.ctx, "", "geneva", 0)
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
	})
}

func entryBuilding(location, name string) entry.Building {
	return entry.Building{BuildingLocation: location, BuildingName: name}
}
