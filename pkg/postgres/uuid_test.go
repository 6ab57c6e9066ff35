package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// The pools' connections (postgres.AfterConnect) encode uuid.UUID values,
// pointers and nil pointers as uuid parameters and COPY cells.
func TestUUIDParameters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	u := uuid.New()
	var none *uuid.UUID
	for _, v := range []any{u, &u, none} {
		var got *string
		require.NoError(t, tx.QueryRow(ctx, "SELECT $1::uuid::text", v).Scan(&got))
		if v == any(none) {
			require.Nil(t, got)
			continue
		}
		require.Equal(t, u.String(), *got)
	}

	_, err := tx.Exec(ctx, "CREATE TEMP TABLE uuid_copy (a uuid, b uuid) ON COMMIT DROP")
	require.NoError(t, err)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"uuid_copy"}, []string{"a", "b"}, pgx.CopyFromRows([][]any{{u, &u}, {u, none}}))
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	var same, nulls int
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE a = $1 AND b = $1), count(*) FILTER (WHERE a = $1 AND b IS NULL) FROM uuid_copy",
		u).Scan(&same, &nulls))
	require.Equal(t, 1, same)
	require.Equal(t, 1, nulls)
}
