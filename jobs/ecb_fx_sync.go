package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// ECBFXSyncArgs fetches ECB reference rates into fx_rates (docs/jobs.md §4.7).
// Empty Years (the daily schedule) means the current and the previous year.
type ECBFXSyncArgs struct {
	Years []int `json:"years,omitempty"`
}

// Kind implements river.JobArgs.
func (ECBFXSyncArgs) Kind() string { return "ecb_fx_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ECBFXSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIntegrations, MaxAttempts: 5}
}

// ECBFXSyncWorker works ECBFXSyncArgs.
type ECBFXSyncWorker struct {
	river.WorkerDefaults[ECBFXSyncArgs]

	DB     postgres.DB
	Client *fx.Client
	Logger *slog.Logger
	Now    func() time.Time
}

// Timeout implements river.Worker.
func (w *ECBFXSyncWorker) Timeout(*river.Job[ECBFXSyncArgs]) time.Duration { return 5 * time.Minute }

// Work fetches the rates of each year and upserts them in one transaction.
// Network errors and 5xx answers are returned (River retries with backoff);
// "no data" for a past year and other permanent answers cancel the job with
// a clear message.
func (w *ECBFXSyncWorker) Work(ctx context.Context, job *river.Job[ECBFXSyncArgs]) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	years := job.Args.Years
	if len(years) == 0 {
		y := now().UTC().Year()
		years = []int{y - 1, y}
	}
	rep := pipeline.ReporterFrom(ctx)
	rep.Progress(ctx, "fetch", 0, int64(len(years)), "Fetching ECB rates")

	var all []fx.Rate
	var warnings []fx.Warning
	for i, year := range years {
		rates, warns, err := w.Client.RatesForYear(ctx, year, now().UTC())
		warnings = append(warnings, warns...)
		if err != nil {
			w.recordFailure(ctx, job.ID, err)
			if fx.IsTransient(err) {
				return fmt.Errorf("error fetching ECB rates for %d: %w", year, err)
			}
			return river.JobCancel(fmt.Errorf("ECB rates for %d: %w", year, err))
		}
		all = append(all, rates...)
		rep.Progress(ctx, "fetch", int64(i+1), int64(len(years)), fmt.Sprintf("Fetched rates for %d", year))
	}
	for _, wn := range warnings {
		w.Logger.WarnContext(ctx, "ECB answer row skipped", slog.String("warning", wn.String()))
	}

	return postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		changed := 0
		var changedYears []int
		for _, r := range all {
			c, err := upsertRate(ctx, q, r)
			if err != nil {
				return err
			}
			if c {
				changed++
				if !slices.Contains(changedYears, r.Year) {
					changedYears = append(changedYears, r.Year)
				}
			}
		}
		// Rates changed: recalculate the FX-dependent modules of those
		// years (docs/domain.md §11.3), inserted after JobCompleteTx below.
		recalcs, err := fxRecalcRequests(ctx, q, changedYears)
		if err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"years": years, "rates": len(all), "rates_changed": changed, "warnings": len(warnings)})
		msg := fmt.Sprintf("%d rates fetched, %d changed", len(all), changed)
		if err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{
			Name: "ecb", Success: true, LastStatus: new("SUCCESS"), LastMessage: &msg,
			LastPipelineID: firstPipeline(ctx, q, job.ID), Details: details,
		}); err != nil {
			return fmt.Errorf("error recording integration state: %w", err)
		}
		if err := pipeline.FinishTx(ctx, tx, job.ID, pipeline.Result{
			Counters: map[string]any{"rows_fetched": len(all), "rates_changed": changed, "row_warnings": len(warnings)},
			Message:  msg,
		}); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("error completing job: %w", err)
		}
		for _, args := range recalcs {
			if err := insertChildTx(ctx, tx, job.JobRow, args); err != nil {
				return err
			}
		}
		return nil
	})
}

// fxRecalcRequests bumps module_year_state (reason fx) of the FX-dependent
// modules of every changed year that exists and is ready or open, and
// returns the emission_recalc jobs to insert.
func fxRecalcRequests(ctx context.Context, q *dbsqlc.Queries, changed []int) ([]EmissionRecalcArgs, error) {
	var out []EmissionRecalcArgs
	slices.Sort(changed)
	for _, year := range changed {
		y, err := q.YearGet(ctx, int32(year))
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("error reading year %d: %w", year, err)
		}
		if years.Allow(y.Year, years.Status(y.Status), years.OpImport) != nil {
			continue
		}
		for _, m := range fx.FXModules {
			if _, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y.Year, Module: string(m), Reason: "fx"}); err != nil {
				return nil, fmt.Errorf("error requesting recalculation of %s/%d: %w", m, year, err)
			}
			out = append(out, EmissionRecalcArgs{Year: year, Module: string(m)})
		}
	}
	return out, nil
}

// upsertRate stores one rate unless a manual rate exists; it reports whether
// the stored value changed (relative difference above 1e-9).
func upsertRate(ctx context.Context, q *dbsqlc.Queries, r fx.Rate) (bool, error) {
	prev, err := q.FXRateGet(ctx, dbsqlc.FXRateGetParams{Year: int32(r.Year), Currency: r.Currency})
	hadPrev := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("error reading rate %d %s: %w", r.Year, r.Currency, err)
	}
	var months *int32
	if r.MonthsCovered > 0 {
		m := int32(r.MonthsCovered)
		months = &m
	}
	n, err := q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{
		Year: int32(r.Year), Currency: r.Currency, PerEur: r.PerEUR, Source: r.Source, MonthsCovered: months,
	})
	if err != nil {
		return false, fmt.Errorf("error storing rate %d %s: %w", r.Year, r.Currency, err)
	}
	if n == 0 {
		return false, nil // manual rate kept
	}
	return !hadPrev || math.Abs(r.PerEUR-prev.PerEur)/prev.PerEur > 1e-9, nil
}

func (w *ECBFXSyncWorker) recordFailure(ctx context.Context, jobID int64, cause error) {
	msg := cause.Error()
	q := dbsqlc.New(w.DB)
	err := q.IntegrationStateRecord(ctx, dbsqlc.IntegrationStateRecordParams{
		Name: "ecb", Success: false, LastStatus: new("FAILED"), LastMessage: &msg,
		LastPipelineID: firstPipeline(ctx, q, jobID), Details: json.RawMessage(`{}`),
	})
	if err != nil {
		w.Logger.WarnContext(ctx, "could not record ECB failure", slog.String("error", err.Error()))
	}
}

// firstPipeline returns one pipeline the job is linked to, if any.
func firstPipeline(ctx context.Context, q *dbsqlc.Queries, jobID int64) *uuid.UUID {
	ids, err := q.PipelineIDsByJob(ctx, jobID)
	if err != nil || len(ids) == 0 {
		return nil
	}
	return &ids[0]
}

// EnqueueECBSync is the fx.SyncEnqueuer of the API (POST
// /integrations/ecb/sync): an ECB run for the given years, linked to its
// pipeline.
func EnqueueECBSync(client pipeline.Inserter) fx.SyncEnqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, years []int) error {
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID, ECBFXSyncArgs{Years: years}, nil)
		return err
	}
}
