package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// BenchmarkExport measures the export job run by a real worker process
// (the binary, built here; a fresh one per format so that its peak
// resident memory, VmHWM, is that export's alone), from the commit of the
// export (what POST /exports commits) to its pipeline's SUCCESS:
//
//   - CSV and XLSX: a unit_module_entries export of one purchases module
//     holding BENCH_EXPORT_ROWS entries (default 1 000 000): rows/s and the
//     worker's peak RSS (issue 14: under 200 MB);
//   - PDF: backoffice_units of BENCH_EXPORT_UNITS units (default 300), one A4
//     page each: seconds.
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_EXPORT_ROWS")); err == nil && v > 0 {
		n = v
	}
	units := 300
	if v, err := strconv.Atoi(os.Getenv("BENCH_EXPORT_UNITS")); err == nil && v > 0 {
		units = v
	}
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	year := testfactory.Year(ctx, b, pool, nil).Year
	lab := testfactory.Unit(ctx, b, pool, nil)
	rep := testfactory.Report(ctx, b, pool, &testfactory.ReportOpts{UnitID: &lab.ID, Year: &year})
	pu := rep.Module(emission.ModulePurchases)
	start := time.Now()
	_, err := pool.Exec(ctx, `
		INSERT INTO data_entries (report_module_id, unit_id, year, module, submodule, data, source, calc_status, kg_co2eq)
		SELECT $1, $2, $3, 'purchases', 'scientific_equipment',
		       jsonb_build_object('name', 'Pipette set ' || g, 'supplier', 'Supplier ' || (g % 97), 'quantity', g % 7 + 1,
		                          'total_spent_amount', (g % 5000) * 1.5, 'currency', 'CHF',
		                          'purchase_institutional_code', 'P' || (g % 300), 'purchase_institutional_description', 'Lab supplies'),
		       'csv_year', 'ok', (g % 1000) * 0.37
		FROM generate_series(1, $4::int) AS g`, pu.ID, pu.UnitID, pu.Year, n)
	require.NoError(b, err)
	b.Logf("%d entries inserted in %s", n, time.Since(start).Round(time.Millisecond))
	ids := make([]int64, 0, len(rep.Modules)*units)
	for _, m := range rep.Modules {
		ids = append(ids, m.ID)
	}
	for range units - 1 { // the lab is the first
		u := testfactory.Unit(ctx, b, pool, nil)
		r := testfactory.Report(ctx, b, pool, &testfactory.ReportOpts{UnitID: &u.ID, Year: &year})
		for _, m := range r.Modules {
			ids = append(ids, m.ID)
		}
	}
	require.NoError(b, report.RefreshModuleIDs(ctx, pool, ids, time.Now()))

	user := func(role perm.Assignment) export.Caller {
		roles := []perm.Assignment{role}
		u := testfactory.User(ctx, b, pool, &testfactory.UserOpts{Roles: roles})
		return export.Caller{UserID: u.ID, Sciper: u.Sciper, Perms: perm.For(roles)}
	}
	admin, principal := user(perm.New(perm.RoleAdmin, "")), user(perm.New(perm.RolePrincipal, *lab.Cf))
	blobDir := b.TempDir()
	store, err := blob.NewLocal(blobDir)
	require.NoError(b, err)
	svc := &export.Service{DB: pool, Blob: store, Enqueue: jobs.EnqueueExport(insertClient(b))}

	// run exports kind/format with params as caller through a fresh worker and
	// returns the time to SUCCESS, the rows written and the worker's peak
	// RSS in MB.
	run := func(b *testing.B, caller export.Caller, kind, format string, params map[string]any) (time.Duration, int64, float64) {
		b.Helper()
		w := startWorkerProcess(b, map[string]string{
			"DATABASE_URL": schema.URL, "ADMIN_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn", "APP_ENV": "dev",
			"SCHEDULE_ECB": "", "SCHEDULE_ACCRED": "", "SCHEDULE_TABLEAU": "", "SCHEDULE_EXPORT_CLEANUP": "",
			"BLOB_LOCAL_DIR": blobDir, "TMPDIR": b.TempDir(),
		})
		p, err := json.Marshal(params)
		require.NoError(b, err)
		start := time.Now()
		c, err := svc.Create(ctx, caller, export.Request{Kind: kind, Format: format, Params: p})
		require.NoError(b, err)
		deadline := time.Now().Add(20 * time.Minute)
		for {
			pl, _, err := pipeline.Get(ctx, pool, c.Pipeline.ID)
			require.NoError(b, err)
			if pipeline.Status(pl.Status).Terminal() {
				require.Equal(b, "SUCCESS", pl.Status, "%v", pl.LastError)
				break
			}
			require.True(b, time.Now().Before(deadline), "pipeline %s still %s", pl.ID, pl.Status)
			<-time.After(20 * time.Millisecond) // polling the worker's commits
		}
		elapsed := time.Since(start)
		e, err := svc.Get(ctx, caller, c.Export.ID)
		require.NoError(b, err)
		return elapsed, *e.RowCount, float64(w.peakRSS()) / 1024
	}
	entries := map[string]any{"unit_id": lab.ID, "year": year, "module": "purchases"}

	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			var d time.Duration
			var rows int64
			var rss float64
			for b.Loop() {
				d, rows, rss = run(b, principal, "unit_module_entries", format, entries)
			}
			require.Equal(b, int64(n), rows)
			b.ReportMetric(float64(rows)/d.Seconds(), "rows/s")
			b.ReportMetric(rss, "worker-peak-RSS-MB")
			fmt.Printf("export of %d entries to %s: %.1f s (%.0f rows/s), worker peak RSS %.0f MB\n",
				rows, format, d.Seconds(), float64(rows)/d.Seconds(), rss)
		})
	}
	b.Run("pdf", func(b *testing.B) {
		var d time.Duration
		var pages int64
		var rss float64
		for b.Loop() {
			d, pages, rss = run(b, admin, "backoffice_units", "pdf", map[string]any{"year": []int32{year}})
		}
		require.Equal(b, int64(units), pages)
		b.ReportMetric(d.Seconds(), "s")
		b.ReportMetric(rss, "worker-peak-RSS-MB")
		fmt.Printf("PDF of %d units (one page each): %.1f s, worker peak RSS %.0f MB\n", pages, d.Seconds(), rss)
	})
}
