package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// requirePgError runs fn inside a savepoint of tx and requires it to fail
// with the given SQLSTATE (and constraint name when not empty). The
// savepoint is rolled back so that tx stays usable.
func requirePgError(ctx context.Context, t *testing.T, tx pgx.Tx, code, constraint string, fn func(tx pgx.Tx) error) {
	t.Helper()
	sp, err := tx.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = sp.Rollback(ctx) }()
	err = fn(sp)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "want PostgreSQL error %s", code)
	require.Equal(t, code, pgErr.Code, "%s", pgErr.Message)
	if constraint != "" {
		require.Equal(t, constraint, pgErr.ConstraintName, "%s", pgErr.Message)
	}
}

// requireNoError runs fn inside a savepoint of tx and requires success.
func requireOK(ctx context.Context, t *testing.T, tx pgx.Tx, fn func(tx pgx.Tx) error) {
	t.Helper()
	sp, err := tx.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, fn(sp))
	require.NoError(t, sp.Commit(ctx))
}

// count runs a count(*) query.
func count(ctx context.Context, t *testing.T, db pgx.Tx, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(&n))
	return n
}
