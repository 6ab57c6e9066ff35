package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testDatabaseURL = "postgres://co2:s3cret@db.example.org:5432/co2?sslmode=disable"

// lookup is a fake environment: the base DATABASE_URL plus overrides. A key
// mapped to "<unset>" is removed.
func lookup(overrides map[string]string) LookupFunc {
	env := map[string]string{"DATABASE_URL": testDatabaseURL}
	for k, v := range overrides {
		if v == "<unset>" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func attrMap(attrs []slog.Attr) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m[a.Key] = a.Value.String()
	}
	return m
}

func requireOneLineNaming(t *testing.T, err error, name string) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, err.Error(), name+":")
	require.NotContains(t, err.Error(), "\n")
}

func TestLoadAPI(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, Common{
			AppEnv:      "dev",
			DatabaseURL: testDatabaseURL,
			LogLevel:    slog.LevelInfo,
			LogFormat:   "json",
			OTLPEnd:     "",
			ServiceName: "co2-api",
		}, c.Common)
		require.Equal(t, 20, c.DBMaxConns)
		require.Equal(t, ":8080", c.HTTPAddr)
		require.Equal(t, ":9090", c.AdminAddr)
		require.Equal(t, "http://localhost:8080", c.PublicBaseURL)
	})

	t.Run("Overrides", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(map[string]string{
			"APP_ENV":                     "Production",
			"LOG_LEVEL":                   "debug",
			"LOG_FORMAT":                  "text",
			"DB_MAX_CONNS":                " 7 ",
			"HTTP_ADDR":                   ":0",
			"PUBLIC_BASE_URL":             "https://co2.example.org/",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318",
			"OTEL_SERVICE_NAME":           "api-x",
			"AUTH_SIGNING_KEYS":           "k1:" + strings.Repeat("A", 44),
			"OIDC_ISSUER_URL":             "https://idp.example.org",
			"OIDC_CLIENT_ID":              "co2",
			"ROLE_PROVIDER":               "oidc",
		}))
		require.NoError(t, err)
		require.Equal(t, "production", c.AppEnv)
		require.Equal(t, slog.LevelDebug, c.LogLevel)
		require.Equal(t, "text", c.LogFormat)
		require.Equal(t, 7, c.DBMaxConns)
		require.Equal(t, ":0", c.HTTPAddr)
		require.Equal(t, "https://co2.example.org", c.PublicBaseURL, "trailing slash trimmed")
		require.Equal(t, "http://otel:4318", c.OTLPEnd)
		require.Equal(t, "api-x", c.ServiceName)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			env  map[string]string
			want string // variable named by the error
		}{
			{name: "AppEnvEnum", env: map[string]string{"APP_ENV": "prod"}, want: "APP_ENV"},
			{name: "DatabaseURLMissing", env: map[string]string{"DATABASE_URL": "<unset>"}, want: "DATABASE_URL"},
			{name: "DatabaseURLEmpty", env: map[string]string{"DATABASE_URL": "  "}, want: "DATABASE_URL"},
			{name: "DatabaseURLNotPostgres", env: map[string]string{"DATABASE_URL": "mysql://x@y/z"}, want: "DATABASE_URL"},
			{name: "DBMaxConnsNotInteger", env: map[string]string{"DB_MAX_CONNS": "many"}, want: "DB_MAX_CONNS"},
			{name: "DBMaxConnsOutOfRange", env: map[string]string{"DB_MAX_CONNS": "0"}, want: "DB_MAX_CONNS"},
			{name: "LogFormatEnum", env: map[string]string{"LOG_FORMAT": "xml"}, want: "LOG_FORMAT"},
			{name: "LogLevelEnum", env: map[string]string{"LOG_LEVEL": "verbose"}, want: "LOG_LEVEL"},
			{name: "PublicBaseURLNoHost", env: map[string]string{"PUBLIC_BASE_URL": "https://"}, want: "PUBLIC_BASE_URL"},
			{name: "PublicBaseURLScheme", env: map[string]string{"PUBLIC_BASE_URL": "ftp://co2.example.org"}, want: "PUBLIC_BASE_URL"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := LoadAPI(lookup(tt.env))
				requireOneLineNaming(t, err, tt.want)
			})
		}
	})

	t.Run("DatabaseURLRequiredMessage", func(t *testing.T) {
		t.Parallel()
		_, err := LoadAPI(func(string) (string, bool) { return "", false })
		requireOneLineNaming(t, err, "DATABASE_URL")
		require.Equal(t, "invalid configuration: DATABASE_URL: is required (or DATABASE_URL_FILE)", err.Error())
	})

	t.Run("DatabaseURLFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "database_url")
		require.NoError(t, os.WriteFile(path, []byte(testDatabaseURL+"\n"), 0o600))
		c, err := LoadAPI(lookup(map[string]string{"DATABASE_URL": "<unset>", "DATABASE_URL_FILE": path}))
		require.NoError(t, err)
		require.Equal(t, testDatabaseURL, c.DatabaseURL)
	})

	t.Run("DatabaseURLFileMissing", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "absent")
		_, err := LoadAPI(lookup(map[string]string{"DATABASE_URL": "<unset>", "DATABASE_URL_FILE": path}))
		requireOneLineNaming(t, err, "DATABASE_URL_FILE")
	})

	t.Run("DatabaseURLAndFileBothSet", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "database_url")
		require.NoError(t, os.WriteFile(path, []byte(testDatabaseURL), 0o600))
		_, err := LoadAPI(lookup(map[string]string{"DATABASE_URL_FILE": path}))
		requireOneLineNaming(t, err, "DATABASE_URL")
		require.Contains(t, err.Error(), "DATABASE_URL_FILE")
	})

	t.Run("LogAttrsRedactPassword", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(nil))
		require.NoError(t, err)
		attrs := attrMap(c.LogAttrs())
		require.Contains(t, attrs, "DATABASE_URL")
		require.NotContains(t, attrs["DATABASE_URL"], "s3cret")
		require.Equal(t, ":8080", attrs["HTTP_ADDR"])
		for name, v := range attrs {
			require.NotContains(t, v, "s3cret", name)
		}
	})

	t.Run("LogAttrsRedactKeywordValueDSN", func(t *testing.T) {
		t.Parallel()
		c, err := LoadAPI(lookup(map[string]string{"DATABASE_URL": "host=db user=co2 password=s3cret dbname=co2"}))
		require.NoError(t, err)
		require.NotContains(t, attrMap(c.LogAttrs())["DATABASE_URL"], "s3cret")
	})
}

