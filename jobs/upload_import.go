package jobs

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/imports"
)

// UploadImportArgs imports a data upload (docs/jobs.md §4.1). Everything
// else is read from the uploads row.
type UploadImportArgs struct {
	UploadID uuid.UUID `json:"upload_id"`
}

// Kind implements river.JobArgs.
func (UploadImportArgs) Kind() string { return "upload_import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (UploadImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3}
}

// UploadImportWorker works UploadImportArgs: imports.Service loads the file
// (validate pass, then one load transaction) and the job finishes with
// aggregate{year} chained.
type UploadImportWorker struct {
	river.WorkerDefaults[UploadImportArgs]

	Imports *imports.Service
}

// Timeout implements river.Worker.
func (w *UploadImportWorker) Timeout(*river.Job[UploadImportArgs]) time.Duration {
	return 30 * time.Minute
}

// Work implements river.Worker.
func (w *UploadImportWorker) Work(ctx context.Context, job *river.Job[UploadImportArgs]) error {
	return runImport(ctx, w.Imports, job, job.Args.UploadID, imports.KindData)
}
