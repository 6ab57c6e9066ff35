//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Page is the report of one unit-year (docs/jobs.md §7 unit_results): one
// A4 page of the PDF, the sheets of the XLSX, the rows of the CSV. Every
// figure comes from package report, as the results endpoints serve them.
type Page struct {
	Unit        report.Unit
	Year        int32
	Lang        string
	GeneratedAt time.Time
	Report      report.View
	Summary     report.Summary
	Totals      report.Totals
	Breakdown   report.Breakdown
	// FactorSet is the version of the year's factor set.
	FactorSet string
}

// loadUnitReport reads the report of a unit-year for a basis.
func loadUnitReport(ctx context.Context, db postgres.DBTX, unitID int64, year int32, opt report.Options, lang string, now time.Time) (*Page, error) {
	u, err := report.GetUnit(ctx, db, unitID)
	if err != nil {
		return nil, err
	}
	p := &Page{Unit: u, Year: year, Lang: lang, GeneratedAt: now.UTC()}
	if p.Report, err = report.Get(ctx, db, unitID, year); err != nil {
		return nil, err
	}
	if p.Summary, err = report.GetSummary(ctx, db, unitID, year, opt); err != nil {
		return nil, err
	}
	if p.Totals, err = report.GetTotals(ctx, db, unitID, year, opt); err != nil {
		return nil, err
	}
	if p.Breakdown, err = report.GetBreakdown(ctx, db, unitID, year, opt); err != nil {
		return nil, err
	}
	if p.FactorSet, err = factorSet(ctx, db, year); err != nil {
		return nil, err
	}
	return p, nil
}

// factorSet names the version of a year's factor set: how many factors,
// the last change and a digest of every factor's id and version (a change,
// an addition or a removal changes it).
func factorSet(ctx context.Context, db postgres.DBTX, year int32) (string, error) {
	v, err := dbsqlc.New(db).ExportFactorSetVersion(ctx, year)
	if err != nil {
		return "", fmt.Errorf("error reading the factor set of %d: %w", year, err)
	}
	if v.FactorCount == 0 {
		return fmt.Sprintf("%d: no factors", year), nil
	}
	return fmt.Sprintf("%d v%s, %d factors, last change %s", year, v.Digest, v.FactorCount,
		v.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")), nil
}

// affiliation is the unit's affiliation path (levels 2-3).
func (p *Page) affiliation() string { return strings.Join(p.Unit.Affiliations, " / ") }

func (p *Page) cf() string {
	if p.Unit.CF == nil {
		return ""
	}
	return *p.Unit.CF
}

// completion is "validated/enabled" modules.
func (p *Page) completion() string {
	return strconv.Itoa(int(p.Report.ValidatedModules)) + "/" + strconv.Itoa(int(p.Report.EnabledModules))
}

// content is the page as an export of format f: the PDF page, the XLSX
// sheets summary, modules, categories and emission_types, or the CSV of
// the emission types.
func (p *Page) content(f Format) content {
	switch f {
	case FormatPDF:
		return content{Total: 1, Pages: func(_ context.Context, emit func(Page) error) error { return emit(*p) }}
	case FormatCSV:
		t := p.emissionTypes(true)
		return content{Total: p.emissionTypeCount(), Tables: []Table{t}}
	default:
		tables := []Table{p.summaryTable(), p.modulesTable(), p.categoriesTable(), p.emissionTypes(false)}
		return content{Total: int64(len(p.summaryRows())+len(p.Summary.Modules)+len(p.Breakdown.Categories)) + p.emissionTypeCount(),
			Tables: tables}
	}
}

func optNumber(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func (p *Page) summaryRows() [][]any {
	t := p.Totals
	return [][]any{
		{"unit_name", p.Unit.Name}, {"unit_cf", p.cf()}, {"affiliation", p.affiliation()}, {"year", int64(p.Year)},
		{"basis", t.Basis}, {"generated_at", p.GeneratedAt}, {"overall_status", p.Report.OverallStatus},
		{"validated_modules", p.completion()}, {"t_co2eq", t.TCO2eq}, {"fte", optNumber(t.FTE)},
		{"t_co2eq_per_fte", optNumber(t.TCO2eqPerFTE)}, {"it_t_co2eq", t.ITTCO2eq},
		{"scope_1_t_co2eq", t.ByScopeTCO2eq["1"]}, {"scope_2_t_co2eq", t.ByScopeTCO2eq["2"]},
		{"scope_3_t_co2eq", t.ByScopeTCO2eq["3"]}, {"factor_set", p.FactorSet},
	}
}

func staticRows(rows [][]any) func(ctx context.Context, emit Emit) error {
	return func(_ context.Context, emit Emit) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func (p *Page) summaryTable() Table {
	return Table{Name: "summary", Columns: []Column{{"field", Text}, {"value", Text}}, Rows: staticRows(p.summaryRows())}
}

func (p *Page) modulesTable() Table {
	rows := make([][]any, 0, len(p.Summary.Modules))
	for _, m := range p.Summary.Modules {
		_, counted := p.Totals.ByModuleTCO2eq[m.Module]
		rows = append(rows, []any{m.Module, m.Status, m.Validated, counted, m.TCO2eq})
	}
	return Table{Name: "modules", Columns: []Column{{"module", Text}, {"status", Text}, {"validated", Text},
		{"counted", Text}, {"t_co2eq", Number}}, Rows: staticRows(rows)}
}

func (p *Page) categoriesTable() Table {
	rows := make([][]any, 0, len(p.Breakdown.Categories))
	for _, c := range p.Breakdown.Categories {
		rows = append(rows, []any{c.Category, c.Group, c.TCO2eq, optNumber(c.TCO2eqPerFTE)})
	}
	return Table{Name: "categories", Columns: []Column{{"category", Text}, {"group", Text}, {"t_co2eq", Number},
		{"t_co2eq_per_fte", Number}}, Rows: staticRows(rows)}
}

func (p *Page) emissionTypeCount() int64 {
	var n int64
	for _, c := range p.Breakdown.Categories {
		n += int64(len(c.EmissionTypes))
	}
	return n
}

// emissionTypes is one row per emission type with emissions, by category;
// withUnit adds the unit and year columns (the CSV stands alone).
func (p *Page) emissionTypes(withUnit bool) Table {
	cols := []Column{{"category", Text}, {"emission_type", Text}, {"scope", Integer}, {"t_co2eq", Number},
		{"quantity", Number}, {"quantity_unit", Text}}
	if withUnit {
		cols = append([]Column{{"unit_cf", Text}, {"unit_name", Text}, {"year", Integer}, {"basis", Text}}, cols...)
	}
	var rows [][]any
	for _, c := range p.Breakdown.Categories {
		for _, et := range c.EmissionTypes {
			var scope any
			if n, ok := emission.LookupNode(emission.EmissionType(et.EmissionType)); ok {
				scope = int64(n.Scope)
			}
			var qty, unit any
			if et.Quantity != nil {
				qty = *et.Quantity
			}
			if et.QuantityUnit != nil {
				unit = *et.QuantityUnit
			}
			row := []any{c.Category, et.EmissionType, scope, et.TCO2eq, qty, unit}
			if withUnit {
				row = append([]any{p.cf(), p.Unit.Name, int64(p.Year), p.Totals.Basis}, row...)
			}
			rows = append(rows, row)
		}
	}
	return Table{Name: "emission_types", Columns: cols, Rows: staticRows(rows)}
}
