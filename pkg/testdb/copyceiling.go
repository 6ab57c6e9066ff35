package testdb

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// BareCopyRate is the ceiling of the import benchmarks: the records of a
// CSV file (header first) COPYed as they are, one jsonb document each, into
// a new table of db's schema (bench_copy_ceiling, dropped afterwards).
// Returns records per second, the CSV parsing and encoding excluded.
func BareCopyRate(ctx context.Context, tb testing.TB, db postgres.DBTX, file []byte) float64 {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
	require.NoError(tb, err)
	require.Greater(tb, len(recs), 1, "a header and records")
	rows := make([][]any, 0, len(recs)-1)
	for _, r := range recs[1:] {
		doc := make(map[string]string, len(r))
		for i, h := range recs[0] {
			doc[h] = r[i]
		}
		b, err := json.Marshal(doc)
		require.NoError(tb, err)
		rows = append(rows, []any{string(b)})
	}
	_, err = db.Exec(ctx, `CREATE TABLE bench_copy_ceiling (id bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL)`)
	require.NoError(tb, err)
	defer func() {
		_, err := db.Exec(context.WithoutCancel(ctx), `DROP TABLE bench_copy_ceiling`)
		require.NoError(tb, err)
	}()
	start := time.Now()
	n, err := db.CopyFrom(ctx, pgx.Identifier{"bench_copy_ceiling"}, []string{"data"}, pgx.CopyFromRows(rows))
	d := time.Since(start)
	require.NoError(tb, err)
	require.Equal(tb, int64(len(rows)), n)
	return float64(n) / d.Seconds()
}
