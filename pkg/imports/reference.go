package imports

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// MergeLocations replaces the locations of one transport mode with rows
// (docs/jobs.md §4.3): COPY into the staging table, merge by natural key (ids of
// surviving keys are kept), delete the locations of that mode absent from
// rows, clear the staging rows. Used by reference_import and the seed.
func MergeLocations(ctx context.Context, q *dbsqlc.Queries, mode string, rows []ingest.LocationRow) (upserted, deleted int64, err error) {
	loadID := uuid.New()
	params := make([]dbsqlc.LocationsStageCopyFromParams, len(rows))
	for i, l := range rows {
		params[i] = dbsqlc.LocationsStageCopyFromParams{
			LoadID: loadID, TransportMode: l.TransportMode, NaturalKey: l.NaturalKey, Name: l.Name,
			IataCode: nullable(l.IATA), CountryCode: nullable(l.CountryCode), Continent: nullable(l.Continent),
			AirportSize: nullable(l.AirportSize), Municipality: nullable(l.Municipality), Keywords: nullable(l.Keywords),
			Latitude: l.Latitude, Longitude: l.Longitude,
		}
	}
	if _, err := q.LocationsStageCopyFrom(ctx, params); err != nil {
		return 0, 0, fmt.Errorf("error staging %s locations: %w", mode, err)
	}
	if upserted, err = q.LocationsMergeStaged(ctx, loadID); err != nil {
		return 0, 0, fmt.Errorf("error merging %s locations: %w", mode, err)
	}
	if deleted, err = q.LocationsDeleteNotStaged(ctx, dbsqlc.LocationsDeleteNotStagedParams{TransportMode: mode, LoadID: loadID}); err != nil {
		return 0, 0, fmt.Errorf("error deleting absent %s locations: %w", mode, err)
	}
	if _, err := q.LocationsStagingClear(ctx, loadID); err != nil {
		return 0, 0, fmt.Errorf("error clearing the %s staging rows: %w", mode, err)
	}
	return upserted, deleted, nil
}

// ReplaceRooms deletes every building room and loads rows with COPY
// (docs/jobs.md §4.3). It returns the number of rooms deleted.
func ReplaceRooms(ctx context.Context, q *dbsqlc.Queries, rows []ingest.RoomRow) (deleted int64, err error) {
	if deleted, err = q.BuildingRoomsDeleteAll(ctx); err != nil {
		return 0, fmt.Errorf("error deleting building rooms: %w", err)
	}
	params := make([]dbsqlc.BuildingRoomsCopyFromParams, len(rows))
	for i, r := range rows {
		params[i] = dbsqlc.BuildingRoomsCopyFromParams{
			BuildingLocation: nullable(r.BuildingLocation), BuildingName: r.BuildingName, RoomName: r.RoomName,
			RoomType: nullable(r.RoomType), SurfaceM2: r.SurfaceM2,
		}
	}
	if _, err := q.BuildingRoomsCopyFrom(ctx, params); err != nil {
		return 0, fmt.Errorf("error copying building rooms: %w", err)
	}
	return deleted, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
