package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/seed"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

const sharedData = "../../../shared/data"

// BenchmarkUploadImport measures a plane-trip CSV of BENCH_UPLOAD_ROWS rows
// (default 100 000) through the real worker: from the commit of the upload
// (uploads row, pipeline, upload_import job — what POST /uploads commits)
// to the pipeline's SUCCESS, emissions and aggregates included. The
// ceiling is a bare COPY of the same rows (one jsonb document each) into a
// table; the target is ≥ 25 % of it (issue 17). Reports rows/s of both and
// the ratio.
func BenchmarkUploadImport(b *testing.B) {
	ctx := context.Background()
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_UPLOAD_ROWS")); err == nil && v > 0 {
		n = v
	}
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	_, err := seed.ReferenceData(ctx, pool, sharedData)
	require.NoError(b, err)
	_, err = seed.Demo(ctx, pool, sharedData)
	require.NoError(b, err)
	body := testfactory.PlaneTripsCSV(b, sharedData+"/samples/plane_2025.csv", seed.DemoCF, seed.DemoYear, n)

	blobDir := b.TempDir()
	store, err := blob.NewLocal(blobDir)
	require.NoError(b, err)
	startWorker(b, schema, jobs.DefaultQueues, "BLOB_BACKEND", "local", "BLOB_LOCAL_DIR", blobDir)
	client := insertClient(b)

	upload := func() (uuid.UUID, uuid.UUID) {
		id := uuid.New()
		key := fmt.Sprintf("uploads/%d/%s.csv", seed.DemoYear, id)
		_, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "text/csv")
		require.NoError(b, err)
		sum := sha256.Sum256(body)
		module, sub, year := "professional_travel", "plane", int32(seed.DemoYear)
		pid, err := postgres.WithTxV(ctx, pool, func(ctx context.Context, tx pgx.Tx) (uuid.UUID, error) {
			if _, err := dbsqlc.New(tx).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: "year", Year: year,
				Module: &module, Submodule: &sub, BlobKey: key, SizeBytes: int64(len(body)), Sha256: hex.EncodeToString(sum[:]),
				Options: []byte("{}")}); err != nil {
				return uuid.Nil, err
			}
			p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
				Year: &year, Module: &module, Submodule: &sub})
			if err != nil {
				return uuid.Nil, err
			}
			_, err = pipeline.InsertTx(ctx, client, tx, p.ID, jobs.UploadImportArgs{UploadID: id}, nil)
			return p.ID, err
		})
		require.NoError(b, err)
		return id, pid
	}
	wait := func(pid uuid.UUID) string {
		deadline := time.Now().Add(5 * time.Minute)
		for {
			var status string
			require.NoError(b, pool.QueryRow(ctx, `SELECT status FROM pipelines WHERE id = $1`, pid).Scan(&status))
			if pipeline.Status(status).Terminal() {
				return status
			}
			require.True(b, time.Now().Before(deadline), "pipeline %s still %s", pid, status)
			<-time.After(2 * time.Millisecond) // polling the worker's commits
		}
	}

	var total time.Duration
	runs := 0
	var uploadID, pid uuid.UUID
	for b.Loop() {
		start := time.Now()
		uploadID, pid = upload()
		status := wait(pid)
		total += time.Since(start)
		require.Equal(b, "SUCCESS", status)
		runs++
	}
	logJobTimes(ctx, b, pool, pid)
	var loaded int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM data_entries e JOIN units u ON u.id = e.unit_id
		WHERE u.cf = $1 AND e.year = $2 AND e.submodule = 'plane' AND e.source = 'csv_year' AND e.calc_status = 'ok'`,
		seed.DemoCF, seed.DemoYear).Scan(&loaded))
	require.Equal(b, n, loaded, "the last upload's rows replaced the previous ones, all computed")

	copyRate := testdb.BareCopyRate(ctx, b, pool, body)
	entries, ems := copyParams(ctx, b, pool, uploadID)
	tablesRate := tablesCopyRate(ctx, b, pool, entries, ems)
	freshRate := freshTableCopyRate(ctx, b, pool, entries)
	rate := float64(n*runs) / total.Seconds()
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(copyRate, "copy-rows/s")
	b.ReportMetric(100*rate/copyRate, "%-of-copy")
	b.ReportMetric(tablesRate, "tables-copy-rows/s")
	b.ReportMetric(100*rate/tablesRate, "%-of-tables-copy")
	b.ReportMetric(100*freshRate/copyRate, "fresh-table-%-of-copy")
}

// copyParams reads back what an upload wrote, as COPY parameters with ids
// shifted past every real one, for the two storage ceilings below.
func copyParams(ctx context.Context, b *testing.B, pool postgres.DBTX, uploadID uuid.UUID) ([]dbsqlc.EntriesCopyFromParams, []dbsqlc.EmissionsCopyFromParams) {
	b.Helper()
	q := dbsqlc.New(pool)
	entries, err := q.ImportEntriesOfUpload(ctx, &uploadID)
	require.NoError(b, err)
	ems, err := q.ImportEmissionsOfUpload(ctx, &uploadID)
	require.NoError(b, err)
	require.NotEmpty(b, entries)

	const shift = int64(1) << 40
	ep := make([]dbsqlc.EntriesCopyFromParams, len(entries))
	for i, e := range entries {
		ep[i] = dbsqlc.EntriesCopyFromParams{ID: e.ID + shift, ReportModuleID: e.ReportModuleID, UnitID: e.UnitID, Year: e.Year,
			Module: e.Module, Submodule: e.Submodule, Data: e.Data, KgOverride: e.KgOverride, Source: e.Source, UploadID: e.UploadID,
			OwnerSciper: e.OwnerSciper, CalcStatus: e.CalcStatus, CalcMessage: e.CalcMessage, PrimaryFactorID: e.PrimaryFactorID,
			KgCo2eq: e.KgCo2eq, KgCo2eqAdditional: e.KgCo2eqAdditional, ComputedAt: e.ComputedAt, CreatedBy: e.CreatedBy, UpdatedBy: e.UpdatedBy,
			DistanceKm: e.DistanceKm, SurfaceM2: e.SurfaceM2, RowEmissionType: e.RowEmissionType, RowScope: e.RowScope,
			RowCategory: e.RowCategory, RowQuantity: e.RowQuantity, RowQuantityUnit: e.RowQuantityUnit, RowMeta: e.RowMeta,
			RowEngineVersion: e.RowEngineVersion}
	}
	mp := make([]dbsqlc.EmissionsCopyFromParams, 0, len(ems))
	for _, m := range ems {
		if m.ID < 0 { // a single row kept on its entry (migration 000013)
			continue
		}
		mp = append(mp, dbsqlc.EmissionsCopyFromParams{EntryID: m.EntryID + shift, ReportModuleID: m.ReportModuleID, EmissionType: m.EmissionType,
			Scope: m.Scope, Category: m.Category, KgCo2eq: m.KgCo2eq, Quantity: m.Quantity, QuantityUnit: m.QuantityUnit,
			FactorID: m.FactorID, Meta: m.Meta, EngineVersion: m.EngineVersion, ComputedAt: m.ComputedAt})
	}
	return ep, mp
}

// tablesCopyRate is a second ceiling: the entries and emission rows an
// upload wrote, COPYed again as they are (ids shifted) into data_entries
// and emission_rows with their indexes and keys, in a transaction rolled back.
// It is what the database alone costs for the import's rows. Returns
// entries per second.
func tablesCopyRate(ctx context.Context, b *testing.B, pool postgres.TxBeginner, ep []dbsqlc.EntriesCopyFromParams, mp []dbsqlc.EmissionsCopyFromParams) float64 {
	b.Helper()
	tx, err := pool.Begin(ctx)
	require.NoError(b, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := dbsqlc.New(tx)
	start := time.Now()
	_, err = q.EntriesCopyFrom(ctx, ep)
	require.NoError(b, err)
	_, err = q.EmissionsCopyFrom(ctx, mp)
	require.NoError(b, err)
	return float64(len(ep)) / time.Since(start).Seconds()
}

// freshTableCopyRate is the best case of a bulk-index-build storage design
// (load into a fresh table or partition, build its indexes, attach): the
// upload's entries COPYed into a new table shaped like data_entries (its
// defaults and CHECK constraints, no indexes, no triggers; logged like a
// partition would be), then every index data_entries has built on it, in a
// transaction rolled back. It leaves out what such a design would add
// (foreign-key validation on attach, emission rows, the swap itself), so it
// is a bound from above. Returns entries per second; docs/jobs.md §4.1
// compares it to the bare COPY.
func freshTableCopyRate(ctx context.Context, b *testing.B, pool postgres.TxBeginner, ep []dbsqlc.EntriesCopyFromParams) float64 {
	b.Helper()
	tx, err := pool.Begin(ctx)
	require.NoError(b, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var schema string
	require.NoError(b, tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema))
	rows, err := tx.Query(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'data_entries'`, schema)
	require.NoError(b, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(b, err)
	require.NotEmpty(b, defs)
	// A data_entries of its own schema, first on the search path: the
	// import's generated COPY (unqualified) loads it, and the indexes keep
	// their names there.
	shape := pgx.Identifier{schema, "data_entries"}.Sanitize()
	_, err = tx.Exec(ctx, `CREATE SCHEMA bench_fresh`)
	require.NoError(b, err)
	_, err = tx.Exec(ctx, `CREATE TABLE bench_fresh.data_entries (LIKE `+shape+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`)
	require.NoError(b, err)
	_, err = tx.Exec(ctx, `SET LOCAL search_path = bench_fresh, `+pgx.Identifier{schema}.Sanitize())
	require.NoError(b, err)

	start := time.Now()
	n, err := dbsqlc.New(tx).EntriesCopyFrom(ctx, ep)
	require.NoError(b, err)
	require.Equal(b, int64(len(ep)), n)
	for _, def := range defs {
		// "CREATE [UNIQUE] INDEX name ON schema.data_entries USING …"
		on := " ON " + schema + ".data_entries "
		require.Contains(b, def, on)
		_, err = tx.Exec(ctx, strings.Replace(def, on, " ON bench_fresh.data_entries ", 1))
		require.NoError(b, err, def)
	}
	rate := float64(len(ep)) / time.Since(start).Seconds()
	var loaded int
	require.NoError(b, tx.QueryRow(ctx, `SELECT count(*) FROM bench_fresh.data_entries`).Scan(&loaded))
	require.Equal(b, len(ep), loaded, "the COPY went to the fresh table")
	return rate
}

// logJobTimes logs when each job of a pipeline started and finished,
// relative to the pipeline's creation.
func logJobTimes(ctx context.Context, b *testing.B, pool postgres.DBTX, pid uuid.UUID) {
	b.Helper()
	rows, err := pool.Query(ctx, `SELECT j.kind, extract(epoch FROM j.started_at - p.created_at), extract(epoch FROM j.finished_at - p.created_at)
		FROM pipeline_jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE p.id = $1 ORDER BY j.job_id`, pid)
	require.NoError(b, err)
	defer rows.Close()
	for rows.Next() {
		var kind string
		var started, finished float64
		require.NoError(b, rows.Scan(&kind, &started, &finished))
		b.Logf("%-14s started %7.3f s, finished %7.3f s", kind, started, finished)
	}
	require.NoError(b, rows.Err())
}
