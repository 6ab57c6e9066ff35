package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
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
	CarKgPerKm    float64 // CAR_KG_PER_KM: "equivalent car km" display constant
	SentryDSN     string  // APP_SENTRY_DSN: served to the SPA by GET /api/v1/config

	// Identity and access (docs/api.md §3).
	SigningKeys      string // AUTH_SIGNING_KEYS as given; empty in dev/test means a random per-process key
	AccessTokenTTL   time.Duration
	RefreshTokenTTL  time.Duration
	SessionMaxAge    time.Duration
	CookieSecure     bool
	OIDCIssuerURL    string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCScopes       []string
	OIDCUserIDClaim  string
	OIDCRolesClaim   string
	DevOIDCEnabled   bool
	// SessionCacheTTL is SESSION_CACHE_TTL: how long a checked access
	// token is reused without reading its session (0: never; at most 10s).
	SessionCacheTTL time.Duration
	Roles
	Blob
	Tableau
	Integrations
	HTTPServer

	// UploadMaxBytes is UPLOAD_MAX_BYTES: the largest accepted upload file
	// (413 beyond).
	UploadMaxBytes int64

	vars []Var
	env  *env
}

// LoadAPI reads the api configuration.
func LoadAPI(lookup LookupFunc) (API, error) {
	e := newEnv(lookup)
	c := API{Common: e.common("co2-api")}
	c.DBMaxConns = e.count("DB_MAX_CONNS", 20, 1000, "database pool size")
	c.HTTPAddr = e.str("HTTP_ADDR", ":8080", "public listener (/api/v1, /healthz, /readyz)")
	c.AdminAddr = e.str("ADMIN_ADDR", ":9090", "internal listener (/healthz, /readyz, /metrics)")
	c.PublicBaseURL = e.httpURL("PUBLIC_BASE_URL", "http://localhost:8080", "external URL of the app (redirect URIs, Origin checks)")
	c.SPADir = e.str("SPA_DIR", "", "serve the SPA from this directory instead of the copy embedded in the binary")
	c.SentryDSN = e.str("APP_SENTRY_DSN", "", "Sentry/GlitchTip DSN served to the SPA (GET /api/v1/config) for error reporting; empty: off")
	c.CarKgPerKm = e.positiveFloat("CAR_KG_PER_KM", "0.2996", "kg CO2-eq per km of the \"equivalent car km\" figure (results)")
	e.apiAuth(&c)
	e.blob(&c.Blob)
	c.UploadMaxBytes = int64(e.count("UPLOAD_MAX_BYTES", 100<<20, 1<<40, "largest accepted upload file in bytes (413 beyond)"))
	e.httpServer(&c.HTTPServer)
	e.tableau(&c.Tableau)
	e.integrations(&c.Integrations)
	c.vars, c.env = e.vars, e
	return c, e.err()
}

// Blob configures the blob store (api and worker; docs/architecture.md §5). The
// S3 credentials come from the standard AWS chain.
type Blob struct {
	BlobBackend  string // local or s3
	BlobLocalDir string
	S3Bucket     string
	S3Endpoint   string
	S3Region     string
	S3PathStyle  bool
	S3Prefix     string
}

func (e *env) blob(c *Blob) {
	c.BlobBackend = e.oneOf("BLOB_BACKEND", "local", []string{"local", "s3"}, "blob store backend: local or s3")
	c.BlobLocalDir = e.str("BLOB_LOCAL_DIR", "./data/blobs", "root directory of the local blob store (a shared volume when several pods run)")
	c.S3Bucket = e.str("S3_BUCKET", "", "S3 bucket (required with BLOB_BACKEND=s3)")
	c.S3Endpoint = e.httpURL("S3_ENDPOINT", "", "custom S3 endpoint URL (MinIO, versitygw, ...); empty uses AWS")
	c.S3Region = e.str("S3_REGION", "us-east-1", "S3 region")
	c.S3PathStyle = e.boolean("S3_PATH_STYLE", false, "path-style bucket addressing (most S3-compatible servers)")
	c.S3Prefix = e.str("S3_PREFIX", "", "prefix prepended to every blob key")
	if c.BlobBackend == "s3" && c.S3Bucket == "" {
		e.failf("S3_BUCKET", "is required with BLOB_BACKEND=s3")
	}
}

