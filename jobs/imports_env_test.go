package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// importEnv is a schema of its own with committed uploads, pipelines and
// jobs: every import runs in its own transaction (now() differs between
// imports, as in production), and the pipeline bookkeeping is readable.
type importEnv struct {
	schema testdb.Schema
	store  blob.Store
	client *river.Client[pgx.Tx] // insert-only
	year   int32
}

func newImportEnv(ctx context.Context, t *testing.T) *importEnv {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	store, err := blob.NewLocal(t.TempDir())
	require.NoError(t, err)
	client, err := jobs.NewInsertClient(schema.Pool)
	require.NoError(t, err)
	y := testfactory.Year(ctx, t, schema.Pool, nil)
	return &importEnv{schema: schema, store: store, client: client, year: y.Year}
}

// uploadSpec describes an upload row.
type uploadSpec struct {
	kind, module, submodule, dataset string
	options                          string // JSON; default {}
}

// upload stores csv in the blob store and commits its uploads row.
func (e *importEnv) upload(ctx context.Context, t *testing.T, s uploadSpec, csv string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	key := fmt.Sprintf("uploads/%d/%s.csv", e.year, id)
	_, err := e.store.Put(ctx, key, strings.NewReader(csv), int64(len(csv)), "text/csv")
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(csv))
	opts := s.options
	if opts == "" {
		opts = "{}"
	}
	_, err = dbsqlc.New(e.schema.Pool).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: s.kind, Scope: "year", Year: e.year,
		Module: nonEmpty(s.module), Submodule: nonEmpty(s.submodule), Dataset: nonEmpty(s.dataset), BlobKey: key,
		SizeBytes: int64(len(csv)), Sha256: hex.EncodeToString(sum[:]), Options: []byte(opts)})
	require.NoError(t, err)
	return id
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// enqueue commits a pipeline of kind with args as its root job.
func (e *importEnv) enqueue(ctx context.Context, t *testing.T, kind pipeline.Kind, args river.JobArgs) (uuid.UUID, *rivertype.JobRow) {
	t.Helper()
	type out struct {
		id  uuid.UUID
		job *rivertype.JobRow
	}
	year := e.year
	r, err := postgres.WithTxV(ctx, e.schema.Pool, func(ctx context.Context, tx pgx.Tx) (out, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: kind, Trigger: pipeline.TriggerUser, Year: &year})
		if err != nil {
			return out{}, err
		}
		job, err := pipeline.InsertTx(ctx, e.client, tx, p.ID, args, nil)
		return out{p.ID, job}, err
	})
	require.NoError(t, err)
	return r.id, r.job
}

// workImport works job with the worker mk builds on tx, calls check with
// tx (before commit: rivertest.RequireInsertedTx sees the chained jobs),
// then commits. mw wraps the job like the worker's pipeline middleware.
func workImport[T river.JobArgs](ctx context.Context, t *testing.T, e *importEnv, job *rivertype.JobRow,
	mk func(db postgres.DB) river.Worker[T], mw []rivertype.Middleware, check func(tx pgx.Tx),
) (*rivertest.WorkResult, error) {
	t.Helper()
	tx, err := e.schema.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{Middleware: mw}, mk(tx))
	res, werr := w.WorkJob(ctx, t, tx, job)
	if check != nil {
		check(tx)
	}
	require.NoError(t, tx.Commit(ctx))
	return res, werr
}

// jobResult reads the bookkeeping of a job (pipeline_jobs).
type jobResult struct {
	State          string
	Message        *string
	Result         map[string]any
	RowErrors      []map[string]any
	RowErrorsTotal int32
}

func (e *importEnv) jobResult(ctx context.Context, t *testing.T, pipelineID uuid.UUID, jobID int64) jobResult {
	t.Helper()
	var r jobResult
	require.NoError(t, e.schema.Pool.QueryRow(ctx,
		`SELECT state, message, result, row_errors, row_errors_total FROM pipeline_jobs WHERE pipeline_id = $1 AND job_id = $2`,
		pipelineID, jobID).Scan(&r.State, &r.Message, &r.Result, &r.RowErrors, &r.RowErrorsTotal))
	return r
}

func (e *importEnv) count(ctx context.Context, t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.schema.Pool.QueryRow(ctx, query, args...).Scan(&n))
	return n
}

// requireJobCancelled checks a permanent failure carrying code.
func requireJobCancelled(t *testing.T, res *rivertest.WorkResult, err error, code string) {
	t.Helper()
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCancelled, res.EventKind)
	require.NotEmpty(t, res.Job.Errors)
	require.Contains(t, res.Job.Errors[len(res.Job.Errors)-1].Error, code)
}
