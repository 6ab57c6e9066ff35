package entry

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Breakdown kinds (docs/api.md §5 P/breakdown?by=).
const (
	BreakdownClass    = "class"
	BreakdownTopClass = "top_class"
	// restName names the remainder after the top classes.
	restName = "rest"
	topN     = 3
)

// BreakdownChild is one class of a breakdown node.
type BreakdownChild struct {
	Name    string   `json:"name"`
	Label   *string  `json:"label,omitempty"`
	KgCO2eq float64  `json:"kg_co2eq"`
	Percent *float64 `json:"percent,omitempty"`
}

// BreakdownNode is one transport mode (by=class) or one submodule
// (by=top_class) with its classes.
type BreakdownNode struct {
	Name      string           `json:"name,omitempty"`
	Submodule string           `json:"submodule,omitempty"`
	KgCO2eq   float64          `json:"kg_co2eq"`
	Children  []BreakdownChild `json:"children"`
}

func invalidBreakdown(format string, args ...any) error {
	e := apperr.Invalid(format, args...)
	e.Fields = []apperr.FieldError{{Field: "by", Code: "invalid_enum", Message: fmt.Sprintf(format, args...)}}
	return e
}

// Breakdown returns the module breakdown of docs/api.md §5: by=class for
// professional_travel (mode → cabin class, percent of the module total),
// by=top_class for equipment (equipment_class), purchases
// (purchase_institutional_code, labelled from the factor) and
// research_facilities (researchfacility_name; animal facilities by type):
// per submodule the top 3 classes by kg, then "rest". Other combinations
// are 400. Own-scoped travel viewers see their own trips only.
func (s *Service) Breakdown(ctx context.Context, actor Actor, sc ModuleScope, by string) ([]BreakdownNode, error) {
	switch by {
	case BreakdownClass:
		if sc.Module != emission.ModuleProfessionalTravel {
			return nil, invalidBreakdown("by=class is only available for professional_travel")
		}
	case BreakdownTopClass:
		switch sc.Module { //nolint:exhaustive // the other modules are refused below
		case emission.ModuleEquipment, emission.ModulePurchases, emission.ModuleResearchFacilities:
		default:
			return nil, invalidBreakdown("by=top_class is only available for equipment, purchases and research_facilities")
		}
	default:
		return nil, invalidBreakdown("by must be class or top_class")
	}
	r, err := resolveModule(ctx, dbsqlc.New(s.DB), sc)
	if err != nil {
		return nil, err
	}
	groups, err := s.classTotals(ctx, r, actor, by)
	if err != nil {
		return nil, err
	}
	if by == BreakdownClass {
		return classBreakdown(groups), nil
	}
	return topClassBreakdown(r, groups), nil
}

type classTotal struct {
	submodule, class string
	label            *string
	kg               float64
}

// classTotals sums entry kg per submodule and class key.
func (s *Service) classTotals(ctx context.Context, r *resolvedModule, actor Actor, by string) ([]classTotal, error) {
	var owner *string
	if ownTravel(actor, r.Module) {
		owner = &actor.OwnSciper
	}
	// The class key per module (docs/domain.md §4 taxonomies).
	key := "cabin_class"
	if by == BreakdownTopClass {
		switch r.Module { //nolint:exhaustive // checked by Breakdown
		case emission.ModuleEquipment:
			key = "equipment_class"
		case emission.ModulePurchases:
			key = "purchase_institutional_code"
		default:
			key = "facility"
		}
	}
	rows, err := dbsqlc.New(s.DB).EntryClassTotals(ctx, dbsqlc.EntryClassTotalsParams{
		Key: key, ReportModuleID: r.rm.ID, OwnerSciper: owner,
	})
	if err != nil {
		return nil, fmt.Errorf("error aggregating classes: %w", err)
	}
	out := make([]classTotal, 0, len(rows))
	for _, row := range rows {
		c := classTotal{submodule: row.Submodule, class: row.Class, kg: row.KgCo2eq}
		if row.Label != "" {
			c.label = &row.Label
		}
		out = append(out, c)
	}
	return out, nil
}

func byKgDesc(a, b BreakdownChild) int {
	return cmp.Or(cmp.Compare(b.KgCO2eq, a.KgCO2eq), cmp.Compare(a.Name, b.Name))
}

// classBreakdown folds travel totals into plane and train nodes.
func classBreakdown(groups []classTotal) []BreakdownNode {
	total := 0.0
	for _, g := range groups {
		total += g.kg
	}
	out := make([]BreakdownNode, 0, 2)
	for _, mode := range []emission.SubmoduleKey{emission.SubPlane, emission.SubTrain} {
		n := BreakdownNode{Name: string(mode), Children: []BreakdownChild{}}
		for _, g := range groups {
			if g.submodule != string(mode) {
				continue
			}
			n.KgCO2eq += g.kg
			c := BreakdownChild{Name: g.class, KgCO2eq: roundKg(g.kg)}
			pct := 0.0
			if total > 0 {
				pct = roundPercent(g.kg / total * 100)
			}
			c.Percent = &pct
			n.Children = append(n.Children, c)
		}
		n.KgCO2eq = roundKg(n.KgCO2eq)
		slices.SortFunc(n.Children, byKgDesc)
		out = append(out, n)
	}
	return out
}

// topClassBreakdown keeps the top 3 classes of each submodule and sums the
// others as "rest".
func topClassBreakdown(r *resolvedModule, groups []classTotal) []BreakdownNode {
	out := []BreakdownNode{}
	for _, sub := range r.info.Submodules {
		if info, ok := emission.LookupSubmodule(sub); ok && info.FactorsOnly {
			continue
		}
		n := BreakdownNode{Submodule: string(sub), Children: []BreakdownChild{}}
		var children []BreakdownChild
		for _, g := range groups {
			if g.submodule != string(sub) {
				continue
			}
			n.KgCO2eq += g.kg
			children = append(children, BreakdownChild{Name: g.class, Label: g.label, KgCO2eq: g.kg})
		}
		slices.SortFunc(children, byKgDesc)
		rest, hasRest := 0.0, false
		for i, c := range children {
			if i < topN {
				c.KgCO2eq = roundKg(c.KgCO2eq)
				n.Children = append(n.Children, c)
				continue
			}
			rest += c.KgCO2eq
			hasRest = true
		}
		if hasRest {
			n.Children = append(n.Children, BreakdownChild{Name: restName, KgCO2eq: roundKg(rest)})
		}
		n.KgCO2eq = roundKg(n.KgCO2eq)
		out = append(out, n)
	}
	return out
}
