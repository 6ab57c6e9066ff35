package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// Test-only job kinds worked by the client of setupWork. The first one
// borrows the kind of the real upload import, the multi-phase job whose
// phases Derive tracks (validate, then load).

type uploadImportArgs struct{}

func (uploadImportArgs) Kind() string { return "upload_import" }

// uploadImportWorker reports validate then load progress, waits for the test
// to release it, and completes in its own transaction with FinishTx.
type uploadImportWorker struct {
	river.WorkerDefaults[uploadImportArgs]

	pool    *pgxpool.Pool
	release <-chan struct{}
}

func (w *uploadImportWorker) Work(ctx context.Context, job *river.Job[uploadImportArgs]) error {
	rep := pipeline.ReporterFrom(ctx)
	rep.Progress(ctx, "validate", 100, 100, "Validated 100 of 100 rows")
	rep.Progress(ctx, "load", 10, 40, "Loaded 10 of 40 rows")
	select {
	case <-w.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return postgres.WithTx(ctx, w.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := pipeline.FinishTx(ctx, tx, job.ID, pipeline.Result{
			Counters: map[string]any{"rows_total": 40, "rows_loaded": 40, "row_warnings": 1},
			Message:  "40 rows loaded",
		}); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

type flakyArgs struct{}

func (flakyArgs) Kind() string                 { return "test_flaky" }
func (flakyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// flakyWorker fails its first attempt; its retry is parked an hour away so
// that the test sees the `retrying` state, then retries it by hand.
type flakyWorker struct {
	river.WorkerDefaults[flakyArgs]
}

func (w *flakyWorker) NextRetry(*river.Job[flakyArgs]) time.Time { return time.Now().Add(time.Hour) }

func (w *flakyWorker) Work(_ context.Context, job *river.Job[flakyArgs]) error {
	if job.Attempt == 1 {
		return errors.New("upstream timeout")
	}
	return nil
}

type badFileArgs struct{}

func (badFileArgs) Kind() string { return "test_bad_file" }

type badFileWorker struct {
	river.WorkerDefaults[badFileArgs]
}

func (w *badFileWorker) Work(context.Context, *river.Job[badFileArgs]) error {
	return river.JobCancel(errors.New("bad file"))
}

type cancelNilArgs struct{}

func (cancelNilArgs) Kind() string { return "test_cancel_nil" }

type cancelNilWorker struct {
	river.WorkerDefaults[cancelNilArgs]
}

func (w *cancelNilWorker) Work(context.Context, *river.Job[cancelNilArgs]) error {
	return river.JobCancel(nil)
}

type alwaysFailArgs struct{}

func (alwaysFailArgs) Kind() string                 { return "test_always_fail" }
func (alwaysFailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 2} }

type alwaysFailWorker struct {
	river.WorkerDefaults[alwaysFailArgs]
}

func (w *alwaysFailWorker) Work(context.Context, *river.Job[alwaysFailArgs]) error {
	return errors.New("boom")
}

type panicArgs struct{}

func (panicArgs) Kind() string                 { return "test_panic" }
func (panicArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type panicWorker struct {
	river.WorkerDefaults[panicArgs]
}

func (w *panicWorker) Work(context.Context, *river.Job[panicArgs]) error { panic("kaboom") }

type blockArgs struct{}

func (blockArgs) Kind() string                 { return "test_block" }
func (blockArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// blockWorker runs until its context is cancelled.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
}

func (w *blockWorker) Work(ctx context.Context, _ *river.Job[blockArgs]) error {
	<-ctx.Done()
	return ctx.Err()
}

type scheduledArgs struct{}

func (scheduledArgs) Kind() string { return "test_scheduled" }

// scheduledWorker stands for a periodic job (autoCreate maps its kind to
// ecb_sync). It fails its first attempt, reports fetch progress twice
// (the second report falls in the throttle window and is flushed when the
// job returns) and succeeds without FinishTx.
type scheduledWorker struct {
	river.WorkerDefaults[scheduledArgs]
}

func (w *scheduledWorker) Work(ctx context.Context, job *river.Job[scheduledArgs]) error {
	if job.Attempt == 1 {
		return errors.New("feed unavailable")
	}
	rep := pipeline.ReporterFrom(ctx)
	rep.Progress(ctx, "fetch", 1, 2, "Fetched 1 of 2 years")
	rep.Progress(ctx, "fetch", 2, 2, "Fetched 2 of 2 years")
	return nil
}

// immediateRetry retries failed jobs at once, for speed.
type immediateRetry struct{}

func (immediateRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

// warnRecorder is a slog handler keeping warnings and errors, so that a test
// fails when the middleware reports a bookkeeping problem.
type warnRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *warnRecorder) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h *warnRecorder) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, msg)
	return nil
}

func (h *warnRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *warnRecorder) WithGroup(string) slog.Handler      { return h }

func (h *warnRecorder) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

type workBundle struct {
	client  *river.Client[pgx.Tx]
	pool    *pgxpool.Pool
	release func() // unblocks uploadImportWorker
}

// setupWork starts a River client in a fresh schema with the pipeline
// middleware and the test workers.
func setupWork(ctx context.Context, t *testing.T) *workBundle {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	logs := &warnRecorder{}
	release := make(chan struct{})
	var releaseOnce sync.Once

	workers := river.NewWorkers()
	river.AddWorker(workers, &alwaysFailWorker{})
	river.AddWorker(workers, &badFileWorker{})
	river.AddWorker(workers, &blockWorker{})
	river.AddWorker(workers, &cancelNilWorker{})
	river.AddWorker(workers, &failOnceWorker{})
	river.AddWorker(workers, &flakyWorker{})
	river.AddWorker(workers, &jobs.NoopWorker{})
	river.AddWorker(workers, &panicWorker{})
	river.AddWorker(workers, &scheduledWorker{})
	river.AddWorker(workers, &uploadImportWorker{pool: schema.Pool, release: release})

	client, err := river.NewClient(riverpgxv5.New(schema.Pool), &river.Config{
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            testdb.QuietLogger(),
		Middleware: []rivertype.Middleware{pipeline.NewMiddleware(schema.Pool, slog.New(logs), map[string]pipeline.Kind{
			scheduledArgs{}.Kind(): pipeline.KindECBSync,
		})},
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		RetryPolicy: immediateRetry{},
		TestOnly:    true,
		Workers:     workers,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))

	bundle := &workBundle{
		client:  client,
		pool:    schema.Pool,
		release: func() { releaseOnce.Do(func() { close(release) }) },
	}
	t.Cleanup(func() {
		bundle.release()
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			_ = client.StopAndCancel(context.Background())
			require.NoError(t, err)
		}
		require.Empty(t, logs.messages(), "the pipeline middleware logged problems")
	})
	return bundle
}

