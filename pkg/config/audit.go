package config

import (
	"crypto/x509"
	"net/url"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // AUDIT_TIMEZONE must resolve in distroless images too
)

// AuditShipping configures audit_ship, the shipping of the audit trail to
// Elasticsearch (worker; docs/jobs.md §11.4). Shipping is on when ES_URLS
// is set and SCHEDULE_AUDIT_SHIP is not empty.
type AuditShipping struct {
	ESURLs         []string      // ES_URLS, tried in turn
	ESAPIKey       string        // ES_API_KEY: "Authorization: ApiKey …"
	ESUsername     string        // ES_USERNAME: Basic auth instead of an API key
	ESPassword     string        // ES_PASSWORD
	ESCAFile       string        // ES_CA_FILE: PEM roots trusted for TLS (empty: the system's)
	ESIndexPattern string        // ES_INDEX_PATTERN: {yyyy.MM} from occurred_at
	ESTimeout      time.Duration // ES_TIMEOUT: one _bulk request
	// AuditShipBatch is AUDIT_SHIP_BATCH: the events of one _bulk request.
	AuditShipBatch int
	// AuditShipSkipEvents is AUDIT_SHIP_SKIP_EVENTS: events never sent
	// (marked skipped).
	AuditShipSkipEvents []string
	// AuditTimezone is AUDIT_TIMEZONE, the zone of the documents' @timestamp.
	AuditTimezone *time.Location
	// ScheduleAuditShip is SCHEDULE_AUDIT_SHIP ("" disables shipping).
	ScheduleAuditShip string
}

// ShippingEnabled reports that audit_ship is scheduled.
func (c AuditShipping) ShippingEnabled() bool {
	return len(c.ESURLs) > 0 && c.ScheduleAuditShip != ""
}

// Integrations is what the API needs to describe the integrations the
// workers run (GET /api/v1/integrations): their schedules and whether
// Elasticsearch is configured. Give the API the same values as the
// workers. (Accred is configured with ACCRED_BASE_URL, Tableau with the
// TABLEAU_* variables, which the API reads anyway.)
type Integrations struct {
	ScheduleECB       string   // SCHEDULE_ECB
	ScheduleAccred    string   // SCHEDULE_ACCRED
	ESURLs            []string // ES_URLS
	ScheduleAuditShip string   // SCHEDULE_AUDIT_SHIP
}

// ShippingEnabled reports that the workers ship the audit trail.
func (c Integrations) ShippingEnabled() bool {
	return len(c.ESURLs) > 0 && c.ScheduleAuditShip != ""
}

// The defaults shared by the worker and the API.
const (
	defaultScheduleECB       = "0 5 * * *"
	defaultScheduleAccred    = "30 2 * * *"
	defaultScheduleAuditShip = "* * * * *"
	defaultESIndexPattern    = "co2-calculator-audit-{yyyy.MM}"
)

// integrations reads the API's copy of the worker's schedules.
func (e *env) integrations(c *Integrations) {
	c.ScheduleECB = e.cronExpr("SCHEDULE_ECB", defaultScheduleECB, "cron (UTC) of the daily ECB FX sync, as given to the worker (GET /integrations shows it); empty: not scheduled")
	c.ScheduleAccred = e.cronExpr("SCHEDULE_ACCRED", defaultScheduleAccred, "cron (UTC) of the nightly unit sync, as given to the worker (GET /integrations shows it); empty: not scheduled")
	c.ESURLs = e.esURLs()
	c.ScheduleAuditShip = e.scheduleAuditShip()
}

func (e *env) esURLs() []string {
	raw := e.str("ES_URLS", "", "comma list of Elasticsearch URLs the audit trail is shipped to (tried in turn); empty disables shipping")
	var out []string
	for u := range strings.SplitSeq(raw, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			e.failf("ES_URLS", "invalid URL %q (want http:// or https://)", u)
			return nil
		}
		if p.User != nil {
			e.failf("ES_URLS", "credentials do not belong in the URL (use ES_API_KEY, or ES_USERNAME and ES_PASSWORD)")
			return nil
		}
		out = append(out, strings.TrimRight(u, "/"))
	}
	return out
}

