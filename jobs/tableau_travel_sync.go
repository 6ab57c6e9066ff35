package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
)

// TableauTravelSyncArgs syncs the Tableau trips of Year (docs/jobs.md
// §4.6). A nil Year is the nightly dispatcher (SCHEDULE_TABLEAU): it
// creates one pipeline with one sync per open year and completes.
type TableauTravelSyncArgs struct {
	Year *int32 `json:"year" river:"unique"`
}

// Kind implements river.JobArgs.
func (TableauTravelSyncArgs) Kind() string { return "tableau_travel_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts: one run at a time
// per year — unique by year over the coalescing states, so a sync asked
// for while one of the same year waits or runs joins it, and a finished
// one never swallows a new request.
func (TableauTravelSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueImports, MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: coalescingStates}}
}

// TableauTravelSyncWorker works TableauTravelSyncArgs: tableau.Service.Sync
// fetches and loads the year's trips, and the job finishes in the load
// transaction with aggregate{year} chained (importFailure records the
// counters and row errors of a run without valid trips).
type TableauTravelSyncWorker struct {
	river.WorkerDefaults[TableauTravelSyncArgs]

	Tableau *tableau.Service
}

// Timeout implements river.Worker.
func (w *TableauTravelSyncWorker) Timeout(*river.Job[TableauTravelSyncArgs]) time.Duration {
	return 30 * time.Minute
}

// Work implements river.Worker.
func (w *TableauTravelSyncWorker) Work(ctx context.Context, job *river.Job[TableauTravelSyncArgs]) error {
	if job.Args.Year == nil {
		return failure(w.dispatch(ctx, job))
	}
	err := w.Tableau.Sync(ctx, tableau.Run{Year: *job.Args.Year, JobID: job.ID},
		func(ctx context.Context, tx pgx.Tx, out imports.Outcome) error {
			return finishImportTx(ctx, tx, job, out)
		})
	return importFailure(ctx, w.Tableau.DB, job.ID, err)
}

// dispatch is the nightly run: one pipeline and one sync per open year,
// inserted in the dispatcher's completion transaction.
func (w *TableauTravelSyncWorker) dispatch(ctx context.Context, job *river.Job[TableauTravelSyncArgs]) error {
	if !w.Tableau.Configured() {
		return apperr.WithReason(apperr.CodeConflict, tableau.ReasonNotConfigured, "Tableau is not configured")
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("no River client to insert the syncs: %w", err)
	}
	return postgres.WithTx(ctx, w.Tableau.DB, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tableau.DispatchTx(ctx, tx, EnqueueTableauSync(client)); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("error completing job: %w", err)
		}
		return nil
	})
}

// EnqueueTableauSync is the tableau.Enqueuer of the API (POST
// /integrations/tableau/sync) and of the nightly dispatcher: a sync of
// year linked to its pipeline (joining the year's sync that waits or
// runs).
func EnqueueTableauSync(client pipeline.Inserter) tableau.Enqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32) error {
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID, TableauTravelSyncArgs{Year: &year}, nil)
		return err
	}
}