func TestLoadWorker(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, "co2-worker", c.ServiceName)
		require.Equal(t, 30, c.DBMaxConns)
		require.Equal(t, ":9090", c.AdminAddr)
		require.Equal(t, DefaultQueues, c.Queues)
		require.Equal(t, 20*time.Millisecond, c.FetchCooldown)
		require.Equal(t, time.Second, c.FetchPollInterval)
		require.Equal(t, 25*time.Second, c.ShutdownTimeout)
		require.Equal(t, 72*time.Hour, c.RetentionDone)
		require.Equal(t, 720*time.Hour, c.RetentionFailed)
		require.Equal(t, "0 5 * * *", c.ScheduleECB)
		require.Equal(t, "https://data-api.ecb.europa.eu/service", c.ECBBaseURL)
		require.Equal(t, []string{"AUD", "CAD", "CHF", "CNY", "GBP", "JPY", "SEK", "USD"}, c.ECBCurrencies)
		require.Equal(t, time.Hour, c.RescueAfter)
		require.Equal(t, 15*time.Second, c.HeartbeatInterval)
		require.Equal(t, 45*time.Second, c.DeadAfter)
	})

	t.Run("DeadAfterFollowsHeartbeat", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"WORKER_HEARTBEAT_INTERVAL": "500ms"}))
		require.NoError(t, err)
		require.Equal(t, 500*time.Millisecond, c.HeartbeatInterval)
		require.Equal(t, 1500*time.Millisecond, c.DeadAfter, "3 heartbeats")
		c, err = LoadWorker(lookup(map[string]string{"WORKER_HEARTBEAT_INTERVAL": "500ms", "WORKER_DEAD_AFTER": "2s"}))
		require.NoError(t, err)
		require.Equal(t, 2*time.Second, c.DeadAfter)
	})

	t.Run("Overrides", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{
			"JOB_RETENTION_COMPLETED": "24h",
			"SCHEDULE_ECB":            "30 6 * * 1-5",
			"ECB_BASE_URL":            "http://127.0.0.1:9999/service/",
			"ECB_CURRENCIES":          " usd, chf ,,",
			"WORKER_QUEUES":           "default=1",
		}))
		require.NoError(t, err)
		require.Equal(t, 24*time.Hour, c.RetentionDone)
		require.Equal(t, "30 6 * * 1-5", c.ScheduleECB)
		require.Equal(t, "http://127.0.0.1:9999/service", c.ECBBaseURL)
		require.Equal(t, []string{"USD", "CHF"}, c.ECBCurrencies)
		require.Equal(t, "default=1", c.Queues)
	})

	t.Run("ScheduleECBEmptyDisables", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(map[string]string{"SCHEDULE_ECB": ""}))
		require.NoError(t, err)
		require.Empty(t, c.ScheduleECB)
		require.Empty(t, attrMap(c.LogAttrs())["SCHEDULE_ECB"], "the start-up log shows the schedule as disabled")
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			env  map[string]string
			want string
		}{
			{name: "CronInvalid", env: map[string]string{"SCHEDULE_ECB": "every day"}, want: "SCHEDULE_ECB"},
			{name: "CurrencyInvalid", env: map[string]string{"ECB_CURRENCIES": "USD,EURO"}, want: "ECB_CURRENCIES"},
			{name: "CurrencyDigits", env: map[string]string{"ECB_CURRENCIES": "US1"}, want: "ECB_CURRENCIES"},
			{name: "CurrencyNone", env: map[string]string{"ECB_CURRENCIES": " , "}, want: "ECB_CURRENCIES"},
			{name: "DatabaseURLMissing", env: map[string]string{"DATABASE_URL": "<unset>"}, want: "DATABASE_URL"},
			{name: "DBMaxConnsTooLarge", env: map[string]string{"DB_MAX_CONNS": "1001"}, want: "DB_MAX_CONNS"},
			{name: "DeadAfterTooShort", env: map[string]string{"WORKER_DEAD_AFTER": "20s"}, want: "WORKER_DEAD_AFTER"},
			{name: "DurationInvalid", env: map[string]string{"JOB_RETENTION_COMPLETED": "3 days"}, want: "JOB_RETENTION_COMPLETED"},
			{name: "DurationNegative", env: map[string]string{"WORKER_SHUTDOWN_TIMEOUT": "-1s"}, want: "WORKER_SHUTDOWN_TIMEOUT"},
			{name: "ECBBaseURLInvalid", env: map[string]string{"ECB_BASE_URL": "data-api.ecb.europa.eu"}, want: "ECB_BASE_URL"},
			{name: "FetchCooldownTooShort", env: map[string]string{"WORKER_FETCH_COOLDOWN": "100us"}, want: "WORKER_FETCH_COOLDOWN"},
			{name: "FetchPollShorterThanCooldown", env: map[string]string{"WORKER_FETCH_COOLDOWN": "2s"}, want: "WORKER_FETCH_POLL_INTERVAL"},
			{name: "HeartbeatTooShort", env: map[string]string{"WORKER_HEARTBEAT_INTERVAL": "10ms"}, want: "WORKER_HEARTBEAT_INTERVAL"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := LoadWorker(lookup(tt.env))
				requireOneLineNaming(t, err, tt.want)
			})
		}
	})

	t.Run("LogAttrsRedactPassword", func(t *testing.T) {
		t.Parallel()
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		attrs := attrMap(c.LogAttrs())
		require.NotContains(t, attrs["DATABASE_URL"], "s3cret")
		require.Equal(t, DefaultQueues, attrs["WORKER_QUEUES"])
	})
}

