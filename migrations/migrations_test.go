package migrations_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/migrations"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// The vendored River files must be exactly what rivermigrate renders for the
// River version in go.mod (run `make river-sql` after an upgrade).
func TestRiverFilesFresh(t *testing.T) {
	t.Parallel()
	want, err := migrations.RiverFiles()
	require.NoError(t, err)
	got := map[string]string{}
	entries, err := os.ReadDir("river")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("river", e.Name()))
		require.NoError(t, err)
		got[e.Name()] = string(b)
	}
	require.Equal(t, want, got, "migrations/river is stale: run `make river-sql`")
}

func TestEveryMigrationHasUpAndDown(t *testing.T) {
	t.Parallel()
	for _, set := range migrations.Sets() {
		names, err := fs.Glob(set.FS, "*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, names)
		for _, n := range names {
			base, ok := strings.CutSuffix(n, ".up.sql")
			if !ok {
				base, ok = strings.CutSuffix(n, ".down.sql")
				require.True(t, ok, "%s/%s must end in .up.sql or .down.sql", set.Name, n)
			}
			_, errUp := fs.Stat(set.FS, base+".up.sql")
			_, errDown := fs.Stat(set.FS, base+".down.sql")
			require.NoError(t, errUp, "%s/%s", set.Name, base)
			require.NoError(t, errDown, "%s/%s", set.Name, base)
		}
	}
}

// Up, down, up on an empty schema; then River's part of the schema must be
// identical to what rivermigrate itself creates.
func TestUpDownUpMatchesRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)

	ours := testdb.RandomName("mig_")
	theirs := ours + "_river"
	for _, s := range []string{ours, theirs} {
		_, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s}.Sanitize())
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE") })
	}

	m, err := postgres.NewMigrator(testdb.URLWithoutPoolParams(), ours, testdb.QuietLogger())
	require.NoError(t, err)
	require.NoError(t, m.Up(ctx))
	require.NoError(t, m.Down(ctx, -1))
	require.Empty(t, tables(ctx, t, pool, ours, "river_schema_migrations", "schema_migrations"), "down must remove every table")
	require.NoError(t, m.Up(ctx))

	vs, err := m.Versions(ctx)
	require.NoError(t, err)
	for _, v := range vs {
		require.True(t, v.UpToDate(), "%+v", v)
	}
	require.NoError(t, postgres.CheckSchema(ctx, scoped(ctx, t, pool, ours)))

	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: theirs})
	require.NoError(t, err)
	_, err = rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)

	riverTables := tables(ctx, t, pool, theirs, "river_migration")
	require.NotEmpty(t, riverTables)
	for _, table := range riverTables {
		require.Equal(t, describe(ctx, t, pool, theirs, table), describe(ctx, t, pool, ours, table), "table %s differs from River's own schema", table)
	}
}

// scoped returns a transaction whose search_path is schema.
func scoped(ctx context.Context, t *testing.T, pool postgres.TxBeginner, schema string) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	_, err = tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	return tx
}

func tables(ctx context.Context, t *testing.T, db postgres.DBTX, schema string, exclude ...string) []string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, schema)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	out := names[:0]
	for _, n := range names {
		skip := false
		for _, e := range exclude {
			skip = skip || n == e
		}
		if !skip {
			out = append(out, n)
		}
	}
	return out
}

// describe renders a table's columns, indexes, constraints and triggers with
// the schema name removed, for comparison.
func describe(ctx context.Context, t *testing.T, db postgres.DBTX, schema, table string) []string {
	t.Helper()
	var out []string
	q := func(sql string) {
		rows, err := db.Query(ctx, sql, schema, table)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, l := range lines {
			out = append(out, strings.ReplaceAll(l, schema+".", ""))
		}
	}
	q(`SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
	   FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name`)
	q(`SELECT replace(indexdef, $1 || '.', '') FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname`)
	q(`SELECT c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
	   JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
	   WHERE n.nspname = $1 AND r.relname = $2 ORDER BY c.conname`)
	q(`SELECT tg.tgname FROM pg_trigger tg JOIN pg_class r ON r.oid = tg.tgrelid
	   JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = $1 AND r.relname = $2 AND NOT tg.tgisinternal ORDER BY 1`)
	sort.Strings(out)
	return out
}