// APP_ENV values used by the identity checks ("dev" is also a ROLE_PROVIDER).
const (
	appEnvDev        = "dev"
	appEnvProduction = "production"
)

// apiAuth reads the identity and access variables of the API.
func (e *env) apiAuth(c *API) {
	devLike := c.AppEnv == appEnvDev || c.AppEnv == "test"
	keysDoc := "comma list kid:base64key (>= 32 bytes each); the first signs access tokens, all verify; required unless APP_ENV is dev or test (then a random per-process key is generated)"
	c.SigningKeys, _ = e.raw("AUTH_SIGNING_KEYS", "", keysDoc, true)
	if c.SigningKeys == "" && !devLike {
		e.failf("AUTH_SIGNING_KEYS", "is required when APP_ENV is %s (or AUTH_SIGNING_KEYS_FILE)", c.AppEnv)
	}
	if c.SigningKeys != "" {
		if err := validateSigningKeys(c.SigningKeys); err != nil {
			e.failf("AUTH_SIGNING_KEYS", "%v", err)
		}
	}
	c.AccessTokenTTL = e.duration("ACCESS_TOKEN_TTL", 15*time.Minute, "lifetime of the auth_token cookie (access JWT)")
	c.RefreshTokenTTL = e.duration("REFRESH_TOKEN_TTL", 24*time.Hour, "idle lifetime of a refresh token")
	c.SessionMaxAge = e.duration("SESSION_MAX_AGE", 7*24*time.Hour, "absolute lifetime of a session")
	c.CookieSecure = e.boolean("COOKIE_SECURE", true, "Secure attribute on cookies; set false only for http://localhost")
	c.SessionCacheTTL = e.duration("SESSION_CACHE_TTL", 10*time.Second, "how long a checked access token is reused without reading its session (revocations and role changes still apply at once); 0 disables, at most 10s")
	if c.SessionCacheTTL > 10*time.Second {
		e.failf("SESSION_CACHE_TTL", "at most 10s")
	}
	c.OIDCIssuerURL = e.httpURL("OIDC_ISSUER_URL", "", "OIDC issuer (discovery); empty in dev uses the built-in development provider")
	c.OIDCClientID = e.str("OIDC_CLIENT_ID", "", "OIDC client id")
	c.OIDCClientSecret, _ = e.raw("OIDC_CLIENT_SECRET", "", "OIDC client secret (OIDC_CLIENT_SECRET_FILE reads it from a file)", true)
	scopes := e.str("OIDC_SCOPES", "openid profile email", "space-separated OIDC scopes")
	c.OIDCScopes = strings.Fields(strings.ReplaceAll(scopes, ",", " "))
	c.OIDCUserIDClaim = e.str("OIDC_USER_ID_CLAIM", "uniqueid", "ID-token claim holding the SCIPER (falls back to sub with ROLE_PROVIDER=oidc)")
	c.OIDCRolesClaim = e.str("OIDC_ROLES_CLAIM", "roles", "ID-token claim holding role strings (ROLE_PROVIDER=oidc)")
	e.roles(&c.Roles, c.AppEnv)
	devDefault := c.AppEnv == appEnvDev && c.OIDCIssuerURL == ""
	c.DevOIDCEnabled = e.boolean("DEV_OIDC_ENABLED", devDefault, "serve the built-in development OIDC provider under /dev-oidc and log in with it (default true when APP_ENV=dev and OIDC_ISSUER_URL is empty; refused in production)")

	switch {
	case c.DevOIDCEnabled && c.AppEnv == appEnvProduction:
		e.failf("DEV_OIDC_ENABLED", "the development OIDC provider is refused when APP_ENV=production")
	case c.DevOIDCEnabled && c.OIDCIssuerURL != "":
		e.failf("DEV_OIDC_ENABLED", "cannot be true while OIDC_ISSUER_URL is set")
	case !c.DevOIDCEnabled && c.OIDCIssuerURL == "" && !devLike:
		e.failf("OIDC_ISSUER_URL", "is required unless DEV_OIDC_ENABLED is true")
	case c.OIDCIssuerURL != "" && c.OIDCClientID == "":
		e.failf("OIDC_CLIENT_ID", "is required with OIDC_ISSUER_URL")
	}
	if c.AccessTokenTTL < time.Minute || c.RefreshTokenTTL < c.AccessTokenTTL || c.SessionMaxAge < c.RefreshTokenTTL {
		e.failf("ACCESS_TOKEN_TTL", "want 1m <= ACCESS_TOKEN_TTL <= REFRESH_TOKEN_TTL <= SESSION_MAX_AGE")
	}
}

