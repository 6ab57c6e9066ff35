package report

import (
	"context"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// Totals are the figures of one report for a basis (validated or all, D9),
// rounded at the edge (docs/domain.md §1): what the unit report exports
// print (docs/jobs.md §7), from the stored statistics like every results
// endpoint.
type Totals struct {
	Basis        string
	TCO2eq       float64
	FTE          *float64
	TCO2eqPerFTE *float64
	ITTCO2eq     float64
	// ByScopeTCO2eq is keyed "1", "2", "3"; ByModuleTCO2eq by module and
	// ByCategoryTCO2eq by chart category, both holding the included modules
	// only.
	ByScopeTCO2eq    map[string]float64
	ByModuleTCO2eq   map[string]float64
	ByCategoryTCO2eq map[string]float64
}

// GetTotals sums the report's included modules for opt.Scope (validated by
// default) after opt.ExcludeModules.
func GetTotals(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt Options) (Totals, error) {
	basis, err := ParseScope(opt.Scope)
	if err != nil {
		return Totals{}, err
	}
	years, err := loadYears(ctx, db, unitID, []int32{year})
	if err != nil {
		return Totals{}, err
	}
	cur := years[year]
	if cur == nil {
		return Totals{}, notFoundReport(unitID, year)
	}
	b := cur.totals(basis, opt.ExcludeModules)
	fte := cur.fte(basis, opt.ExcludeModules)
	out := Totals{
		Basis: basis, TCO2eq: KgToT(b.TotalKg), FTE: optFTE(fte), TCO2eqPerFTE: optT(perFTE(b.TotalKg, fte)),
		ITTCO2eq: KgToT(b.ITKg), ByScopeTCO2eq: map[string]float64{}, ByModuleTCO2eq: map[string]float64{},
		ByCategoryTCO2eq: map[string]float64{},
	}
	for k, v := range b.ByScope {
		out.ByScopeTCO2eq[k] = KgToT(v)
	}
	for k, v := range b.ByModule {
		out.ByModuleTCO2eq[k] = KgToT(v)
	}
	for k, v := range b.ByCategory {
		out.ByCategoryTCO2eq[k] = KgToT(v)
	}
	return out, nil
}
