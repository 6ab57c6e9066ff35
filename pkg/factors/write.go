//nolint:goconst // JSON, audit and field names read better as literals
package factors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// The audit events of factors (docs/jobs.md §11.1; entity factor/<id>,
// factor/<year>[/<submodule>] for a purge or a computed refresh).
const (
	EventCreate  = "factor.create"
	EventUpdate  = "factor.update"
	EventDelete  = "factor.delete"
	EventPurge   = "factor.purge"
	EventCompute = "factor.compute"

	entityFactor = "factor"
)

// Input is the body of POST /factors.
type Input struct {
	Year      int32
	Submodule string
	// Classification and Values as decoded from JSON (strings, numbers,
	// null for absent).
	Classification map[string]any
	Values         map[string]any
}

// Patch is the body of PATCH /factors/{id}: each map is merged into the
// factor's (a key replaces the stored value, null removes it); a nil map
// leaves that part as it is. The whole factor is then validated again.
type Patch struct {
	Classification map[string]any
	Values         map[string]any
}

// Written is the answer of a change: the factor (absent for a delete) and
// the pipeline of the recalculation it requested.
type Written struct {
	Factor   Factor
	Pipeline pipeline.View
}

// Create validates and stores a new factor (source api) and requests the
// recalculation of its module-year. A factor with the same identity is 409
// factor_exists.
func (s *Service) Create(ctx context.Context, actor *int64, in Input) (Written, error) {
	var bad []apperr.FieldError
	if !years.Valid(int64(in.Year)) {
		bad = append(bad, fieldErr("year", "out_of_range", "year must be between %d and %d", years.Min, years.Max))
	}
	sub, err := checkSubmodule("submodule", in.Submodule)
	if err != nil {
		return Written{}, err
	}
	if len(bad) > 0 {
		return Written{}, invalid(bad)
	}
	row, err := parse(sub, in.Classification, in.Values)
	if err != nil {
		return Written{}, err
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) (Written, error) {
		q := dbsqlc.New(tx)
		if err := lockYear(ctx, q, in.Year, row.Module); err != nil {
			return Written{}, err
		}
		cls, vals, err := encode(row)
		if err != nil {
			return Written{}, err
		}
		f, err := q.FactorInsert(ctx, dbsqlc.FactorInsertParams{Year: in.Year, Module: string(row.Module), Submodule: string(row.Submodule),
			EmissionType: string(row.EmissionType), Classification: cls, ClassKey: row.ClassKey, Values: vals, Source: SourceAPI, UpdatedBy: actor})
		if errors.Is(err, pgx.ErrNoRows) {
			return Written{}, errExists(in.Year, row)
		}
		if err != nil {
			return Written{}, fmt.Errorf("error creating a factor: %w", err)
		}
		return s.finish(ctx, tx, actor, f, audit.ActionCreate, EventCreate, nil)
	})
}

// Update merges p into factor id, validates the result like a CSV row,
// stores it (source api; the identity follows the classification, 409
// factor_exists when another factor has it) and requests the
// recalculation of the module-year. version, when set, must be the
// factor's current version (412 otherwise: the loser of two concurrent
// edits).
func (s *Service) Update(ctx context.Context, actor *int64, id int64, p Patch, version *int64) (Written, error) {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) (Written, error) {
		q := dbsqlc.New(tx)
		cur, err := s.lockFactor(ctx, q, id, version)
		if err != nil {
			return Written{}, err
		}
		old, err := toFactor(cur, nil)
		if err != nil {
			return Written{}, err
		}
		cls, vals := asAny(old.Classification), old.Values
		if p.Classification != nil {
			cls = merge(old.Submodule, cls, p.Classification)
		}
		if p.Values != nil {
			vals = merge(old.Submodule, vals, p.Values)
		}
		row, err := parse(old.Submodule, cls, vals)
		if err != nil {
			return Written{}, err
		}
		keepComputedSum(row, old, p)
		clsJSON, valsJSON, err := encode(row)
		if err != nil {
			return Written{}, err
		}
		f, err := q.FactorUpdate(ctx, dbsqlc.FactorUpdateParams{ID: id, EmissionType: string(row.EmissionType), Classification: clsJSON,
			ClassKey: row.ClassKey, Values: valsJSON, Source: SourceAPI, UpdatedBy: actor})
		if isUniqueViolation(err) {
			return Written{}, errExists(old.Year, row)
		}
		if err != nil {
			return Written{}, fmt.Errorf("error updating factor %d: %w", id, err)
		}
		return s.finish(ctx, tx, actor, f, audit.ActionUpdate, EventUpdate, &cur)
	})
}

// Delete deletes factor id and requests the recalculation of its
// module-year: entries that used it get no_factor (or another matching
// factor) when recalculated; until then their rows keep their kg with a
// null factor id. version as in Update.
func (s *Service) Delete(ctx context.Context, actor *int64, id int64, version *int64) (pipeline.View, error) {
	w, err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) (Written, error) {
		q := dbsqlc.New(tx)
		cur, err := s.lockFactor(ctx, q, id, version)
		if err != nil {
			return Written{}, err
		}
		if _, err := q.FactorDelete(ctx, id); err != nil {
			return Written{}, fmt.Errorf("error deleting factor %d: %w", id, err)
		}
		return s.finish(ctx, tx, actor, cur, audit.ActionDelete, EventDelete, nil)
	})
	return w.Pipeline, err
}

