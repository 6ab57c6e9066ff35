package imports_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/blob/blobtest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// TestMain: testdb owns the exit (schema drop, pool close, goleak); the
// versitygw server is stopped by the S3 test's cleanup (the only user).
func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// An upload stored on the real S3 backend (versitygw) is imported by a
// running worker and downloads back byte for byte.
func TestUploadRoundTripS3(t *testing.T) {
	ctx := t.Context()
	store, err := blob.New(ctx, blobtest.S3(t))
	require.NoError(t, err)
	t.Cleanup(blobtest.Stop)

	schema := testdb.TestSchema(ctx, t)
	y := testfactory.Year(ctx, t, schema.Pool, nil)
	u := testfactory.Unit(ctx, t, schema.Pool, nil)
	testfactory.Factor(ctx, t, schema.Pool, &testfactory.FactorOpts{Year: &y.Year, Submodule: new("process_gas"),
		Classification: map[string]string{"category": "co2", "subcategory": ""},
		Values:         map[string]any{"ef_kg_co2eq_per_unit": 2.0, "unit": "kg"}})

	var b strings.Builder
	b.WriteString("\ufeffunit_institutional_id,category,quantity\n")
	for i := range 500 {
		fmt.Fprintf(&b, "%s,co2,%d\n", *u.Cf, i+1)
	}
	csv := b.String()
	id := uuid.New()
	key := fmt.Sprintf("uploads/%d/%s.csv", y.Year, id)
	_, err = store.Put(ctx, key, strings.NewReader(csv), int64(len(csv)), "text/csv")
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(csv))
	module, sub := "process_emissions", "process_gas"

	insert, err := jobs.NewInsertClient(schema.Pool)
	require.NoError(t, err)
	pid, err := postgres.WithTxV(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) (uuid.UUID, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
			Year: &y.Year, Module: &module, Submodule: &sub})
		if err != nil {
			return uuid.Nil, err
		}
		if _, err := dbsqlc.New(tx).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: "year", Year: y.Year,
			Module: &module, Submodule: &sub, BlobKey: key, SizeBytes: int64(len(csv)), Sha256: hex.EncodeToString(sum[:]),
			Options: []byte("{}"), PipelineID: &p.ID}); err != nil {
			return uuid.Nil, err
		}
		_, err = pipeline.InsertTx(ctx, insert, tx, p.ID, jobs.UploadImportArgs{UploadID: id}, nil)
		return p.ID, err
	})
	require.NoError(t, err)

	logger := testdb.QuietLogger()
	worker, err := river.NewClient(riverpgxv5.New(schema.Pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueImports: {MaxWorkers: 2}, jobs.QueueCompute: {MaxWorkers: 2}},
		Workers:           jobs.Workers(jobs.Deps{Pool: schema.Pool, Blob: store, Logger: logger}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(schema.Pool, logger, nil)},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	require.NoError(t, worker.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		require.NoError(t, worker.Stop(stopCtx))
	})

	var status string
	require.Eventually(t, func() bool {
		require.NoError(t, schema.Pool.QueryRow(ctx, `SELECT status FROM pipelines WHERE id = $1`, pid).Scan(&status))
		return pipeline.Status(status).Terminal()
	}, 90*time.Second, 20*time.Millisecond, "the chained aggregate can start ~20 s after the import (see report)")
	require.Equal(t, "SUCCESS", status)
	var n int
	var kg float64
	require.NoError(t, schema.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(kg_co2eq), 0) FROM data_entries WHERE year = $1 AND submodule = 'process_gas'`,
		y.Year).Scan(&n, &kg))
	require.Equal(t, 500, n)
	require.InDelta(t, 2*500*501/2, kg, 1e-6)

	rc, info, err := store.Get(ctx, key)
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, csv, string(got))
	require.Equal(t, int64(len(csv)), info.Size)
}
