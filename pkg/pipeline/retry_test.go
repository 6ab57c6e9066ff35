package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// failOnceArgs is a job whose only attempt fails; once retried it
// succeeds (setupWork registers its worker).
type failOnceArgs struct{}

func (failOnceArgs) Kind() string                 { return "test_fail_once" }
func (failOnceArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type failOnceWorker struct {
	river.WorkerDefaults[failOnceArgs]
}

func (w *failOnceWorker) Work(_ context.Context, job *river.Job[failOnceArgs]) error {
	if job.Attempt == 1 {
		return errors.New("upstream down")
	}
	return nil
}

// opsClient is the part of the River client the retry and cancel tests use.
type opsClient interface {
	pipeline.Inserter
	pipeline.JobCanceller
	pipeline.JobRetrier
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

type opsBundle struct {
	ctx    context.Context
	schema testdb.Schema
	river  opsClient
}

func setupOps(t *testing.T) *opsBundle {
	t.Helper()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	client, err := jobs.NewInsertClient(schema.Pool)
	require.NoError(t, err)
	return &opsBundle{ctx: ctx, schema: schema, river: client}
}

// queuedJob commits a recalculation pipeline with one queued noop job.
func (b *opsBundle) queuedJob(t *testing.T) (uuid.UUID, int64) {
	t.Helper()
	type out struct {
		id  uuid.UUID
		job int64
	}
	r, err := postgres.WithTxV(b.ctx, b.schema.Pool, func(ctx context.Context, tx pgx.Tx) (out, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser})
		if err != nil {
			return out{}, err
		}
		job, err := pipeline.InsertTx(ctx, b.river, tx, p.ID, jobs.NoopArgs{}, nil)
		if err != nil {
			return out{}, err
		}
		return out{p.ID, job.ID}, nil
	})
	require.NoError(t, err)
	return r.id, r.job
}

// sharing commits a second pipeline linking the job (coalescing).
func (b *opsBundle) sharing(t *testing.T, jobID int64) uuid.UUID {
	t.Helper()
	job, err := b.river.JobGet(b.ctx, jobID)
	require.NoError(t, err)
	id, err := postgres.WithTxV(b.ctx, b.schema.Pool, func(ctx context.Context, tx pgx.Tx) (uuid.UUID, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser})
		if err != nil {
			return uuid.Nil, err
		}
		return p.ID, pipeline.Link(ctx, tx, p.ID, job, pipeline.RoleRoot)
	})
	require.NoError(t, err)
	return id
}