func (e *env) scheduleAuditShip() string {
	return e.cronExpr("SCHEDULE_AUDIT_SHIP", defaultScheduleAuditShip, "cron (UTC) of audit_ship, the shipping of the audit trail to Elasticsearch (when ES_URLS is set); empty disables")
}

// auditShipping reads the ES_* and AUDIT_* variables of the worker.
func (e *env) auditShipping(c *AuditShipping) {
	c.ESURLs = e.esURLs()
	c.ESAPIKey, _ = e.raw("ES_API_KEY", "", "Elasticsearch API key (sent as \"Authorization: ApiKey …\"; ES_API_KEY_FILE reads it from a file)", true)
	c.ESUsername = e.str("ES_USERNAME", "", "Elasticsearch Basic-auth user (instead of ES_API_KEY)")
	c.ESPassword, _ = e.raw("ES_PASSWORD", "", "Elasticsearch Basic-auth password (ES_PASSWORD_FILE reads it from a file)", true)
	c.ESCAFile = e.str("ES_CA_FILE", "", "PEM file of the CA certificates trusted for Elasticsearch's TLS (empty: the system roots)")
	c.ESIndexPattern = e.str("ES_INDEX_PATTERN", defaultESIndexPattern, "index of an audit event; {yyyy.MM}, {yyyy} and {MM} are taken from its occurred_at (UTC)")
	c.ESTimeout = e.duration("ES_TIMEOUT", 30*time.Second, "timeout of one _bulk request to Elasticsearch")
	c.AuditShipBatch = e.count("AUDIT_SHIP_BATCH", 500, 10_000, "audit events per _bulk request")
	for ev := range strings.SplitSeq(e.str("AUDIT_SHIP_SKIP_EVENTS", "", "comma list of audit events never shipped (marked skipped), e.g. entry.list"), ",") {
		if ev = strings.TrimSpace(ev); ev != "" {
			c.AuditShipSkipEvents = append(c.AuditShipSkipEvents, ev)
		}
	}
	tz := e.str("AUDIT_TIMEZONE", "Europe/Zurich", "IANA time zone of the @timestamp of shipped audit events")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		e.failf("AUDIT_TIMEZONE", "unknown time zone %q", tz)
		loc = time.UTC
	}
	c.AuditTimezone = loc
	c.ScheduleAuditShip = e.scheduleAuditShip()

	switch {
	case c.ESAPIKey != "" && c.ESUsername != "":
		e.failf("ES_USERNAME", "set ES_API_KEY or ES_USERNAME and ES_PASSWORD, not both")
	case c.ESUsername != "" && c.ESPassword == "":
		e.failf("ES_PASSWORD", "is required with ES_USERNAME (or ES_PASSWORD_FILE)")
	case c.ESPassword != "" && c.ESUsername == "":
		e.failf("ES_USERNAME", "is required with ES_PASSWORD")
	}
	if c.ESTimeout < time.Second {
		e.failf("ES_TIMEOUT", "must be at least 1s")
	}
	if c.ESCAFile != "" {
		pem, err := os.ReadFile(c.ESCAFile)
		if err != nil {
			e.failf("ES_CA_FILE", "cannot read the CA file: %v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			e.failf("ES_CA_FILE", "no PEM certificate in %s", c.ESCAFile)
		}
	}
	if p := strings.NewReplacer("{yyyy.MM}", "", "{yyyy}", "", "{MM}", "").Replace(c.ESIndexPattern); p == "" ||
		strings.ContainsAny(p, `ABCDEFGHIJKLMNOPQRSTUVWXYZ\/*?"<>| ,#:{}`) || strings.ContainsAny(p[:1], "-_+") {
		e.failf("ES_INDEX_PATTERN", "%q is not a valid Elasticsearch index name (lower case, no \\ / * ? \" < > | space , # :)", c.ESIndexPattern)
	}
}
