//nolint:goconst // JSON, audit and field names read better as literals
package fx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// The rates the back office drives (docs/api.md §8, §14): manual rates,
// which win over the ECB's until deleted (the ecb_fx_sync job never
// overwrites a rate whose source is manual), and on-demand ECB runs. A
// change of a year's rates requests, in its transaction, the
// recalculation of the modules whose formulas convert currencies
// (FXModules) in a pipeline of kind fx_manual. A closed year refuses
// them (409 year_closed: its numbers are frozen), like a recalculation.

// SourceManual is a rate set by an administrator.
const SourceManual = "manual"

// FXModules are the modules whose formulas use FX rates (docs/domain.md
// §6.4, §11.3).
var FXModules = []emission.ModuleKey{emission.ModulePurchases, emission.ModuleExternalCloudAI}

// The audit events of rates (docs/jobs.md §11.1): entity fx_rate/<year>/<currency>.
const (
	EventRateSet    = "fx_rate.set"
	EventRateDelete = "fx_rate.delete"
	// EventTrigger audits an on-demand integration run (entity pipeline).
	EventTrigger = "integration.trigger"
)

// ReasonNotManual (409): only a manual rate can be deleted; an ECB rate
// is replaced by the next ECB run.
const ReasonNotManual apperr.Reason = "rate_not_manual"

// SyncEnqueuer inserts ecb_fx_sync{years} in tx, linked to pipeline
// pipelineID as a root job (empty years: the previous and current year).
type SyncEnqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, years []int) error

// Service is the database side of the back office's rates. The API sets
// every field.
type Service struct {
	DB postgres.DB
	// Recalc enqueues the emission_recalc of a rate change; without it
	// changes answer 503.
	Recalc calc.RecalcEnqueuer
	// Sync enqueues an ECB run; without it POST /integrations/ecb/sync
	// answers 503.
	Sync SyncEnqueuer
	// Now is the clock of the year checks; nil is time.Now.
	Now func() time.Time
}

// RateChange is the answer of SetManual and DeleteManual.
type RateChange struct {
	Rate     dbsqlc.FxRate // the manual rate set; the deleted one for a delete
	Pipeline pipeline.View
}

// CheckCurrency is the rule of a currency: three upper-case letters
// (ISO 4217), not EUR (implicit, per_eur = 1, never stored).
func CheckCurrency(c string) error {
	if !isCode(c) {
		return apperr.Validation("1 field is invalid", apperr.FieldError{Field: "currency", Code: "invalid_format",
			Message: "currency must be three upper-case letters (ISO 4217)"})
	}
	if c == "EUR" {
		return apperr.Validation("1 field is invalid", apperr.FieldError{Field: "currency", Code: "invalid_enum",
			Message: "EUR is the base currency (per_eur = 1), it has no rate"})
	}
	return nil
}

func isCode(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// SetManual sets the manual rate of currency for year (units per 1 EUR,
// finite and > 0, else 422 on per_eur) and requests the recalculation of
// the year's FX modules. The year must exist (404) and not be closed (409).
func (s *Service) SetManual(ctx context.Context, actor *int64, year int32, currency string, perEUR float64) (RateChange, error) {
	if err := CheckCurrency(currency); err != nil {
		return RateChange{}, err
	}
	if math.IsNaN(perEUR) || math.IsInf(perEUR, 0) || perEUR <= 0 {
		return RateChange{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: "per_eur", Code: "out_of_range",
			Message: "per_eur must be a number > 0 (units of the currency per 1 EUR)"})
	}
	return s.change(ctx, year, func(ctx context.Context, q *dbsqlc.Queries) (dbsqlc.FxRate, string, map[string]any, error) {
		prev, err := q.FXRateGet(ctx, dbsqlc.FXRateGetParams{Year: year, Currency: currency})
		var previous map[string]any
		switch {
		case err == nil:
			previous = map[string]any{"per_eur": prev.PerEur, "source": prev.Source}
		case !errors.Is(err, pgx.ErrNoRows):
			return dbsqlc.FxRate{}, "", nil, fmt.Errorf("error reading rate %d %s: %w", year, currency, err)
		}
		rate, err := q.FXRateSetManual(ctx, dbsqlc.FXRateSetManualParams{Year: year, Currency: currency, PerEur: perEUR})
		if err != nil {
			return rate, "", nil, fmt.Errorf("error storing rate %d %s: %w", year, currency, err)
		}
		return rate, audit.ActionUpdate, map[string]any{"year": year, "currency": currency, "per_eur": perEUR,
			"source": SourceManual, "previous": previous}, nil
	}, actor, EventRateSet)
}

