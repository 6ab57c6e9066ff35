package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
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

// BenchmarkUploadReplace measures what replacing an earlier upload costs
// (docs/jobs.md §4.1, issue 11 item 4): a plane CSV of BENCH_REPLACE_ROWS
// rows (default 50 000) is imported into LAB-DEMO's professional_travel
// module, then the same file is imported again, replacing the first
// one's entries and emission rows. Both run through the real worker, from
// the commit of the upload to the pipeline's end. Two targets: a
// module-page upload (scope unit, replace_existing) and a back-office
// per-year upload (scope year, which always replaces). Reports both times
// and their ratio (replace / first import); the goal is a ratio near 1.
// A benchmark, not a timed assertion.
func BenchmarkUploadReplace(b *testing.B) {
	ctx := context.Background()
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_REPLACE_ROWS")); err == nil && v > 0 {
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

	var unitID int64
	require.NoError(b, pool.QueryRow(ctx, `SELECT id FROM units WHERE cf = $1`, seed.DemoCF).Scan(&unitID))
	module, sub, year := "professional_travel", "plane", int32(seed.DemoYear)
	rm, err := dbsqlc.New(pool).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: unitID, Year: year, Module: module})
	require.NoError(b, err)

	// run commits an upload of scope (what POST /uploads or the module
	// page commits) and waits for its pipeline's end.
	run := func(b *testing.B, scope string) time.Duration {
		b.Helper()
		id := uuid.New()
		key := fmt.Sprintf("uploads/%d/%s.csv", year, id)
		_, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "text/csv")
		require.NoError(b, err)
		sum := sha256.Sum256(body)
		params := dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: scope, Year: year, Module: &module, Submodule: &sub,
			BlobKey: key, SizeBytes: int64(len(body)), Sha256: hex.EncodeToString(sum[:]), Options: []byte("{}")}
		if scope == "unit" {
			params.UnitID, params.ReportModuleID, params.Options = &unitID, &rm.ID, []byte(`{"replace_existing":true}`)
		}
		start := time.Now()
		pid, err := postgres.WithTxV(ctx, pool, func(ctx context.Context, tx pgx.Tx) (uuid.UUID, error) {
			if _, err := dbsqlc.New(tx).UploadInsert(ctx, params); err != nil {
				return uuid.Nil, err
			}
			p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
				Year: &year, Module: &module, Submodule: &sub, UnitID: params.UnitID})
			if err != nil {
				return uuid.Nil, err
			}
			_, err = pipeline.InsertTx(ctx, client, tx, p.ID, jobs.UploadImportArgs{UploadID: id}, nil)
			return p.ID, err
		})
		require.NoError(b, err)
		deadline := time.Now().Add(10 * time.Minute)
		for {
			var status string
			require.NoError(b, pool.QueryRow(ctx, `SELECT status FROM pipelines WHERE id = $1`, pid).Scan(&status))
			if pipeline.Status(status).Terminal() {
				require.Equal(b, "SUCCESS", status)
				break
			}
			require.True(b, time.Now().Before(deadline), "pipeline %s still %s", pid, status)
			<-time.After(2 * time.Millisecond) // polling the worker's commits
		}
		elapsed := time.Since(start)
		logJobTimes(ctx, b, pool, pid)
		return elapsed
	}
	count := func(b *testing.B, source string) int {
		b.Helper()
		var c int
		require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE report_module_id = $1 AND submodule = 'plane' AND source = $2`,
			rm.ID, source).Scan(&c))
		return c
	}

	// Autovacuum stays away from the two tables: whether the planner has
	// column statistics is decided by each case, not by timing. NoStats:
	// those the first import leaves (it analyzes the entry tables after a
	// bulk load, issue 17); Analyzed: an ANALYZE in between as well.
	_, err = pool.Exec(ctx, `ALTER TABLE data_entries SET (autovacuum_enabled = false);
		ALTER TABLE emission_rows SET (autovacuum_enabled = false)`)
	require.NoError(b, err)
	for _, stats := range []string{"NoStats", "Analyzed"} {
		for _, scope := range []string{"unit", "year"} {
			b.Run(stats+"/"+map[string]string{"unit": "ModulePage", "year": "PerYear"}[scope], func(b *testing.B) {
				source := "csv_" + scope
				var first, replace time.Duration
				runs := 0
				for b.Loop() {
					// Start from a module without plane entries: the first
					// import inserts only. VACUUM without ANALYZE keeps the
					// column statistics as they are (none in the NoStats cases:
					// a fresh database, where the planner knows nothing of
					// report_module_id).
					_, err := pool.Exec(ctx, `DELETE FROM data_entries WHERE report_module_id = $1 AND submodule = 'plane'`, rm.ID)
					require.NoError(b, err)
					_, err = pool.Exec(ctx, `VACUUM data_entries, emission_rows`)
					require.NoError(b, err)
					first += run(b, scope)
					require.Equal(b, n, count(b, source))
					if stats == "Analyzed" {
						_, err = pool.Exec(ctx, `ANALYZE data_entries, emission_rows`)
						require.NoError(b, err)
					}
					replace += run(b, scope)
					require.Equal(b, n, count(b, source), "the second import replaced the first one's entries")
					runs++
				}
				b.Logf("%d rows: first import %s, replace %s, ratio %.2f", n, (first / time.Duration(runs)).Round(time.Millisecond),
					(replace / time.Duration(runs)).Round(time.Millisecond), replace.Seconds()/first.Seconds())
				b.ReportMetric(first.Seconds()/float64(runs), "import-s")
				b.ReportMetric(replace.Seconds()/float64(runs), "replace-s")
				b.ReportMetric(replace.Seconds()/first.Seconds(), "replace/import")
			})
		}
	}
}
