package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// auditSchedule is SCHEDULE_AUDIT_SHIP when Elasticsearch is configured
// (ES_URLS): audit_ship is not registered otherwise, and the events stay
// pending.
func auditSchedule(c config.Worker) string {
	if !c.ShippingEnabled() {
		return ""
	}
	return c.ScheduleAuditShip
}

// auditShipper is the shipper of audit_ship (nil without ES_URLS).
func auditShipper(c config.Worker, db postgres.DB, logger *slog.Logger) (*audit.Shipper, error) {
	if len(c.ESURLs) == 0 {
		return nil, nil //nolint:nilnil // not configured
	}
	transport := http.DefaultTransport.(*http.Transport).Clone() //nolint:forcetypeassert // the standard transport
	if c.ESCAFile != "" {
		pem, err := os.ReadFile(c.ESCAFile)
		if err != nil {
			return nil, fmt.Errorf("ES_CA_FILE: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ES_CA_FILE: no PEM certificate in %s", c.ESCAFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return &audit.Shipper{DB: db, Logger: logger, ShipConfig: audit.ShipConfig{
		Client: &audit.ElasticClient{URLs: c.ESURLs, APIKey: c.ESAPIKey, Username: c.ESUsername, Password: c.ESPassword,
			HTTP: &http.Client{Timeout: c.ESTimeout, Transport: transport}},
		IndexPattern: c.ESIndexPattern, Location: c.AuditTimezone, Batch: c.AuditShipBatch, SkipEvents: c.AuditShipSkipEvents,
		Env: c.AppEnv,
	}}, nil
}