// startPipeline creates a user pipeline and inserts its root job in one
// committed transaction, as an API handler does.
func (b *workBundle) startPipeline(ctx context.Context, t *testing.T, kind pipeline.Kind, args river.JobArgs) (uuid.UUID, *rivertype.JobRow) {
	t.Helper()
	var (
		id  uuid.UUID
		job *rivertype.JobRow
	)
	err := postgres.WithTx(ctx, b.pool, func(ctx context.Context, tx pgx.Tx) error {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: kind, Trigger: pipeline.TriggerUser})
		if err != nil {
			return err
		}
		id = p.ID
		job, err = pipeline.InsertTx(ctx, b.client, tx, p.ID, args, nil)
		return err
	})
	require.NoError(t, err)
	return id, job
}

// waitPipeline polls the pipeline until cond holds, then returns it.
func waitPipeline(ctx context.Context, t *testing.T, db postgres.DBTX, id uuid.UUID, cond func(dbsqlc.Pipeline, []dbsqlc.PipelineJob) bool) (dbsqlc.Pipeline, []dbsqlc.PipelineJob) {
	t.Helper()
	require.Eventually(t, func() bool {
		p, js, err := pipeline.Get(ctx, db, id)
		return err == nil && cond(p, js)
	}, 10*time.Second, 20*time.Millisecond, "pipeline %s never reached the expected state", id)
	p, js := getPipeline(ctx, t, db, id)
	require.True(t, cond(p, js))
	return p, js
}

