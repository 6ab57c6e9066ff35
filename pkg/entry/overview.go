package entry

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// ModuleScope is the report module named by a URL
// (/units/{unit}/years/{year}/modules/{module}).
type ModuleScope struct {
	UnitID int64
	Year   int32
	Module emission.ModuleKey
}

// SubmoduleOverview is one submodule of a module overview.
type SubmoduleOverview struct {
	Submodule      string   `json:"submodule"`
	Enabled        bool     `json:"enabled"`
	InputsDisabled bool     `json:"inputs_disabled"`
	ThresholdKg    *float64 `json:"threshold_kg"`
	EntryCount     int64    `json:"entry_count"`
	KgCO2eq        float64  `json:"kg_co2eq"`
	CalcIssues     int64    `json:"calc_issues"`
}

// OverviewTotals are the totals of a module overview (the module page's
// header); FTE only for headcount, kWh only for equipment and buildings.
// EntryCount and CalcIssues are counted from the entries, like the
// submodule figures.
type OverviewTotals struct {
	KgCO2eq           float64            `json:"kg_co2eq"`
	TCO2eq            float64            `json:"t_co2eq"`
	MainKgCO2eq       float64            `json:"main_kg_co2eq"`
	AdditionalKgCO2eq float64            `json:"additional_kg_co2eq"`
	EntryCount        int64              `json:"entry_count"`
	CalcIssues        int64              `json:"calc_issues"`
	FTE               *float64           `json:"fte,omitempty"`
	FTEBySiusCode     map[string]float64 `json:"fte_by_sius_code,omitempty"`
	KWh               *float64           `json:"kwh,omitempty"`
}

// Overview is the module overview of docs/api.md §5 (GET P).
type Overview struct {
	UnitID                    int64               `json:"unit_id"`
	Year                      int32               `json:"year"`
	Module                    string              `json:"module"`
	Status                    string              `json:"status"`
	RecomputedAfterValidation bool                `json:"recomputed_after_validation"`
	Enabled                   bool                `json:"enabled"`
	Uncertainty               string              `json:"uncertainty"`
	Submodules                []SubmoduleOverview `json:"submodules"`
	Totals                    OverviewTotals      `json:"totals"`
	ByScopeKg                 map[string]float64  `json:"by_scope_kg_co2eq"`
	ByCategoryKg              map[string]float64  `json:"by_category_kg_co2eq"`
	ByEmissionTypeKg          map[string]float64  `json:"by_emission_type_kg_co2eq"`
	StatsComputedAt           *time.Time          `json:"stats_computed_at"`
	StatsPending              bool                `json:"stats_pending"`
}

// moduleConfig is the year configuration of one module (docs/domain.md §11.2).
type moduleConfig struct {
	Enabled     *bool  `json:"enabled"`
	Uncertainty string `json:"uncertainty"`
	Submodules  map[string]struct {
		Enabled        *bool    `json:"enabled"`
		ThresholdKg    *float64 `json:"threshold_kg"`
		InputsDisabled bool     `json:"inputs_disabled"`
	} `json:"submodules"`
}

// resolvedModule is a module scope checked against the database.
type resolvedModule struct {
	ModuleScope
	rm   dbsqlc.ReportModule
	info emission.ModuleInfo
	cfg  moduleConfig
}

// resolveModule checks the catalogue, the year and the report module of a
// module scope (404 when any is missing).
func resolveModule(ctx context.Context, q *dbsqlc.Queries, sc ModuleScope) (*resolvedModule, error) {
	info, ok := emission.LookupModule(sc.Module)
	if !ok {
		return nil, apperr.NotFound("unknown module %q", sc.Module)
	}
	y, rm, err := loadYearModule(ctx, q, sc.UnitID, sc.Year, sc.Module)
	if err != nil {
		return nil, err
	}
	r := &resolvedModule{ModuleScope: sc, rm: rm, info: info, cfg: moduleConfig{Uncertainty: "none"}}
	var cfg struct {
		Modules map[string]moduleConfig `json:"modules"`
	}
	if len(y.Config) > 0 && json.Unmarshal(y.Config, &cfg) == nil {
		if mc, ok := cfg.Modules[string(sc.Module)]; ok {
			r.cfg = mc
			if r.cfg.Uncertainty == "" {
				r.cfg.Uncertainty = "none"
			}
		}
	}
	return r, nil
}

// ownTravel reports whether the caller sees only its own trips in a module
// (own-scope rules, docs/domain.md §9.3).
func ownTravel(actor Actor, module emission.ModuleKey) bool {
	return actor.OwnSciper != "" && module == emission.ModuleProfessionalTravel
}

func roundKg(v float64) float64 { return report.RoundKg(v) }

func roundMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = roundKg(v)
	}
	return out
}

