package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The audit-shipping variables of the worker (docs/jobs.md §11.4) and the
// API's copy of the schedules (GET /integrations).
func TestLoadAuditShipping(t *testing.T) {
	t.Parallel()

	t.Run("APISchedules", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(map[string]string{"ES_URLS": "http://es:9200", "SCHEDULE_ECB": "", "SCHEDULE_ACCRED": "0 1 * * *"}))
		require.NoError(t, err)
		require.Empty(t, c.ScheduleECB)
		require.Equal(t, "0 1 * * *", c.ScheduleAccred)
		require.Equal(t, []string{"http://es:9200"}, c.ESURLs)
		require.True(t, c.ShippingEnabled())
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.Empty(t, c.ESURLs)
		require.False(t, c.ShippingEnabled(), "no ES_URLS: shipping is off")
		require.Equal(t, "co2-calculator-audit-{yyyy.MM}", c.ESIndexPattern)
		require.Equal(t, 30*time.Second, c.ESTimeout)
		require.Equal(t, 500, c.AuditShipBatch)
		require.Equal(t, "Europe/Zurich", c.AuditTimezone.String())
		require.Equal(t, "* * * * *", c.ScheduleAuditShip)
	})

	t.Run("Configured", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		key := filepath.Join(dir, "key")
		require.NoError(t, os.WriteFile(key, []byte("c2VjcmV0\n"), 0o600))
		c, err := LoadWorker(lookup(map[string]string{"ES_URLS": "https://es1:9200/, https://es2:9200", "ES_API_KEY_FILE": key,
			"AUDIT_SHIP_SKIP_EVENTS": "entry.list, upload.download", "AUDIT_TIMEZONE": "UTC", "ES_INDEX_PATTERN": "audit-{yyyy}-{MM}"}))
		require.NoError(t, err)
		require.Equal(t, []string{"https://es1:9200", "https://es2:9200"}, c.ESURLs)
		require.Equal(t, "c2VjcmV0", c.ESAPIKey)
		require.Equal(t, []string{"entry.list", "upload.download"}, c.AuditShipSkipEvents)
		require.True(t, c.ShippingEnabled())
		require.Equal(t, "[redacted]", attrMap(c.LogAttrs())["ES_API_KEY"])
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		notPEM := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
		for name, env := range map[string]map[string]string{
			"ES_URLS":             {"ES_URLS": "es:9200"},
			"ES_USERNAME":         {"ES_API_KEY": "k", "ES_USERNAME": "u", "ES_PASSWORD": "p"},
			"ES_PASSWORD":         {"ES_USERNAME": "u"},
			"ES_CA_FILE":          {"ES_CA_FILE": notPEM},
			"ES_INDEX_PATTERN":    {"ES_INDEX_PATTERN": "Audit-{yyyy.MM}"},
			"ES_TIMEOUT":          {"ES_TIMEOUT": "10ms"},
			"AUDIT_SHIP_BATCH":    {"AUDIT_SHIP_BATCH": "0"},
			"AUDIT_TIMEZONE":      {"AUDIT_TIMEZONE": "Mars/Olympus"},
			"SCHEDULE_AUDIT_SHIP": {"SCHEDULE_AUDIT_SHIP": "every minute"},
		} {
			_, err := LoadWorker(lookup(env))
			require.ErrorContains(t, err, name, "%v", env)
		}
		_, err := LoadWorker(lookup(map[string]string{"ES_CA_FILE": filepath.Join(t.TempDir(), "missing.pem")}))
		require.ErrorContains(t, err, "ES_CA_FILE")
		_, err = LoadWorker(lookup(map[string]string{"ES_URLS": "https://elastic:secret@es:9200"}))
		require.ErrorContains(t, err, "ES_URLS: credentials do not belong in the URL")
	})

	t.Run("ScheduleEmptyDisables", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"ES_URLS": "http://es:9200", "SCHEDULE_AUDIT_SHIP": ""}))
		require.NoError(t, err)
		require.False(t, c.ShippingEnabled())
	})
}
