package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// ReferenceImportArgs imports a reference upload (jobs.md §4.3):
// locations_plane, locations_train or building_rooms.
type ReferenceImportArgs struct {
	UploadID uuid.UUID `json:"upload_id"`
}

// Kind implements river.JobArgs.
func (ReferenceImportArgs) Kind() string { return "reference_import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReferenceImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3}
}

// ReferenceImportWorker works ReferenceImportArgs.
type ReferenceImportWorker struct {
	river.WorkerDefaults[ReferenceImportArgs]

	DB   postgres.DB
	Blob blob.Store
}

// Timeout implements river.Worker.
func (w *ReferenceImportWorker) Timeout(*river.Job[ReferenceImportArgs]) time.Duration {
	return 15 * time.Minute
}

// Work parses the dataset (duplicates: last wins with a warning), then in
// one transaction replaces it — locations: COPY into the staging table,
// merge by natural key (ids of surviving keys kept), delete the absent
// ones; rooms: delete all and COPY — requests a recalculation of the
// affected module for every ready or open year, completes the job and
// chains the emission_recalc jobs.
func (w *ReferenceImportWorker) Work(ctx context.Context, job *river.Job[ReferenceImportArgs]) error {
	q := dbsqlc.New(w.DB)
	up, err := q.UploadGet(ctx, job.Args.UploadID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("upload %s not found", job.Args.UploadID))
	}
	if err != nil {
		return fmt.Errorf("error reading upload %s: %w", job.Args.UploadID, err)
	}
	dataset := deref(up.Dataset)
	tbl, err := ingest.ReferenceTable(dataset)
	if up.Kind != imports.KindReference || err != nil {
		return river.JobCancel(fmt.Errorf("upload %s is not a reference upload", up.ID))
	}
	rooms := dataset == ingest.DatasetBuildingRooms
	module := emission.ModuleProfessionalTravel
	if rooms {
		module = emission.ModuleBuildings
	}
	rep := pipeline.ReporterFrom(ctx)

	r, c, err := openCSV(ctx, w.Blob, up.BlobKey, tbl)
	if err != nil {
		return failImport(ctx, w.DB, job.ID, err, nil, nil)
	}
	defer c.Close()
	var locs *ingest.LocationParser
	roomParser := ingest.NewRoomParser()
	if !rooms {
		if locs, err = ingest.NewLocationParser(dataset); err != nil {
			return river.JobCancel(err)
		}
	}
	var errs imports.RowErrors
	var done int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return failImport(ctx, w.DB, job.ID, err, nil, nil)
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
			rep.Progress(ctx, "import", done, 0, fmt.Sprintf("Read %d rows", done))
		}
	}
	counts := r.Counts()
	n := len(roomParser.Rows())
	if !rooms {
		n = len(locs.Rows())
	}
	ctrs := fileCounters(counts, &errs, n)
	if counts.Total == counts.Blank {
		return failImport(ctx, w.DB, job.ID, errEmptyFile(), ctrs, &errs)
	}
	if n == 0 {
		return failImport(ctx, w.DB, job.ID, noValidRows(errs.Skipped), ctrs, &errs)
	}
	rep.Progress(ctx, "import", 0, int64(n), fmt.Sprintf("Importing %d rows", n))

	return postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if rooms {
			del, err := imports.ReplaceRooms(ctx, q, roomParser.Rows())
			if err != nil {
				return err
			}
			ctrs["rooms_loaded"], ctrs["rooms_deleted"] = len(roomParser.Rows()), del
		} else {
			up, del, err := imports.MergeLocations(ctx, q, locs.Rows()[0].TransportMode, locs.Rows())
			if err != nil {
				return err
			}
			ctrs["locations_upserted"], ctrs["locations_deleted"] = up, del
		}
		rep.Progress(ctx, "import", int64(n), int64(n), fmt.Sprintf("Imported %d rows", n))
		affected, err := q.YearsByStatus(ctx, years.Accepting(years.OpImport))
		if err != nil {
			return fmt.Errorf("error listing years: %w", err)
		}
		for _, y := range affected {
			if _, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y.Year, Module: string(module), Reason: "reference"}); err != nil {
				return fmt.Errorf("error requesting recalculation: %w", err)
			}
		}
		if err := finishImportTx(ctx, tx, job, up, pipeline.Result{
			Counters: ctrs, RowErrors: errs.List(), RowErrorsTotal: errs.Total,
			Message: fmt.Sprintf("%d %s rows imported, %d skipped, %d warnings", n, dataset, errs.Skipped, errs.Warnings),
		}); err != nil {
			return err
		}
		for _, y := range affected {
			if err := insertChildTx(ctx, tx, job.JobRow, EmissionRecalcArgs{Year: int(y.Year), Module: string(module)}); err != nil {
				return err
			}
		}
		return nil
	})
}