// Overview returns the module overview (docs/api.md §5 GET P): totals and
// breakdowns from the module's stored stats, entry counts, calculation
// issues and submodule kg from its entries. For own-scoped travel viewers
// every figure covers their own trips only and is computed from their
// entries (docs/domain.md §9.3).
func (s *Service) Overview(ctx context.Context, actor Actor, sc ModuleScope) (*Overview, error) {
	q := dbsqlc.New(s.DB)
	r, err := resolveModule(ctx, q, sc)
	if err != nil {
		return nil, err
	}
	own := ownTravel(actor, sc.Module)
	out := &Overview{
		UnitID: sc.UnitID, Year: sc.Year, Module: string(sc.Module), Status: r.rm.Status,
		RecomputedAfterValidation: r.rm.RecomputedAfterValidation,
		Enabled:                   r.cfg.Enabled == nil || *r.cfg.Enabled,
		Uncertainty:               r.cfg.Uncertainty,
	}
	subs, err := s.submoduleTotals(ctx, r, actor, own)
	if err != nil {
		return nil, err
	}
	for _, sub := range r.info.Submodules {
		if info, ok := emission.LookupSubmodule(sub); ok && info.FactorsOnly {
			continue
		}
		so := SubmoduleOverview{Submodule: string(sub), Enabled: true}
		if c, ok := r.cfg.Submodules[string(sub)]; ok {
			so.Enabled = c.Enabled == nil || *c.Enabled
			so.ThresholdKg, so.InputsDisabled = c.ThresholdKg, c.InputsDisabled
		}
		t := subs[string(sub)]
		so.EntryCount, so.KgCO2eq, so.CalcIssues = t.count, roundKg(t.kg), t.calcIssues
		out.Submodules = append(out.Submodules, so)
	}
	var entryCount, calcIssues int64
	for _, t := range subs {
		entryCount += t.count
		calcIssues += t.calcIssues
	}

	var st *report.ModuleStats
	if own {
		if st, err = s.ownStats(ctx, r, actor.OwnSciper); err != nil {
			return nil, err
		}
		now := s.now()
		out.StatsComputedAt = &now
	} else {
		if st, err = report.DecodeModuleStats(r.rm.Stats); err != nil {
			return nil, err
		}
		if !st.ComputedAt.IsZero() {
			at := st.ComputedAt.UTC()
			out.StatsComputedAt = &at
		}
		out.StatsPending = r.rm.StatsDirtyAt != nil
	}
	out.Totals = OverviewTotals{
		KgCO2eq: roundKg(st.TotalKg), TCO2eq: report.KgToT(st.TotalKg),
		MainKgCO2eq: roundKg(st.MainKg), AdditionalKgCO2eq: roundKg(st.AdditionalKg),
		EntryCount: entryCount, CalcIssues: calcIssues,
	}
	if sc.Module == emission.ModuleHeadcount {
		fte, by := 0.0, map[string]float64{}
		if st.FTE != nil {
			fte = report.RoundFTE(st.FTE.Total)
			for k, v := range st.FTE.BySiusCode {
				by[k] = report.RoundFTE(v)
			}
		}
		out.Totals.FTE, out.Totals.FTEBySiusCode = &fte, by
	}
	if sc.Module == emission.ModuleEquipment || sc.Module == emission.ModuleBuildings {
		kwh := 0.0
		for _, qty := range st.QuantityByEmissionType {
			if qty.Unit == emission.UnitKWh {
				kwh += qty.Value
			}
		}
		kwh = math.Round(kwh*100) / 100
		out.Totals.KWh = &kwh
	}
	out.ByScopeKg = roundMap(st.ByScope)
	out.ByCategoryKg = roundMap(st.ByCategory)
	out.ByEmissionTypeKg = roundMap(st.ByEmissionType)
	return out, nil
}

type subTotal struct {
	count      int64
	kg         float64
	calcIssues int64
}

// submoduleTotals counts the entries and sums their kg per submodule (own
// trips only for own-scoped travel viewers).
func (s *Service) submoduleTotals(ctx context.Context, r *resolvedModule, actor Actor, own bool) (map[string]subTotal, error) {
	var owner *string
	if own {
		owner = &actor.OwnSciper
	}
	rows, err := dbsqlc.New(s.DB).EntrySubmoduleTotals(ctx, dbsqlc.EntrySubmoduleTotalsParams{
		ReportModuleID: r.rm.ID, OwnerSciper: owner,
	})
	if err != nil {
		return nil, fmt.Errorf("error counting entries: %w", err)
	}
	out := make(map[string]subTotal, len(rows))
	for _, row := range rows {
		out[row.Submodule] = subTotal{count: row.Entries, kg: row.KgCo2eq, calcIssues: row.CalcIssues}
	}
	return out, nil
}

// ownStats computes the stats of the caller's own trips from their
// emission rows (they are few).
func (s *Service) ownStats(ctx context.Context, r *resolvedModule, sciper string) (*report.ModuleStats, error) {
	st, err := report.DecodeModuleStats(nil)
	if err != nil {
		return nil, err
	}
	rows, err := dbsqlc.New(s.DB).OwnTripEmissionTotals(ctx, dbsqlc.OwnTripEmissionTotalsParams{
		ReportModuleID: r.rm.ID, OwnerSciper: &sciper,
	})
	if err != nil {
		return nil, fmt.Errorf("error aggregating own trips: %w", err)
	}
	for _, row := range rows {
		st.ByScope[strconv.Itoa(int(row.Scope))] += row.KgCo2eq
		st.ByCategory[row.Category] += row.KgCo2eq
		st.ByEmissionType[row.EmissionType] += row.KgCo2eq
		if emission.Category(row.Category).IsAdditional() {
			st.AdditionalKg += row.KgCo2eq
		} else {
			st.MainKg += row.KgCo2eq
		}
	}
	st.TotalKg = st.MainKg + st.AdditionalKg
	return st, nil
}
