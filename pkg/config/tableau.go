package config

import (
	"regexp"
	"strings"
	"time"
)

// Tableau configures the professional-travel feed (docs/jobs.md §4.6, §8).
// The worker runs the sync with it; the API reads it only to know whether
// Tableau is configured (POST /integrations/tableau/sync answers 409
// otherwise) and its schedule.
type Tableau struct {
	TableauServerURL      string        // TABLEAU_SERVER_URL
	TableauSiteContentURL string        // TABLEAU_SITE_CONTENT_URL ("" = the default site)
	TableauAPIVersion     string        // TABLEAU_API_VERSION (REST API of the sign-in)
	TableauClientID       string        // TABLEAU_CLIENT_ID: the Connected App
	TableauSecretID       string        // TABLEAU_SECRET_ID: the JWT's kid
	TableauSecretValue    string        // TABLEAU_SECRET_VALUE: signs the JWT
	TableauUsername       string        // TABLEAU_USERNAME: the service account
	TableauDatasourceLUID string        // TABLEAU_DATASOURCE_LUID
	TableauTimeout        time.Duration // TABLEAU_TIMEOUT: one request
	TableauVerifyTLS      bool          // TABLEAU_VERIFY_TLS
	// ScheduleTableau is SCHEDULE_TABLEAU: the cron of the nightly sync of
	// the open years ("" disables it; registered only when Tableau is
	// configured).
	ScheduleTableau string
}

// TableauConfigured tells whether the six variables that make Tableau
// configured are set (validation refuses a partial set).
func (c Tableau) TableauConfigured() bool {
	return c.TableauServerURL != "" && c.TableauDatasourceLUID != "" && c.TableauClientID != "" &&
		c.TableauSecretID != "" && c.TableauSecretValue != "" && c.TableauUsername != ""
}

var tableauAPIVersionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// tableau reads the TABLEAU_* variables and SCHEDULE_TABLEAU.
func (e *env) tableau(c *Tableau) {
	c.TableauServerURL = e.httpURL("TABLEAU_SERVER_URL", "", "Tableau server or Cloud pod URL; Tableau is configured when it and TABLEAU_DATASOURCE_LUID, TABLEAU_CLIENT_ID, TABLEAU_SECRET_ID, TABLEAU_SECRET_VALUE, TABLEAU_USERNAME are set")
	c.TableauSiteContentURL = e.str("TABLEAU_SITE_CONTENT_URL", "", "content URL of the Tableau site (empty: the default site)")
	c.TableauAPIVersion = e.str("TABLEAU_API_VERSION", "3.21", "version of the Tableau REST API used to sign in")
	c.TableauClientID, _ = e.raw("TABLEAU_CLIENT_ID", "", "Connected App client id (TABLEAU_CLIENT_ID_FILE reads it from a file)", true)
	c.TableauSecretID, _ = e.raw("TABLEAU_SECRET_ID", "", "Connected App secret id, the JWT's kid (TABLEAU_SECRET_ID_FILE reads it from a file)", true)
	c.TableauSecretValue, _ = e.raw("TABLEAU_SECRET_VALUE", "", "Connected App secret value, signs the JWT (TABLEAU_SECRET_VALUE_FILE reads it from a file)", true)
	c.TableauUsername = e.str("TABLEAU_USERNAME", "", "Tableau service account the JWT signs in as (sub)")
	c.TableauDatasourceLUID = e.str("TABLEAU_DATASOURCE_LUID", "", "LUID of the published professional-travel datasource")
	c.TableauTimeout = e.duration("TABLEAU_TIMEOUT", 300*time.Second, "timeout of one Tableau request (a query page included)")
	c.TableauVerifyTLS = e.boolean("TABLEAU_VERIFY_TLS", true, "verify the Tableau server's TLS certificate")
	c.ScheduleTableau = e.cronExpr("SCHEDULE_TABLEAU", "0 3 * * *", "cron (UTC) of the nightly Tableau travel sync of every open year (registered only when Tableau is configured); empty disables")

	if !tableauAPIVersionRe.MatchString(c.TableauAPIVersion) {
		e.failf("TABLEAU_API_VERSION", "%q is not a version such as 3.21", c.TableauAPIVersion)
	}
	if c.TableauTimeout < time.Second {
		e.failf("TABLEAU_TIMEOUT", "must be at least 1s")
	}
	required := []struct{ name, value string }{
		{"TABLEAU_SERVER_URL", c.TableauServerURL}, {"TABLEAU_DATASOURCE_LUID", c.TableauDatasourceLUID},
		{"TABLEAU_CLIENT_ID", c.TableauClientID}, {"TABLEAU_SECRET_ID", c.TableauSecretID},
		{"TABLEAU_SECRET_VALUE", c.TableauSecretValue}, {"TABLEAU_USERNAME", c.TableauUsername},
	}
	var set, missing []string
	for _, r := range required {
		if r.value != "" {
			set = append(set, r.name)
		} else {
			missing = append(missing, r.name)
		}
	}
	if len(set) > 0 && len(missing) > 0 {
		e.failf(missing[0], "is required to configure Tableau (set: %s; missing: %s)", strings.Join(set, ", "), strings.Join(missing, ", "))
	}
}
