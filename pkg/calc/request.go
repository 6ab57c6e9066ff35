package calc

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Recalculation requests (docs/domain.md §11.3): whoever changes what the
// stored emissions of a module-year were computed from (factors, FX rates)
// or asks for a recalculation bumps module_year_state.recalc_requested_seq
// and enqueues the coalesced emission_recalc{year, module} (which chains
// aggregate{year}) in the transaction of its change (docs/jobs.md §2.3).
// Domain packages never import package jobs: the job insert is a
// RecalcEnqueuer the adapter gives them (jobs.EnqueueRecalc).

// RecalcEnqueuer inserts emission_recalc{year, module} in tx and links it
// to pipeline pipelineID as a root job (a job already waiting or running
// for the module-year is linked instead: coalescing).
type RecalcEnqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32, module emission.ModuleKey) error

// The causes a request stamps on module_year_state (factors_changed_at,
// fx_changed_at); ReasonManual only moves the sequence.
const (
	ReasonFactors = "factors"
	ReasonFX      = "fx"
	ReasonManual  = "manual"
)

// ErrNoQueue is the 503 of a change that must enqueue a job when no job
// queue is configured.
func ErrNoQueue() error { return apperr.New(apperr.CodeUnavailable, "no job queue configured") }

// RequestTx requests the recalculation of (year, module) in the caller's
// transaction: bump with reason, then enqueue, linked to pipelineID.
func RequestTx(ctx context.Context, tx pgx.Tx, enqueue RecalcEnqueuer, pipelineID uuid.UUID, year int32, module emission.ModuleKey, reason string) error {
	if enqueue == nil {
		return ErrNoQueue()
	}
	if _, err := dbsqlc.New(tx).ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: year, Module: string(module), Reason: reason}); err != nil {
		return fmt.Errorf("error requesting the recalculation of %s/%d: %w", module, year, err)
	}
	return enqueue(ctx, tx, pipelineID, year, module)
}

// PipelineView reads pipeline id as the API shows it.
func PipelineView(ctx context.Context, db postgres.DBTX, id uuid.UUID) (pipeline.View, error) {
	p, jobs, err := pipeline.Get(ctx, db, id)
	if err != nil {
		return pipeline.View{}, err
	}
	return pipeline.ToView(p, jobs), nil
}

// RecalcRequest is POST /recalculations (docs/api.md §9).
type RecalcRequest struct {
	Year int32
	// Modules to recalculate; empty means every module.
	Modules []emission.ModuleKey
	// OnlyNeeded keeps the modules whose recalculation is requested and
	// not done yet (recalc_requested_seq > recalc_done_seq).
	OnlyNeeded bool
	// Actor is the requesting user (pipeline created_by, audit).
	Actor *int64
}

// ReasonNothingToRecalculate is the 400 of a request with only_needed
// when no module of it needs a recalculation.
const ReasonNothingToRecalculate apperr.Reason = "nothing_to_recalculate"

// EventRecalculationRequest audits POST /recalculations (entity pipeline).
const EventRecalculationRequest = "recalculation.request"

// Recalculate creates a pipeline of kind recalculation with one
// emission_recalc per module (each chains aggregate{year}), in one
// transaction with its audit event. The year must not be closed (409
// year_closed; a missing year is 404, one outside [years.Min, years.Max]
// 422). A forced module (OnlyNeeded false)
// bumps its sequence (ReasonManual), so that a recalculation already
// running for it runs again once done (the follow-up rule); a needed one
// is already requested and is only enqueued. Unknown modules are 422;
// nothing to do with OnlyNeeded is 400 nothing_to_recalculate.
func Recalculate(ctx context.Context, db postgres.DB, enqueue RecalcEnqueuer, req RecalcRequest) (pipeline.View, error) {
	if !years.Valid(int64(req.Year)) {
		return pipeline.View{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: "year", Code: "out_of_range",
			Message: fmt.Sprintf("year must be between %d and %d", years.Min, years.Max)})
	}
	modules, err := checkModules(req.Modules)
	if err != nil {
		return pipeline.View{}, err
	}
	if enqueue == nil {
		return pipeline.View{}, ErrNoQueue()
	}
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		q := dbsqlc.New(tx)
		if _, err := years.Load(ctx, q, req.Year, years.OpRecalc); err != nil {
			return pipeline.View{}, err
		}
		if req.OnlyNeeded {
			states, err := q.ModuleYearStatesByYear(ctx, req.Year)
			if err != nil {
				return pipeline.View{}, fmt.Errorf("error reading the recalculation state of %d: %w", req.Year, err)
			}
			needed := map[string]bool{}
			for _, st := range states {
				needed[st.Module] = st.RecalcRequestedSeq > st.RecalcDoneSeq
			}
			modules = slices.DeleteFunc(modules, func(m emission.ModuleKey) bool { return !needed[string(m)] })
			if len(modules) == 0 {
				return pipeline.View{}, apperr.WithReason(apperr.CodeInvalid, ReasonNothingToRecalculate,
					"nothing needs a recalculation in %d", req.Year)
			}
		}
		var module *string
		if len(modules) == 1 {
			module = new(string(modules[0]))
		}
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
			Year: &req.Year, Module: module, CreatedBy: req.Actor})
		if err != nil {
			return pipeline.View{}, err
		}
		names := make([]string, len(modules))
		for i, m := range modules {
			names[i] = string(m)
			if req.OnlyNeeded {
				err = enqueue(ctx, tx, p.ID, req.Year, m)
			} else {
				err = RequestTx(ctx, tx, enqueue, p.ID, req.Year, m, ReasonManual)
			}
			if err != nil {
				return pipeline.View{}, err
			}
		}
		if err := audit.Record(ctx, tx, req.Actor, audit.Event{Action: audit.ActionCreate, Event: EventRecalculationRequest,
			EntityType: "pipeline", EntityID: p.ID.String(),
			Snapshot: map[string]any{"year": req.Year, "modules": names, "only_needed": req.OnlyNeeded}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing the recalculation request: %w", err)
		}
		return PipelineView(ctx, tx, p.ID)
	})
}

// checkModules validates the requested modules (422 invalid_enum on
// modules[i]) and returns them in catalogue order without duplicates;
// none means every module.
func checkModules(in []emission.ModuleKey) ([]emission.ModuleKey, error) {
	var out []emission.ModuleKey
	var bad []apperr.FieldError
	for i, m := range in {
		if _, ok := emission.LookupModule(m); !ok {
			bad = append(bad, apperr.FieldError{Field: "modules[" + strconv.Itoa(i) + "]", Code: "invalid_enum",
				Message: fmt.Sprintf("unknown module %q", m)})
		}
	}
	if len(bad) > 0 {
		return nil, apperr.Validation(fmt.Sprintf("%d fields are invalid", len(bad)), bad...)
	}
	for _, info := range emission.Modules() {
		if len(in) == 0 || slices.Contains(in, info.Key) {
			out = append(out, info.Key)
		}
	}
	return out, nil
}
