//nolint:goconst // JSON, audit and field names read better as literals
package factors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Computed research-facility factors (docs/domain.md §7.6): the sums of a
// facility or animal-facility factor come from the emission rows of the
// facility's own report — the unit whose cf is the factor's
// researchfacility_id, for the factor's year — summed over emission-type
// prefixes (R2.6). POST /factors/compute requests the refresh (pipeline
// factor_compute); the factor_import job's computed path runs Compute.

// computeSubmodules are the submodules whose factors can be computed.
var computeSubmodules = []emission.SubmoduleKey{emission.SubFacility, emission.SubAnimalFacility}

// The warnings of a factor left unchanged by the refresh (row errors of the
// job, severity warning).
const (
	CodeUnknownUnit = "unknown_unit" // no unit has the researchfacility_id as cf
	CodeNoReport    = "no_report"    // the unit has no report for the year
)

// RequestCompute creates a pipeline (factor_compute) with the computed
// factor_import of (year, submodule) and audits factor.compute. The
// submodule must be facility or animal_facility (422); the year must not
// be closed (409; missing: 404).
func (s *Service) RequestCompute(ctx context.Context, actor *int64, year int32, submodule string) (pipeline.View, error) {
	sub := emission.SubmoduleKey(submodule)
	if !computable(sub) {
		return pipeline.View{}, invalid([]apperr.FieldError{fieldErr("submodule", "invalid_enum", "submodule must be facility or animal_facility")})
	}
	if !years.Valid(int64(year)) {
		return pipeline.View{}, invalid([]apperr.FieldError{fieldErr("year", "out_of_range", "year must be between %d and %d", years.Min, years.Max)})
	}
	if s.EnqueueCompute == nil {
		return pipeline.View{}, calc.ErrNoQueue()
	}
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		if _, err := years.Load(ctx, dbsqlc.New(tx), year, years.OpRecalc); err != nil {
			return pipeline.View{}, err
		}
		module := string(emission.ModuleOf(sub))
		p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindFactorCompute, Trigger: pipeline.TriggerUser,
			Year: &year, Module: &module, Submodule: &submodule, CreatedBy: actor})
		if err != nil {
			return pipeline.View{}, err
		}
		if err := s.EnqueueCompute(ctx, tx, p.ID, year, sub); err != nil {
			return pipeline.View{}, err
		}
		if err := audit.Record(ctx, tx, actor, audit.Event{Action: audit.ActionCreate, Event: EventCompute, EntityType: entityFactor,
			EntityID: strconv.Itoa(int(year)) + "/" + submodule,
			Snapshot: map[string]any{"year": year, "submodule": submodule, "pipeline_id": p.ID.String()}}); err != nil {
			return pipeline.View{}, fmt.Errorf("error auditing %s: %w", EventCompute, err)
		}
		return calc.PipelineView(ctx, tx, p.ID)
	})
}

func computable(sub emission.SubmoduleKey) bool { return slices.Contains(computeSubmodules, sub) }

// ComputeOutcome is what a computed refresh hands its job to finish with:
// the pipeline result and the module-year whose recalculation it
// requested (to enqueue after the job's completion).
type ComputeOutcome struct {
	Result pipeline.Result
	Year   int32
	Module emission.ModuleKey
}

// Finish completes the job of a refresh inside its transaction (result,
// JobCompleteTx, the emission_recalc it chains).
type Finish func(ctx context.Context, tx pgx.Tx, out ComputeOutcome) error

// sumSources are the emission-type prefixes summed into each computed
// value (docs/domain.md §7.6): included prefixes minus excluded ones.
var sumSources = []struct {
	key                string
	include, exclude   []emission.EmissionType
	facility, animalOK bool
}{
	{key: keyKgSum, facility: true,
		include: []emission.EmissionType{"process_emissions", "buildings", "equipment", "purchases"},
		exclude: []emission.EmissionType{"buildings.construction_and_renovation"}},
	{key: "kg_co2eq_sum_process_emissions", animalOK: true, include: []emission.EmissionType{"process_emissions"}},
	{key: "kg_co2eq_sum_buildings_energy_combustion", animalOK: true, include: []emission.EmissionType{"buildings.combustion"}},
	{key: "kg_co2eq_sum_buildings_rooms", animalOK: true, include: []emission.EmissionType{"buildings.rooms"}},
	{key: "kg_co2eq_sum_purchases_common", animalOK: true, include: []emission.EmissionType{"purchases"},
		exclude: []emission.EmissionType{"purchases.additional"}},
	{key: "kg_co2eq_sum_purchases_additional", animalOK: true, include: []emission.EmissionType{"purchases.additional"}},
	{key: "kg_co2eq_sum_equipment", animalOK: true, include: []emission.EmissionType{"equipment"}},
}

// ComputedSums sums a report's kg per emission type (leaves) into the
// computed values of a factor of sub (docs/domain.md §7.6).
func ComputedSums(sub emission.SubmoduleKey, byType map[emission.EmissionType]float64) map[string]float64 {
	out := map[string]float64{}
	for _, src := range sumSources {
		if (sub == emission.SubFacility && !src.facility) || (sub == emission.SubAnimalFacility && !src.animalOK) {
			continue
		}
		var kg float64
		for et, v := range byType {
			if under(et, src.include) && !under(et, src.exclude) {
				kg += v
			}
		}
		out[src.key] = kg
	}
	return out
}

func under(et emission.EmissionType, prefixes []emission.EmissionType) bool {
	for _, p := range prefixes {
		if emission.IsUnder(et, p) {
			return true
		}
	}
	return false
}