func terminal(p dbsqlc.Pipeline, _ []dbsqlc.PipelineJob) bool {
	return pipeline.Status(p.Status).Terminal()
}

func jobState(state pipeline.JobState) func(dbsqlc.Pipeline, []dbsqlc.PipelineJob) bool {
	return func(_ dbsqlc.Pipeline, js []dbsqlc.PipelineJob) bool {
		return len(js) == 1 && js[0].State == string(state)
	}
}

func requireRiverState(ctx context.Context, t *testing.T, client *river.Client[pgx.Tx], jobID int64, want rivertype.JobState) {
	t.Helper()
	require.Eventually(t, func() bool {
		job, err := client.JobGet(ctx, jobID)
		return err == nil && job.State == want
	}, 10*time.Second, 20*time.Millisecond, "River job %d never reached %s", jobID, want)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AutoCreateForScheduledRun", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)

		res, err := bundle.client.Insert(ctx, scheduledArgs{}, nil)
		require.NoError(t, err)
		// An unlinked job of a kind missing from autoCreate gets no pipeline.
		noop, err := bundle.client.Insert(ctx, jobs.NoopArgs{}, nil)
		require.NoError(t, err)

		var ids []uuid.UUID
		require.Eventually(t, func() bool {
			found, err := dbsqlc.New(bundle.pool).PipelineIDsByJob(ctx, res.Job.ID)
			return err == nil && len(found) == 1
		}, 10*time.Second, 20*time.Millisecond)
		ids, err = dbsqlc.New(bundle.pool).PipelineIDsByJob(ctx, res.Job.ID)
		require.NoError(t, err)
		require.Len(t, ids, 1, "the retry reuses the pipeline of the first attempt")

		p, js := waitPipeline(ctx, t, bundle.pool, ids[0], terminal)
		require.Equal(t, string(pipeline.KindECBSync), p.Kind)
		require.Equal(t, string(pipeline.TriggerSchedule), p.Trigger)
		require.Nil(t, p.CreatedBy)
		require.Equal(t, []string{"fetch", "recalculate", "aggregate"}, p.Phases)
		require.Equal(t, string(pipeline.StatusSuccess), p.Status)
		require.Equal(t, int32(100), p.Percent)
		require.NotNil(t, p.StartedAt)
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, int32(1), p.JobCount)
		require.Len(t, js, 1)
		require.Equal(t, res.Job.ID, js[0].JobID)
		require.Equal(t, pipeline.RoleRoot, js[0].Role)
		require.Equal(t, string(pipeline.JobSucceeded), js[0].State)
		require.Equal(t, int32(2), js[0].Attempt)
		require.Nil(t, js[0].Message, "the retry message is cleared by the next attempt")
		require.JSONEq(t, `{"phase": "fetch", "done": 2, "total": 2}`, string(js[0].Progress),
			"the last progress report is flushed when the job returns")

		requireRiverState(ctx, t, bundle.client, noop.Job.ID, rivertype.JobStateCompleted)
		none, err := dbsqlc.New(bundle.pool).PipelineIDsByJob(ctx, noop.Job.ID)
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("CancelledRemotely", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindExport, blockArgs{})

		waitPipeline(ctx, t, bundle.pool, id, jobState(pipeline.JobRunning))
		_, err := bundle.client.JobCancel(ctx, job.ID)
		require.NoError(t, err)

		p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, int32(1), p.FailedJobCount)
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, string(pipeline.JobCancelled), js[0].State)
		require.NotNil(t, js[0].FinishedAt)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCancelled)
	})

	t.Run("FailsAfterLastAttempt", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindRecalculation, alwaysFailArgs{})

		p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, new("boom"), p.LastError)
		require.Equal(t, int32(1), p.FailedJobCount)
		require.LessOrEqual(t, p.Percent, int32(99))
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, string(pipeline.JobFailed), js[0].State)
		require.Equal(t, int32(2), js[0].Attempt)
		require.Equal(t, int32(2), js[0].MaxAttempts)
		require.Equal(t, new("boom"), js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateDiscarded)
	})

	t.Run("InterruptedByShutdown", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindExport, blockArgs{})

		waitPipeline(ctx, t, bundle.pool, id, jobState(pipeline.JobRunning))
		// StopAndCancel returns once the attempt and its bookkeeping are done.
		require.NoError(t, bundle.client.StopAndCancel(ctx))

		p, js := getPipeline(ctx, t, bundle.pool, id)
		require.Equal(t, string(pipeline.StatusRunning), p.Status, "the job runs again on the next worker")
		require.Nil(t, p.FinishedAt)
		require.Nil(t, p.LastError)
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
		require.NotNil(t, js[0].StartedAt)
		require.Nil(t, js[0].FinishedAt)
		got, err := bundle.client.JobGet(ctx, job.ID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, got.State)
	})

	t.Run("JobCancelWithError", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindDataUpload, badFileArgs{})

		p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, new("bad file"), p.LastError)
		require.Equal(t, int32(1), p.FailedJobCount)
		require.LessOrEqual(t, p.Percent, int32(99))
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, string(pipeline.JobFailed), js[0].State)
		require.Equal(t, int32(1), js[0].Attempt)
		require.Equal(t, new("bad file"), js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCancelled)
	})

	t.Run("JobCancelWithoutError", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindDataUpload, cancelNilArgs{})

		p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Nil(t, p.LastError)
		require.Equal(t, string(pipeline.JobCancelled), js[0].State)
		require.Nil(t, js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCancelled)
	})

	t.Run("Panics", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindExport, panicArgs{})

		p, js := waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, new("panic: kaboom"), p.LastError)
		require.Equal(t, string(pipeline.JobFailed), js[0].State)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateDiscarded)
	})

	t.Run("ProgressThenSuccess", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindDataUpload, uploadImportArgs{})

		// The job reported validate, then load, and waits to be released.
		p, js := waitPipeline(ctx, t, bundle.pool, id, func(p dbsqlc.Pipeline, _ []dbsqlc.PipelineJob) bool {
			return p.Phase != nil && *p.Phase == "load"
		})
		require.Equal(t, string(pipeline.StatusRunning), p.Status)
		require.Equal(t, int32(3), p.PhaseIndex) // nothing replaced: replace is skipped
		require.Equal(t, int64(10), p.ProgressDone)
		require.Equal(t, int64(40), p.ProgressTotal)
		require.Equal(t, int32(56), p.Percent) // floor(100 × (2 + 10/40) / 4)
		require.NotNil(t, p.EtaSeconds)
		require.Equal(t, new("Loaded 10 of 40 rows"), p.Message)
		require.NotNil(t, p.StartedAt)
		require.Nil(t, p.FinishedAt)
		require.Equal(t, string(pipeline.JobRunning), js[0].State)
		require.Equal(t, int32(1), js[0].Attempt)
		require.Equal(t, new("Loaded 10 of 40 rows"), js[0].Message)
		require.JSONEq(t, `{"phase": "load", "done": 10, "total": 40}`, string(js[0].Progress))

		bundle.release()
		p, js = waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusSuccess), p.Status)
		require.Equal(t, int32(100), p.Percent)
		require.Equal(t, int32(4), p.PhaseIndex)
		require.Nil(t, p.EtaSeconds)
		require.Equal(t, new("Completed"), p.Message)
		require.JSONEq(t, `{"rows_total": 40, "rows_loaded": 40, "row_warnings": 1}`, string(p.Counters))
		require.Nil(t, p.LastError)
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, string(pipeline.JobSucceeded), js[0].State)
		require.Equal(t, new("40 rows loaded"), js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCompleted)
	})

	t.Run("RetriesThenSucceeds", func(t *testing.T) {
		t.Parallel()
		bundle := setupWork(ctx, t)
		id, job := bundle.startPipeline(ctx, t, pipeline.KindRecalculation, flakyArgs{})

		p, js := waitPipeline(ctx, t, bundle.pool, id, jobState(pipeline.JobRetrying))
		require.Equal(t, string(pipeline.StatusRunning), p.Status)
		require.Nil(t, p.FinishedAt)
		require.Nil(t, p.LastError)
		require.Equal(t, int32(1), js[0].Attempt)
		require.Equal(t, int32(3), js[0].MaxAttempts)
		require.Equal(t, new("attempt 1 of 3 failed, will retry: upstream timeout"), js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateRetryable)

		_, err := bundle.client.JobRetry(ctx, job.ID)
		require.NoError(t, err)

		p, js = waitPipeline(ctx, t, bundle.pool, id, terminal)
		require.Equal(t, string(pipeline.StatusSuccess), p.Status)
		require.Equal(t, int32(100), p.Percent)
		require.Nil(t, p.LastError)
		require.Zero(t, p.FailedJobCount)
		require.Equal(t, string(pipeline.JobSucceeded), js[0].State)
		require.Equal(t, int32(2), js[0].Attempt)
		require.Nil(t, js[0].Message)
		requireRiverState(ctx, t, bundle.client, job.ID, rivertype.JobStateCompleted)
	})
}

