package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fleet"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

type testArgs struct{}

func (testArgs) Kind() string { return "fleet_test" }

// selfID is the worker running the reaper under test.
const selfID = "worker-self"

const deadAfter = 45 * time.Second

type reapBundle struct {
	client *river.Client[pgx.Tx] // insert-only
	db     postgres.DB
	reaper *fleet.Reaper
}

// setupReaper returns a reaper of selfID working in db (a test transaction
// unless given).
func setupReaper(ctx context.Context, t *testing.T) *reapBundle {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{})
	require.NoError(t, err)
	tx := testdb.TestTx(ctx, t)
	return &reapBundle{
		client: client,
		db:     tx,
		reaper: fleet.NewReaper(tx, testdb.QuietLogger(), fleet.ReaperConfig{Self: selfID, DeadAfter: deadAfter}),
	}
}

// worker records a heartbeat of worker id, silent for the given time
// (times are on the database clock: now() is the transaction's start).
func (b *reapBundle) worker(ctx context.Context, t *testing.T, id string, silentFor time.Duration) {
	t.Helper()
	require.NoError(t, fleet.NewHeartbeat(b.db, testdb.QuietLogger(), fleet.HeartbeatConfig{ID: id}).Beat(ctx))
	_, err := b.db.Exec(ctx, `UPDATE workers SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1`,
		id, silentFor.Seconds())
	require.NoError(t, err)
}

type jobOpts struct {
	attemptedBy  []string      // the last one runs the job
	attemptedAgo time.Duration // since the fetch
	attempt      int           // default 1
	maxAttempts  int           // default 3
	state        string        // default running
	cancelled    bool          // a cancel was requested (River metadata)
}

// job inserts a job in the state a worker that fetched it leaves it in,
// linked to a new pipeline whose bookkeeping saw it start.
func (b *reapBundle) job(ctx context.Context, t *testing.T, o jobOpts) (uuid.UUID, int64) {
	t.Helper()
	if o.attempt == 0 {
		o.attempt = 1
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 3
	}
	if o.state == "" {
		o.state = string(rivertype.JobStateRunning)
	}
	type out struct {
		pipelineID uuid.UUID
		jobID      int64
	}
	res, err := postgres.WithTxV(ctx, b.db, func(ctx context.Context, tx pgx.Tx) (out, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser})
		if err != nil {
			return out{}, err
		}
		job, err := pipeline.InsertTx(ctx, b.client, tx, p.ID, testArgs{}, &river.InsertOpts{MaxAttempts: o.maxAttempts})
		if err != nil {
			return out{}, err
		}
		metadata := `{}`
		if o.cancelled {
			metadata = `{"cancel_attempted_at": "2025-03-01T10:00:00Z"}`
		}
		if _, err := tx.Exec(ctx, `UPDATE river_job SET state = $2, attempt = $3, attempted_by = $4,
			attempted_at = now() - make_interval(secs => $5), metadata = $6 WHERE id = $1`,
			job.ID, o.state, o.attempt, o.attemptedBy, o.attemptedAgo.Seconds(), metadata); err != nil {
			return out{}, err
		}
		if _, err := dbsqlc.New(tx).PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: int32(o.attempt), JobID: job.ID}); err != nil {
			return out{}, err
		}
		_, err = pipeline.Refresh(ctx, tx, p.ID, time.Now())
		return out{p.ID, job.ID}, err
	})
	require.NoError(t, err)
	return res.pipelineID, res.jobID
}

func (b *reapBundle) riverJob(ctx context.Context, t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	tx, ok := b.db.(pgx.Tx)
	require.True(t, ok)
	job, err := b.client.JobGetTx(ctx, tx, id)
	require.NoError(t, err)
	return job
}

func (b *reapBundle) pipelineJob(ctx context.Context, t *testing.T, id uuid.UUID) (dbsqlc.Pipeline, dbsqlc.PipelineJob) {
	t.Helper()
	p, js, err := pipeline.Get(ctx, b.db, id)
	require.NoError(t, err)
	require.Len(t, js, 1)
	return p, js[0]
}

