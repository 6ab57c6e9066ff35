package jobs

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/imports"
)

// FactorImportArgs imports a factor upload (docs/jobs.md §4.2, CSV path).
type FactorImportArgs struct {
	UploadID uuid.UUID `json:"upload_id"`
}

// Kind implements river.JobArgs.
func (FactorImportArgs) Kind() string { return "factor_import" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (FactorImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3}
}

// FactorImportWorker works FactorImportArgs: imports.Service upserts the
// factors in one transaction and the job finishes with
// emission_recalc{year, module} chained.
type FactorImportWorker struct {
	river.WorkerDefaults[FactorImportArgs]

	Imports *imports.Service
}

// Timeout implements river.Worker.
func (w *FactorImportWorker) Timeout(*river.Job[FactorImportArgs]) time.Duration {
	return 15 * time.Minute
}

// Work implements river.Worker.
func (w *FactorImportWorker) Work(ctx context.Context, job *river.Job[FactorImportArgs]) error {
	return runImport(ctx, w.Imports, job, job.Args.UploadID, imports.KindFactors)
}