// Compute refreshes the computed factors of (year, submodule) in one
// transaction under the module-year lock: for each factor, the facility
// unit's report for the year gives the sums (a facility kg_co2eq_sum given
// by a person, kg_co2eq_sum_from_csv, is kept); a missing unit or report
// leaves the factor unchanged with a warning. Changed factors get source
// computed and a factor.update audit event (actor: system); the
// module-year's recalculation is requested (reason factors) and finish
// completes the job. A submodule that cannot be computed is a permanent
// failure, a closed year too (year_closed).
func (s *Service) Compute(ctx context.Context, year int32, sub emission.SubmoduleKey, finish Finish) error {
	if !computable(sub) {
		return apperr.Invalid("factors of %q cannot be computed (facility or animal_facility)", sub)
	}
	module := emission.ModuleOf(sub)
	rep := pipeline.ReporterFrom(ctx)
	return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if err := lockYear(ctx, q, year, module); err != nil {
			return err
		}
		rows, err := q.FactorsByYearSubmodule(ctx, dbsqlc.FactorsByYearSubmoduleParams{Year: year, Submodule: string(sub)})
		if err != nil {
			return fmt.Errorf("error reading the %s factors of %d: %w", sub, year, err)
		}
		total := int64(len(rows))
		rep.Progress(ctx, "import", 0, total, fmt.Sprintf("Computing %d factors", total))
		var warns []ingest.RowError
		changed, unchanged := 0, 0
		for i, r := range rows {
			f, err := toFactor(r, nil)
			if err != nil {
				return err
			}
			sums, warn, err := reportSums(ctx, q, year, sub, f, i+1)
			if err != nil {
				return err
			}
			if warn != nil {
				warns = append(warns, *warn)
				unchanged++
				continue
			}
			vals := maps.Clone(f.Values)
			fromCSV, _ := vals[keySumFromCSV].(bool)
			for k, v := range sums {
				if k == keyKgSum && fromCSV {
					continue
				}
				vals[k] = v
			}
			if sameValues(f.Values, vals) && r.Source == SourceComputed {
				unchanged++
				continue
			}
			valsJSON, err := jsonOf(vals)
			if err != nil {
				return err
			}
			upd, err := q.FactorUpdate(ctx, dbsqlc.FactorUpdateParams{ID: r.ID, EmissionType: r.EmissionType, Classification: r.Classification,
				ClassKey: r.ClassKey, Values: valsJSON, Source: SourceComputed})
			if err != nil {
				return fmt.Errorf("error storing computed factor %d: %w", r.ID, err)
			}
			if err := recordFactor(ctx, tx, nil, audit.ActionUpdate, EventUpdate, upd, &r, ""); err != nil {
				return err
			}
			changed++
			rep.Progress(ctx, "import", int64(i+1), total, fmt.Sprintf("Computed %d of %d factors", i+1, total))
		}
		if _, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: year, Module: string(module), Reason: calc.ReasonFactors}); err != nil {
			return fmt.Errorf("error requesting recalculation: %w", err)
		}
		list := warns
		if len(list) > maxRowErrors {
			list = list[:maxRowErrors]
		}
		if list == nil {
			list = []ingest.RowError{}
		}
		return finish(ctx, tx, ComputeOutcome{Year: year, Module: module, Result: pipeline.Result{
			Counters:  map[string]any{"factors_computed": changed, "factors_unchanged": unchanged, "row_warnings": len(warns)},
			RowErrors: list, RowErrorsTotal: len(warns),
			Message: fmt.Sprintf("%d %s factors computed, %d unchanged, %d warnings", changed, sub, unchanged, len(warns)),
		}})
	})
}

// maxRowErrors is the number of warnings kept in the job's result (as
// imports keep row errors, docs/jobs.md §3).
const maxRowErrors = 100

// reportSums returns the sums of factor f (row n of the refresh) from its
// facility's report, or a warning when the unit or its report is missing.
func reportSums(ctx context.Context, q *dbsqlc.Queries, year int32, sub emission.SubmoduleKey, f Factor, n int) (map[string]float64, *ingest.RowError, error) {
	cf := f.Classification["researchfacility_id"]
	col := "researchfacility_id"
	warn := func(code, msg string) *ingest.RowError {
		return &ingest.RowError{Row: n, Column: &col, Code: code, Message: msg, Value: cf, Severity: ingest.SeverityWarning}
	}
	unit, err := q.UnitGetByCF(ctx, cf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, warn(CodeUnknownUnit, fmt.Sprintf("no unit has cf %q: factor %d (%s) left unchanged", cf, f.ID, f.Classification["researchfacility_name"])), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("error reading unit %s: %w", cf, err)
	}
	rep, err := q.ReportGetByUnitYear(ctx, dbsqlc.ReportGetByUnitYearParams{UnitID: unit.ID, Year: year})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, warn(CodeNoReport, fmt.Sprintf("unit %s has no report for %d: factor %d left unchanged", cf, year, f.ID)), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("error reading the report of unit %s: %w", cf, err)
	}
	rows, err := q.ReportEmissionsByType(ctx, rep.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("error summing the emissions of report %d: %w", rep.ID, err)
	}
	byType := make(map[emission.EmissionType]float64, len(rows))
	for _, r := range rows {
		byType[emission.EmissionType(r.EmissionType)] = r.KgCo2eq
	}
	return ComputedSums(sub, byType), nil, nil
}

// sameValues compares stored values with refreshed ones (numbers within
// 1e-9 relative).
func sameValues(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		fa, aNum := va.(float64)
		fb, bNum := vb.(float64)
		switch {
		case aNum && bNum:
			if d := math.Abs(fa - fb); d > 1e-9*math.Max(math.Abs(fa), math.Abs(fb)) {
				return false
			}
		case va != vb:
			return false
		}
	}
	return true
}
