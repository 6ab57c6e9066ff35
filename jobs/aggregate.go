package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// AggregateArgs refreshes the dirty statistics of a year (docs/jobs.md §4.5).
type AggregateArgs struct {
	Year int `json:"year" river:"unique"`
}

// Kind implements river.JobArgs.
func (AggregateArgs) Kind() string { return "aggregate" }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by year
// (coalescing, docs/jobs.md §2.3).
func (AggregateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue: QueueCompute, MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: coalescingStates},
	}
}

// AggregateBatch is the number of report modules refreshed per transaction.
const AggregateBatch = 500

// AggregateWorker works AggregateArgs.
type AggregateWorker struct {
	river.WorkerDefaults[AggregateArgs]

	DB  postgres.DB
	Now func() time.Time
}

// Timeout implements river.Worker.
func (w *AggregateWorker) Timeout(*river.Job[AggregateArgs]) time.Duration { return 10 * time.Minute }

// Work refreshes the report modules of the year whose stats_dirty_at is at
// most t0 (the run's start on the database clock), in batches of 500, each
// in its own transaction under the year lock (2, year): module stats with
// compare-and-clear of the dirty flag, then the parent reports' stats and
// derived status fields. The last transaction chains a follow-up when dirty
// modules remain, records the result and completes the job.
func (w *AggregateWorker) Work(ctx context.Context, job *river.Job[AggregateArgs]) error {
	year := int32(job.Args.Year)
	now := nowFunc(w.Now)
	rep := pipeline.ReporterFrom(ctx)
	q := dbsqlc.New(w.DB)

	t0, err := q.DBClock(ctx)
	if err != nil {
		return fmt.Errorf("error reading database clock: %w", err)
	}
	dirty, err := q.ReportModulesDirty(ctx, dbsqlc.ReportModulesDirtyParams{Year: year, DirtyBefore: t0})
	if err != nil {
		return fmt.Errorf("error listing dirty report modules: %w", err)
	}
	total := int64(len(dirty))
	rep.Progress(ctx, "aggregate", 0, total, fmt.Sprintf("Refreshing statistics of %d modules", total))

	for start := 0; start < len(dirty); start += AggregateBatch {
		batch := dirty[start:min(start+AggregateBatch, len(dirty))]
		err := postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
			if err := dbsqlc.New(tx).LockAggregateYear(ctx, year); err != nil {
				return fmt.Errorf("error locking year %d: %w", year, err)
			}
			reports, err := report.RefreshModules(ctx, tx, batch, now())
			if err != nil {
				return err
			}
			return report.RefreshReports(ctx, tx, reports, now())
		})
		if err != nil {
			return err
		}
		done := int64(start + len(batch))
		rep.Progress(ctx, "aggregate", done, total, fmt.Sprintf("Refreshed %d of %d modules", done, total))
	}

	return postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		qtx := dbsqlc.New(tx)
		if err := qtx.LockAggregateYear(ctx, year); err != nil {
			return fmt.Errorf("error locking year %d: %w", year, err)
		}
		remaining, err := qtx.ReportModulesDirtyRemaining(ctx, year)
		if err != nil {
			return fmt.Errorf("error checking dirty modules: %w", err)
		}
		msg := fmt.Sprintf("%d module statistics refreshed", len(dirty))
		if err := pipeline.FinishTx(ctx, tx, job.ID, pipeline.Result{
			Counters: map[string]any{"modules_refreshed": len(dirty)}, Message: msg,
		}); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("error completing job: %w", err)
		}
		if remaining {
			if err := insertFollowUpTx(ctx, tx, job.JobRow, AggregateArgs{Year: job.Args.Year}); err != nil {
				return err
			}
		}
		return nil
	})
}
