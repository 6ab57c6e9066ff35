package integrations_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/integrations"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

func TestList(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	now := time.Date(2025, 3, 1, 10, 30, 15, 0, time.FixedZone("CET", 3600))
	_, err := tx.Exec(ctx, `INSERT INTO integration_state (name, last_attempt_at, last_status, details)
		VALUES ('accred', '2025-03-01T02:30:00+01:00', 'FAILED', '{}'), ('tableau', '2025-03-01T03:00:00Z', 'SUCCESS', '{"rows_loaded": 7}')`)
	require.NoError(t, err)

	got, err := integrations.List(ctx, tx, []integrations.Setting{
		{Name: integrations.ECB, Configured: true, Schedule: "0 5 * * *"},
		{Name: integrations.Accred, Configured: true, Schedule: "30 2 * * *"},
		{Name: integrations.Tableau, Configured: false, Schedule: "0 3 * * *"},
		{Name: integrations.Elasticsearch, Configured: true, Schedule: "not a cron"},
	}, now)
	require.NoError(t, err)
	require.Len(t, got, 4)
	byName := map[string]integrations.Status{}
	for i, s := range got {
		require.Equal(t, integrations.Names[i], s.Name, "the overview's order")
		byName[s.Name] = s
	}
	require.Equal(t, time.Date(2025, 3, 2, 5, 0, 0, 0, time.UTC), *byName["ecb"].NextRunAt, "the next 05:00 UTC after 09:30 UTC")
	require.Equal(t, time.Date(2025, 3, 2, 2, 30, 0, 0, time.UTC), *byName["accred"].NextRunAt)
	require.Equal(t, time.Date(2025, 3, 1, 1, 30, 0, 0, time.UTC), *byName["accred"].LastAttemptAt)
	require.Equal(t, "FAILED", *byName["accred"].LastStatus)
	require.False(t, byName["tableau"].Configured)
	require.Nil(t, byName["tableau"].Schedule, "not configured: not scheduled")
	require.Nil(t, byName["tableau"].NextRunAt)
	require.JSONEq(t, `{"rows_loaded": 7}`, string(byName["tableau"].Details), "the last run is shown even when no longer configured")
	require.Nil(t, byName["elasticsearch"].NextRunAt, "an expression that does not parse has no next run")
	require.Nil(t, byName["elasticsearch"].LastAttemptAt)
	require.JSONEq(t, `{}`, string(byName["elasticsearch"].Details))

	none, err := integrations.List(ctx, tx, nil, now)
	require.NoError(t, err)
	for _, s := range none {
		require.False(t, s.Configured, s.Name)
	}
}
