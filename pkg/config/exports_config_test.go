package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// EXPORT_TTL and SCHEDULE_EXPORT_CLEANUP of the worker (docs/jobs.md §4.9).
func TestLoadWorkerExports(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, 7*24*time.Hour, c.ExportTTL)
		require.Equal(t, "15 * * * *", c.ScheduleExportCleanup)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		for name, env := range map[string]map[string]string{
			"EXPORT_TTL":              {"EXPORT_TTL": "30s"},
			"SCHEDULE_EXPORT_CLEANUP": {"SCHEDULE_EXPORT_CLEANUP": "hourly"},
		} {
			_, err := LoadWorker(lookup(env))
			require.ErrorContains(t, err, name, "%v", env)
		}
		_, err := LoadWorker(lookup(map[string]string{"EXPORT_TTL": "a week"}))
		require.ErrorContains(t, err, "EXPORT_TTL")
	})

	t.Run("Set", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"EXPORT_TTL": "48h", "SCHEDULE_EXPORT_CLEANUP": ""}))
		require.NoError(t, err)
		require.Equal(t, 48*time.Hour, c.ExportTTL)
		require.Empty(t, c.ScheduleExportCleanup)
	})
}
