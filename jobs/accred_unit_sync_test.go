package jobs_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
	"github.com/co2-calculator/co2-calculator/pkg/units"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

const accredFixtures = "../../shared/data/external/accred"

// accredDir copies the repository's Accred fixtures into a directory the
// test may change, served by a fake.
func accredDir(t *testing.T) (string, *fakes.Accred, *units.Accred) {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(accredFixtures, "units.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "units.json"), b, 0o600))
	fake := fakes.NewAccred(dir, "u", "p")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return dir, fake, &units.Accred{BaseURL: srv.URL, Username: "u", Password: "p", Client: srv.Client()}
}

// The job adapter: a run completes in its transaction with the pipeline
// result; a permanent failure cancels it with its code.
func TestAccredUnitSyncWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx     pgx.Tx
		worker *rivertest.Worker[jobs.AccredUnitSyncArgs, pgx.Tx]
		dir    string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		// A schema of its own: the sync takes the unit lock and upserts
		// the fixture codes other tests' transactions may hold.
		tx, err := testdb.TestSchema(ctx, t).Pool.Begin(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tx.Rollback(context.WithoutCancel(ctx)) })
		dir, _, src := accredDir(t)
		w := &jobs.AccredUnitSyncWorker{Years: &years.Service{DB: tx, Units: src, Logger: testdb.QuietLogger()}}
		return &testBundle{tx: tx, worker: rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w), dir: dir}
	}

	t.Run("CompletesTheSetup", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		y := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("setting_up")})
		p, err := pipeline.Create(ctx, b.tx, pipeline.CreateParams{Kind: pipeline.KindYearSetup, Trigger: pipeline.TriggerUser, Year: &y.Year})
		require.NoError(t, err)

		res, err := b.worker.Work(ctx, t, b.tx, jobs.AccredUnitSyncArgs{Year: &y.Year}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.NoError(t, pipeline.Link(ctx, b.tx, p.ID, res.Job, pipeline.RoleRoot)) // linked after the fact: mirrors the state
		got, err := dbsqlc.New(b.tx).YearGet(ctx, 2026)
		require.NoError(t, err)
		require.Equal(t, "ready", got.Status)
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM carbon_reports WHERE year = 2026`).Scan(&n))
		require.Equal(t, 29, n)
	})

	t.Run("GarbageCancels", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, os.WriteFile(filepath.Join(b.dir, "units.json"), []byte(`{"count": 1, "units": [{"id": 1, "name": "A", "level": 9}]}`), 0o600))
		res, err := b.worker.Work(ctx, t, b.tx, jobs.AccredUnitSyncArgs{}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.Contains(t, res.Job.Errors[0].Error, "upstream_schema_changed: Accred unit 1 has level 9")
	})

	t.Run("RetryWhileTheEndIsBeingRecorded", func(t *testing.T) {
		t.Parallel()
		// The bookkeeping recorded the end of the last attempt (the pipeline
		// shows FAILED) but River still shows the job running: a retry must
		// not join it (it would never run again).
		schema := testdb.TestSchema(ctx, t)
		client, err := jobs.NewInsertClient(schema.Pool)
		require.NoError(t, err)
		enqueue := jobs.EnqueueUnitSync(client)
		year := int32(2026)
		testfactory.Year(ctx, t, schema.Pool, &testfactory.YearOpts{Year: &year})
		newPipeline := func() uuid.UUID {
			p, err := pipeline.Create(ctx, schema.Pool, pipeline.CreateParams{Kind: pipeline.KindYearSetup, Trigger: pipeline.TriggerUser, Year: &year})
			require.NoError(t, err)
			return p.ID
		}
		jobOf := func(id uuid.UUID) int64 {
			_, links, err := pipeline.Get(ctx, schema.Pool, id)
			require.NoError(t, err)
			require.Len(t, links, 1)
			return links[0].JobID
		}
		enq := func(id uuid.UUID) {
			tx, err := schema.Pool.Begin(ctx)
			require.NoError(t, err)
			require.NoError(t, enqueue(ctx, tx, id, &year))
			require.NoError(t, tx.Commit(ctx))
		}
		first := newPipeline()
		enq(first)
		joined := newPipeline()
		enq(joined)
		require.Equal(t, jobOf(first), jobOf(joined), "a queued run of the year is joined")

		_, err = schema.Pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1 WHERE id = $1`, jobOf(first))
		require.NoError(t, err)
		_, err = dbsqlc.New(schema.Pool).PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{JobID: jobOf(first), State: string(pipeline.JobFailed)})
		require.NoError(t, err)
		retry := newPipeline()
		enq(retry)
		require.NotEqual(t, jobOf(first), jobOf(retry), "a fresh run")
	})

	t.Run("UniqueByYear", func(t *testing.T) {
		t.Parallel()
		opts := jobs.AccredUnitSyncArgs{}.InsertOpts()
		require.True(t, opts.UniqueOpts.ByArgs)
		require.NotContains(t, opts.UniqueOpts.ByState, rivertype.JobStateCompleted, "a finished run never swallows a new one")
		require.Equal(t, jobs.QueueIntegrations, opts.Queue)
		b, err := json.Marshal(jobs.AccredUnitSyncArgs{})
		require.NoError(t, err)
		require.JSONEq(t, `{"year": null}`, string(b))
	})
}

