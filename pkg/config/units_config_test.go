package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// UNIT_PROVIDER and SCHEDULE_ACCRED of the worker (docs/jobs.md §4.8).
func TestLoadWorkerUnits(t *testing.T) {
	t.Parallel()

	t.Run("AccredWhenConfigured", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"ACCRED_BASE_URL": "http://127.0.0.1:8099/accred"}))
		require.NoError(t, err)
		require.Equal(t, "accred", c.UnitProvider)
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, "dev", c.UnitProvider)
		require.Equal(t, "30 2 * * *", c.ScheduleAccred)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		for name, env := range map[string]map[string]string{
			"UNIT_PROVIDER":   {"UNIT_PROVIDER": "ldap"},
			"ACCRED_BASE_URL": {"UNIT_PROVIDER": "accred"},
			"SCHEDULE_ACCRED": {"SCHEDULE_ACCRED": "every night"},
		} {
			_, err := LoadWorker(lookup(env))
			require.ErrorContains(t, err, name, "%v", env)
		}
		_, err := LoadWorker(lookup(map[string]string{"APP_ENV": "production", "ROLE_PROVIDER": "oidc", "UNIT_PROVIDER": "dev"}))
		require.ErrorContains(t, err, "UNIT_PROVIDER")
	})

	t.Run("ScheduleEmptyDisables", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"SCHEDULE_ACCRED": ""}))
		require.NoError(t, err)
		require.Empty(t, c.ScheduleAccred)
	})
}
