// Package integrations is the overview of the external integrations
// (docs/api.md §14 GET /integrations): for Tableau, ECB, Accred and
// Elasticsearch, whether the workers have them configured, their schedule
// and next run, and the outcome of their last run.
//
// The runs record their outcome in integration_state (ecb_fx_sync,
// accred_unit_sync, tableau_travel_sync, audit_ship). What is configured
// and when each runs is configuration of the workers, which the API reads
// too (SCHEDULE_*, ACCRED_BASE_URL, TABLEAU_*, ES_URLS): the caller passes
// it as Settings.
package integrations

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The integrations, in the order of the overview.
const (
	Tableau       = "tableau"
	ECB           = "ecb"
	Accred        = "accred"
	Elasticsearch = "elasticsearch"
)

// Names lists the integrations in the order of the overview.
var Names = []string{Tableau, ECB, Accred, Elasticsearch}

// Setting is how the workers run one integration.
type Setting struct {
	Name       string
	Configured bool
	// Schedule is the cron expression (UTC) of its periodic run ("": not
	// scheduled).
	Schedule string
}

// Status is one integration of the overview.
type Status struct {
	Name       string  `json:"name"`
	Configured bool    `json:"configured"`
	Schedule   *string `json:"schedule"`
	// NextRunAt is the next tick of Schedule (null when not configured or
	// not scheduled).
	NextRunAt      *time.Time `json:"next_run_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastSuccessAt  *time.Time `json:"last_success_at"`
	LastStatus     *string    `json:"last_status"`
	LastMessage    *string    `json:"last_message"`
	LastPipelineID *uuid.UUID `json:"last_pipeline_id"`
	// Details are the integration's figures of its last run (Tableau rows
	// fetched, loaded and skipped; ECB currencies and months covered;
	// Accred units synced; Elasticsearch pending and failed counts).
	Details json.RawMessage `json:"details"`
}

// List returns the overview at now: every integration of Names, with the
// settings given (an integration without one is not configured) and its
// recorded state.
func List(ctx context.Context, db postgres.DBTX, settings []Setting, now time.Time) ([]Status, error) {
	rows, err := dbsqlc.New(db).IntegrationStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("error reading the integration states: %w", err)
	}
	states := make(map[string]dbsqlc.IntegrationState, len(rows))
	for _, r := range rows {
		states[r.Name] = r
	}
	out := make([]Status, 0, len(Names))
	for _, name := range Names {
		st := Status{Name: name, Details: json.RawMessage(`{}`)}
		for _, s := range settings {
			if s.Name == name {
				st.Configured = s.Configured
				if s.Configured && s.Schedule != "" {
					st.Schedule = new(s.Schedule)
					st.NextRunAt = next(s.Schedule, now)
				}
			}
		}
		if r, ok := states[name]; ok {
			st.LastAttemptAt, st.LastSuccessAt = utc(r.LastAttemptAt), utc(r.LastSuccessAt)
			st.LastStatus, st.LastMessage, st.LastPipelineID = r.LastStatus, r.LastMessage, r.LastPipelineID
			if len(r.Details) > 0 {
				st.Details = r.Details
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// next is the next tick of a cron expression (UTC, like River's periodic
// jobs) after now; nil when the expression does not parse.
func next(expr string, now time.Time) *time.Time {
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil
	}
	return new(s.Next(now.UTC()))
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return new(t.UTC())
}