// DeleteManual deletes the manual rate of currency for year (404 when
// there is no rate, 409 rate_not_manual for an ECB rate) and requests the
// recalculation of the year's FX modules: until the next ECB run refills
// the rate (or POST /integrations/ecb/sync), entries in that currency get
// missing_fx_rate rather than keeping the deleted rate's numbers.
func (s *Service) DeleteManual(ctx context.Context, actor *int64, year int32, currency string) (RateChange, error) {
	if err := CheckCurrency(currency); err != nil {
		return RateChange{}, err
	}
	return s.change(ctx, year, func(ctx context.Context, q *dbsqlc.Queries) (dbsqlc.FxRate, string, map[string]any, error) {
		rate, err := q.FXRateDeleteManual(ctx, dbsqlc.FXRateDeleteManualParams{Year: year, Currency: currency})
		if errors.Is(err, pgx.ErrNoRows) {
			other, gerr := q.FXRateGet(ctx, dbsqlc.FXRateGetParams{Year: year, Currency: currency})
			switch {
			case gerr == nil:
				return rate, "", nil, apperr.WithReason(apperr.CodeConflict, ReasonNotManual,
					"the %d rate of %s comes from the ECB (%s): only a manual rate can be deleted", year, currency, other.Source)
			case errors.Is(gerr, pgx.ErrNoRows):
				return rate, "", nil, apperr.NotFound("no rate of %s for %d", currency, year)
			default:
				return rate, "", nil, fmt.Errorf("error reading rate %d %s: %w", year, currency, gerr)
			}
		}
		if err != nil {
			return rate, "", nil, fmt.Errorf("error deleting rate %d %s: %w", year, currency, err)
		}
		return rate, audit.ActionDelete, map[string]any{"year": year, "currency": currency, "per_eur": rate.PerEur, "source": rate.Source}, nil
	}, actor, EventRateDelete)
}

// change runs a change of one rate of year in a transaction: the year
// check, the change (its row, audit action and snapshot), the pipeline
// with the recalculations, the audit event.
func (s *Service) change(ctx context.Context, year int32,
	fn func(ctx context.Context, q *dbsqlc.Queries) (dbsqlc.FxRate, string, map[string]any, error),
	actor *int64, event string,
) (RateChange, error) {
	if s.Recalc == nil {
		return RateChange{}, calc.ErrNoQueue()
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (RateChange, error) {
		q := dbsqlc.New(tx)
		if _, err := years.Load(ctx, q, year, years.OpRecalc); err != nil {
			return RateChange{}, err
		}
		rate, action, snapshot, err := fn(ctx, q)
		if err != nil {
			return RateChange{}, err
		}
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindFXManual, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: actor})
		if err != nil {
			return RateChange{}, err
		}
		for _, m := range FXModules {
			if err := calc.RequestTx(ctx, tx, s.Recalc, p.ID, year, m, calc.ReasonFX); err != nil {
				return RateChange{}, err
			}
		}
		snapshot["pipeline_id"] = p.ID.String()
		if err := audit.Record(ctx, tx, actor, audit.Event{Action: action, Event: event, EntityType: "fx_rate",
			EntityID: strconv.Itoa(int(year)) + "/" + rate.Currency, Snapshot: snapshot}); err != nil {
			return RateChange{}, fmt.Errorf("error auditing %s: %w", event, err)
		}
		v, err := calc.PipelineView(ctx, tx, p.ID)
		return RateChange{Rate: rate, Pipeline: v}, err
	})
}

// RequestSync creates a pipeline (ecb_sync, trigger user) with an ECB run
// for the given years (none: the previous and the current year, as the
// daily run) and audits integration.trigger. Each year must be between
// years.Min and the current year (422 on years[i]: the ECB publishes no
// future rates).
func (s *Service) RequestSync(ctx context.Context, actor *int64, ys []int) (pipeline.View, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	current := now().UTC().Year()
	var bad []apperr.FieldError
	var list []int
	for i, y := range ys {
		if y < years.Min || y > current {
			bad = append(bad, apperr.FieldError{Field: "years[" + strconv.Itoa(i) + "]", Code: "out_of_range",
				Message: fmt.Sprintf("a year between %d and %d (the current year)", years.Min, current)})
			continue
		}
		if !slices.Contains(list, y) {
			list = append(list, y)
		}
	}
	if len(bad) > 0 {
		return pipeline.View{}, apperr.Validation(fmt.Sprintf("%d fields are invalid", len(bad)), bad...)
	}
	slices.Sort(list)
	if s.Sync == nil {
		return pipeline.View{}, calc.ErrNoQueue()
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindECBSync, Trigger: pipeline.TriggerUser, CreatedBy: actor})
		if err != nil {
			return pipeline.View{}, err
		}
		if err := s.Sync(ctx, tx, p.ID, list); err != nil {
			return pipeline.View{}, err
		}
		shown := list
		if shown == nil {
			shown = []int{}
		}
		if err := audit.Record(ctx, tx, actor, audit.Event{Action: audit.ActionCreate, Event: EventTrigger, EntityType: "pipeline",
			EntityID: p.ID.String(), Snapshot: map[string]any{"integration": "ecb", "years": shown}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing %s: %w", EventTrigger, err)
		}
		return calc.PipelineView(ctx, tx, p.ID)
	})
}
