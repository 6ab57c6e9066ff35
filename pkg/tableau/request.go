// Package tableau is the professional-travel feed from Tableau
// (docs/jobs.md §4.6, §8): the client of the Connected-App sign-in and the
// VizQL Data Service (client.go), the mapping of the datasource's objects to
// plane entries (mapping.go), the sync of a year that replaces that year's
// Tableau trips idempotently through the imports' entry writer (sync.go,
// spool.go), and what the API and the scheduler ask of it: a sync of one
// year in a pipeline of its own, and the nightly dispatch over the open
// years (this file).
//
// The job tableau_travel_sync (package jobs) and the route POST
// /integrations/tableau/sync (package httpapi) are adapters over Service.
package tableau

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// EventTrigger audits an on-demand sync (entity pipeline).
const EventTrigger = "integration.trigger"

// fieldYear names the year in the trigger's body, snapshots and details.
const fieldYear = "year"

// RequestSync is POST /integrations/tableau/sync: a pipeline (tableau_sync,
// trigger user) with the sync of the year asked for, audited
// integration.trigger. 422 on year when it is missing or outside
// [years.Min, years.Max]; 409 integration_not_configured without Tableau;
// 404 for an unknown year; 409 year_not_ready or year_closed unless the
// year is ready or open. A year whose sync waits or runs is joined (one run
// at a time per year).
func (s *Service) RequestSync(ctx context.Context, actor *int64, asked *int64) (pipeline.View, error) {
	switch {
	case asked == nil:
		return pipeline.View{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: fieldYear, Code: "required",
			Message: "year is required"})
	case !years.Valid(*asked):
		return pipeline.View{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: fieldYear, Code: "out_of_range",
			Message: fmt.Sprintf("must be a year between %d and %d", years.Min, years.Max)})
	case !s.Configured():
		return pipeline.View{}, errNotConfigured()
	case s.Enqueue == nil:
		return pipeline.View{}, calc.ErrNoQueue()
	}
	year := int32(*asked)
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		if _, err := years.Load(ctx, dbsqlc.New(tx), year, years.OpImport); err != nil {
			return pipeline.View{}, err
		}
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindTableauSync, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: actor})
		if err != nil {
			return pipeline.View{}, err
		}
		if err := s.Enqueue(ctx, tx, p.ID, year); err != nil {
			return pipeline.View{}, err
		}
		if err := audit.Record(ctx, tx, actor, audit.Event{Action: audit.ActionCreate, Event: EventTrigger, EntityType: "pipeline",
			EntityID: p.ID.String(), Snapshot: map[string]any{"integration": integrationName, fieldYear: year}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing %s: %w", EventTrigger, err)
		}
		return calc.PipelineView(ctx, tx, p.ID)
	})
}

// DispatchTx is the nightly run (tableau_travel_sync without a year), in
// its completion transaction: for every open year, a pipeline
// (tableau_sync, trigger schedule) with the sync of that year. It returns
// the years dispatched.
func DispatchTx(ctx context.Context, tx pgx.Tx, enqueue Enqueuer) ([]int32, error) {
	if enqueue == nil {
		return nil, apperr.New(apperr.CodeUnavailable, "no job queue configured")
	}
	open, err := dbsqlc.New(tx).YearsByStatus(ctx, []string{string(years.StatusOpen)})
	if err != nil {
		return nil, fmt.Errorf("error listing the open years: %w", err)
	}
	out := make([]int32, 0, len(open))
	for _, y := range open {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindTableauSync, Trigger: pipeline.TriggerSchedule, Year: &y.Year})
		if err != nil {
			return nil, err
		}
		if err := enqueue(ctx, tx, p.ID, y.Year); err != nil {
			return nil, err
		}
		out = append(out, y.Year)
	}
	return out, nil
}
