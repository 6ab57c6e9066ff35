package jobs_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// startWorkers runs a full River client (imports and compute queues, the
// pipeline middleware) on the env's schema until the test ends.
func startWorkers(ctx context.Context, t *testing.T, e *importEnv) {
	t.Helper()
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(e.schema.Pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueImports: {MaxWorkers: 4}, jobs.QueueCompute: {MaxWorkers: 4}},
		Workers:           jobs.Workers(jobs.Deps{Pool: e.schema.Pool, Blob: e.store, Logger: logger}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(e.schema.Pool, logger, jobs.AutoPipelines())},
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

// waitPipelines waits until every pipeline is terminal and returns the
// statuses.
func waitPipelines(ctx context.Context, t *testing.T, e *importEnv, ids ...uuid.UUID) []string {
	t.Helper()
	statuses := make([]string, len(ids))
	require.Eventually(t, func() bool {
		for i, id := range ids {
			s, err := pipelineStatus(ctx, e, id)
			require.NoError(t, err)
			statuses[i] = s
			if !pipeline.Status(s).Terminal() {
				return false
			}
		}
		return true
	}, 90*time.Second, 20*time.Millisecond, "pipelines still running: %v", statuses)
	return statuses
}

// Two imports worked at the same time — different modules, and the same
// module-year — serialise on the module-year lock where they must and
// chain their aggregate jobs without deadlocking.
func TestUploadImportConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newImportEnv(ctx, t)
	u := testfactory.Unit(ctx, t, e.schema.Pool, nil)
	testfactory.Factor(ctx, t, e.schema.Pool, &testfactory.FactorOpts{Year: &e.year, Submodule: new("process_gas"),
		Classification: map[string]string{"category": "co2", "subcategory": ""},
		Values:         map[string]any{"ef_kg_co2eq_per_unit": 2.0, "unit": "kg"}})
	gasCSV := func(n int) string {
		var b strings.Builder
		b.WriteString("unit_institutional_id,category,quantity\n")
		for i := range n {
			fmt.Fprintf(&b, "%s,co2,%d\n", *u.Cf, i+1)
		}
		return b.String()
	}
	var members strings.Builder
	members.WriteString("unit_institutional_id,name,sius_code,user_institutional_id,fte\n")
	for i := range 2000 {
		fmt.Fprintf(&members, "%s,M%d,51,%d,1\n", *u.Cf, i, 200000+i)
	}
	gas := uploadSpec{kind: "data", module: "process_emissions", submodule: "process_gas"}
	member := uploadSpec{kind: "data", module: "headcount", submodule: "member"}

	// Committed before the workers start, so both are fetched together.
	var ids []uuid.UUID
	for _, up := range []struct {
		spec uploadSpec
		csv  string
	}{{gas, gasCSV(3000)}, {member, members.String()}, {gas, gasCSV(2000)}} {
		id, _ := e.enqueue(ctx, t, pipeline.KindDataUpload, jobs.UploadImportArgs{UploadID: e.upload(ctx, t, up.spec, up.csv)})
		ids = append(ids, id)
	}
	startWorkers(ctx, t, e)
	require.Equal(t, []string{"SUCCESS", "SUCCESS", "SUCCESS"}, waitPipelines(ctx, t, e, ids...))
	// The same-module imports replaced each other (scope year): one file's
	// rows remain, whichever ran last.
	n := e.count(ctx, t, `SELECT count(*) FROM data_entries WHERE year = $1 AND submodule = 'process_gas'`, e.year)
	require.Contains(t, []int{2000, 3000}, n)
	require.Equal(t, 2000, e.count(ctx, t, `SELECT count(*) FROM data_entries WHERE year = $1 AND submodule = 'member'`, e.year))
}

// A blob store that cannot be reached is a transient failure: the job
// returns an error (River retries it) and the pipeline shows the reason.
func TestUploadImportBlobUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newImportEnv(ctx, t)
	id := e.upload(ctx, t, uploadSpec{kind: "data", module: "process_emissions", submodule: "process_gas"},
		"unit_institutional_id,category,quantity\n7918,co2,1\n")

	// An S3 endpoint nobody listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	down, err := blob.New(ctx, blob.Config{Backend: blob.BackendS3, Bucket: "gone", Endpoint: "http://" + addr, Region: "us-east-1",
		PathStyle: true, AccessKeyID: "k", SecretAccessKey: "s"})
	require.NoError(t, err)

	pid, job := e.enqueue(ctx, t, pipeline.KindDataUpload, jobs.UploadImportArgs{UploadID: id})
	mw := []rivertype.Middleware{pipeline.NewMiddleware(e.schema.Pool, testdb.QuietLogger(), nil)}
	res, werr := workImport(ctx, t, e, job, func(db postgres.DB) river.Worker[jobs.UploadImportArgs] {
		return &jobs.UploadImportWorker{Imports: &imports.Service{DB: db, Blob: down}}
	}, mw, nil)
	require.Error(t, werr, "a transient error, not a cancellation")
	require.Equal(t, river.EventKindJobFailed, res.EventKind)
	require.Contains(t, []rivertype.JobState{rivertype.JobStateRetryable, rivertype.JobStateAvailable}, res.Job.State, "scheduled for a retry")
	require.Len(t, res.Job.Errors, 1)

	r := e.jobResult(ctx, t, pid, job.ID)
	require.Equal(t, "retrying", r.State)
	require.NotNil(t, r.Message)
	require.Contains(t, *r.Message, "attempt 1 of 3 failed, will retry")
	require.Contains(t, *r.Message, addr, "the reason names the unreachable store")
	// The pipeline (as GET /pipelines/{id} shows it) carries the reason.
	p, pjobs, err := pipeline.Get(ctx, e.schema.Pool, pid)
	require.NoError(t, err)
	v := pipeline.ToView(p, pjobs)
	require.Equal(t, "RUNNING", v.Status)
	require.Len(t, v.Jobs, 1)
	require.Equal(t, "retrying", v.Jobs[0].State)
	require.Contains(t, *v.Jobs[0].Message, addr)
}