func TestLoadMigrate(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadMigrate(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, "co2-migrate", c.ServiceName)
		require.Equal(t, testDatabaseURL, c.DatabaseURL)
		require.Equal(t, "dev", c.AppEnv)
	})

	t.Run("DatabaseURLRequired", func(t *testing.T) {
		t.Parallel()
		_, err := LoadMigrate(lookup(map[string]string{"DATABASE_URL": "<unset>"}))
		requireOneLineNaming(t, err, "DATABASE_URL")
	})

	t.Run("DatabaseURLFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "database_url")
		require.NoError(t, os.WriteFile(path, []byte(testDatabaseURL+"\r\n"), 0o600))
		c, err := LoadMigrate(lookup(map[string]string{"DATABASE_URL": "", "DATABASE_URL_FILE": path}))
		require.NoError(t, err)
		require.Equal(t, testDatabaseURL, c.DatabaseURL)
	})
}

// No binary reads a boolean yet; the parser is tested directly.
func TestEnvBoolean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   *string
		want    bool
		wantErr bool
	}{
		{name: "Default", value: nil, want: true},
		{name: "False", value: new("false"), want: false},
		{name: "Invalid", value: new("yes please"), want: true, wantErr: true},
		{name: "One", value: new("1"), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(func(name string) (string, bool) {
				if name != "COOKIE_SECURE" || tt.value == nil {
					return "", false
				}
				return *tt.value, true
			})
			require.Equal(t, tt.want, e.boolean("COOKIE_SECURE", true, "secure cookies"))
			if tt.wantErr {
				requireOneLineNaming(t, e.err(), "COOKIE_SECURE")
				return
			}
			require.NoError(t, e.err())
		})
	}
}

