// Package seed loads the shared data directory (../shared/data layout:
// locations/, reference/, factors/, samples/, external/ecb/) into the
// database with the production CSV reader (package ingest) and COPY:
// ReferenceData loads the reference datasets, Demo the dev unit fixtures and
// the demo lab LAB-DEMO for year 2025 (what `make run` shows). Both are
// idempotent and run in one transaction each.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// ErrRowErrors is returned when a seed file holds rows with errors: seed
// data must load completely.
var ErrRowErrors = errors.New("seed file has row errors")

// ReferenceStats are the counters of ReferenceData.
type ReferenceStats struct {
	Airports          int   // rows of locations_plane.csv
	Stations          int   // rows of locations_train.csv
	LocationsUpserted int64 // inserted or changed
	LocationsDeleted  int64
	Rooms             int
}

// ReferenceData loads dir/locations/locations_plane.csv,
// dir/locations/locations_train.csv (staging COPY then merge by natural
// key: ids of surviving keys are kept, absent ones deleted) and
// dir/reference/building_rooms.csv (replaced), in one transaction.
func ReferenceData(ctx context.Context, db postgres.TxBeginner, dir string) (ReferenceStats, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (ReferenceStats, error) {
		var st ReferenceStats
		q := dbsqlc.New(tx)
		for _, ds := range []string{ingest.DatasetLocationsPlane, ingest.DatasetLocationsTrain} {
			rows, err := readLocations(filepath.Join(dir, "locations", ds+".csv"), ds)
			if err != nil {
				return st, err
			}
			mode := emission.ModePlane
			if ds == ingest.DatasetLocationsTrain {
				mode = emission.ModeTrain
			}
			up, del, err := imports.MergeLocations(ctx, q, mode, rows)
			if err != nil {
				return st, err
			}
			if ds == ingest.DatasetLocationsPlane {
				st.Airports = len(rows)
			} else {
				st.Stations = len(rows)
			}
			st.LocationsUpserted += up
			st.LocationsDeleted += del
		}
		rooms, err := readRooms(filepath.Join(dir, "reference", "building_rooms.csv"))
		if err != nil {
			return st, err
		}
		if _, err := imports.ReplaceRooms(ctx, q, rooms); err != nil {
			return st, err
		}
		st.Rooms = len(rooms)
		return st, nil
	})
}

func readLocations(path, dataset string) ([]ingest.LocationRow, error) {
	tbl, err := ingest.ReferenceTable(dataset)
	if err != nil {
		return nil, err
	}
	p, err := ingest.NewLocationParser(dataset)
	if err != nil {
		return nil, err
	}
	if err := eachRecord(path, tbl, p.Parse); err != nil {
		return nil, err
	}
	return p.Rows(), nil
}

func readRooms(path string) ([]ingest.RoomRow, error) {
	tbl, err := ingest.ReferenceTable(ingest.DatasetBuildingRooms)
	if err != nil {
		return nil, err
	}
	p := ingest.NewRoomParser()
	if err := eachRecord(path, tbl, p.Parse); err != nil {
		return nil, err
	}
	return p.Rows(), nil
}

// eachRecord streams a CSV file through fn; file errors and row errors of
// severity error fail the load (warnings are accepted).
func eachRecord(path string, tbl *ingest.Table, fn func(*ingest.Record) []ingest.RowError) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("error opening seed file: %w", err)
	}
	defer f.Close()
	r, err := ingest.NewReader(f, tbl, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var bad []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, e := range fn(rec) {
			if e.Severity == ingest.SeverityError && len(bad) < 5 {
				bad = append(bad, e.Error())
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrRowErrors, path, strings.Join(bad, "; "))
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