// requireUntouched checks that the job and its pipeline are still running.
func (b *reapBundle) requireUntouched(ctx context.Context, t *testing.T, pipelineID uuid.UUID, jobID int64, state rivertype.JobState) {
	t.Helper()
	job := b.riverJob(ctx, t, jobID)
	require.Equal(t, state, job.State)
	require.Empty(t, job.Errors)
	_, pj := b.pipelineJob(ctx, t, pipelineID)
	require.Equal(t, string(pipeline.JobRunning), pj.State)
	require.Nil(t, pj.Message)
}

func TestReaper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CancelRequested", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-dead"}, attemptedAgo: time.Hour, cancelled: true})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Len(t, reaped, 1)
		require.Equal(t, rivertype.JobStateCancelled, reaped[0].State)
		job := bundle.riverJob(ctx, t, jobID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.NotNil(t, job.FinalizedAt)
		p, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobCancelled), pj.State)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
	})

	t.Run("ForgetsLongDeadWorkers", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		bundle.worker(ctx, t, "w-gone", 2*time.Hour)
		bundle.worker(ctx, t, "w-dead", 10*time.Minute)
		bundle.worker(ctx, t, selfID, 2*time.Hour)

		_, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		rows, err := bundle.db.Query(ctx, `SELECT id FROM workers WHERE id IN ('w-gone', 'w-dead', $1) ORDER BY id`, selfID)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{"w-dead", selfID}, ids, "dead rows are listed for an hour; a worker never deletes its own")
	})

	t.Run("HandsBackJobOfDeadWorker", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		bundle.worker(ctx, t, "w-dead", time.Minute)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-dead"}, attemptedAgo: 10 * time.Minute})
		before, _ := bundle.pipelineJob(ctx, t, pipelineID)
		var now time.Time
		require.NoError(t, bundle.db.QueryRow(ctx, "SELECT now()").Scan(&now))

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, []fleet.Reaped{{JobID: jobID, Kind: "fleet_test", State: rivertype.JobStateAvailable,
			Attempt: 1, MaxAttempts: 3, WorkerID: "w-dead", SilentFor: time.Minute}}, reaped)

		// River's view: runnable at once, the attempt's error recorded the
		// way River records one (AttemptError), the rescue counted.
		job := bundle.riverJob(ctx, t, jobID)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
		require.WithinDuration(t, now, job.ScheduledAt, time.Millisecond)
		require.Nil(t, job.FinalizedAt)
		require.Equal(t, 1, job.Attempt, "River counts the next attempt when it fetches the job")
		require.Len(t, job.Errors, 1)
		require.Equal(t, 1, job.Errors[0].Attempt)
		require.WithinDuration(t, now, job.Errors[0].At, time.Millisecond)
		require.Contains(t, job.Errors[0].Error, "Worker w-dead died while running the job")
		require.Empty(t, job.Errors[0].Trace)
		var meta map[string]any
		require.NoError(t, json.Unmarshal(job.Metadata, &meta))
		require.InDelta(t, 1, meta["river:rescue_count"], 0)

		// The pipeline shows the retry and why.
		p, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobRetrying), pj.State)
		require.Equal(t, new("attempt 1 of 3 failed, will retry: worker w-dead died (no sign of life for 1m0s)"), pj.Message)
		require.Nil(t, pj.FinishedAt)
		require.Equal(t, string(pipeline.StatusRunning), p.Status)
		require.Greater(t, p.Version, before.Version)

		// A second run (another worker's reaper) finds nothing to do.
		reaped, err = bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		require.Len(t, bundle.riverJob(ctx, t, jobID).Errors, 1)
	})

	t.Run("JobFetchedRecently", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		// The worker's heartbeat is old but it fetched the job 10 s ago:
		// it was alive then.
		bundle.worker(ctx, t, "w-slow", time.Minute)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-slow"}, attemptedAgo: 10 * time.Second})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})

	t.Run("LastAttemptDiscarded", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		bundle.worker(ctx, t, "w-dead", 2*time.Minute)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-a", "w-b", "w-dead"}, attemptedAgo: time.Hour,
			attempt: 3, maxAttempts: 3})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Len(t, reaped, 1)
		require.Equal(t, rivertype.JobStateDiscarded, reaped[0].State)
		job := bundle.riverJob(ctx, t, jobID)
		require.Equal(t, rivertype.JobStateDiscarded, job.State)
		require.NotNil(t, job.FinalizedAt)
		require.Len(t, job.Errors, 1)
		require.Equal(t, 3, job.Errors[0].Attempt)
		p, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobFailed), pj.State)
		require.Equal(t, new("worker w-dead died (no sign of life for 2m0s)"), pj.Message)
		require.NotNil(t, pj.FinishedAt)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, pj.Message, p.LastError)
	})

	t.Run("LiveWorker", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		bundle.worker(ctx, t, "w-live", 10*time.Second)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-live"}, attemptedAgo: time.Hour})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})

	t.Run("NoHeartbeatRow", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		// Its row was forgotten, or it never wrote one.
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-unknown"}, attemptedAgo: 90 * time.Second})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Len(t, reaped, 1)
		require.Equal(t, "w-unknown", reaped[0].WorkerID)
		require.Equal(t, 90*time.Second, reaped[0].SilentFor, "judged on the fetch alone")
		require.Equal(t, rivertype.JobStateAvailable, bundle.riverJob(ctx, t, jobID).State)
		_, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobRetrying), pj.State)
	})

	t.Run("NotRunning", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		// A worker that shut down gracefully handed its job back itself
		// (available) before removing its row: never touched again.
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-stopped"}, attemptedAgo: time.Hour,
			state: string(rivertype.JobStateAvailable)})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateAvailable)
	})

	t.Run("OnlyTheLastAttemptCounts", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		bundle.worker(ctx, t, "w-live", 5*time.Second)
		// Attempt 1 ran on a worker that died since; attempt 2 runs on a
		// live one.
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-dead", "w-live"}, attemptedAgo: time.Hour, attempt: 2})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})

	t.Run("OwnJobs", func(t *testing.T) {
		t.Parallel()
		bundle := setupReaper(ctx, t)
		// Even with no (or an old) heartbeat, a worker never reaps itself.
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-other", selfID}, attemptedAgo: time.Hour})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})
}

// Run reaps once as soon as it starts, without waiting for its interval.
func TestReaperRunReapsAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{})
	require.NoError(t, err)
	bundle := &reapBundle{client: client, db: schema.Pool}
	_, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-dead"}, attemptedAgo: time.Hour})

	reaper := fleet.NewReaper(schema.Pool, testdb.QuietLogger(), fleet.ReaperConfig{Self: selfID, DeadAfter: deadAfter, Interval: time.Hour})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); reaper.Run(runCtx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Reaper.Run did not return after its context was cancelled")
		}
	}()

	require.Eventually(t, func() bool {
		var state string
		err := schema.Pool.QueryRow(ctx, "SELECT state FROM river_job WHERE id = $1", jobID).Scan(&state)
		return err == nil && state == string(rivertype.JobStateAvailable)
	}, 5*time.Second, 10*time.Millisecond)
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)

	id := fleet.NewWorkerID()
	require.LessOrEqual(t, len(id), 100, "River client ids are at most 100 characters")
	require.NotEqual(t, id, fleet.NewWorkerID())

	running := int64(2)
	hb := fleet.NewHeartbeat(tx, testdb.QuietLogger(), fleet.HeartbeatConfig{
		ID: id, Queues: map[string]int{"imports": 2}, Running: func() int64 { return running },
	})
	require.Equal(t, id, hb.ID())
	require.NoError(t, hb.Beat(ctx))
	running = 1
	require.NoError(t, hb.Beat(ctx))
	var (
		n      int32
		queues json.RawMessage
	)
	require.NoError(t, tx.QueryRow(ctx, "SELECT running_jobs, queues FROM workers WHERE id = $1", id).Scan(&n, &queues))
	require.Equal(t, int32(1), n)
	require.JSONEq(t, `{"imports": 2}`, string(queues))

	require.NoError(t, hb.Remove(ctx))
	require.ErrorIs(t, tx.QueryRow(ctx, "SELECT running_jobs FROM workers WHERE id = $1", id).Scan(&n), pgx.ErrNoRows)
}

