package entry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// subConfig is the year configuration of one submodule (docs/domain.md §11.2).
type subConfig struct {
	ModuleEnabled  bool
	Enabled        bool
	ThresholdKg    *float64
	InputsDisabled bool
	EnabledModules []string
}

type yearConfig struct {
	Modules map[string]struct {
		Enabled    *bool `json:"enabled"`
		Submodules map[string]struct {
			Enabled        *bool    `json:"enabled"`
			ThresholdKg    *float64 `json:"threshold_kg"`
			InputsDisabled bool     `json:"inputs_disabled"`
		} `json:"submodules"`
	} `json:"modules"`
}

func parseSubConfig(raw json.RawMessage, module emission.ModuleKey, sub emission.SubmoduleKey) subConfig {
	out := subConfig{ModuleEnabled: true, Enabled: true}
	var cfg yearConfig
	if len(raw) == 0 || json.Unmarshal(raw, &cfg) != nil {
		for _, m := range emission.Modules() {
			out.EnabledModules = append(out.EnabledModules, string(m.Key))
		}
		return out
	}
	for _, m := range emission.Modules() {
		mc, ok := cfg.Modules[string(m.Key)]
		if !ok || mc.Enabled == nil || *mc.Enabled {
			out.EnabledModules = append(out.EnabledModules, string(m.Key))
		}
	}
	mc, ok := cfg.Modules[string(module)]
	if !ok {
		return out
	}
	out.ModuleEnabled = mc.Enabled == nil || *mc.Enabled
	if sc, ok := mc.Submodules[string(sub)]; ok {
		out.Enabled = sc.Enabled == nil || *sc.Enabled
		out.ThresholdKg = sc.ThresholdKg
		out.InputsDisabled = sc.InputsDisabled
	}
	return out
}

// CheckSubmodule reports whether module and submodule name an entry
// submodule of the catalogue (404 otherwise).
func CheckSubmodule(module emission.ModuleKey, sub emission.SubmoduleKey) error {
	info, ok := emission.LookupSubmodule(sub)
	if !ok || info.Module != module || info.FactorsOnly {
		return apperr.NotFound("no submodule %q in module %q", sub, module)
	}
	return nil
}

// resolved is a URL scope checked against the database.
type resolved struct {
	Scope
	rm   dbsqlc.ReportModule
	year dbsqlc.Year
	cfg  subConfig
}

// resolve checks the catalogue, the year and the report module of a scope.
// For writes the year must be open (D5) and the submodule must accept
// input.
// loadYearModule reads the year and the unit's report module of a URL
// scope; a missing one is 404.
func loadYearModule(ctx context.Context, q *dbsqlc.Queries, unitID int64, yr int32, module emission.ModuleKey) (dbsqlc.Year, dbsqlc.ReportModule, error) {
	y, err := years.Get(ctx, q, yr)
	if err != nil {
		return y, dbsqlc.ReportModule{}, err
	}
	rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
		UnitID: unitID, Year: yr, Module: string(module),
	})
	if err != nil {
		if isNoRows(err) {
			return y, rm, apperr.NotFound("no report of unit %d for %d", unitID, yr)
		}
		return y, rm, fmt.Errorf("error loading report module: %w", err)
	}
	return y, rm, nil
}

func resolve(ctx context.Context, q *dbsqlc.Queries, sc Scope, write bool) (*resolved, error) {
	if err := CheckSubmodule(sc.Module, sc.Submodule); err != nil {
		return nil, err
	}
	y, rm, err := loadYearModule(ctx, q, sc.UnitID, sc.Year, sc.Module)
	if err != nil {
		return nil, err
	}
	r := &resolved{Scope: sc, rm: rm, year: y, cfg: parseSubConfig(y.Config, sc.Module, sc.Submodule)}
	if write {
		if err := years.Allow(y.Year, years.Status(y.Status), years.OpDataEntry); err != nil {
			return nil, err
		}
		if r.cfg.InputsDisabled {
			return nil, apperr.New(apperr.CodeConflict, "data entry is disabled for %s in %d", sc.Submodule, sc.Year)
		}
	}
	return r, nil
}
