package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Audit events of retries (docs/jobs.md §11.1): the retry of a pipeline's
// job (entity pipeline/<id>) and the operator's retry of a River job
// (entity job/<id>).
const (
	EventRetry    = "pipeline.retry"
	EventJobRetry = "job.retry"
)

// Refusal codes of retries (409).
const (
	// ReasonNotTerminal: a job of a pipeline still running cannot be
	// retried through it.
	ReasonNotTerminal apperr.Reason = "pipeline_not_terminal"
	// ReasonJobNotRetryable: the job is running, completed or succeeded, or
	// River no longer has it.
	ReasonJobNotRetryable apperr.Reason = "job_not_retryable"
)

// retryMessageByUser is the message of a link queued again by a retry; the
// next attempt replaces it.
const retryMessageByUser = "Retry requested by user"

// JobRetrier is the part of the River client the retries need.
type JobRetrier interface {
	JobRetryTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// retrySnapshot is the snapshot of a pipeline.retry event.
type retrySnapshot struct {
	Kind        string  `json:"kind"`
	Status      string  `json:"status"`
	Cancelled   bool    `json:"cancelled"`
	Year        *int32  `json:"year"`
	Module      *string `json:"module"`
	UnitID      *int64  `json:"unit_id"`
	JobID       int64   `json:"job_id"`
	JobKind     string  `json:"job_kind"`
	JobState    string  `json:"job_state"`
	Attempt     int32   `json:"attempt"`
	MaxAttempts int     `json:"max_attempts"`
}

// Retry re-queues a failed or cancelled job of a terminal pipeline with
// River's retry (docs/jobs.md §2.5). In one transaction: the pipeline row
// is locked, the job is made available again with JobRetryTx (River grants
// one more attempt when the last one was used), the pipeline's `cancelled`
// flag is cleared, every link of the job is queued again, the
// pipeline.retry event is written and the job's pipelines are refreshed:
// the pipeline is RUNNING again (NOT_STARTED when none of its jobs ever
// started, a job cancelled while it waited). An unknown pipeline, or a job
// it does not link, is 404; a pipeline still running is 409
// pipeline_not_terminal; a job that did not fail and was not cancelled, or
// that River no longer has, is 409 job_not_retryable.
func Retry(ctx context.Context, db postgres.TxBeginner, river JobRetrier, id uuid.UUID, jobID int64, by *int64) (View, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (View, error) {
		q := dbsqlc.New(tx)
		p, err := q.PipelineGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return View{}, apperr.NotFound("pipeline %s not found", id)
		}
		if err != nil {
			return View{}, fmt.Errorf("error locking pipeline %s: %w", id, err)
		}
		link, err := q.PipelineJobGet(ctx, dbsqlc.PipelineJobGetParams{PipelineID: id, JobID: jobID})
		if errors.Is(err, pgx.ErrNoRows) {
			return View{}, apperr.NotFound("job %d is not a job of pipeline %s", jobID, id)
		}
		if err != nil {
			return View{}, fmt.Errorf("error reading job %d of pipeline %s: %w", jobID, id, err)
		}
		if !Status(p.Status).Terminal() {
			return View{}, apperr.WithReason(apperr.CodeConflict, ReasonNotTerminal,
				"pipeline %s is %s: its jobs can be retried once it has finished", id, p.Status)
		}
		if st := JobState(link.State); st != JobFailed && st != JobCancelled {
			return View{}, apperr.WithReason(apperr.CodeConflict, ReasonJobNotRetryable,
				"job %d is %s: only a failed or cancelled job can be retried", jobID, st)
		}
		job, err := river.JobRetryTx(ctx, tx, jobID)
		if errors.Is(err, rivertype.ErrNotFound) {
			return View{}, apperr.WithReason(apperr.CodeConflict, ReasonJobNotRetryable,
				"job %d no longer exists in the queue (River removed it)", jobID)
		}
		if err != nil {
			return View{}, fmt.Errorf("error retrying job %d: %w", jobID, err)
		}
		if job.State != rivertype.JobStateAvailable {
			return View{}, apperr.WithReason(apperr.CodeConflict, ReasonJobNotRetryable,
				"job %d is %s in the queue", jobID, job.State)
		}
		if err := q.PipelineClearCancelled(ctx, id); err != nil {
			return View{}, fmt.Errorf("error clearing the cancel of pipeline %s: %w", id, err)
		}
		ids, err := requeueTx(ctx, tx, job)
		if err != nil {
			return View{}, err
		}
		if err := audit.Record(ctx, tx, by, audit.Event{
			Action: audit.ActionUpdate, Event: EventRetry, EntityType: "pipeline", EntityID: id.String(),
			Snapshot: retrySnapshot{Kind: p.Kind, Status: p.Status, Cancelled: p.Cancelled, Year: p.Year, Module: p.Module,
				UnitID: p.UnitID, JobID: jobID, JobKind: link.Kind, JobState: link.State, Attempt: link.Attempt,
				MaxAttempts: job.MaxAttempts},
		}); err != nil {
			return View{}, fmt.Errorf("error auditing retry of job %d of pipeline %s: %w", jobID, id, err)
		}
		if err := refreshAll(ctx, tx, ids, time.Now()); err != nil {
			return View{}, err
		}
		p, jobs, err := Get(ctx, tx, id)
		if err != nil {
			return View{}, err
		}
		return ToView(p, jobs), nil
	})
}