// failingDB is a database whose transactions fail while down is set.
type failingDB struct {
	postgres.DB
	down bool
}

func (f *failingDB) Begin(ctx context.Context) (pgx.Tx, error) {
	if f.down {
		return nil, errors.New("failed to connect: connection refused")
	}
	return f.DB.Begin(ctx)
}

const orphanGrace = time.Minute

type orphanBundle struct {
	*reapBundle
	tracker *fleet.Tracker
	db      *failingDB
	clock   time.Time
}

// setupOrphans returns a reaper of selfID with a tracker, on a clock the
// test moves; the database has answered for orphanGrace already.
func setupOrphans(ctx context.Context, t *testing.T) *orphanBundle {
	t.Helper()
	b := &orphanBundle{reapBundle: setupReaper(ctx, t), tracker: fleet.NewTracker(), clock: time.Now()}
	b.db = &failingDB{DB: b.reapBundle.db}
	b.reaper = fleet.NewReaper(b.db, testdb.QuietLogger(), fleet.ReaperConfig{
		Self: selfID, DeadAfter: deadAfter, Tracker: b.tracker, OrphanGrace: orphanGrace,
	})
	b.reaper.SetClockForTest(func() time.Time { return b.clock })
	b.warmUp(ctx, t)
	return b
}

// warmUp runs the reaper once (it has nothing to do), then lets the grace
// pass on its clock.
func (b *orphanBundle) warmUp(ctx context.Context, t *testing.T) {
	t.Helper()
	reaped, err := b.reaper.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, reaped)
	b.clock = b.clock.Add(orphanGrace)
}

