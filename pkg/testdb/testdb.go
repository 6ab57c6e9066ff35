// Package testdb is the test harness for code that talks to PostgreSQL.
//
//   - TestTx gives a test its own transaction, rolled back at cleanup, in a
//     schema migrated once per test process (package). Use it by default.
//   - TestSchema gives a test a freshly migrated schema of its own and a
//     pool bound to it, dropped at cleanup. Use it when a River client runs
//     or LISTEN/NOTIFY is involved.
//   - WrapTestMain drops the package schema, closes pools and checks for
//     leaked goroutines after a green run.
//
// The database comes from TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/co2_test?sslmode=disable&pool_max_conns=10);
// it is created when missing. Only tests import this package.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// DefaultURL is used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/co2_test?sslmode=disable&pool_max_conns=10"

// URL returns the test database URL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	sharedOnce sync.Once
	sharedPool *pgxpool.Pool
	errShared  error

	pkgOnce   sync.Once
	pkgSchema string
	errPkg    error
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ensureDatabase creates the test database when it does not exist.
func ensureDatabase(ctx context.Context, dbURL string) error {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("error parsing TEST_DATABASE_URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("test database server not reachable (set TEST_DATABASE_URL or run `make test`, which starts one): %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil // exists (possibly created concurrently by another package)
	}
	return err
}

// Pool returns the process-wide pool on the test database.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if errShared = ensureDatabase(ctx, stripPoolParams(URL())); errShared != nil {
			return
		}
		sharedPool, errShared = postgres.NewPool(context.Background(), URL(), 0, "")
		if errShared == nil {
			errShared = sharedPool.Ping(ctx)
		}
	})
	if errShared != nil {
		tb.Fatalf("testdb: %v", errShared)
	}
	return sharedPool
}

// RandomName returns prefix followed by 12 random hex digits (a valid,
// unique schema or object name).
func RandomName(prefix string) string { return randomName(prefix) }

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// createSchema creates and migrates a schema in the database of pool,
// whose URL is dbURL.
func createSchema(ctx context.Context, pool *pgxpool.Pool, dbURL, name string) error {
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("error creating schema %s: %w", name, err)
	}
	m, err := postgres.NewMigrator(stripPoolParams(dbURL), name, quietLogger())
	if err != nil {
		return err
	}
	return m.Up(ctx)
}

func dropSchema(ctx context.Context, pool *pgxpool.Pool, name string) error {
	_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	return err
}

// stripPoolParams removes pgxpool-only parameters from a URL so that a
// plain pgx connection accepts it.
func stripPoolParams(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// PackageSchema returns the schema migrated once for this test process.
func PackageSchema(tb testing.TB) string {
	tb.Helper()
	pool := Pool(tb)
	pkgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pkgSchema = randomName("pkg_")
		errPkg = createSchema(ctx, pool, URL(), pkgSchema)
	})
	if errPkg != nil {
		tb.Fatalf("testdb: %v", errPkg)
	}
	return pkgSchema
}

// TestTx begins a transaction in the package schema, rolled back when the
// test ends.
func TestTx(ctx context.Context, tb testing.TB) pgx.Tx {
	tb.Helper()
	schema := PackageSchema(tb)
	tx, err := Pool(tb).Begin(ctx)
	if err != nil {
		tb.Fatalf("testdb: begin: %v", err)
	}
	tb.Cleanup(func() { _ = tx.Rollback(context.WithoutCancel(ctx)) })
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("testdb: search_path: %v", err)
	}
	return tx
}

// Schema is a migrated schema owned by one test.
type Schema struct {
	Name string
	Pool *pgxpool.Pool // connections use search_path = Name
	URL  string        // connection string selecting the schema (for binaries)
}

// TestSchema creates a migrated schema for one test, dropped at cleanup.
func TestSchema(ctx context.Context, tb testing.TB) Schema {
	tb.Helper()
	admin := Pool(tb)
	name := randomName("test_")
	if err := createSchema(ctx, admin, URL(), name); err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(func() { _ = dropSchema(context.Background(), admin, name) })
	return schemaIn(ctx, tb, URL(), name)
}

// TestDatabase creates a database of its own for one test, with a migrated
// schema, dropped at cleanup. For the tests that must not receive other
// tests' notifications: LISTEN/NOTIFY channels are shared by every schema
// of a database, not by the other databases.
func TestDatabase(ctx context.Context, tb testing.TB) Schema {
	tb.Helper()
	admin := Pool(tb)
	db := randomName("testdb_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		tb.Fatalf("testdb: error creating database %s: %v", db, err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(URL())
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	u.Path = "/" + db
	pool, err := postgres.NewPool(ctx, u.String(), 0, "")
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	name := randomName("test_")
	err = createSchema(ctx, pool, u.String(), name)
	pool.Close()
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	return schemaIn(ctx, tb, u.String(), name)
}

// schemaIn opens a pool on schema name of the database of dbURL, closed at
// cleanup.
func schemaIn(ctx context.Context, tb testing.TB, dbURL, name string) Schema {
	tb.Helper()
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	pool, err := postgres.NewPool(ctx, u.String(), 0, "")
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(pool.Close)
	return Schema{Name: name, Pool: pool, URL: stripPoolParams(u.String())}
}

// WrapTestMain runs the tests, drops the package schema, closes the shared
// pool and, after a green run, fails on leaked goroutines.
func WrapTestMain(m *testing.M) {
	before := goleak.IgnoreCurrent()
	code := m.Run()
	if sharedPool != nil {
		if pkgSchema != "" {
			_ = dropSchema(context.Background(), sharedPool, pkgSchema)
		}
		sharedPool.Close()
	}
	if code == 0 {
		if err := goleak.Find(before); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// URLWithoutPoolParams is URL without pgxpool-only parameters.
func URLWithoutPoolParams() string { return stripPoolParams(URL()) }

// QuietLogger discards everything (for code under test that logs).
func QuietLogger() *slog.Logger { return quietLogger() }

// FailInserts makes every INSERT into table of schema s fail with message,
// as a broken store would (a BEFORE INSERT trigger that raises), until the
// returned restore is called (also at cleanup). Tests use it to show that a
// write whose audit event cannot be stored is rolled back as a whole.
func FailInserts(ctx context.Context, tb testing.TB, s Schema, table, message string) (restore func()) {
	tb.Helper()
	fn := pgx.Identifier{s.Name, "fail_" + table}.Sanitize()
	trigger := pgx.Identifier{"fail_" + table}.Sanitize()
	target := pgx.Identifier{s.Name, table}.Sanitize()
	if _, err := s.Pool.Exec(ctx, `CREATE OR REPLACE FUNCTION `+fn+`() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION '%', `+quoteLiteral(message)+`; END $$`); err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	if _, err := s.Pool.Exec(ctx, `CREATE TRIGGER `+trigger+` BEFORE INSERT ON `+target+` FOR EACH ROW EXECUTE FUNCTION `+fn+`()`); err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		if _, err := s.Pool.Exec(context.WithoutCancel(ctx), `DROP TRIGGER IF EXISTS `+trigger+` ON `+target); err != nil {
			tb.Errorf("testdb: %v", err)
		}
	}
	tb.Cleanup(restore)
	return restore
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
