package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// exportEnv is a schema with a unit-year of 3 entries, its principal, a
// local blob store behind a store that can kill the first attempt, and a
// River client working the exports queue with the worker's middleware.
type exportEnv struct {
	schema    testdb.Schema
	dir       string
	kill      *killOnce
	svc       *export.Service // the API side (insert-only client)
	principal export.Caller
	unit      dbsqlc.Unit
	year      int32
}

// killOnce fails the first Put after storing the file, as a worker dying
// between the store and the commit of the ready export would.
type killOnce struct {
	blob.Store
	armed atomic.Bool
}

func (k *killOnce) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (blob.Info, error) {
	info, err := k.Store.Put(ctx, key, r, size, contentType)
	if err == nil && k.armed.CompareAndSwap(true, false) {
		return blob.Info{}, errors.New("worker killed")
	}
	return info, err
}

// retryAtOnce retries a failed attempt immediately (no backoff to wait
// for).
type retryAtOnce struct{}

func (retryAtOnce) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

func newExportEnv(ctx context.Context, t *testing.T) *exportEnv {
	t.Helper()
	e := &exportEnv{schema: testdb.TestSchema(ctx, t), dir: t.TempDir()}
	local, err := blob.NewLocal(e.dir)
	require.NoError(t, err)
	e.kill = &killOnce{Store: local}
	pool := e.schema.Pool
	e.year = testfactory.Year(ctx, t, pool, nil).Year
	e.unit = testfactory.Unit(ctx, t, pool, nil)
	rep := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{UnitID: &e.unit.ID, Year: &e.year})
	hc := rep.Module(emission.ModuleHeadcount)
	for range 3 {
		testfactory.Entry(ctx, t, pool, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member")})
	}
	roles := []perm.Assignment{perm.New(perm.RolePrincipal, *e.unit.Cf)}
	u := testfactory.User(ctx, t, pool, &testfactory.UserOpts{Roles: roles})
	e.principal = export.Caller{UserID: u.ID, Sciper: u.Sciper, Perms: perm.For(roles)}

	insert, err := jobs.NewInsertClient(pool)
	require.NoError(t, err)
	e.svc = &export.Service{DB: pool, Blob: local, Enqueue: jobs.EnqueueExport(insert)}
	return e
}

// start runs the exports queue until the test ends.
func (e *exportEnv) start(ctx context.Context, t *testing.T) {
	t.Helper()
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(e.schema.Pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueExports: {MaxWorkers: 2}},
		Workers:           jobs.Workers(jobs.Deps{Pool: e.schema.Pool, Logger: logger, Blob: e.kill}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(e.schema.Pool, logger, jobs.AutoPipelines()).OnFinalFailure(jobs.FinalFailureHooks())},
		RetryPolicy:       retryAtOnce{},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(stopCtx))
	})
}

func (e *exportEnv) create(ctx context.Context, t *testing.T) export.Created {
	t.Helper()
	p, err := json.Marshal(map[string]any{"unit_id": e.unit.ID, "year": e.year, "module": "headcount"})
	require.NoError(t, err)
	c, err := e.svc.Create(ctx, e.principal, export.Request{Kind: "unit_module_entries", Format: "csv", Params: p})
	require.NoError(t, err)
	require.Equal(t, "export", c.Pipeline.Kind)
	require.Len(t, c.Pipeline.Jobs, 1)
	require.Equal(t, "export", c.Pipeline.Jobs[0].Kind)
	return c
}

// wait waits until pipeline id is terminal.
func (e *exportEnv) wait(ctx context.Context, t *testing.T, id uuid.UUID) (dbsqlc.Pipeline, []dbsqlc.PipelineJob) {
	t.Helper()
	var p dbsqlc.Pipeline
	var links []dbsqlc.PipelineJob
	require.Eventually(t, func() bool {
		var err error
		p, links, err = pipeline.Get(ctx, e.schema.Pool, id)
		require.NoError(t, err)
		return pipeline.Status(p.Status).Terminal()
	}, 60*time.Second, 20*time.Millisecond)
	return p, links
}

