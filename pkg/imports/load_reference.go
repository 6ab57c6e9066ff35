package imports

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// loadReference imports a reference dataset (docs/jobs.md §4.3:
// locations_plane, locations_train or building_rooms). It parses the file
// (duplicates: last wins with a warning), then in one transaction replaces
// the dataset — locations: COPY into the staging table, merge by natural
// key (ids of surviving keys kept), delete the absent ones; rooms: delete
// all and COPY — requests a recalculation of the affected module for every
// year that accepts imports, and finishes with those recalculations to
// chain.
func (s *Service) loadReference(ctx context.Context, up dbsqlc.Upload, finish Finish) error {
	dataset := deref(up.Dataset)
	tbl, err := ingest.ReferenceTable(dataset)
	if err != nil {
		return invalidUpload(err)
	}
	rooms := dataset == ingest.DatasetBuildingRooms
	module := emission.ModuleProfessionalTravel
	if rooms {
		module = emission.ModuleBuildings
	}
	rep := s.reporter(ctx)

	r, c, err := openCSV(ctx, s.Blob, up.BlobKey, tbl)
	if err != nil {
		return err
	}
	defer c.Close()
	var locs *ingest.LocationParser
	roomParser := ingest.NewRoomParser()
	if !rooms {
		if locs, err = ingest.NewLocationParser(dataset); err != nil {
			return invalidUpload(err)
		}
	}
	var errs RowErrors
	var done int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		done++
		var rowErrs []ingest.RowError
		if rooms {
			rowErrs = roomParser.Parse(rec)
		} else {
			rowErrs = locs.Parse(rec)
		}
		errs.Add(append(rec.Errors(), rowErrs...))
		if done%progressEvery == 0 {
			rep("import", done, 0, fmt.Sprintf("Read %d rows", done))
		}
	}
	counts := r.Counts()
	n := len(roomParser.Rows())
	if !rooms {
		n = len(locs.Rows())
	}
	ctrs := fileCounters(counts, &errs, n)
	if counts.Total == counts.Blank {
		return reject(errEmptyFile(), ctrs, &errs)
	}
	if n == 0 {
		return reject(noValidRows(errs.Skipped), ctrs, &errs)
	}
	rep("import", 0, int64(n), fmt.Sprintf("Importing %d rows", n))

	return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if rooms {
			del, err := ReplaceRooms(ctx, q, roomParser.Rows())
			if err != nil {
				return err
			}
			ctrs["rooms_loaded"], ctrs["rooms_deleted"] = len(roomParser.Rows()), del
		} else {
			merged, del, err := MergeLocations(ctx, q, locs.Rows()[0].TransportMode, locs.Rows())
			if err != nil {
				return err
			}
			ctrs["locations_upserted"], ctrs["locations_deleted"] = merged, del
		}
		rep("import", int64(n), int64(n), fmt.Sprintf("Imported %d rows", n))
		affected, err := q.YearsByStatus(ctx, years.Accepting(years.OpImport))
		if err != nil {
			return fmt.Errorf("error listing years: %w", err)
		}
		out := Outcome{Result: pipeline.Result{
			Counters: ctrs, RowErrors: errs.List(), RowErrorsTotal: errs.Total,
			Message: fmt.Sprintf("%d %s rows imported, %d skipped, %d warnings", n, dataset, errs.Skipped, errs.Warnings),
		}}
		for _, y := range affected {
			if _, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y.Year, Module: string(module), Reason: "reference"}); err != nil {
				return fmt.Errorf("error requesting recalculation: %w", err)
			}
			out.Recalc = append(out.Recalc, ModuleYear{Year: y.Year, Module: string(module)})
		}
		return finishTx(ctx, tx, up, out, finish)
	})
}
