package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Rescue is a job attempt that ended without its worker's bookkeeping: the
// worker process died (kill -9, OOM kill, lost node) while the job was
// running, so the middleware never recorded the end, and the job was
// handed back to River by someone else (package fleet's reaper).
type Rescue struct {
	JobID       int64
	Attempt     int
	MaxAttempts int
	// State is the job's new River state: available, retryable or
	// scheduled (it runs again), discarded (that was its last attempt) or
	// cancelled (a cancel had been requested).
	State rivertype.JobState
	// Reason says why the attempt ended, e.g. "worker w-1 died".
	Reason string
}

// RecordRescueTx records a rescued attempt in tx, the transaction that
// hands the job back to River, so that pipelines change exactly when the
// job does: the linked rows become `retrying` with the reason ("attempt 1
// of 3 failed, will retry: worker w-1 died …"), `failed` with the reason
// when River discarded the job, or `cancelled`; then every pipeline of the
// job is refreshed and notified. Links already terminal are left alone.
func RecordRescueTx(ctx context.Context, tx pgx.Tx, r Rescue, now time.Time) error {
	params := dbsqlc.PipelineJobFinishParams{JobID: r.JobID}
	switch r.State {
	case rivertype.JobStateAvailable, rivertype.JobStateRetryable, rivertype.JobStateScheduled:
		params.State = string(JobRetrying)
		params.Message = new(retryMessage(r.Attempt, r.MaxAttempts, r.Reason))
	case rivertype.JobStateDiscarded:
		params.State = string(JobFailed)
		params.Message = new(r.Reason)
	case rivertype.JobStateCancelled:
		params.State = string(JobCancelled)
	default:
		return fmt.Errorf("error recording rescue of job %d: unexpected state %q", r.JobID, r.State)
	}
	ids, err := dbsqlc.New(tx).PipelineJobFinish(ctx, params)
	if err != nil {
		return fmt.Errorf("error recording rescue of job %d: %w", r.JobID, err)
	}
	return refreshAll(ctx, tx, ids, now)
}
