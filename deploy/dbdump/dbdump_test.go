package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/blob/blobtest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// TestMain stops the S3 server (versitygw) the tests share after the last one.
func TestMain(m *testing.M) {
	code := m.Run()
	blobtest.Stop()
	os.Exit(code)
}

// pgBin returns the newest PostgreSQL client program name (pg_dump,
// pg_restore) under /usr/lib/postgresql, where scripts/pg.sh finds the server.
func pgBin(t *testing.T, name string) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) < versionOf(dirs[j]) })
	if len(dirs) > 0 {
		return dirs[len(dirs)-1]
	}
	p, err := exec.LookPath(name)
	require.NoError(t, err, "%s not found (the Debian postgresql package, which scripts/pg.sh installs)", name)
	return p
}

func versionOf(path string) int {
	var v int
	_, _ = fmt.Sscanf(filepath.Base(filepath.Dir(filepath.Dir(path))), "%d", &v)
	return v
}

// freshDatabase creates an empty database dropped at cleanup and returns its URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	name := testdb.RandomName("dbdump_")
	_, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(testdb.URLWithoutPoolParams())
	require.NoError(t, err)
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

func s3Config(t *testing.T, store blob.Config, databaseURL string) dumpConfig {
	t.Helper()
	return dumpConfig{DatabaseURL: databaseURL, Blob: store, KeyPrefix: "db-dumps", Name: "co2-calculator",
		Retention: 30 * 24 * time.Hour, KeepMin: 2, PGDump: pgBin(t, "pg_dump")}
}

func keys(ctx context.Context, t *testing.T, cfg dumpConfig) []string {
	t.Helper()
	client, err := s3Client(ctx, cfg.Blob)
	require.NoError(t, err)
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &cfg.Blob.Bucket, Prefix: new(cfg.Blob.Prefix + "/")})
	require.NoError(t, err)
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, strings.TrimPrefix(*o.Key, cfg.Blob.Prefix+"/"))
	}
	slices.Sort(ks)
	return ks
}