func TestReporterFrom(t *testing.T) {
	t.Parallel()

	// Outside the middleware (a worker unit test) the reporter is nil and
	// every call is a no-op.
	ctx := context.Background()
	rep := pipeline.ReporterFrom(ctx)
	require.Nil(t, rep)
	require.NotPanics(t, func() { rep.Progress(ctx, "load", 1, 2, "Loading") })
}

// Progress is written at most once per ProgressInterval, at once on the
// first report and on every phase change; the last report is written when
// the job returns (Flush). The clock is the test's.
func TestReporterProgressInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	p := createPipeline(ctx, t, tx, pipeline.KindDataUpload)
	const jobID = 42
	q := dbsqlc.New(tx)
	require.NoError(t, q.PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{PipelineID: p.ID, JobID: jobID,
		Kind: "upload_import", Queue: "imports", Role: pipeline.RoleRoot, MaxAttempts: 3}))
	_, err := q.PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: 1, JobID: jobID})
	require.NoError(t, err)

	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := t0
	logs := &warnRecorder{}
	rep := pipeline.NewReporterForTest(tx, slog.New(logs), jobID, func() time.Time { return clock })
	require.Equal(t, 250*time.Millisecond, pipeline.ProgressInterval)

	version := func() int64 {
		t.Helper()
		v, err := q.PipelineVersion(ctx, p.ID)
		require.NoError(t, err)
		return v.Version
	}
	written := func() pipeline.JobProgress {
		t.Helper()
		_, js := getPipeline(ctx, t, tx, p.ID)
		var got pipeline.JobProgress
		require.NoError(t, json.Unmarshal(js[0].Progress, &got))
		return got
	}

	steps := []struct {
		at      time.Duration
		phase   string
		done    int64
		written bool
	}{
		{at: 0, phase: "validate", done: 1, written: true}, // first report
		{at: 100 * time.Millisecond, phase: "validate", done: 2},
		{at: 249 * time.Millisecond, phase: "validate", done: 3},
		{at: 250 * time.Millisecond, phase: "validate", done: 4, written: true}, // one interval after the last write
		{at: 300 * time.Millisecond, phase: "load", done: 1, written: true},     // phase change: at once
		{at: 400 * time.Millisecond, phase: "load", done: 2},
		{at: 549 * time.Millisecond, phase: "load", done: 3},
		{at: 550 * time.Millisecond, phase: "load", done: 4, written: true},
		{at: 700 * time.Millisecond, phase: "load", done: 5},
	}
	last := pipeline.JobProgress{}
	v := version()
	for _, s := range steps {
		clock = t0.Add(s.at)
		rep.Progress(ctx, s.phase, s.done, 100, fmt.Sprintf("%s %d", s.phase, s.done))
		if s.written {
			last = pipeline.JobProgress{Phase: s.phase, Done: s.done, Total: 100}
			v++
		}
		require.Equal(t, last, written(), "after the report at %s", s.at)
		require.Equal(t, v, version(), "one pipeline update (and NOTIFY) per write; after the report at %s", s.at)
	}

	// The job returns: its last report is written.
	rep.Flush(ctx)
	require.Equal(t, pipeline.JobProgress{Phase: "load", Done: 5, Total: 100}, written())
	require.Equal(t, v+1, version())
	pl, js := getPipeline(ctx, t, tx, p.ID)
	require.Equal(t, new("load 5"), js[0].Message)
	require.Equal(t, "load", *pl.Phase)
	rep.Flush(ctx)
	require.Equal(t, v+1, version(), "nothing pending: no write")
	require.Empty(t, logs.messages())
}