// syncEnv is a schema with a started River client working
// accred_unit_sync against an Accred fake, wired like cmd/worker
// (the pipeline middleware with the final-failure hooks).
type syncEnv struct {
	schema testdb.Schema
	client *river.Client[pgx.Tx]
	fake   *fakes.Accred
	dir    string
	svc    *years.Service
}

func newSyncEnv(ctx context.Context, t *testing.T, opts *river.InsertOpts) *syncEnv {
	t.Helper()
	e := &syncEnv{schema: testdb.TestSchema(ctx, t)}
	var src *units.Accred
	e.dir, e.fake, src = accredDir(t)
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(e.schema.Pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueIntegrations: {MaxWorkers: 2}},
		Workers:           jobs.Workers(jobs.Deps{Pool: e.schema.Pool, Logger: logger, Units: src}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(e.schema.Pool, logger, jobs.AutoPipelines()).OnFinalFailure(jobs.FinalFailureHooks())},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	e.client = client
	// The API's enqueuer, with insert options of the test (one attempt:
	// a failure is final at once, no backoff to wait for).
	e.svc = &years.Service{DB: e.schema.Pool, Enqueue: jobs.EnqueueUnitSyncWithOpts(client, opts)}
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(stopCtx))
	})
	return e
}

// wait waits until pipeline id is terminal and returns it.
func (e *syncEnv) wait(ctx context.Context, t *testing.T, id uuid.UUID) dbsqlc.Pipeline {
	t.Helper()
	var p dbsqlc.Pipeline
	require.Eventually(t, func() bool {
		var err error
		p, err = dbsqlc.New(e.schema.Pool).PipelineGet(ctx, id)
		require.NoError(t, err)
		return pipeline.Status(p.Status).Terminal()
	}, 60*time.Second, 20*time.Millisecond)
	return p
}

func (e *syncEnv) status(ctx context.Context, t *testing.T, y int32) string {
	t.Helper()
	row, err := dbsqlc.New(e.schema.Pool).YearGet(ctx, y)
	require.NoError(t, err)
	return row.Status
}

// Accred down or answering garbage during a setup: the pipeline shows the
// reason, the year ends setup_failed, and POST /years/{year}/setup retries
// it (issue 12, "Bad input and faults").
func TestYearSetupFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AccredDown", func(t *testing.T) {
		t.Parallel()
		e := newSyncEnv(ctx, t, &river.InsertOpts{MaxAttempts: 1})
		e.fake.FailNext(1000)
		created, err := e.svc.Create(ctx, 2026, nil)
		require.NoError(t, err)
		p := e.wait(ctx, t, created.Pipeline.ID)
		require.Equal(t, "FAILED", p.Status)
		require.NotNil(t, p.LastError)
		require.Contains(t, *p.LastError, "upstream_unavailable: Accred GET /units (page 0): HTTP 503")
		require.Equal(t, "setup_failed", e.status(ctx, t, 2026))

		e.fake.FailNext(0)
		retry, err := e.svc.Setup(ctx, 2026, nil)
		require.NoError(t, err)
		require.Equal(t, "SUCCESS", e.wait(ctx, t, retry.ID).Status)
		require.Equal(t, "ready", e.status(ctx, t, 2026))
		var reports int
		require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM carbon_reports WHERE year = 2026`).Scan(&reports))
		require.Equal(t, 29, reports)
	})

	t.Run("AccredGarbage", func(t *testing.T) {
		t.Parallel()
		e := newSyncEnv(ctx, t, nil) // the job's own options: three attempts, but garbage is permanent
		require.NoError(t, os.WriteFile(filepath.Join(e.dir, "units.json"), []byte(`{"count": 1, "units": [{"id": "LAB-1", "name": "?"}]}`), 0o600))
		created, err := e.svc.Create(ctx, 2026, nil)
		require.NoError(t, err)
		p := e.wait(ctx, t, created.Pipeline.ID)
		require.Equal(t, "FAILED", p.Status)
		require.Contains(t, *p.LastError, "upstream_schema_changed: Accred GET /units (page 0): the answer is not the documented JSON")
		require.Equal(t, "setup_failed", e.status(ctx, t, 2026))
	})
}