// Purged is the answer of PurgeStale.
type Purged struct {
	Deleted  int
	Pipeline pipeline.View
}

// PurgeStale deletes the stale factors of year (of one submodule when
// given) and requests the recalculation of every module-year that lost
// one, in one pipeline (factor_edit). Nothing stale is 400
// nothing_to_purge.
func (s *Service) PurgeStale(ctx context.Context, actor *int64, year int32, submodule string) (Purged, error) {
	if !years.Valid(int64(year)) {
		return Purged{}, invalid([]apperr.FieldError{fieldErr("year", "out_of_range", "year must be between %d and %d", years.Min, years.Max)})
	}
	var sub emission.SubmoduleKey
	modules := emission.Modules()
	if submodule != "" {
		var err error
		if sub, err = checkSubmodule("submodule", submodule); err != nil {
			return Purged{}, err
		}
		m, _ := emission.LookupModule(emission.ModuleOf(sub))
		modules = []emission.ModuleInfo{m}
	}
	if s.Recalc == nil {
		return Purged{}, calc.ErrNoQueue()
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (Purged, error) {
		q := dbsqlc.New(tx)
		if _, err := years.Load(ctx, q, year, years.OpRecalc); err != nil {
			return Purged{}, err
		}
		// The module-year locks in catalogue order, as factor imports take
		// them (one each): no lock cycle.
		for _, m := range modules {
			if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(m.Key), year)); err != nil {
				return Purged{}, fmt.Errorf("error locking %s/%d: %w", m.Key, year, err)
			}
		}
		gone, err := q.FactorsDeleteStale(ctx, dbsqlc.FactorsDeleteStaleParams{Year: year, Submodule: nonEmpty(string(sub))})
		if err != nil {
			return Purged{}, fmt.Errorf("error purging stale factors: %w", err)
		}
		if len(gone) == 0 {
			return Purged{}, apperr.WithReason(apperr.CodeInvalid, ReasonNothingToPurge, "no stale factor to purge in %d", year)
		}
		var affected []emission.ModuleKey
		deleted := make([]map[string]any, len(gone))
		for i, g := range gone {
			if m := emission.ModuleKey(g.Module); !slices.Contains(affected, m) {
				affected = append(affected, m)
			}
			deleted[i] = map[string]any{"id": g.ID, "submodule": g.Submodule, "class_key": g.ClassKey,
				"classification": g.Classification, "values": g.Values}
		}
		var module *string
		if len(affected) == 1 {
			module = new(string(affected[0]))
		}
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindFactorEdit, Trigger: pipeline.TriggerUser,
			Year: &year, Module: module, Submodule: nonEmpty(string(sub)), CreatedBy: actor})
		if err != nil {
			return Purged{}, err
		}
		for _, m := range affected {
			if err := calc.RequestTx(ctx, tx, s.Recalc, p.ID, year, m, calc.ReasonFactors); err != nil {
				return Purged{}, err
			}
		}
		entity := strconv.Itoa(int(year))
		if sub != "" {
			entity += "/" + string(sub)
		}
		if err := audit.Record(ctx, tx, actor, audit.Event{Action: audit.ActionDelete, Event: EventPurge, EntityType: entityFactor, EntityID: entity,
			Snapshot: map[string]any{"year": year, "submodule": string(sub), "deleted": deleted, "pipeline_id": p.ID.String()}}); err != nil {
			return Purged{}, fmt.Errorf("error auditing %s: %w", EventPurge, err)
		}
		v, err := calc.PipelineView(ctx, tx, p.ID)
		return Purged{Deleted: len(gone), Pipeline: v}, err
	})
}

// write runs a change of one factor in a transaction (503 without a job
// queue: every change enqueues).
func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) (Written, error)) (Written, error) {
	if s.Recalc == nil {
		return Written{}, calc.ErrNoQueue()
	}
	return postgres.WithTxV(ctx, s.DB, fn)
}

// lockYear checks that year accepts factor changes and takes the lock of
// the module-year (the factor writers of a module-year are serialised, as
// factor imports are).
func lockYear(ctx context.Context, q *dbsqlc.Queries, year int32, module emission.ModuleKey) error {
	if _, err := years.Load(ctx, q, year, years.OpRecalc); err != nil {
		return err
	}
	if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(string(module), year)); err != nil {
		return fmt.Errorf("error locking %s/%d: %w", module, year, err)
	}
	return nil
}

