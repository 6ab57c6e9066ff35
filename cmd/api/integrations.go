package main

import (
	"github.com/co2-calculator/co2-calculator/pkg/config"
	"github.com/co2-calculator/co2-calculator/pkg/integrations"
)

// integrationSettings is how the workers run each integration, from the
// variables the API shares with them (GET /integrations, docs/api.md §14):
// Tableau with TABLEAU_* and SCHEDULE_TABLEAU, ECB (always configured: its
// URL has a default) with SCHEDULE_ECB, Accred with ACCRED_BASE_URL and
// SCHEDULE_ACCRED, Elasticsearch with ES_URLS and SCHEDULE_AUDIT_SHIP.
func integrationSettings(c config.API) []integrations.Setting {
	return []integrations.Setting{
		{Name: integrations.Tableau, Configured: c.TableauConfigured(), Schedule: c.ScheduleTableau},
		{Name: integrations.ECB, Configured: true, Schedule: c.ScheduleECB},
		{Name: integrations.Accred, Configured: c.AccredBaseURL != "", Schedule: c.ScheduleAccred},
		{Name: integrations.Elasticsearch, Configured: len(c.ESURLs) > 0, Schedule: c.ScheduleAuditShip},
	}
}
