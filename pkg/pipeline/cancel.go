package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// EventCancel is the audit event of a cancel request (entity
// pipeline/<id>, docs/jobs.md §11.1).
const EventCancel = "pipeline.cancel"

// ReasonTerminal is the 409 code of a cancel of a finished pipeline.
const ReasonTerminal apperr.Reason = "pipeline_terminal"

// JobCanceller is the part of the River client Cancel needs.
type JobCanceller interface {
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// cancelSnapshot is the snapshot of a pipeline.cancel event: the pipeline
// before the cancel, the jobs cancelled at once and the running jobs asked
// to stop.
type cancelSnapshot struct {
	Kind            string  `json:"kind"`
	Status          string  `json:"status"`
	Year            *int32  `json:"year"`
	Module          *string `json:"module"`
	UnitID          *int64  `json:"unit_id"`
	CancelledJobIDs []int64 `json:"cancelled_job_ids"`
	StoppingJobIDs  []int64 `json:"stopping_job_ids"`
}

// Cancel marks a pipeline cancelled and cancels, with River in the same
// transaction, every non-terminal job linked only to it (docs/jobs.md
// §2.5): queued and retrying jobs end at once, running jobs see their
// context cancelled and their bookkeeping records the cancellation. The
// audit event pipeline.cancel is written in that transaction too, so a
// failed audit write cancels nothing. A terminal pipeline is 409
// pipeline_terminal; an unknown one 404.
func Cancel(ctx context.Context, db postgres.TxBeginner, river JobCanceller, id uuid.UUID, by *int64) (View, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (View, error) {
		q := dbsqlc.New(tx)
		p, err := q.PipelineGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return View{}, apperr.NotFound("pipeline %s not found", id)
		}
		if err != nil {
			return View{}, fmt.Errorf("error locking pipeline %s: %w", id, err)
		}
		if Status(p.Status).Terminal() {
			return View{}, apperr.WithReason(apperr.CodeConflict, ReasonTerminal, "pipeline %s is already %s", id, p.Status)
		}
		if err := q.PipelineMarkCancelled(ctx, dbsqlc.PipelineMarkCancelledParams{ID: id, UserID: by}); err != nil {
			return View{}, fmt.Errorf("error cancelling pipeline %s: %w", id, err)
		}
		jobIDs, err := q.PipelineJobsCancellable(ctx, id)
		if err != nil {
			return View{}, fmt.Errorf("error reading jobs of pipeline %s: %w", id, err)
		}
		msg := "Cancelled by user"
		cancelled, stopping := []int64{}, []int64{}
		for _, jobID := range jobIDs {
			job, err := river.JobCancelTx(ctx, tx, jobID)
			if errors.Is(err, rivertype.ErrNotFound) {
				job = &rivertype.JobRow{State: rivertype.JobStateCancelled} // cleaned: nothing can run
			} else if err != nil {
				return View{}, fmt.Errorf("error cancelling job %d: %w", jobID, err)
			}
			if job.State != rivertype.JobStateCancelled {
				if job.State == rivertype.JobStateRunning {
					stopping = append(stopping, jobID)
				}
				continue // running: the worker middleware records the end; finished: its bookkeeping follows
			}
			cancelled = append(cancelled, jobID)
			if _, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{
				State: string(JobCancelled), Message: &msg, JobID: jobID}); err != nil {
				return View{}, fmt.Errorf("error recording cancel of job %d: %w", jobID, err)
			}
		}
		if err := audit.Record(ctx, tx, by, audit.Event{
			Action: audit.ActionUpdate, Event: EventCancel, EntityType: "pipeline", EntityID: id.String(),
			Snapshot: cancelSnapshot{Kind: p.Kind, Status: p.Status, Year: p.Year, Module: p.Module, UnitID: p.UnitID,
				CancelledJobIDs: cancelled, StoppingJobIDs: stopping},
		}); err != nil {
			return View{}, fmt.Errorf("error auditing cancel of pipeline %s: %w", id, err)
		}
		if _, err := Refresh(ctx, tx, id, time.Now()); err != nil {
			return View{}, err
		}
		p, jobs, err := Get(ctx, tx, id)
		if err != nil {
			return View{}, err
		}
		return ToView(p, jobs), nil
	})
}

// EventJobCancel is the audit event of an operator's cancel of a River job
// (entity job/<id>, docs/jobs.md §11.1).
const EventJobCancel = "job.cancel"

// ReasonJobFinalized is the 409 code of a cancel of a job that already
// ended (completed, discarded or cancelled).
const ReasonJobFinalized apperr.Reason = "job_finalized"

// CancelJob is an operator's River cancel of one job (docs/api.md §10,
// POST /ops/jobs/{id}/cancel), whatever pipelines link it. In one
// transaction with River's JobCancelTx: a waiting job (available,
// scheduled, retryable, pending) ends at once and every pipeline linking
// it follows (links `cancelled` "Cancelled by user", pipelines refreshed);
// a running job sees its context cancelled and the worker middleware
// records the end; job.cancel is written. The pipelines' `cancelled` flags
// are not set: their status follows from the job's. An unknown job is 404;
// a job that already ended is 409 job_finalized.
func CancelJob(ctx context.Context, db postgres.TxBeginner, river JobCanceller, id int64, by *int64) error {
	return postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		before, err := lockJob(ctx, q, id)
		if err != nil {
			return err
		}
		switch rivertype.JobState(before.State) {
		case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			return apperr.WithReason(apperr.CodeConflict, ReasonJobFinalized, "job %d is already %s", id, before.State)
		default:
		}
		job, err := river.JobCancelTx(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("error cancelling job %d: %w", id, err)
		}
		ids, err := q.PipelineIDsByJob(ctx, id)
		if err != nil {
			return fmt.Errorf("error reading pipelines of job %d: %w", id, err)
		}
		if err := auditJob(ctx, tx, by, EventJobCancel, before, job, ids); err != nil {
			return err
		}
		if job.State != rivertype.JobStateCancelled {
			return nil // running: the worker middleware records the end
		}
		msg := "Cancelled by user"
		changed, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{
			State: string(JobCancelled), Message: &msg, JobID: id})
		if err != nil {
			return fmt.Errorf("error recording cancel of job %d: %w", id, err)
		}
		return refreshAll(ctx, tx, changed, time.Now())
	})
}
