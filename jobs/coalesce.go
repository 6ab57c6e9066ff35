package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// coalescingStates are the unique states of emission_recalc and aggregate
// (docs/jobs.md §2.3). River's default also contains completed, which would make
// a completed job swallow every new request until the cleaner removes it
// (72 h) and would make the follow-up rule impossible (the follow-up is
// inserted right after JobCompleteTx). Running stays in the set: a request
// made while a job runs is merged into it, and the job's follow-up rule
// picks it up.
var coalescingStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// insertFollowUpTx inserts a follow-up job in the completion transaction of
// job and links it as a child to every pipeline whose link to job was
// attached at or after the job started (docs/jobs.md §2.3): those requests were
// merged into a job that had already read its inputs.
func insertFollowUpTx(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, args river.JobArgs) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("no River client to insert the %s follow-up: %w", args.Kind(), err)
	}
	res, err := client.InsertTx(ctx, tx, args, nil)
	if err != nil {
		return fmt.Errorf("error inserting %s follow-up: %w", args.Kind(), err)
	}
	since := job.CreatedAt
	if job.AttemptedAt != nil {
		since = *job.AttemptedAt
	}
	ids, err := dbsqlc.New(tx).PipelineIDsByJobAttachedSince(ctx, dbsqlc.PipelineIDsByJobAttachedSinceParams{JobID: job.ID, Since: since})
	if err != nil {
		return fmt.Errorf("error reading pipelines of job %d: %w", job.ID, err)
	}
	for _, id := range ids {
		if err := pipeline.Link(ctx, tx, id, res.Job, pipeline.RoleChild); err != nil {
			return err
		}
	}
	return nil
}

// insertChildTx inserts a job in the completion transaction of job and links
// it as a child to every pipeline of job.
func insertChildTx(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, args river.JobArgs) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("no River client to insert %s: %w", args.Kind(), err)
	}
	res, err := client.InsertTx(ctx, tx, args, nil)
	if err != nil {
		return fmt.Errorf("error inserting %s: %w", args.Kind(), err)
	}
	if err := pipeline.LinkChildrenTx(ctx, tx, job.ID, res.Job); err != nil {
		return err
	}
	return nil
}

func nowFunc(f func() time.Time) func() time.Time {
	if f != nil {
		return f
	}
	return time.Now
}