// requeueTx mirrors a retried job into its links (queued again, River's
// max_attempts) and returns the pipelines to refresh.
func requeueTx(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow) ([]uuid.UUID, error) {
	ids, err := dbsqlc.New(tx).PipelineJobRequeue(ctx, dbsqlc.PipelineJobRequeueParams{
		JobID: job.ID, Message: new(retryMessageByUser), MaxAttempts: int32(job.MaxAttempts)})
	if err != nil {
		return nil, fmt.Errorf("error recording retry of job %d: %w", job.ID, err)
	}
	return ids, nil
}

// jobSnapshot is the snapshot of the job.retry and job.cancel events.
type jobSnapshot struct {
	Kind        string      `json:"kind"`
	Queue       string      `json:"queue"`
	State       string      `json:"state"`
	NewState    string      `json:"new_state"`
	Attempt     int16       `json:"attempt"`
	MaxAttempts int         `json:"max_attempts"`
	PipelineIDs []uuid.UUID `json:"pipeline_ids"`
}

// lockJob locks River job id for an operator's change: 404 when River has
// no such job.
func lockJob(ctx context.Context, q *dbsqlc.Queries, id int64) (dbsqlc.OpsJobForUpdateRow, error) {
	j, err := q.OpsJobForUpdate(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, apperr.NotFound("job %d not found", id)
	}
	if err != nil {
		return j, fmt.Errorf("error locking job %d: %w", id, err)
	}
	return j, nil
}

// RetryJob is an operator's River retry of one job (docs/api.md §10,
// POST /ops/jobs/{id}/retry): a discarded, cancelled, retryable, scheduled,
// pending or available job is made available at once (River grants one
// more attempt when the last one was used), and in the same transaction
// every pipeline linking it follows (its links queued again, the pipelines
// refreshed) and job.retry is written. The pipelines' `cancelled` flags
// are left alone: reviving a cancelled pipeline is Retry's business. An
// unknown job is 404; a running or completed job is 409 job_not_retryable.
func RetryJob(ctx context.Context, db postgres.TxBeginner, river JobRetrier, id int64, by *int64) error {
	return postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		before, err := lockJob(ctx, q, id)
		if err != nil {
			return err
		}
		if st := rivertype.JobState(before.State); st == rivertype.JobStateRunning || st == rivertype.JobStateCompleted {
			return apperr.WithReason(apperr.CodeConflict, ReasonJobNotRetryable,
				"job %d is %s: only a job that is not running and did not complete can be retried", id, st)
		}
		job, err := river.JobRetryTx(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("error retrying job %d: %w", id, err)
		}
		ids, err := requeueTx(ctx, tx, job)
		if err != nil {
			return err
		}
		if err := auditJob(ctx, tx, by, EventJobRetry, before, job, ids); err != nil {
			return err
		}
		return refreshAll(ctx, tx, ids, time.Now())
	})
}

// auditJob writes an operator's change of a River job (job.retry,
// job.cancel) in tx.
func auditJob(ctx context.Context, tx pgx.Tx, by *int64, event string, before dbsqlc.OpsJobForUpdateRow,
	after *rivertype.JobRow, pipelineIDs []uuid.UUID,
) error {
	if pipelineIDs == nil {
		pipelineIDs = []uuid.UUID{}
	}
	err := audit.Record(ctx, tx, by, audit.Event{
		Action: audit.ActionUpdate, Event: event, EntityType: "job", EntityID: strconv.FormatInt(before.ID, 10),
		Snapshot: jobSnapshot{Kind: before.Kind, Queue: before.Queue, State: before.State, NewState: string(after.State),
			Attempt: before.Attempt, MaxAttempts: after.MaxAttempts, PipelineIDs: pipelineIDs},
	})
	if err != nil {
		return fmt.Errorf("error auditing %s of job %d: %w", event, before.ID, err)
	}
	return nil
}