// Roles configures the role provider and its Accred client (api and
// worker: the API resolves roles at login, the worker in role_sync).
type Roles struct {
	RoleProvider   string
	AccredBaseURL  string
	AccredUsername string
	AccredPassword string
	AccredTimeout  time.Duration
}

func (e *env) roles(c *Roles, appEnv string) {
	c.RoleProvider = e.oneOf("ROLE_PROVIDER", "dev", []string{"accred", "oidc", "dev"}, "role provider: accred, oidc or dev")
	c.AccredBaseURL = e.httpURL("ACCRED_BASE_URL", "", "Accred API base URL")
	c.AccredUsername = e.str("ACCRED_USERNAME", "", "Accred Basic-auth user")
	c.AccredPassword, _ = e.raw("ACCRED_PASSWORD", "", "Accred Basic-auth password (ACCRED_PASSWORD_FILE reads it from a file)", true)
	c.AccredTimeout = e.duration("ACCRED_TIMEOUT", 30*time.Second, "timeout of one Accred request")
	if c.RoleProvider == appEnvDev && appEnv == appEnvProduction {
		e.failf("ROLE_PROVIDER", "dev is refused when APP_ENV=production")
	}
	if c.RoleProvider == "accred" && c.AccredBaseURL == "" {
		e.failf("ACCRED_BASE_URL", "is required with ROLE_PROVIDER=accred")
	}
}

// validateSigningKeys checks the kid:base64key list (package auth parses
// it again; config cannot import auth).
func validateSigningKeys(s string) error {
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, b64, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(kid) == "" {
			return fmt.Errorf("entry %d: want kid:base64key", n+1)
		}
		key, err := decodeBase64(strings.TrimSpace(b64))
		if err != nil {
			return fmt.Errorf("key %q: invalid base64", kid)
		}
		if len(key) < 32 {
			return fmt.Errorf("key %q: %d bytes, need at least 32", kid, len(key))
		}
		n++
	}
	if n == 0 {
		return errors.New("no key")
	}
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
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
	// ScheduleAccred is SCHEDULE_ACCRED: the cron of the nightly unit
	// sync ("" disables it).
	ScheduleAccred string
	// UnitProvider is UNIT_PROVIDER: the unit directory of
	// accred_unit_sync, accred or dev.
	UnitProvider string
	// RescueAfter is WORKER_RESCUE_AFTER (River RescueStuckJobsAfter): a
	// job still running after it is retried (the backstop of the reaper).
	RescueAfter time.Duration
	// HeartbeatInterval is WORKER_HEARTBEAT_INTERVAL: how often a worker
	// records itself in the workers table.
	HeartbeatInterval time.Duration
	// DeadAfter is WORKER_DEAD_AFTER: a worker silent for this long is
	// dead and the reaper of another worker hands its running jobs back.
	DeadAfter time.Duration
	Roles
	Blob
	Exports
	Tableau
	AuditShipping

	vars []Var
	env  *env
}

// DefaultQueues mirrors jobs.DefaultQueues (config cannot import jobs).
const DefaultQueues = "imports=2,compute=4,integrations=2,exports=2,audit=1,default=4"