// TestRun dumps a migrated database into S3 (versitygw), applies the
// retention, then restores the dump with pg_restore into another database.
func TestRun(t *testing.T) { //nolint:tparallel // KeepMin runs on the dumps of the steps before it
	t.Parallel()
	ctx := context.Background()
	source := freshDatabase(t)
	m, err := postgres.NewMigrator(source, "", testdb.QuietLogger())
	require.NoError(t, err)
	require.NoError(t, m.Up(ctx))
	conn, err := pgx.Connect(ctx, source)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE dump_probe (id int PRIMARY KEY, note text);
		INSERT INTO dump_probe SELECT g, 'row ' || g FROM generate_series(1, 5000) g`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	cfg := s3Config(t, blobtest.S3(t), source+"&pool_max_conns=4")
	now := time.Date(2026, 3, 1, 1, 15, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }

	// Dumps of earlier nights (40, 41 and 10 days old) and objects that are not dumps.
	store, err := blob.NewS3(ctx, cfg.Blob)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	old := func(days int) string {
		return "db-dumps/co2-calculator-" + now.Add(-time.Duration(days)*24*time.Hour).Format(timeLayout) + ".dump"
	}
	for _, k := range []string{old(41), old(40), old(10), "db-dumps/readme.txt", "db-dumps/other-20200101T000000Z.dump"} {
		_, err := store.Put(ctx, k, strings.NewReader("PGDMP old"), 9, "")
		require.NoError(t, err)
	}

	res, err := run(ctx, cfg, testdb.QuietLogger())
	require.NoError(t, err)
	require.Equal(t, "db-dumps/co2-calculator-20260301T011500Z.dump", res.Key)
	require.Greater(t, res.Size, int64(10_000))
	require.ElementsMatch(t, []string{old(40), old(41)}, res.Deleted)
	require.Equal(t, []string{"db-dumps/co2-calculator-20260219T011500Z.dump", res.Key,
		"db-dumps/other-20200101T000000Z.dump", "db-dumps/readme.txt"}, keys(ctx, t, cfg))

	// Restore it into a fresh database: the schema, River's tables and the rows are back.
	body, _, err := store.Get(ctx, res.Key)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "co2.dump")
	f, err := os.Create(file)
	require.NoError(t, err)
	_, err = io.Copy(f, body)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	require.NoError(t, f.Close())

	target := freshDatabase(t)
	out, err := exec.CommandContext(ctx, pgBin(t, "pg_restore"), "--no-owner", "--exit-on-error", "--dbname="+target, file).CombinedOutput()
	require.NoError(t, err, string(out))
	conn, err = pgx.Connect(ctx, target)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM dump_probe`).Scan(&n))
	require.Equal(t, 5000, n)
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&n))
	require.Zero(t, n)
	var app, river int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT version FROM schema_migrations), (SELECT version FROM river_schema_migrations)`).Scan(&app, &river))
	require.Positive(t, app)
	require.Positive(t, river)

	t.Run("KeepMin", func(t *testing.T) {
		// With keepMin 4 the four remaining dumps all stay, however old.
		cfg := cfg
		cfg.KeepMin = 4
		later := now.Add(24 * time.Hour)
		cfg.Now = func() time.Time { return later }
		res, err := run(ctx, cfg, testdb.QuietLogger())
		require.NoError(t, err)
		require.Empty(t, res.Deleted)
	})
}

// TestRunFailure: a failing pg_dump stores nothing and says why.
func TestRunFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bad := strings.Replace(freshDatabase(t), "dbdump_", "missing_", 1)
	cfg := s3Config(t, blobtest.S3(t), bad)
	_, err := run(ctx, cfg, testdb.QuietLogger())
	require.ErrorContains(t, err, "pg_dump")
	require.ErrorContains(t, err, "does not exist")
	require.Empty(t, keys(ctx, t, cfg))
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	require.NoError(t, os.WriteFile(urlFile, []byte("postgres://u:secret@db:5432/co2?pool_max_conns=5\n"), 0o600))
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{"S3_BUCKET": "backups", "DATABASE_URL_FILE": urlFile}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := loadConfig(env())
		require.NoError(t, err)
		require.Equal(t, "postgres://u:secret@db:5432/co2?pool_max_conns=5", cfg.DatabaseURL)
		require.Equal(t, "db-dumps", cfg.KeyPrefix)
		require.Equal(t, 720*time.Hour, cfg.Retention)
		require.Equal(t, 3, cfg.KeepMin)
		require.Equal(t, "us-east-1", cfg.Blob.Region)
		conn, pw := libpqURL(cfg.DatabaseURL)
		require.Equal(t, "postgres://u@db:5432/co2", conn)
		require.Equal(t, "secret", pw)
	})
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		for name, tc := range map[string]struct {
			env  []string
			want string
		}{
			"BothURLs":       {[]string{"DATABASE_URL", "postgres://x/y"}, "set only one"},
			"NoURL":          {[]string{"DATABASE_URL_FILE", ""}, "DATABASE_URL: is required"},
			"NoBucket":       {[]string{"S3_BUCKET", ""}, "S3_BUCKET"},
			"BadRetention":   {[]string{"DUMP_RETENTION", "30d"}, "DUMP_RETENTION"},
			"BadKeepMin":     {[]string{"DUMP_KEEP_MIN", "0"}, "DUMP_KEEP_MIN"},
			"BadPathStyle":   {[]string{"S3_PATH_STYLE", "maybe"}, "S3_PATH_STYLE"},
			"BadKeyPrefix":   {[]string{"DUMP_KEY_PREFIX", "a b"}, "DUMP_KEY_PREFIX"},
			"MissingURLFile": {[]string{"DATABASE_URL_FILE", filepath.Join(dir, "nope")}, "DATABASE_URL_FILE"},
		} {
			_, err := loadConfig(env(tc.env...))
			require.ErrorContains(t, err, tc.want, name)
		}
	})
}

func TestInstall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, []byte("#!binary"), 0o600))
	dest := filepath.Join(dir, "dbdump")
	require.NoError(t, install(src, dest))
	st, err := os.Stat(dest)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), st.Mode().Perm())
	require.ErrorContains(t, cli(context.Background(), []string{"install"}, nil, testdb.QuietLogger()), "usage")
}
