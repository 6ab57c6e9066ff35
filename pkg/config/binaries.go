package config

import (
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// API is the configuration of cmd/api.
type API struct {
	Common
	DBMaxConns    int
	HTTPAddr      string
	AdminAddr     string
	PublicBaseURL string
	SPADir        string

	vars []Var
	env  *env
}

// LoadAPI reads the api configuration.
func LoadAPI(lookup LookupFunc) (API, error) {
	e := newEnv(lookup)
	c := API{Common: e.common("co2-api")}
	c.DBMaxConns = e.integer("DB_MAX_CONNS", 20, 1, 1000, "database pool size")
	c.HTTPAddr = e.str("HTTP_ADDR", ":8080", "public listener (/api/v1, /healthz, /readyz)")
	c.AdminAddr = e.str("ADMIN_ADDR", ":9090", "internal listener (/healthz, /readyz, /metrics)")
	c.PublicBaseURL = e.httpURL("PUBLIC_BASE_URL", "http://localhost:8080", "external URL of the app (redirect URIs, Origin checks)")
	c.SPADir = e.str("SPA_DIR", "", "serve the SPA from this directory instead of the copy embedded in the binary")
	c.vars, c.env = e.vars, e
	return c, e.err()
}

// Vars documents the variables read.
func (c API) Vars() []Var { return c.vars }

// LogAttrs renders the configuration with secrets redacted.
func (c API) LogAttrs() []slog.Attr { return logAttrs(c.env) }

// Worker is the configuration of cmd/worker.
type Worker struct {
	Common
	DBMaxConns        int
	AdminAddr         string
	Queues            string
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	ShutdownTimeout   time.Duration
	RetentionDone     time.Duration
	RetentionFailed   time.Duration
	ScheduleECB       string
	ECBBaseURL        string
	ECBCurrencies     []string

	vars []Var
	env  *env
}

// DefaultQueues mirrors jobs.DefaultQueues (config cannot import jobs).
const DefaultQueues = "imports=2,compute=4,integrations=2,exports=2,audit=1,default=4"

// LoadWorker reads the worker configuration.
func LoadWorker(lookup LookupFunc) (Worker, error) {
	e := newEnv(lookup)
	c := Worker{Common: e.common("co2-worker")}
	c.DBMaxConns = e.integer("DB_MAX_CONNS", 30, 1, 1000, "database pool size")
	c.AdminAddr = e.str("ADMIN_ADDR", ":9090", "internal listener (/healthz, /readyz, /metrics)")
	c.Queues = e.str("WORKER_QUEUES", DefaultQueues, "River queues and their MaxWorkers (name=n,...)")
	c.FetchCooldown = e.duration("WORKER_FETCH_COOLDOWN", 20*time.Millisecond, "minimum time between two fetches of a queue (River FetchCooldown)")
	c.FetchPollInterval = e.duration("WORKER_FETCH_POLL_INTERVAL", time.Second, "fallback polling interval when no insert notification arrives")
	c.ShutdownTimeout = e.duration("WORKER_SHUTDOWN_TIMEOUT", 25*time.Second, "on SIGTERM, how long running jobs may finish before they are cancelled")
	c.RetentionDone = e.duration("JOB_RETENTION_COMPLETED", 72*time.Hour, "how long completed River jobs are kept")
	c.RetentionFailed = e.duration("JOB_RETENTION_FAILED", 720*time.Hour, "how long discarded and cancelled River jobs are kept")
	c.ScheduleECB = e.cronExpr("SCHEDULE_ECB", "0 5 * * *", "cron (UTC) of the daily ECB FX sync; empty disables")
	c.ECBBaseURL = e.httpURL("ECB_BASE_URL", "https://data-api.ecb.europa.eu/service", "ECB data API base URL")
	c.ECBCurrencies = e.currencies("ECB_CURRENCIES", "AUD,CAD,CHF,CNY,GBP,JPY,SEK,USD", "currencies fetched from the ECB")
	if c.FetchCooldown < time.Millisecond {
		e.failf("WORKER_FETCH_COOLDOWN", "must be at least 1ms")
	}
	if c.FetchPollInterval < c.FetchCooldown {
		e.failf("WORKER_FETCH_POLL_INTERVAL", "must not be shorter than WORKER_FETCH_COOLDOWN")
	}
	c.vars, c.env = e.vars, e
	return c, e.err()
}

// Vars documents the variables read.
func (c Worker) Vars() []Var { return c.vars }

// LogAttrs renders the configuration with secrets redacted.
func (c Worker) LogAttrs() []slog.Attr { return logAttrs(c.env) }

// Migrate is the configuration of cmd/migrate.
type Migrate struct {
	Common
	vars []Var
}

// LoadMigrate reads the migrate configuration.
func LoadMigrate(lookup LookupFunc) (Migrate, error) {
	e := newEnv(lookup)
	c := Migrate{Common: e.common("co2-migrate")}
	c.vars = e.vars
	return c, e.err()
}

// Vars documents the variables read.
func (c Migrate) Vars() []Var { return c.vars }

// Docs returns the documentation of every variable of a binary without
// validating anything (for --help).
func Docs(binary string) []Var {
	empty := func(string) (string, bool) { return "", false }
	switch binary {
	case "api":
		c, _ := LoadAPI(empty)
		return c.vars
	case "worker":
		c, _ := LoadWorker(empty)
		return c.vars
	default:
		c, _ := LoadMigrate(empty)
		return c.vars
	}
}

func (e *env) cronExpr(name, def, doc string) string {
	v, set := e.raw(name, def, doc, false)
	if _, present := e.lookup(name); present && !set {
		e.values[name] = "" // explicitly empty: disabled (and logged as such)
		return ""
	}
	if _, err := cron.ParseStandard(v); err != nil {
		e.failf(name, "invalid cron expression %q: %v", v, err)
		return def
	}
	return v
}

func (e *env) currencies(name, def, doc string) []string {
	v, _ := e.raw(name, def, doc, false)
	var out []string
	for c := range strings.SplitSeq(v, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			e.failf(name, "%q is not an ISO 4217 currency code", c)
			return nil
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		e.failf(name, "at least one currency is required")
	}
	return out
}