// unreachableDB is a database that stops answering: while down > 0, Begin
// fails with err (a broken connection unless set) and down decreases.
type unreachableDB struct {
	db postgres.TxBeginner

	mu     sync.Mutex
	down   int
	err    error
	begins int
}

func (u *unreachableDB) Begin(ctx context.Context) (pgx.Tx, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.begins++
	if u.down > 0 {
		u.down--
		if u.err != nil {
			return nil, u.err
		}
		return nil, fmt.Errorf("failed to connect to `user=postgres database=co2`: %w", io.ErrUnexpectedEOF)
	}
	return u.db.Begin(ctx)
}

func (u *unreachableDB) goDown(n int, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.down, u.err, u.begins = n, err, 0
}

func (u *unreachableDB) beginCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.begins
}

type outageBundle struct {
	tx       pgx.Tx
	db       *unreachableDB
	mw       *pipeline.Middleware
	logs     *warnRecorder
	waits    []time.Duration
	pipeline uuid.UUID
}

// setupOutage links job jobID (an upload import) to a new data_upload
// pipeline in a test transaction, and returns a middleware writing through
// a database the test can take down; its waits are recorded, not slept.
func setupOutage(ctx context.Context, t *testing.T, jobID int64) *outageBundle {
	t.Helper()
	tx := testdb.TestTx(ctx, t)
	p := createPipeline(ctx, t, tx, pipeline.KindDataUpload)
	require.NoError(t, dbsqlc.New(tx).PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{PipelineID: p.ID, JobID: jobID,
		Kind: "upload_import", Queue: "imports", Role: pipeline.RoleRoot, MaxAttempts: 3}))
	b := &outageBundle{tx: tx, db: &unreachableDB{db: tx}, logs: &warnRecorder{}, pipeline: p.ID}
	b.mw = pipeline.NewMiddlewareForTest(b.db, slog.New(b.logs), nil, func(d time.Duration) { b.waits = append(b.waits, d) })
	return b
}

