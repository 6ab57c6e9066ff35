package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// The hook of a job kind runs, in the bookkeeping transaction, exactly when
// the job fails for good: its last attempt failed, or it was cancelled.
func TestMiddlewareFinalFailureHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const jobID = 77

	type call struct {
		jobID   int64
		message string
	}
	type testBundle struct {
		tx    pgx.Tx
		mw    *pipeline.Middleware
		calls []call
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{tx: testdb.TestTx(ctx, t)}
		p := createPipeline(ctx, t, b.tx, pipeline.KindYearSetup)
		require.NoError(t, dbsqlc.New(b.tx).PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{PipelineID: p.ID, JobID: jobID,
			Kind: "accred_unit_sync", Queue: "integrations", Role: pipeline.RoleRoot, MaxAttempts: 3}))
		b.mw = pipeline.NewMiddlewareForTest(b.tx, testdb.QuietLogger(), nil, func(time.Duration) {}).
			OnFinalFailure(map[string]pipeline.FailureHook{
				"accred_unit_sync": func(_ context.Context, tx pgx.Tx, job *rivertype.JobRow, message string) error {
					// It runs in the transaction that recorded the failure.
					var state string
					require.NoError(t, tx.QueryRow(ctx, `SELECT state FROM pipeline_jobs WHERE job_id = $1`, job.ID).Scan(&state))
					require.Contains(t, []string{string(pipeline.JobFailed), string(pipeline.JobCancelled)}, state)
					b.calls = append(b.calls, call{jobID: job.ID, message: message})
					return nil
				},
			})
		return b
	}
	job := func(attempt int) *rivertype.JobRow {
		return &rivertype.JobRow{ID: jobID, Kind: "accred_unit_sync", Queue: "integrations", Attempt: attempt, MaxAttempts: 3}
	}
	down := errors.New("upstream_unavailable: Accred GET /units (page 0): HTTP 503")

	t.Run("CancelledJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_ = b.mw.Work(ctx, job(1), func(context.Context) error {
			return river.JobCancel(errors.New("upstream_auth_failed: refused"))
		})
		require.Equal(t, []call{{jobID: jobID, message: "upstream_auth_failed: refused"}}, b.calls)
	})

	t.Run("LastAttemptFailed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_ = b.mw.Work(ctx, job(3), func(context.Context) error { return down })
		require.Equal(t, []call{{jobID: jobID, message: down.Error()}}, b.calls)
	})

	t.Run("NotOnRetryOrSuccess", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_ = b.mw.Work(ctx, job(1), func(context.Context) error { return down })
		require.NoError(t, b.mw.Work(ctx, job(2), func(context.Context) error { return nil }))
		require.Empty(t, b.calls)
	})

	t.Run("OtherKindsUntouched", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := job(3)
		other.Kind = "upload_import"
		_ = b.mw.Work(ctx, other, func(context.Context) error { return down })
		require.Empty(t, b.calls)
	})
}