// LoadWorker reads the worker configuration.
func LoadWorker(lookup LookupFunc) (Worker, error) {
	e := newEnv(lookup)
	c := Worker{Common: e.common("co2-worker")}
	c.DBMaxConns = e.count("DB_MAX_CONNS", 30, 1000, "database pool size")
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
	c.RescueAfter = e.duration("WORKER_RESCUE_AFTER", time.Hour, "a job still running after this long is made available again (River RescueStuckJobsAfter; longer than every job timeout); the backstop of WORKER_DEAD_AFTER")
	c.HeartbeatInterval = e.duration("WORKER_HEARTBEAT_INTERVAL", 15*time.Second, "how often a worker records itself in the workers table (ops page, dead-worker detection)")
	c.DeadAfter = e.duration("WORKER_DEAD_AFTER", 3*c.HeartbeatInterval, "a worker with no heartbeat for this long is dead: the other workers hand its running jobs back to the queue (default 3 x WORKER_HEARTBEAT_INTERVAL; same value on every worker)")
	e.roles(&c.Roles, c.AppEnv)
	e.units(&c)
	e.blob(&c.Blob)
	e.exports(&c.Exports)
	e.tableau(&c.Tableau)
	e.auditShipping(&c.AuditShipping)
	if c.RescueAfter < time.Second {
		e.failf("WORKER_RESCUE_AFTER", "must be at least 1s")
	}
	if c.HeartbeatInterval < 100*time.Millisecond {
		e.failf("WORKER_HEARTBEAT_INTERVAL", "must be at least 100ms")
	}
	if c.DeadAfter < 2*c.HeartbeatInterval {
		e.failf("WORKER_DEAD_AFTER", "must be at least twice WORKER_HEARTBEAT_INTERVAL (%s)", c.HeartbeatInterval)
	}
	if c.FetchCooldown < time.Millisecond {
		e.failf("WORKER_FETCH_COOLDOWN", "must be at least 1ms")
	}
	if c.FetchPollInterval < c.FetchCooldown {
		e.failf("WORKER_FETCH_POLL_INTERVAL", "must not be shorter than WORKER_FETCH_COOLDOWN")
	}
	c.vars, c.env = e.vars, e
	return c, e.err()
}

// unitProviderAccred is UNIT_PROVIDER=accred (units.ProviderAccred; config
// cannot import units).
const unitProviderAccred = "accred"

// units reads the unit-directory variables of the worker (docs/jobs.md
// §4.8): the nightly schedule and the provider, accred by default when
// ACCRED_BASE_URL is set.
func (e *env) units(c *Worker) {
	c.ScheduleAccred = e.cronExpr("SCHEDULE_ACCRED", "30 2 * * *", "cron (UTC) of the nightly unit sync (accred_unit_sync: units, unit_users and the reports of every ready and open year); empty disables")
	def := appEnvDev
	if c.AccredBaseURL != "" {
		def = unitProviderAccred
	}
	c.UnitProvider = e.oneOf("UNIT_PROVIDER", def, []string{unitProviderAccred, appEnvDev},
		"unit directory of accred_unit_sync: accred (ACCRED_BASE_URL) or dev (the fixture units; refused in production); default accred when ACCRED_BASE_URL is set, else dev")
	switch {
	case c.UnitProvider == appEnvDev && c.AppEnv == appEnvProduction:
		e.failf("UNIT_PROVIDER", "dev is refused when APP_ENV=production")
	case c.UnitProvider == unitProviderAccred && c.AccredBaseURL == "":
		e.failf("ACCRED_BASE_URL", "is required with UNIT_PROVIDER=accred")
	}
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

// positiveFloat reads a float > 0 (CAR_KG_PER_KM).
func (e *env) positiveFloat(name, def, doc string) float64 {
	raw := e.str(name, def, doc)
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		e.failf(name, "%q must be a number greater than 0", raw)
		return 0
	}
	return v
}
