package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestCancel(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx    context.Context
		schema testdb.Schema
		river  interface {
			pipeline.Inserter
			pipeline.JobCanceller
			JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
		}
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		ctx := t.Context()
		schema := testdb.TestSchema(ctx, t)
		client, err := jobs.NewInsertClient(schema.Pool)
		require.NoError(t, err)
		return &testBundle{ctx: ctx, schema: schema, river: client}
	}
	queued := func(t *testing.T, b *testBundle) (uuid.UUID, int64) {
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
	cancelEvents := func(t *testing.T, b *testBundle, id uuid.UUID) int {
		t.Helper()
		var n int
		require.NoError(t, b.schema.Pool.QueryRow(b.ctx, `SELECT count(*) FROM audit_events
			WHERE event = 'pipeline.cancel' AND entity_type = 'pipeline' AND entity_id = $1`, id.String()).Scan(&n))
		return n
	}

	t.Run("Audited", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, jobID := queued(t, b)
		v, err := pipeline.Cancel(b.ctx, b.schema.Pool, b.river, id, nil)
		require.NoError(t, err)
		require.Equal(t, string(pipeline.StatusFailed), v.Status)
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Equal(t, 1, cancelEvents(t, b, id))

		_, err = pipeline.Cancel(b.ctx, b.schema.Pool, b.river, id, nil)
		ae, ok := errors.AsType[*apperr.Error](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, pipeline.ReasonTerminal, ae.Reason)
		require.Equal(t, 1, cancelEvents(t, b, id), "a refused cancel is not audited")
	})
	// The audit event is written in the cancel's transaction: when it
	// cannot be stored, nothing is cancelled.
	t.Run("FailedAuditCancelsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, jobID := queued(t, b)
		testdb.FailInserts(b.ctx, t, b.schema, "audit_events", "audit store down")
		_, err := pipeline.Cancel(b.ctx, b.schema.Pool, b.river, id, nil)
		require.ErrorContains(t, err, "audit store down")
		p, err := dbsqlc.New(b.schema.Pool).PipelineGet(b.ctx, id)
		require.NoError(t, err)
		require.False(t, p.Cancelled)
		job, err := b.river.JobGet(b.ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
	})
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := pipeline.Cancel(b.ctx, b.schema.Pool, b.river, uuid.New(), nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
}
