package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The three import jobs (upload_import, factor_import, reference_import)
// are adapters over package imports, which holds everything an import
// does: they share runImport — open the upload, load it, finish in the
// load transaction — and differ only in their kind, queue options and
// timeout.

// runImport works one import job of upload id of kind.
func runImport[T river.JobArgs](ctx context.Context, svc *imports.Service, job *river.Job[T], id uuid.UUID, kind string) error {
	up, err := svc.Open(ctx, id, kind)
	if err == nil {
		err = svc.Load(ctx, up, func(ctx context.Context, tx pgx.Tx, out imports.Outcome) error {
			return finishImportTx(ctx, tx, job, out)
		})
	}
	return importFailure(ctx, svc.DB, job.ID, err)
}

// finishImportTx ends a successful import in its transaction: the
// pipeline result, the job's completion and the chained jobs.
func finishImportTx[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T], out imports.Outcome) error {
	if err := pipeline.FinishTx(ctx, tx, job.ID, out.Result); err != nil {
		return err
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("error completing job: %w", err)
	}
	if out.Aggregate != nil {
		if err := insertChildTx(ctx, tx, job.JobRow, AggregateArgs{Year: int(*out.Aggregate)}); err != nil {
			return err
		}
	}
	for _, r := range out.Recalc {
		if err := insertChildTx(ctx, tx, job.JobRow, EmissionRecalcArgs{Year: int(r.Year), Module: r.Module}); err != nil {
			return err
		}
	}
	return nil
}

// importFailure records the counters and row errors of a rejected file on
// the job's pipeline link, then maps the error like every job (failure).
func importFailure(ctx context.Context, db postgres.DBTX, jobID int64, err error) error {
	var rej *imports.RejectedError
	if errors.As(err, &rej) && (rej.Counters != nil || rej.RowErrors != nil) {
		ctrs, errs := rej.Counters, rej.RowErrors
		if ctrs == nil {
			ctrs = map[string]any{}
		}
		if errs == nil {
			errs = &imports.RowErrors{}
		}
		res, jerr := json.Marshal(ctrs)
		if jerr != nil {
			return fmt.Errorf("error encoding counters: %w", jerr)
		}
		rows, jerr := json.Marshal(errs.List())
		if jerr != nil {
			return fmt.Errorf("error encoding row errors: %w", jerr)
		}
		if rerr := dbsqlc.New(db).ImportJobRecordRows(ctx, dbsqlc.ImportJobRecordRowsParams{
			Result: res, RowErrors: rows, RowErrorsTotal: int32(errs.Total), JobID: jobID,
		}); rerr != nil {
			return fmt.Errorf("error recording row errors: %w", rerr)
		}
	}
	return failure(err)
}

// EnqueueImport is the imports.Enqueuer of the API: it inserts the import
// job of an accepted upload's kind, linked to its pipeline.
func EnqueueImport(client pipeline.Inserter) imports.Enqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, up dbsqlc.Upload) error {
		var args river.JobArgs
		switch up.Kind {
		case imports.KindData:
			args = UploadImportArgs{UploadID: up.ID}
		case imports.KindFactors:
			args = FactorImportArgs{UploadID: up.ID}
		case imports.KindReference:
			args = ReferenceImportArgs{UploadID: up.ID}
		default:
			return fmt.Errorf("no import job for upload kind %q", up.Kind)
		}
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID, args, nil)
		return err
	}
}