func (b *outageBundle) job(ctx context.Context, t *testing.T) dbsqlc.PipelineJob {
	t.Helper()
	_, js := getPipeline(ctx, t, b.tx, b.pipeline)
	require.Len(t, js, 1)
	return js[0]
}

// The database goes away while a job runs: the job fails, and the end
// bookkeeping retries with backoff until the database answers again, so
// that the pipeline shows the retry and its reason (docs/jobs.md §1.1, §2.2).
func TestMiddlewareDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const jobID = 42
	dbErr := errors.New("error reserving entry ids: unexpected EOF")

	t.Run("Budget", func(t *testing.T) {
		t.Parallel()
		var total time.Duration
		for i, d := range pipeline.FinishRetryDelays {
			if i > 0 {
				require.GreaterOrEqual(t, d, pipeline.FinishRetryDelays[i-1], "backoff")
			}
			total += d
		}
		require.LessOrEqual(t, total, pipeline.FinishRetryBudget)
		require.Greater(t, total, pipeline.FinishRetryBudget-time.Second)
	})

	t.Run("RecordedOnceTheDatabaseAnswers", func(t *testing.T) {
		t.Parallel()
		b := setupOutage(ctx, t, jobID)
		job := &rivertype.JobRow{ID: jobID, Kind: "upload_import", Queue: "imports", Attempt: 1, MaxAttempts: 3}

		err := b.mw.Work(ctx, job, func(ctx context.Context) error {
			require.Equal(t, string(pipeline.JobRunning), b.job(ctx, t).State)
			b.db.goDown(3, nil) // three tries fail, the fourth gets through
			return dbErr
		})
		require.ErrorIs(t, err, dbErr, "the job's own error goes to River unchanged")
		require.Equal(t, pipeline.FinishRetryDelays[:3], b.waits)
		require.Equal(t, 4, b.db.beginCount())
		pj := b.job(ctx, t)
		require.Equal(t, string(pipeline.JobRetrying), pj.State)
		require.Equal(t, new("attempt 1 of 3 failed, will retry: error reserving entry ids: unexpected EOF"), pj.Message)
		p, _ := getPipeline(ctx, t, b.tx, b.pipeline)
		require.Equal(t, string(pipeline.StatusRunning), p.Status)
		msgs := b.logs.messages()
		require.Len(t, msgs, 1)
		require.Contains(t, msgs[0], "pipeline bookkeeping failed at job end, retrying")
	})

	t.Run("GivesUpAfterTheBudget", func(t *testing.T) {
		t.Parallel()
		b := setupOutage(ctx, t, jobID)
		job := &rivertype.JobRow{ID: jobID, Kind: "upload_import", Queue: "imports", Attempt: 1, MaxAttempts: 3}

		err := b.mw.Work(ctx, job, func(context.Context) error {
			b.db.goDown(1000, nil)
			return dbErr
		})
		require.ErrorIs(t, err, dbErr)
		require.Equal(t, pipeline.FinishRetryDelays, b.waits)
		require.Equal(t, len(pipeline.FinishRetryDelays)+1, b.db.beginCount())
		require.Equal(t, string(pipeline.JobRunning), b.job(ctx, t).State, "nothing could be written")
		msgs := b.logs.messages()
		require.Len(t, msgs, 2)
		require.Contains(t, msgs[1], "pipeline bookkeeping failed at job end")
		require.Contains(t, msgs[1], "tries=7")
	})

	t.Run("NoRetryWhenTheDatabaseAnswers", func(t *testing.T) {
		t.Parallel()
		b := setupOutage(ctx, t, jobID)
		job := &rivertype.JobRow{ID: jobID, Kind: "upload_import", Queue: "imports", Attempt: 1, MaxAttempts: 3}

		err := b.mw.Work(ctx, job, func(context.Context) error {
			b.db.goDown(1, fmt.Errorf("error beginning transaction: %w", &pgconn.PgError{Code: "53300", Message: "too many connections"}))
			return dbErr
		})
		require.ErrorIs(t, err, dbErr)
		require.Empty(t, b.waits, "an answer of the database is not an outage")
		require.Equal(t, 1, b.db.beginCount())
		msgs := b.logs.messages()
		require.Len(t, msgs, 1)
		require.Contains(t, msgs[0], "too many connections")
	})

	// The next attempt shows why the previous one failed: at its start,
	// and after each of its progress messages; success clears it.
	t.Run("RetryShowsThePreviousFailure", func(t *testing.T) {
		t.Parallel()
		b := setupOutage(ctx, t, jobID)
		job := &rivertype.JobRow{ID: jobID, Kind: "upload_import", Queue: "imports", Attempt: 1, MaxAttempts: 3}
		err := b.mw.Work(ctx, job, func(ctx context.Context) error {
			pipeline.ReporterFrom(ctx).Progress(ctx, "load", 50, 100, "Loaded 50 of 100 rows")
			return dbErr
		})
		require.ErrorIs(t, err, dbErr)
		require.Equal(t, new("attempt 1 of 3 failed, will retry: error reserving entry ids: unexpected EOF"), b.job(ctx, t).Message)

		// River fetches the job again, with the error it recorded.
		job.Attempt = 2
		job.Errors = []rivertype.AttemptError{{Attempt: 1, At: time.Now(), Error: dbErr.Error()}}
		const note = "retrying after attempt 1 of 3 failed: error reserving entry ids: unexpected EOF"
		err = b.mw.Work(ctx, job, func(ctx context.Context) error {
			pj := b.job(ctx, t)
			require.Equal(t, string(pipeline.JobRunning), pj.State)
			require.Equal(t, int32(2), pj.Attempt)
			require.Equal(t, new(note), pj.Message)
			p, _ := getPipeline(ctx, t, b.tx, b.pipeline)
			require.Equal(t, new(note), p.Message, "the pipeline shows it too")

			pipeline.ReporterFrom(ctx).Progress(ctx, "validate", 10, 100, "Validated 10 of 100 rows")
			want := new("Validated 10 of 100 rows (" + note + ")")
			require.Equal(t, want, b.job(ctx, t).Message)
			p, _ = getPipeline(ctx, t, b.tx, b.pipeline)
			require.Equal(t, want, p.Message)
			return nil
		})
		require.NoError(t, err)
		pj := b.job(ctx, t)
		require.Equal(t, string(pipeline.JobSucceeded), pj.State)
		require.Nil(t, pj.Message)
		require.Empty(t, b.logs.messages())
	})

	t.Run("RetryNotes", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("é", 400)
		for _, tt := range []struct {
			name    string
			attempt int
			errors  []rivertype.AttemptError
			want    *string
		}{
			{name: "FirstAttempt", attempt: 1, errors: []rivertype.AttemptError{{Attempt: 1, Error: "x"}}},
			{name: "NoError", attempt: 2}, // the previous attempt was interrupted by a shutdown
			{name: "ErrorOfThisAttempt", attempt: 2, errors: []rivertype.AttemptError{{Attempt: 2, Error: "x"}}},
			{name: "LastErrorCounts", attempt: 3, errors: []rivertype.AttemptError{{Attempt: 1, Error: "a"}, {Attempt: 2, Error: "b"}},
				want: new("retrying after attempt 2 of 3 failed: b")},
			{name: "Rescued", attempt: 2, errors: []rivertype.AttemptError{{Attempt: 1, Error: "Worker w-1 died while running the job"}},
				want: new("retrying after attempt 1 of 3 failed: Worker w-1 died while running the job")},
			{name: "LongReasonCut", attempt: 2, errors: []rivertype.AttemptError{{Attempt: 1, Error: long}},
				want: new("retrying after attempt 1 of 3 failed: " + strings.Repeat("é", 299) + "…")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setupOutage(ctx, t, jobID)
				job := &rivertype.JobRow{ID: jobID, Kind: "upload_import", Queue: "imports", Attempt: tt.attempt, MaxAttempts: 3, Errors: tt.errors}
				require.NoError(t, b.mw.Work(ctx, job, func(ctx context.Context) error {
					require.Equal(t, tt.want, b.job(ctx, t).Message)
					return nil
				}))
			})
		}
	})
}