// fail ends the job's only attempt as the worker middleware records a last
// failed attempt: River discards it, its links become `failed`.
func (b *opsBundle) fail(t *testing.T, jobID int64) {
	t.Helper()
	err := postgres.WithTx(b.ctx, b.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE river_job SET state = 'discarded', attempt = max_attempts,
			attempted_at = now(), finalized_at = now(),
			errors = ARRAY['{"at": "2026-01-02T03:04:05Z", "attempt": 1, "error": "boom", "trace": "stack"}'::jsonb]
			WHERE id = $1`, jobID); err != nil {
			return err
		}
		q := dbsqlc.New(tx)
		if _, err := q.PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: 1, JobID: jobID}); err != nil {
			return err
		}
		ids, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: string(pipeline.JobFailed),
			Message: new("boom"), JobID: jobID})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := pipeline.Refresh(ctx, tx, id, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// setRiverState moves a River job to state (running, completed) behind
// River's back, as a worker would.
func (b *opsBundle) setRiverState(t *testing.T, jobID int64, state rivertype.JobState) {
	t.Helper()
	_, err := b.schema.Pool.Exec(b.ctx, `UPDATE river_job SET state = $2::river_job_state, attempt = 1, attempted_at = now(),
		finalized_at = CASE WHEN $2::text = 'completed' THEN now() END WHERE id = $1`, jobID, string(state))
	require.NoError(t, err)
}

func (b *opsBundle) events(t *testing.T, event, entityType, entityID string) []json.RawMessage {
	t.Helper()
	rows, err := b.schema.Pool.Query(b.ctx, `SELECT snapshot FROM audit_events
		WHERE event = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY seq`, event, entityType, entityID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	require.NoError(t, err)
	return out
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

func requireReason(t *testing.T, err error, code apperr.Code, reason apperr.Reason) {
	t.Helper()
	ae, ok := errors.AsType[*apperr.Error](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, code, ae.Code, ae.Message)
	require.Equal(t, reason, ae.Reason, ae.Message)
}

func TestRetry(t *testing.T) {
	t.Parallel()

	t.Run("CancelledPipeline", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		_, err := pipeline.Cancel(b.ctx, b.schema.Pool, b.river, id, nil)
		require.NoError(t, err)

		v, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		require.NoError(t, err)
		require.False(t, v.Cancelled)
		require.Equal(t, string(pipeline.StatusNotStarted), v.Status, "its only job never started")
		require.Nil(t, v.FinishedAt)
		require.Len(t, v.Jobs, 1)
		require.Equal(t, string(pipeline.JobQueued), v.Jobs[0].State)
		require.Nil(t, v.Jobs[0].FinishedAt)
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)

		p, err := dbsqlc.New(b.schema.Pool).PipelineGet(b.ctx, id)
		require.NoError(t, err)
		require.False(t, p.Cancelled)
		require.Nil(t, p.CancelRequestedAt)
		snaps := b.events(t, pipeline.EventRetry, "pipeline", id.String())
		require.Len(t, snaps, 1)
		require.JSONEq(t, `{"kind": "recalculation", "status": "FAILED", "cancelled": true, "year": null, "module": null,
			"unit_id": null, "job_id": `+jsonInt(jobID)+`, "job_kind": "noop", "job_state": "cancelled", "attempt": 0,
			"max_attempts": 25}`, string(snaps[0]))
	})
	// The audit event is written in the retry's transaction: when it cannot
	// be stored, nothing is retried.
	t.Run("FailedAuditRetriesNothing", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		b.fail(t, jobID)
		testdb.FailInserts(b.ctx, t, b.schema, "audit_events", "audit store down")
		_, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		require.ErrorContains(t, err, "audit store down")
		p, js := getPipeline(b.ctx, t, b.schema.Pool, id)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, string(pipeline.JobFailed), js[0].State)
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateDiscarded, job.State)
	})
	t.Run("FailedJob", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		other := b.sharing(t, jobID)
		b.fail(t, jobID)

		v, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		require.NoError(t, err)
		require.Equal(t, string(pipeline.StatusRunning), v.Status)
		require.Nil(t, v.LastError)
		require.Equal(t, string(pipeline.JobQueued), v.Jobs[0].State)
		require.Equal(t, "Retry requested by user", *v.Jobs[0].Message)
		require.Equal(t, int32(26), v.Jobs[0].MaxAttempts, "River grants one more attempt")
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
		require.Equal(t, 26, job.MaxAttempts)

		p, js := getPipeline(b.ctx, t, b.schema.Pool, other)
		require.Equal(t, string(pipeline.StatusRunning), p.Status, "every pipeline of the job follows")
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
	})
	t.Run("JobGone", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		b.fail(t, jobID)
		_, err := b.schema.Pool.Exec(b.ctx, `DELETE FROM river_job WHERE id = $1`, jobID) // River's cleaner
		require.NoError(t, err)
		_, err = pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		requireReason(t, err, apperr.CodeConflict, pipeline.ReasonJobNotRetryable)
	})
	t.Run("NotTerminal", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		_, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		requireReason(t, err, apperr.CodeConflict, pipeline.ReasonNotTerminal)
	})
	t.Run("SucceededJob", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		b.setRiverState(t, jobID, rivertype.JobStateCompleted)
		require.NoError(t, postgres.WithTx(b.ctx, b.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
			return pipeline.FinishTx(ctx, tx, jobID, pipeline.Result{})
		}))
		_, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID, nil)
		requireReason(t, err, apperr.CodeConflict, pipeline.ReasonJobNotRetryable)
		require.Empty(t, b.events(t, pipeline.EventRetry, "pipeline", id.String()), "a refused retry is not audited")
	})
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		_, err := pipeline.Retry(b.ctx, b.schema.Pool, b.river, uuid.New(), jobID, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		_, err = pipeline.Retry(b.ctx, b.schema.Pool, b.river, id, jobID+1000, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err), "a job the pipeline does not link")
	})
}

// TestRetryRunsAgain retries a failed job with a working River client: the
// pipeline goes back to RUNNING and ends SUCCESS with the second attempt.
func TestRetryRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bundle := setupWork(ctx, t)
	id, job := bundle.startPipeline(ctx, t, pipeline.KindRecalculation, failOnceArgs{})
	p, _ := waitPipeline(ctx, t, bundle.pool, id, terminal)
	require.Equal(t, string(pipeline.StatusFailed), p.Status)
	requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateDiscarded)

	v, err := pipeline.Retry(ctx, bundle.pool, bundle.client, id, job.ID, nil)
	require.NoError(t, err)
	require.Equal(t, string(pipeline.StatusRunning), v.Status)
	require.Nil(t, v.FinishedAt)

	p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
	require.Equal(t, string(pipeline.StatusSuccess), p.Status)
	require.Nil(t, p.LastError)
	require.Equal(t, string(pipeline.JobSucceeded), js[0].State)
	require.Equal(t, int32(2), js[0].Attempt)
	require.Equal(t, int32(2), js[0].MaxAttempts)
	requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCompleted)
}

func TestRetryJob(t *testing.T) {
	t.Parallel()

	t.Run("DiscardedJob", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		b.fail(t, jobID)
		require.NoError(t, pipeline.RetryJob(b.ctx, b.schema.Pool, b.river, jobID, nil))
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
		p, js := getPipeline(b.ctx, t, b.schema.Pool, id)
		require.Equal(t, string(pipeline.StatusRunning), p.Status)
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
		snaps := b.events(t, pipeline.EventJobRetry, "job", jsonInt(jobID))
		require.Len(t, snaps, 1)
		require.JSONEq(t, `{"kind": "noop", "queue": "default", "state": "discarded", "new_state": "available",
			"attempt": 25, "max_attempts": 26, "pipeline_ids": ["`+id.String()+`"]}`, string(snaps[0]))
	})
	// A retry through the ops route leaves a cancelled pipeline cancelled.
	t.Run("KeepsPipelineCancelled", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		_, err := pipeline.Cancel(b.ctx, b.schema.Pool, b.river, id, nil)
		require.NoError(t, err)
		require.NoError(t, pipeline.RetryJob(b.ctx, b.schema.Pool, b.river, jobID, nil))
		p, js := getPipeline(b.ctx, t, b.schema.Pool, id)
		require.True(t, p.Cancelled)
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		for _, st := range []rivertype.JobState{rivertype.JobStateRunning, rivertype.JobStateCompleted} {
			_, jobID := b.queuedJob(t)
			b.setRiverState(t, jobID, st)
			err := pipeline.RetryJob(b.ctx, b.schema.Pool, b.river, jobID, nil)
			requireReason(t, err, apperr.CodeConflict, pipeline.ReasonJobNotRetryable)
			job, err := b.river.JobGet(b.ctx, jobID)
			require.NoError(t, err)
			require.Equal(t, st, job.State)
		}
		err := pipeline.RetryJob(b.ctx, b.schema.Pool, b.river, 987654, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
}

func TestCancelJob(t *testing.T) {
	t.Parallel()

	t.Run("QueuedSharedJob", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		other := b.sharing(t, jobID)
		require.NoError(t, pipeline.CancelJob(b.ctx, b.schema.Pool, b.river, jobID, nil))

		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		p, js := getPipeline(b.ctx, t, b.schema.Pool, id)
		require.Equal(t, string(pipeline.StatusFailed), p.Status, "its only root job was cancelled")
		require.False(t, p.Cancelled, "the pipeline itself was not cancelled")
		require.Equal(t, string(pipeline.JobCancelled), js[0].State)
		require.Equal(t, "Cancelled by user", *js[0].Message)
		p, js = getPipeline(b.ctx, t, b.schema.Pool, other)
		require.Equal(t, string(pipeline.StatusFailed), p.Status, "every pipeline of the job follows")
		require.Equal(t, string(pipeline.JobCancelled), js[0].State)
		require.Len(t, b.events(t, pipeline.EventJobCancel, "job", jsonInt(jobID)), 1)

		err = pipeline.CancelJob(b.ctx, b.schema.Pool, b.river, jobID, nil)
		requireReason(t, err, apperr.CodeConflict, pipeline.ReasonJobFinalized)
		require.Len(t, b.events(t, pipeline.EventJobCancel, "job", jsonInt(jobID)), 1, "a refused cancel is not audited")
	})
	// A running job is only asked to stop: its worker records the end.
	t.Run("RunningJob", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		id, jobID := b.queuedJob(t)
		b.setRiverState(t, jobID, rivertype.JobStateRunning)
		require.NoError(t, pipeline.CancelJob(b.ctx, b.schema.Pool, b.river, jobID, nil))
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateRunning, job.State)
		require.Contains(t, string(job.Metadata), "cancel_attempted_at")
		_, js := getPipeline(b.ctx, t, b.schema.Pool, id)
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
		require.Len(t, b.events(t, pipeline.EventJobCancel, "job", jsonInt(jobID)), 1)
	})
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setupOps(t)
		err := pipeline.CancelJob(b.ctx, b.schema.Pool, b.river, 987654, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
}
