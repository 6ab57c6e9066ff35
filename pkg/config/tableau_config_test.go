package config

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The TABLEAU_* family and SCHEDULE_TABLEAU (docs/jobs.md §4.6, §8).
func TestLoadTableau(t *testing.T) {
	t.Parallel()

	full := func(extra map[string]string) map[string]string {
		env := map[string]string{
			"TABLEAU_SERVER_URL": "https://10ax.online.tableau.com/", "TABLEAU_DATASOURCE_LUID": "ds-1",
			"TABLEAU_CLIENT_ID": "client", "TABLEAU_SECRET_ID": "kid", "TABLEAU_SECRET_VALUE": "secret",
			"TABLEAU_USERNAME": "svc",
		}
		maps.Copy(env, extra)
		return env
	}

	t.Run("Configured", func(t *testing.T) {
		t.Parallel()
		w, err := LoadWorker(lookup(full(nil)))
		require.NoError(t, err)
		require.True(t, w.TableauConfigured())
		require.Equal(t, "https://10ax.online.tableau.com", w.TableauServerURL)
		a, err := LoadAPI(lookup(full(nil)))
		require.NoError(t, err)
		require.True(t, a.TableauConfigured(), "the API knows it too (409 otherwise)")
		for _, attr := range w.LogAttrs() {
			if attr.Key == "TABLEAU_SECRET_VALUE" {
				require.Equal(t, "[redacted]", attr.Value.String())
			}
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.False(t, c.TableauConfigured())
		require.Equal(t, "0 3 * * *", c.ScheduleTableau)
		require.Equal(t, "3.21", c.TableauAPIVersion)
		require.Equal(t, 300*time.Second, c.TableauTimeout)
		require.True(t, c.TableauVerifyTLS)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		for name, env := range map[string]map[string]string{
			"TABLEAU_SECRET_VALUE": full(map[string]string{"TABLEAU_SECRET_VALUE": ""}), // a partial set
			"TABLEAU_SERVER_URL":   {"TABLEAU_SERVER_URL": "ftp://tableau"},
			"TABLEAU_API_VERSION":  {"TABLEAU_API_VERSION": "latest"},
			"TABLEAU_TIMEOUT":      {"TABLEAU_TIMEOUT": "10ms"},
			"SCHEDULE_TABLEAU":     {"SCHEDULE_TABLEAU": "nightly"},
		} {
			_, err := LoadWorker(lookup(env))
			require.ErrorContains(t, err, name, "%v", env)
		}
	})

	t.Run("SecretFromFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "secret")
		require.NoError(t, os.WriteFile(path, []byte("from-file\n"), 0o600))
		c, err := LoadWorker(lookup(full(map[string]string{"TABLEAU_SECRET_VALUE": "<unset>", "TABLEAU_SECRET_VALUE_FILE": path})))
		require.NoError(t, err)
		require.Equal(t, "from-file", c.TableauSecretValue)
	})

	t.Run("ScheduleEmptyDisables", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"SCHEDULE_TABLEAU": ""}))
		require.NoError(t, err)
		require.Empty(t, c.ScheduleTableau)
	})
}