// work runs attempt of job id through the tracker; the attempt returns when
// the returned function is called (or at the end of the test).
func (b *orphanBundle) work(ctx context.Context, t *testing.T, id int64, attempt int) (finish func()) {
	t.Helper()
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = b.tracker.Work(ctx, &rivertype.JobRow{ID: id, Attempt: attempt}, func(context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	var once sync.Once
	finish = func() { once.Do(func() { close(release); <-done }) }
	t.Cleanup(finish)
	return finish
}

func TestReaperOrphans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A job river_job says this live worker runs although it never started
	// it (the answer of the fetch was lost): handed back like the job of a
	// dead worker, with the reason.
	t.Run("NeverStarted", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		bundle.worker(ctx, t, selfID, 0) // alive
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: 2 * time.Minute})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, []fleet.Reaped{{JobID: jobID, Kind: "fleet_test", State: rivertype.JobStateAvailable,
			Attempt: 1, MaxAttempts: 3, WorkerID: selfID, SilentFor: 2 * time.Minute, Orphan: true}}, reaped)

		job := bundle.riverJob(ctx, t, jobID)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
		require.Nil(t, job.FinalizedAt)
		require.Len(t, job.Errors, 1)
		require.Equal(t, 1, job.Errors[0].Attempt)
		require.Contains(t, job.Errors[0].Error, "Worker "+selfID+" fetched the job at ")
		require.Contains(t, job.Errors[0].Error, "but never ran it")
		var meta map[string]any
		require.NoError(t, json.Unmarshal(job.Metadata, &meta))
		require.InDelta(t, 1, meta["river:rescue_count"], 0)

		p, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobRetrying), pj.State)
		require.Equal(t, new("attempt 1 of 3 failed, will retry: worker "+selfID+
			" fetched the job 2m0s ago but never ran it (its database connection probably broke during the fetch)"), pj.Message)
		require.Equal(t, string(pipeline.StatusRunning), p.Status)

		reaped, err = bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
	})

	t.Run("LastAttemptDiscarded", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{"w-a", "w-b", selfID}, attemptedAgo: time.Hour,
			attempt: 3, maxAttempts: 3})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Len(t, reaped, 1)
		require.Equal(t, rivertype.JobStateDiscarded, reaped[0].State)
		require.Equal(t, rivertype.JobStateDiscarded, bundle.riverJob(ctx, t, jobID).State)
		p, pj := bundle.pipelineJob(ctx, t, pipelineID)
		require.Equal(t, string(pipeline.JobFailed), pj.State)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
	})

	// A fetched job enters the middleware within milliseconds: one fetched
	// less than the grace ago may be starting.
	t.Run("FetchedRecently", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: orphanGrace - 5*time.Second})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})

	t.Run("RunningHere", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: time.Hour})
		bundle.work(ctx, t, jobID, 1)

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
		require.Equal(t, 1, bundle.tracker.Len())
	})

	// The attempt returned while the database was down: River's completer
	// holds its outcome and writes it once the database answers. The job is
	// River's until then, however long the outage: handing it back would
	// let that late write land on the next attempt (two runs at once).
	t.Run("OutcomeNotRecordedYet", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: time.Hour})
		bundle.work(ctx, t, jobID, 1)()
		bundle.clock = bundle.clock.Add(time.Hour)

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
		require.Equal(t, 1, bundle.tracker.Len(), "still tracked")

		// River records the outcome: the tracker forgets the attempt.
		_, err = bundle.db.Exec(ctx, `UPDATE river_job SET state = 'retryable' WHERE id = $1`, jobID)
		require.NoError(t, err)
		reaped, err = bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		require.Zero(t, bundle.tracker.Len())
	})

	// Orphans are handed back only once the database has answered for the
	// grace without interruption, so that River's completer has written
	// whatever it held during the outage.
	t.Run("AfterAnOutage", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		_, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: time.Hour})

		bundle.db.down = true
		_, err := bundle.reaper.RunOnce(ctx)
		require.Error(t, err)
		bundle.db.down = false
		bundle.clock = bundle.clock.Add(time.Second)
		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped, "the database answers again since a moment")
		bundle.clock = bundle.clock.Add(orphanGrace - time.Second)
		reaped, err = bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)

		bundle.clock = bundle.clock.Add(time.Second)
		reaped, err = bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Len(t, reaped, 1)
		require.Equal(t, jobID, reaped[0].JobID)
	})

	// The jobs of other workers are the dead-worker reaper's business.
	t.Run("OtherWorkers", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		bundle.worker(ctx, t, "w-live", 0)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID, "w-live"}, attemptedAgo: time.Hour, attempt: 2})

		reaped, err := bundle.reaper.RunOnce(ctx)
		require.NoError(t, err)
		require.Empty(t, reaped)
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})

	// The hand-back re-checks each job under its row lock: a job fetched
	// again since the worker looked (another attempt, or a fetch within the
	// grace) is left alone.
	t.Run("HandBackRechecks", func(t *testing.T) {
		t.Parallel()
		bundle := setupOrphans(ctx, t)
		pipelineID, jobID := bundle.job(ctx, t, jobOpts{attemptedBy: []string{selfID}, attemptedAgo: time.Hour, attempt: 2})
		q := dbsqlc.New(bundle.reapBundle.db)
		for _, p := range []dbsqlc.FleetHandBackOrphansParams{
			{Self: selfID, Ids: []int64{jobID}, Attempts: []int32{1}, GraceSecs: 60},    // another attempt
			{Self: selfID, Ids: []int64{jobID}, Attempts: []int32{2}, GraceSecs: 7200},  // fetched within the grace
			{Self: "w-other", Ids: []int64{jobID}, Attempts: []int32{2}, GraceSecs: 60}, // fetched by another worker
		} {
			rows, err := q.FleetHandBackOrphans(ctx, p)
			require.NoError(t, err)
			require.Empty(t, rows, "%+v", p)
		}
		bundle.requireUntouched(ctx, t, pipelineID, jobID, rivertype.JobStateRunning)
	})
}
