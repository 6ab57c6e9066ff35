package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// ExportArgs produces one export (docs/jobs.md §4.9). Everything else is
// read from the exports row.
type ExportArgs struct {
	ExportID uuid.UUID `json:"export_id"`
}

// Kind implements river.JobArgs.
func (ExportArgs) Kind() string { return "export" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ExportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueExports, MaxAttempts: 3}
}

// ExportWorker works ExportArgs: export.Service.Run checks the creator's
// permission again, renders the file and stores it, and the job completes
// in the transaction that marks the export ready.
type ExportWorker struct {
	river.WorkerDefaults[ExportArgs]

	Exports *export.Service
}

// Timeout implements river.Worker.
func (w *ExportWorker) Timeout(*river.Job[ExportArgs]) time.Duration { return 15 * time.Minute }

// Work implements river.Worker.
func (w *ExportWorker) Work(ctx context.Context, job *river.Job[ExportArgs]) error {
	err := w.Exports.Run(ctx, job.Args.ExportID, func(ctx context.Context, tx pgx.Tx, res pipeline.Result) error {
		if err := pipeline.FinishTx(ctx, tx, job.ID, res); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("error completing job: %w", err)
		}
		return nil
	})
	return failure(err)
}

// EnqueueExport is the export.Enqueuer of the API: it inserts export{id}
// linked to the export's pipeline.
func EnqueueExport(client pipeline.Inserter) export.Enqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID, exportID uuid.UUID) error {
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID, ExportArgs{ExportID: exportID}, nil)
		return err
	}
}

// exportFailed is the final-failure hook of export: the export is marked
// failed with the pipeline's message (FinalFailureHooks).
func exportFailed(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, message string) error {
	var args ExportArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		return fmt.Errorf("error decoding the args of job %d: %w", job.ID, err)
	}
	return export.FailTx(ctx, tx, args.ExportID, message)
}

// ExportCleanupArgs is the hourly sweep of the exports (docs/jobs.md §4.9):
// expired files deleted and their rows marked expired.
type ExportCleanupArgs struct{}

// Kind implements river.JobArgs.
func (ExportCleanupArgs) Kind() string { return "export_cleanup" }

// InsertOpts implements river.JobArgsWithInsertOpts: one run per hour.
func (ExportCleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueExports, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// ExportCleanupWorker works ExportCleanupArgs (no pipeline).
type ExportCleanupWorker struct {
	river.WorkerDefaults[ExportCleanupArgs]

	Exports *export.Service
}

// Timeout implements river.Worker.
func (w *ExportCleanupWorker) Timeout(*river.Job[ExportCleanupArgs]) time.Duration {
	return 10 * time.Minute
}

// Work implements river.Worker.
func (w *ExportCleanupWorker) Work(ctx context.Context, _ *river.Job[ExportCleanupArgs]) error {
	_, err := w.Exports.Sweep(ctx)
	return err
}