func TestDocsAndHelp(t *testing.T) {
	t.Parallel()

	names := func(vars []Var) []string {
		out := make([]string, 0, len(vars))
		for _, v := range vars {
			out = append(out, v.Name)
		}
		return out
	}

	t.Run("API", func(t *testing.T) {
		t.Parallel()
		vars := Docs("api")
		require.Subset(t, names(vars), []string{
			"APP_ENV", "DATABASE_URL", "LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "LOG_LEVEL",
			"DB_MAX_CONNS", "HTTP_ADDR", "ADMIN_ADDR", "PUBLIC_BASE_URL",
		})
		c, err := LoadAPI(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, c.Vars(), vars, "Docs lists exactly the variables LoadAPI reads")
		for _, v := range vars {
			require.NotEmpty(t, v.Doc, v.Name)
			secret := v.Name == "DATABASE_URL" || v.Name == "AUTH_SIGNING_KEYS" || v.Name == "OIDC_CLIENT_SECRET" || v.Name == "ACCRED_PASSWORD" ||
				v.Name == "TABLEAU_CLIENT_ID" || v.Name == "TABLEAU_SECRET_ID" || v.Name == "TABLEAU_SECRET_VALUE"
			require.Equal(t, secret, v.Secret, v.Name)
		}
	})

	t.Run("Help", func(t *testing.T) {
		t.Parallel()
		vars := Docs("api")
		help := Help(vars)
		require.True(t, strings.HasPrefix(help, "Environment variables:\n"))
		lines := strings.Split(strings.TrimSuffix(help, "\n"), "\n")
		require.Len(t, lines, len(vars)+1, "one line per variable")
		for i, v := range vars {
			require.Contains(t, lines[i+1], v.Name)
			require.Contains(t, lines[i+1], v.Doc)
		}
		require.Contains(t, help, "(default: :8080)")
		require.Contains(t, help, "DATABASE_URL")
		require.Regexp(t, `DATABASE_URL\s+.*\(default: -\)`, help)
	})

	t.Run("Migrate", func(t *testing.T) {
		t.Parallel()
		got := names(Docs("migrate"))
		require.Contains(t, got, "DATABASE_URL")
		require.NotContains(t, got, "HTTP_ADDR")
	})

	t.Run("Worker", func(t *testing.T) {
		t.Parallel()
		vars := Docs("worker")
		require.Subset(t, names(vars), []string{"DATABASE_URL", "WORKER_QUEUES", "SCHEDULE_ECB", "ECB_CURRENCIES", "JOB_RETENTION_FAILED"})
		require.NotContains(t, names(vars), "HTTP_ADDR")
		c, err := LoadWorker(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, c.Vars(), vars)
	})
}
