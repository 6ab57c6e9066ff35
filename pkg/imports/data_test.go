package imports_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// progressReport is one progress report of an import.
type progressReport struct {
	phase       string
	done, total int64
}

// TestDataImport covers the phases of a module-page data import (replace
// reported on its own before load), its stop on a cancelled context in
// each pass, and rows_duplicate (docs/jobs.md §4.1). Every import runs in
// its own transaction of a schema of its own: a cancelled import loses its
// connection.
func TestDataImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		schema testdb.Schema
		store  blob.Store
		year   int32
		unitID int64
		rm     dbsqlc.ReportModule // process_emissions
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		schema := testdb.TestSchema(ctx, t)
		store, err := blob.NewLocal(t.TempDir())
		require.NoError(t, err)
		y := testfactory.Year(ctx, t, schema.Pool, nil)
		u := testfactory.Unit(ctx, t, schema.Pool, nil)
		rep := testfactory.Report(ctx, t, schema.Pool, &testfactory.ReportOpts{UnitID: &u.ID, Year: &y.Year})
		testfactory.Factor(ctx, t, schema.Pool, &testfactory.FactorOpts{Year: &y.Year, Submodule: new("process_gas"),
			Classification: map[string]string{"category": "co2", "subcategory": ""},
			Values:         map[string]any{"ef_kg_co2eq_per_unit": 2.0, "unit": "kg"}})
		return &testBundle{schema: schema, store: store, year: y.Year, unitID: u.ID, rm: rep.Module(emission.ModuleProcessEmissions)}
	}
	// gasCSV is a process_gas file with quantities from..to.
	gasCSV := func(from, to int) string {
		var b strings.Builder
		b.WriteString("category,quantity\n")
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "co2,%d\n", i)
		}
		return b.String()
	}
	// upload stores csv and commits a module-page upload of it.
	upload := func(t *testing.T, b *testBundle, csv string, replace bool) dbsqlc.Upload {
		t.Helper()
		id := uuid.New()
		key := imports.Key(b.year, id)
		_, err := b.store.Put(ctx, key, strings.NewReader(csv), int64(len(csv)), "text/csv")
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(csv))
		module, sub := "process_emissions", "process_gas"
		up, err := dbsqlc.New(b.schema.Pool).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: "unit",
			Year: b.year, Module: &module, Submodule: &sub, UnitID: &b.unitID, ReportModuleID: &b.rm.ID, BlobKey: key,
			SizeBytes: int64(len(csv)), Sha256: hex.EncodeToString(sum[:]), Options: fmt.Appendf(nil, `{"replace_existing": %t}`, replace)})
		require.NoError(t, err)
		return up
	}
	// load imports up with a batch size of 100, recording the progress
	// reports; cancelWhen, if set, cancels the import's context on the first
	// report it accepts. Returns the reports, the result counters of a
	// committed import and the error.
	load := func(t *testing.T, b *testBundle, up dbsqlc.Upload, cancelWhen func(progressReport) bool) ([]progressReport, map[string]any, error) {
		t.Helper()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var mu sync.Mutex
		var reports []progressReport
		svc := &imports.Service{DB: b.schema.Pool, Blob: b.store, BatchSize: 100,
			Progress: func(_ context.Context, phase string, done, total int64, _ string) {
				mu.Lock()
				defer mu.Unlock()
				r := progressReport{phase, done, total}
				reports = append(reports, r)
				if cancelWhen != nil && cancelWhen(r) {
					cancel()
				}
			}}
		opened, err := svc.Open(ctx, up.ID, imports.KindData)
		require.NoError(t, err)
		var ctrs map[string]any
		err = svc.Load(ctx, opened, func(_ context.Context, _ pgx.Tx, out imports.Outcome) error {
			ctrs = out.Result.Counters
			return nil
		})
		mu.Lock()
		defer mu.Unlock()
		return reports, ctrs, err
	}
	// entries counts the report module's entries by upload.
	entries := func(t *testing.T, b *testBundle) map[uuid.UUID]int {
		t.Helper()
		rows, err := b.schema.Pool.Query(ctx, `SELECT upload_id, count(*) FROM data_entries WHERE report_module_id = $1 AND upload_id IS NOT NULL
			GROUP BY upload_id`, b.rm.ID)
		require.NoError(t, err)
		defer rows.Close()
		m := map[uuid.UUID]int{}
		for rows.Next() {
			var id uuid.UUID
			var n int
			require.NoError(t, rows.Scan(&id, &n))
			m[id] = n
		}
		require.NoError(t, rows.Err())
		return m
	}
	emissionRows := func(t *testing.T, b *testBundle) int {
		t.Helper()
		var n int
		require.NoError(t, b.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM emissions WHERE report_module_id = $1`, b.rm.ID).Scan(&n))
		return n
	}
	phases := func(reports []progressReport) []string {
		var out []string
		for _, r := range reports {
			if len(out) == 0 || out[len(out)-1] != r.phase {
				out = append(out, r.phase)
			}
		}
		return out
	}
	last := func(reports []progressReport, phase string) progressReport {
		var out progressReport
		for _, r := range reports {
			if r.phase == phase {
				out = r
			}
		}
		return out
	}
	// imported is a module holding a first upload of 2 500 rows.
	imported := func(t *testing.T) (*testBundle, dbsqlc.Upload) {
		t.Helper()
		b := setup(t)
		first := upload(t, b, gasCSV(1, 2500), false)
		_, _, err := load(t, b, first, nil)
		require.NoError(t, err)
		require.Equal(t, map[uuid.UUID]int{first.ID: 2500}, entries(t, b))
		return b, first
	}

	t.Run("AppendHasNoReplacePhase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		reports, ctrs, err := load(t, b, upload(t, b, gasCSV(1, 250), false), nil)
		require.NoError(t, err)
		require.Equal(t, []string{imports.PhaseValidate, imports.PhaseLoad}, phases(reports))
		require.Equal(t, progressReport{imports.PhaseLoad, 250, 250}, last(reports, imports.PhaseLoad))
		require.EqualValues(t, 250, ctrs["rows_loaded"])
		require.EqualValues(t, 0, ctrs["entries_deleted"])
		require.EqualValues(t, 0, ctrs["rows_duplicate"])
	})

	// An import that wrote at least a batch of entries leaves fresh planner
	// statistics (ANALYZE after its commit): reltuples, -1 until the table
	// was first analyzed or vacuumed, counts the rows it loaded.
	t.Run("AnalyzedAfterBulkLoad", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := load(t, b, upload(t, b, gasCSV(1, 250), false), nil)
		require.NoError(t, err)
		var reltuples float64
		require.NoError(t, b.schema.Pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'data_entries'::regclass`).Scan(&reltuples))
		require.GreaterOrEqual(t, reltuples, 250.0)
	})

	t.Run("CancelledWhileLoading", func(t *testing.T) {
		t.Parallel()
		b, first := imported(t)
		reports, _, err := load(t, b, upload(t, b, gasCSV(1, 2500), true), func(r progressReport) bool {
			return r.phase == imports.PhaseLoad && r.done >= 1000
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, []string{imports.PhaseValidate, imports.PhaseReplace, imports.PhaseLoad}, phases(reports))
		require.Equal(t, int64(1000), last(reports, imports.PhaseLoad).done, "no record read after the cancel was reported")
		require.Equal(t, map[uuid.UUID]int{first.ID: 2500}, entries(t, b), "the replace and the rows loaded are rolled back")
		require.Equal(t, 2500, emissionRows(t, b))
	})

	t.Run("CancelledWhileReplacing", func(t *testing.T) {
		t.Parallel()
		b, first := imported(t)
		reports, _, err := load(t, b, upload(t, b, gasCSV(1, 2500), true), func(r progressReport) bool {
			return r.phase == imports.PhaseReplace && r.done > 0
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, []string{imports.PhaseValidate, imports.PhaseReplace}, phases(reports))
		require.Equal(t, progressReport{imports.PhaseReplace, 100, 2500}, last(reports, imports.PhaseReplace), "one batch deleted, then stopped")
		require.Equal(t, map[uuid.UUID]int{first.ID: 2500}, entries(t, b))
		require.Equal(t, 2500, emissionRows(t, b))
	})

	t.Run("CancelledWhileValidating", func(t *testing.T) {
		t.Parallel()
		b, first := imported(t)
		reports, _, err := load(t, b, upload(t, b, gasCSV(1, 2500), true), func(r progressReport) bool {
			return r.phase == imports.PhaseValidate && r.done >= 1000
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, []string{imports.PhaseValidate}, phases(reports))
		require.Equal(t, int64(1000), last(reports, imports.PhaseValidate).done)
		require.Equal(t, map[uuid.UUID]int{first.ID: 2500}, entries(t, b))
	})

	t.Run("ReplacePhase", func(t *testing.T) {
		t.Parallel()
		b, _ := imported(t)
		second := upload(t, b, gasCSV(1, 2500), true)
		reports, ctrs, err := load(t, b, second, nil)
		require.NoError(t, err)
		require.Equal(t, []string{imports.PhaseValidate, imports.PhaseReplace, imports.PhaseLoad}, phases(reports))
		var replace []progressReport
		for _, r := range reports {
			if r.phase == imports.PhaseReplace && r.total > 0 {
				replace = append(replace, r)
			}
		}
		require.Len(t, replace, 26, "0 of 2 500, then one report per batch of 100")
		require.Equal(t, progressReport{imports.PhaseReplace, 2500, 2500}, replace[len(replace)-1])
		require.EqualValues(t, 2500, ctrs["entries_deleted"])
		require.EqualValues(t, 0, ctrs["rows_duplicate"], "the identical rows were replaced")
		require.Equal(t, map[uuid.UUID]int{second.ID: 2500}, entries(t, b))
		require.Equal(t, 2500, emissionRows(t, b), "the replaced entries' emission rows went with them")
	})

	t.Run("RowsDuplicate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := upload(t, b, gasCSV(1, 10), false)
		_, ctrs, err := load(t, b, first, nil)
		require.NoError(t, err)
		require.EqualValues(t, 0, ctrs["rows_duplicate"])

		// Appended: quantities 6..10 were already there; 11 appears twice in
		// the file but not before it.
		second := upload(t, b, gasCSV(6, 15)+"co2,11\n", false)
		_, ctrs, err = load(t, b, second, nil)
		require.NoError(t, err)
		require.EqualValues(t, 11, ctrs["rows_loaded"])
		require.EqualValues(t, 5, ctrs["rows_duplicate"])
		require.Equal(t, map[uuid.UUID]int{first.ID: 10, second.ID: 11}, entries(t, b))

		// A manual entry survives a replacement: the row equal to it is a
		// duplicate, the others replaced theirs.
		testfactory.Entry(ctx, t, b.schema.Pool, &testfactory.EntryOpts{ReportModule: &b.rm, Submodule: new("process_gas"),
			Data: map[string]any{"category": "co2", "quantity": 3}})
		third := upload(t, b, gasCSV(1, 10), true)
		_, ctrs, err = load(t, b, third, nil)
		require.NoError(t, err)
		require.EqualValues(t, 21, ctrs["entries_deleted"])
		require.EqualValues(t, 1, ctrs["rows_duplicate"])
	})
}