// lockFactor reads factor id, checks its year, takes the module-year lock,
// then locks the row and checks version (412). The module-year lock comes
// first, as in factor imports (which lock rows under it).
func (s *Service) lockFactor(ctx context.Context, q *dbsqlc.Queries, id int64, version *int64) (dbsqlc.Factor, error) {
	f, err := q.FactorGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, errNotFound(id)
	}
	if err != nil {
		return f, fmt.Errorf("error reading factor %d: %w", id, err)
	}
	if err := lockYear(ctx, q, f.Year, emission.ModuleKey(f.Module)); err != nil {
		return f, err
	}
	f, err = q.FactorGetForUpdate(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, errNotFound(id) // deleted meanwhile
	}
	if err != nil {
		return f, fmt.Errorf("error locking factor %d: %w", id, err)
	}
	if version != nil && *version != f.Version {
		return f, apperr.New(apperr.CodePrecondition, "factor %d changed: it is at version %d, not %d", id, f.Version, *version)
	}
	return f, nil
}

// finish ends a change of factor f (as deleted, for a delete) in tx: the
// pipeline with the recalculation of the module-year, the audit event, and
// the answer.
func (s *Service) finish(ctx context.Context, tx pgx.Tx, actor *int64, f dbsqlc.Factor, action, event string, before *dbsqlc.Factor) (Written, error) {
	p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindFactorEdit, Trigger: pipeline.TriggerUser,
		Year: &f.Year, Module: &f.Module, Submodule: &f.Submodule, CreatedBy: actor})
	if err != nil {
		return Written{}, err
	}
	if err := calc.RequestTx(ctx, tx, s.Recalc, p.ID, f.Year, emission.ModuleKey(f.Module), calc.ReasonFactors); err != nil {
		return Written{}, err
	}
	if err := recordFactor(ctx, tx, actor, action, event, f, before, p.ID.String()); err != nil {
		return Written{}, err
	}
	v, err := calc.PipelineView(ctx, tx, p.ID)
	if err != nil {
		return Written{}, err
	}
	out := Written{Pipeline: v}
	if action != audit.ActionDelete {
		// Read back with its stale flag (an edited factor keeps the upload
		// that asserted it; a created one has none).
		r, err := dbsqlc.New(tx).FactorGetWithStale(ctx, f.ID)
		if err != nil {
			return out, fmt.Errorf("error reading factor %d: %w", f.ID, err)
		}
		if out.Factor, err = toFactor(r.Factor, r.Stale); err != nil {
			return out, err
		}
	}
	return out, nil
}

// recordFactor writes the audit event of a change of one factor: the
// snapshot is its classification and values (after the change; before it
// for a delete), diffed by the audit writer against the previous version —
// or against before (the factor as it was) when the factor has no audited
// version yet (loaded by a factor import).
func recordFactor(ctx context.Context, db postgres.DBTX, actor *int64, action, event string, f dbsqlc.Factor, before *dbsqlc.Factor, pipelineID string) error {
	ev := audit.Event{Action: action, Event: event, EntityType: entityFactor,
		EntityID: strconv.FormatInt(f.ID, 10), Snapshot: factorSnapshot(f, pipelineID)}
	if before != nil {
		ev.Before = factorSnapshot(*before, pipelineID)
	}
	if err := audit.Record(ctx, db, actor, ev); err != nil {
		return fmt.Errorf("error auditing %s of factor %d: %w", event, f.ID, err)
	}
	return nil
}

// factorSnapshot is the audited state of a factor.
func factorSnapshot(f dbsqlc.Factor, pipelineID string) map[string]any {
	snapshot := map[string]any{"year": f.Year, "module": f.Module, "submodule": f.Submodule, "emission_type": f.EmissionType,
		"classification": f.Classification, "values": f.Values, "source": f.Source}
	if pipelineID != "" {
		snapshot["pipeline_id"] = pipelineID
	}
	return snapshot
}

// keepComputedSum: a facility kg_co2eq_sum that the computed refresh set
// (no kg_co2eq_sum_from_csv) stays computed when an edit does not give it,
// so that the next refresh still updates it.
func keepComputedSum(row ingest.FactorRow, old Factor, p Patch) {
	if row.Submodule != emission.SubFacility {
		return
	}
	if _, given := p.Values[keyKgSum]; given {
		return
	}
	if fromCSV, _ := old.Values[keySumFromCSV].(bool); !fromCSV {
		delete(row.Values, keySumFromCSV)
	}
}

func encode(row ingest.FactorRow) (cls, vals json.RawMessage, err error) {
	if cls, err = json.Marshal(row.Classification); err != nil {
		return nil, nil, fmt.Errorf("error encoding a classification: %w", err)
	}
	if vals, err = json.Marshal(row.Values); err != nil {
		return nil, nil, fmt.Errorf("error encoding factor values: %w", err)
	}
	return cls, vals, nil
}

func errExists(year int32, row ingest.FactorRow) error {
	e := apperr.WithReason(apperr.CodeConflict, ReasonFactorExists, "a %s factor of %d with this classification exists (%s)",
		row.Submodule, year, row.ClassKey)
	e.Fields = []apperr.FieldError{{Field: "classification", Code: string(ReasonFactorExists), Message: e.Message}}
	return e
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func jsonOf(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("error encoding factor values: %w", err)
	}
	return b, nil
}
