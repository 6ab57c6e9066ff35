package main

import (
	"crypto/tls"
	"net/http"

	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
)

// tableauClient is the client of tableau_travel_sync, nil when Tableau is
// not configured (docs/jobs.md §8).
func tableauClient(c config.Worker) *tableau.Client {
	if !c.TableauConfigured() {
		return nil
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !c.TableauVerifyTLS {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // TABLEAU_VERIFY_TLS=false, an operator's choice
	}
	return &tableau.Client{
		ServerURL: c.TableauServerURL, SiteContentURL: c.TableauSiteContentURL, APIVersion: c.TableauAPIVersion,
		ClientID: c.TableauClientID, SecretID: c.TableauSecretID, SecretValue: c.TableauSecretValue,
		Username: c.TableauUsername, DatasourceLUID: c.TableauDatasourceLUID,
		HTTP: &http.Client{Timeout: c.TableauTimeout, Transport: transport},
	}
}

// tableauSchedule is SCHEDULE_TABLEAU when Tableau is configured: the
// nightly dispatcher is registered only then.
func tableauSchedule(c config.Worker) string {
	if !c.TableauConfigured() {
		return ""
	}
	return c.ScheduleTableau
}