func (e *exportEnv) exportRow(ctx context.Context, t *testing.T, id uuid.UUID) dbsqlc.Export {
	t.Helper()
	row, err := dbsqlc.New(e.schema.Pool).ExportGet(ctx, id)
	require.NoError(t, err)
	return row
}

func TestExportJob(t *testing.T) {
	t.Parallel()

	// The API records the export and its job; a worker produces the file,
	// the pipeline reports its three phases and ends SUCCESS.
	t.Run("Exported", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		e := newExportEnv(ctx, t)
		c := e.create(ctx, t)
		e.start(ctx, t)
		p, _ := e.wait(ctx, t, c.Pipeline.ID)
		require.Equal(t, string(pipeline.StatusSuccess), p.Status, p.LastError)
		require.Equal(t, c.Export.ID, *p.ExportID)
		row := e.exportRow(ctx, t, c.Export.ID)
		require.Equal(t, export.StatusReady, row.Status)
		require.Equal(t, int64(3), *row.RowCount)
		require.WithinDuration(t, row.ReadyAt.Add(export.DefaultTTL), *row.ExpiresAt, time.Second)
		var counters map[string]float64
		require.NoError(t, json.Unmarshal(p.Counters, &counters))
		require.InDelta(t, 3, counters["rows_exported"], 0)
	})

	// Worker killed mid-export: the attempt fails after the file was
	// stored, River retries, the second attempt completes — one file under
	// the export's key, nothing else in the store.
	t.Run("KilledAndRetried", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		e := newExportEnv(ctx, t)
		e.kill.armed.Store(true)
		c := e.create(ctx, t)
		e.start(ctx, t)
		p, links := e.wait(ctx, t, c.Pipeline.ID)
		require.Equal(t, string(pipeline.StatusSuccess), p.Status, p.LastError)
		require.Len(t, links, 1)
		require.Equal(t, int32(2), links[0].Attempt, "retried once")
		require.Equal(t, export.StatusReady, e.exportRow(ctx, t, c.Export.ID).Status)
		var files []string
		require.NoError(t, filepath.WalkDir(e.dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				rel, _ := filepath.Rel(e.dir, path)
				files = append(files, rel)
			}
			if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
				files = append(files, d.Name())
			}
			return err
		}))
		require.Equal(t, []string{filepath.Join("exports", c.Export.ID.String()+".csv")}, files)
	})

	// The creator lost the permission before the job ran: a permanent
	// failure, the export is failed with the reason.
	t.Run("PermissionRevoked", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		e := newExportEnv(ctx, t)
		c := e.create(ctx, t)
		_, err := e.schema.Pool.Exec(ctx, `UPDATE users SET roles = '[]' WHERE id = $1`, e.principal.UserID)
		require.NoError(t, err)
		e.start(ctx, t)
		p, links := e.wait(ctx, t, c.Pipeline.ID)
		require.Equal(t, string(pipeline.StatusFailed), p.Status)
		require.Equal(t, int32(1), links[0].Attempt, "not retried")
		require.NotNil(t, p.LastError)
		require.True(t, strings.HasPrefix(*p.LastError, "forbidden: "), *p.LastError)
		row := e.exportRow(ctx, t, c.Export.ID)
		require.Equal(t, export.StatusFailed, row.Status)
		require.Equal(t, *p.LastError, *row.Error)
	})
}

func TestExportCleanupSchedule(t *testing.T) {
	t.Parallel()
	jobsList, err := jobs.PeriodicJobs(jobs.Schedules{ExportCleanup: "15 * * * *"})
	require.NoError(t, err)
	require.Len(t, jobsList, 1)
	_, err = jobs.PeriodicJobs(jobs.Schedules{ExportCleanup: "hourly"})
	require.ErrorContains(t, err, "SCHEDULE_EXPORT_CLEANUP")
	require.Equal(t, "export_cleanup", jobs.ExportCleanupArgs{}.Kind())
	require.Equal(t, jobs.QueueExports, jobs.ExportCleanupArgs{}.InsertOpts().Queue)
	require.Equal(t, "export", jobs.ExportArgs{}.Kind())
	require.Equal(t, jobs.QueueExports, jobs.ExportArgs{}.InsertOpts().Queue)
}
