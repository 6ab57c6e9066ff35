package jobs

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/imports"
)

// ReferenceImportArgs imports a reference upload (docs/jobs.md §4.3):
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

// ReferenceImportWorker works ReferenceImportArgs: imports.Service replaces
// the dataset in one transaction and the job finishes with the
// emission_recalc of the affected module chained for every year that
// accepts imports.
type ReferenceImportWorker struct {
	river.WorkerDefaults[ReferenceImportArgs]

	Imports *imports.Service
}

// Timeout implements river.Worker.
func (w *ReferenceImportWorker) Timeout(*river.Job[ReferenceImportArgs]) time.Duration {
	return 15 * time.Minute
}

// Work implements river.Worker.
func (w *ReferenceImportWorker) Work(ctx context.Context, job *river.Job[ReferenceImportArgs]) error {
	return runImport(ctx, w.Imports, job, job.Args.UploadID, imports.KindReference)
}
