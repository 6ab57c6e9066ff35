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

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// AccredUnitSyncArgs synchronises the unit directory (docs/jobs.md §4.8):
// Year is the year being set up (POST /years, POST /years/{year}/setup), or
// nil for the nightly run and POST /integrations/accred/sync (the reports
// of every ready and open year).
type AccredUnitSyncArgs struct {
	Year *int32 `json:"year" river:"unique"`
}

// Kind implements river.JobArgs.
func (AccredUnitSyncArgs) Kind() string { return "accred_unit_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by year over
// the coalescing states (a run asked for while one for the same year waits
// or runs joins it; a finished run never swallows a new request).
func (AccredUnitSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIntegrations, MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: coalescingStates}}
}

// AccredUnitSyncWorker works AccredUnitSyncArgs: years.Service.RunUnitSync
// reads the directory and writes the units, unit_users and reports, and the
// job completes in its transaction. The year's move to setup_failed when
// the job fails for good is the pipeline middleware's hook
// (FinalFailureHooks).
type AccredUnitSyncWorker struct {
	river.WorkerDefaults[AccredUnitSyncArgs]

	Years *years.Service
}

// Timeout implements river.Worker.
func (w *AccredUnitSyncWorker) Timeout(*river.Job[AccredUnitSyncArgs]) time.Duration {
	return 20 * time.Minute
}

// Work implements river.Worker.
func (w *AccredUnitSyncWorker) Work(ctx context.Context, job *river.Job[AccredUnitSyncArgs]) error {
	err := w.Years.RunUnitSync(ctx, years.SetupRun{Year: job.Args.Year, JobID: job.ID},
		func(ctx context.Context, tx pgx.Tx, res years.SetupResult) error {
			if err := pipeline.FinishTx(ctx, tx, job.ID, res.Result); err != nil {
				return err
			}
			if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
				return fmt.Errorf("error completing job: %w", err)
			}
			return nil
		})
	return failure(err)
}

// EnqueueUnitSync is the years.Enqueuer of the API: it inserts
// accred_unit_sync{year} linked to the pipeline (opts: nil, or the test's).
//
// A request for a year whose run is queued or running joins that run
// (unique by year). One exception: a run whose last attempt has ended —
// the pipeline shows it failed, a retry is asked for at once — but that
// River still shows running for the moment its completer takes to record
// the end; joining it would leave the new pipeline waiting for a job that
// never runs again, so a fresh job is inserted instead.
func EnqueueUnitSync(client pipeline.Inserter) years.Enqueuer {
	return enqueueUnitSync(client, nil)
}

func enqueueUnitSync(client pipeline.Inserter, opts *river.InsertOpts) years.Enqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year *int32) error {
		args := AccredUnitSyncArgs{Year: year}
		res, err := client.InsertTx(ctx, tx, args, opts)
		if err != nil {
			return fmt.Errorf("error inserting %s job: %w", args.Kind(), err)
		}
		if res.UniqueSkippedAsDuplicate && res.Job.State == rivertype.JobStateRunning {
			ended, err := dbsqlc.New(tx).PipelineJobEnded(ctx, res.Job.ID)
			if err != nil {
				return fmt.Errorf("error reading the state of job %d: %w", res.Job.ID, err)
			}
			if ended {
				fresh := args.InsertOpts()
				if opts != nil {
					fresh.MaxAttempts = opts.MaxAttempts
				}
				// Another unique key (by queue too): still one fresh run per
				// year, but never the ending one.
				fresh.UniqueOpts.ByQueue = true
				if res, err = client.InsertTx(ctx, tx, args, &fresh); err != nil {
					return fmt.Errorf("error inserting %s job: %w", args.Kind(), err)
				}
			}
		}
		return pipeline.Link(ctx, tx, pipelineID, res.Job, pipeline.RoleRoot)
	}
}

// FinalFailureHooks are the pipeline middleware's hooks (docs/jobs.md §2.2):
// a setup job that fails for good moves its year to setup_failed; an export
// job that does marks its export failed.
func FinalFailureHooks() map[string]pipeline.FailureHook {
	return map[string]pipeline.FailureHook{
		ExportArgs{}.Kind(): exportFailed,
		AccredUnitSyncArgs{}.Kind(): func(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, _ string) error {
			var args AccredUnitSyncArgs
			if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
				return fmt.Errorf("error decoding the args of job %d: %w", job.ID, err)
			}
			if args.Year == nil {
				return nil
			}
			return years.FailSetupTx(ctx, tx, *args.Year)
		},
	}
}
