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
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestUploadImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx    pgx.Tx
		store blob.Store
		year  int32
		unit  dbsqlc.Unit
		cf    string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		store, err := blob.NewLocal(t.TempDir())
		require.NoError(t, err)
		y := testfactory.Year(ctx, t, tx, nil)
		u := testfactory.Unit(ctx, t, tx, nil)
		testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &y.Year, Submodule: new("process_gas"),
			Classification: map[string]string{"category": "co2", "subcategory": ""},
			Values:         map[string]any{"ef_kg_co2eq_per_unit": 2.0, "unit": "kg"}})
		return &testBundle{tx: tx, store: store, year: y.Year, unit: u, cf: *u.Cf}
	}
	upload := func(t *testing.T, b *testBundle, sub, csv string) uuid.UUID {
		t.Helper()
		id := uuid.New()
		key := fmt.Sprintf("uploads/%d/%s.csv", b.year, id)
		_, err := b.store.Put(ctx, key, strings.NewReader(csv), int64(len(csv)), "text/csv")
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(csv))
		module := "process_emissions"
		if sub == "member" {
			module = "headcount"
		}
		_, err = dbsqlc.New(b.tx).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: "year", Year: b.year,
			Module: &module, Submodule: &sub, BlobKey: key, SizeBytes: int64(len(csv)), Sha256: hex.EncodeToString(sum[:]), Options: []byte("{}")})
		require.NoError(t, err)
		return id
	}
	work := func(t *testing.T, b *testBundle, id uuid.UUID) (*rivertest.WorkResult, error) {
		t.Helper()
		w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, &jobs.UploadImportWorker{Imports: &imports.Service{DB: b.tx, Blob: b.store, BatchSize: 2}})
		return w.Work(ctx, t, b.tx, jobs.UploadImportArgs{UploadID: id}, nil)
	}
	countEntries := func(t *testing.T, b *testBundle, sub string) int {
		t.Helper()
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE year = $1 AND submodule = $2`, b.year, sub).Scan(&n))
		return n
	}
	requireCancelled := func(t *testing.T, res *rivertest.WorkResult, err error, code string) {
		t.Helper()
		require.NoError(t, err) // a cancellation is an outcome, not a work error
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.NotEmpty(t, res.Job.Errors)
		require.Contains(t, res.Job.Errors[len(res.Job.Errors)-1].Error, code)
	}

	t.Run("BadRowsReportedRestImported", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		csv := "unit_institutional_id;category;quantity;subcategory\n" +
			b.cf + ";co2;10;\n" +
			b.cf + ";co2;1,5;\n" + // decimal comma with ';'
			"ZZZ;co2;3;\n" + // unknown unit
			b.cf + ";co2;-1;\n" + // out of range
			b.cf + ";co2;2;\n"
		id := upload(t, b, "process_gas", "\ufeff"+csv)
		res, err := work(t, b, id)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.Equal(t, 3, countEntries(t, b, "process_gas"))
		var action string
		var loaded, skipped int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT action, (snapshot -> 'counters' ->> 'rows_loaded')::int, (snapshot -> 'counters' ->> 'rows_skipped')::int
			FROM audit_events WHERE event = 'upload.import' AND entity_type = 'upload' AND entity_id = $1`, id.String()).Scan(&action, &loaded, &skipped))
		require.Equal(t, "U", action)
		require.Equal(t, 3, loaded)
		require.Equal(t, 2, skipped)
		var kg float64
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT sum(kg_co2eq) FROM data_entries WHERE year = $1`, b.year).Scan(&kg))
		require.InDelta(t, 2*(10+1.5+2), kg, 1e-9)
		var status string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT status FROM report_modules WHERE unit_id = $1 AND year = $2 AND module = 'process_emissions'`,
			b.unit.ID, b.year).Scan(&status))
		require.Equal(t, "in_progress", status)
		// The module's stats were computed in the import (migration
		// 000020): dirty, so that the aggregate refreshes the report, and
		// current for that dirty stamp.
		var statsKg float64
		var current bool
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT (stats ->> 'total_kg')::float8, stats_dirty_at IS NOT NULL AND stats_current_at = stats_dirty_at
			FROM report_modules WHERE unit_id = $1 AND year = $2 AND module = 'process_emissions'`, b.unit.ID, b.year).Scan(&statsKg, &current))
		require.InDelta(t, 2*(10+1.5+2), statsKg, 1e-9)
		require.True(t, current)

		// Re-importing the same file replaces (no duplicates).
		res, err = work(t, b, upload(t, b, "process_gas", csv))
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.Equal(t, 3, countEntries(t, b, "process_gas"))
	})

	t.Run("FingerprintRule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		status := func() string {
			t.Helper()
			var st string
			require.NoError(t, b.tx.QueryRow(ctx, `SELECT status FROM report_modules WHERE unit_id = $1 AND year = $2 AND module = 'process_emissions'`,
				b.unit.ID, b.year).Scan(&st))
			return st
		}
		validate := func() {
			t.Helper()
			_, err := b.tx.Exec(ctx, `UPDATE report_modules SET status = 'validated' WHERE unit_id = $1 AND year = $2 AND module = 'process_emissions'`,
				b.unit.ID, b.year)
			require.NoError(t, err)
		}
		imp := func(csv string) {
			t.Helper()
			res, err := work(t, b, upload(t, b, "process_gas", "unit_institutional_id,category,quantity,subcategory\n"+csv))
			require.NoError(t, err)
			require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		}
		imp(b.cf + ",co2,10,\n" + b.cf + ",co2,2,\n")
		require.Equal(t, "in_progress", status())
		validate()
		// The same rows in another order: the entry set is unchanged.
		imp(b.cf + ",co2,2,\n" + b.cf + ",co2,10,\n")
		require.Equal(t, "validated", status())
		require.Equal(t, 2, countEntries(t, b, "process_gas"))
		// One quantity differs: changed.
		imp(b.cf + ",co2,2,\n" + b.cf + ",co2,11,\n")
		require.Equal(t, "in_progress", status())
		validate()
		// A duplicate row added: the multiset differs.
		imp(b.cf + ",co2,2,\n" + b.cf + ",co2,11,\n" + b.cf + ",co2,11,\n")
		require.Equal(t, "in_progress", status())
	})

	t.Run("DuplicateMemberIDs", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		csv := "unit_institutional_id,name,sius_code,user_institutional_id,fte\n" +
			b.cf + ",A,51,100001,1\n" + b.cf + ",B,51,100001,1\n" + b.cf + ",C,51,100002,0.5\n"
		res, err := work(t, b, upload(t, b, "member", csv))
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.Equal(t, 2, countEntries(t, b, "member"))
	})

	t.Run("EmptyFile", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := work(t, b, upload(t, b, "process_gas", "unit_institutional_id,category,quantity\n"))
		requireCancelled(t, res, err, "empty_file")
	})

	t.Run("MissingColumns", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := work(t, b, upload(t, b, "process_gas", "category,amount\nco2,1\n"))
		requireCancelled(t, res, err, "missing_columns")
		msg := res.Job.Errors[len(res.Job.Errors)-1].Error
		require.Contains(t, msg, "unit_institutional_id")
		require.Contains(t, msg, "quantity")
	})

	t.Run("NoValidRowsKeepsPreviousData", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := work(t, b, upload(t, b, "process_gas", "unit_institutional_id,category,quantity\n"+b.cf+",co2,4\n"))
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		res, err = work(t, b, upload(t, b, "process_gas", "unit_institutional_id,category,quantity\nZZZ,co2,4\n"+b.cf+",co2,x\n"))
		requireCancelled(t, res, err, "no_valid_rows")
		require.Equal(t, 1, countEntries(t, b, "process_gas"))
	})

	t.Run("HugeLineAndManyColumnsRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wide := "unit_institutional_id,category,quantity" + strings.Repeat(",", 1_000_000) + "\n"
		res, err := work(t, b, upload(t, b, "process_gas", wide))
		requireCancelled(t, res, err, "too_many_columns")
		long := "unit_institutional_id,category,quantity\n" + b.cf + ",co2,\"" + strings.Repeat("a", 10<<20) + "\"\n"
		res, err = work(t, b, upload(t, b, "process_gas", long))
		requireCancelled(t, res, err, "record_too_large")
	})

	t.Run("ClosedYear", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := upload(t, b, "process_gas", "unit_institutional_id,category,quantity\n"+b.cf+",co2,4\n")
		_, err := b.tx.Exec(ctx, `UPDATE years SET status = 'closed' WHERE year = $1`, b.year)
		require.NoError(t, err)
		res, err := work(t, b, id)
		requireCancelled(t, res, err, "year_closed")
	})

	t.Run("MissingBlobIsPermanent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := upload(t, b, "process_gas", "unit_institutional_id,category,quantity\n"+b.cf+",co2,4\n")
		require.NoError(t, b.store.Delete(ctx, fmt.Sprintf("uploads/%d/%s.csv", b.year, id)))
		res, err := work(t, b, id)
		requireCancelled(t, res, err, "missing from the blob store")
	})
}
