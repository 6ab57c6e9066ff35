//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/backoffice"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// The back-office exports (docs/api.md §12, docs/jobs.md §7): the rows of
// package backoffice — Units, Results, Usage, with the reporting filters
// and the caller's reporting scope of GET /backoffice/* — written as files;
// backoffice_detailed adds the entries of the selected reports.

// backofficeParams are the params of the back-office kinds: the reporting
// filters (the JSON names of the query parameters, lists as arrays) and the
// kind's own members.
type backofficeParams struct {
	backoffice.Filters
	// Sort is backoffice_units' order (the sort keys of GET
	// /backoffice/units).
	Sort string `json:"sort,omitempty"`
	// Lang is backoffice_units' PDF language.
	Lang string `json:"lang,omitempty"`
	// Basis is backoffice_results' basis (validated or all).
	Basis string `json:"basis,omitempty"`
	// Modules are backoffice_detailed's modules (all when empty).
	Modules []string `json:"modules,omitempty"`
}

// backofficePlan is one back-office kind.
type backofficePlan struct {
	kind Kind
	backofficeParams
	sort []backoffice.SortKey
}

// MarshalJSON stores the params.
func (p *backofficePlan) MarshalJSON() ([]byte, error) { return json.Marshal(p.backofficeParams) }

func newBackofficePlan(k Kind, raw json.RawMessage) (plan, error) {
	p := &backofficePlan{kind: k}
	if err := decodeParams(k, raw, &p.backofficeParams); err != nil {
		return nil, err
	}
	var err error
	if p.sort, err = backoffice.ParseSort(p.Sort); err != nil {
		return nil, filterError(err)
	}
	if k == KindBackofficeResults {
		if p.Basis, err = backoffice.ParseBasis(p.Basis); err != nil {
			return nil, filterError(err)
		}
	}
	if k == KindBackofficeUnits {
		if err := checkLang(&p.Lang); err != nil {
			return nil, err
		}
	}
	for _, m := range p.Modules {
		if !report.IsModule(m) {
			return nil, invalidField("params.modules", "invalid_enum", "unknown module %q", m)
		}
	}
	return p, nil
}

// filterError is a filter refused by package backoffice or audit (400
// invalid_filter on GET) as a 422 validation_failed on params.<name>, the
// detail kept; a 403 out of scope stays a 403.
func filterError(err error) error {
	ae, ok := errors.AsType[*apperr.Error](err)
	if !ok || ae.Code == apperr.CodeForbidden {
		return paramsError(err)
	}
	out, _ := errors.AsType[*apperr.Error](paramsError(err))
	out.Code, out.Reason = apperr.CodeValidation, ""
	return out
}

func (p *backofficePlan) scope() scope {
	s := scope{}
	if len(p.Years) == 1 {
		s.Year = &p.Years[0]
	}
	return s
}

// needsYear: the kinds listed by units need a year filter (as GET
// /backoffice/units).
func (p *backofficePlan) needsYear() bool {
	return p.kind == KindBackofficeUnits || p.kind == KindBackofficeDetailed
}

// authorize is bo(reporting, export), then the filters against the
// caller's reporting scope: an affiliation or unit outside it is 403, an
// unknown or malformed value 422.
func (p *backofficePlan) authorize(ctx context.Context, db postgres.DBTX, c Caller) error {
	if !c.Perms.BO(perm.BOReporting, perm.ActionExport) {
		return forbidden("backoffice." + perm.BOReporting + ":" + perm.ActionExport)
	}
	q := backoffice.Query{Filters: p.Filters, Sort: p.sort, Page: backoffice.Page{Limit: 1}}
	var err error
	if p.needsYear() {
		_, _, err = backoffice.Units(ctx, db, backoffice.ScopeOf(c.Perms), q)
	} else {
		_, _, err = backoffice.Results(ctx, db, backoffice.ScopeOf(c.Perms), q, "")
	}
	if err != nil {
		return filterError(err)
	}
	return nil
}

func (p *backofficePlan) query(offset int) backoffice.Query {
	return backoffice.Query{Filters: p.Filters, Sort: p.sort, Page: backoffice.Page{Limit: batchSize, Offset: offset}}
}

func (p *backofficePlan) build(ctx context.Context, db postgres.DBTX, env buildEnv) (content, error) {
	sc := backoffice.ScopeOf(env.caller.Perms)
	switch p.kind {
	case KindBackofficeUnits:
		if env.format == FormatPDF {
			return p.unitPages(ctx, db, sc, env)
		}
		return p.unitsTable(ctx, db, sc)
	case KindBackofficeResults:
		return p.resultsTable(ctx, db, sc)
	case KindBackofficeUsage:
		return p.usageTable(ctx, db, sc)
	default:
		return p.detailed(ctx, db, sc)
	}
}

// pages reads every row of a paged backoffice list, batchSize at a time.
func pages[T any](ctx context.Context, p *backofficePlan, read func(q backoffice.Query) ([]T, int64, error), emit func(T) error) error {
	for offset := 0; ; offset += batchSize {
		rows, _, err := read(p.query(offset))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		if len(rows) < batchSize {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func cfOf(u report.Unit) any {
	if u.CF == nil {
		return nil
	}
	return *u.CF
}

func optText(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func (p *backofficePlan) unitsTable(ctx context.Context, db postgres.DBTX, sc backoffice.Scope) (content, error) {
	read := func(q backoffice.Query) ([]backoffice.UnitRow, int64, error) { return backoffice.Units(ctx, db, sc, q) }
	_, total, err := read(p.query(0))
	if err != nil {
		return content{}, err
	}
	cols := []Column{{"unit_id", Integer}, {"unit_name", Text}, {"cf", Text}, {"affiliation", Text}, {"year", Integer},
		{"overall_status", Text}, {"completion", Text}, {"principal", Text}, {"data_updated_at", Time},
		{"highest_category_module", Text}, {"t_co2eq", Number}, {"fte", Number}, {"view_url", Text}}
	t := Table{Name: "units", Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		return pages(ctx, p, read, func(r backoffice.UnitRow) error {
			var updated any
			if r.DataUpdatedAt != nil {
				updated = *r.DataUpdatedAt
			}
			return emit([]any{r.Unit.ID, r.Unit.Name, cfOf(r.Unit), backoffice.AffiliationLabel(r.Unit), int64(r.Year),
				r.OverallStatus, fmt.Sprintf("%d/%d", r.ValidatedModules, r.EnabledModules), optText(r.PrincipalName),
				updated, optText(r.HighestCategoryModule), r.TCO2eq, optNumber(r.FTE), r.ViewURL})
		})
	}}
	return content{Total: total, Tables: []Table{t}}, nil
}

// unitPages is the PDF of backoffice_units: one page per selected report,
// the unit report of unit_results (validated basis).
func (p *backofficePlan) unitPages(ctx context.Context, db postgres.DBTX, sc backoffice.Scope, env buildEnv) (content, error) {
	read := func(q backoffice.Query) ([]backoffice.UnitRow, int64, error) { return backoffice.Units(ctx, db, sc, q) }
	_, total, err := read(p.query(0))
	if err != nil {
		return content{}, err
	}
	return content{Total: total, Pages: func(ctx context.Context, emit func(Page) error) error {
		return pages(ctx, p, read, func(r backoffice.UnitRow) error {
			pg, err := loadUnitReport(ctx, db, r.Unit.ID, r.Year, report.Options{Scope: report.ScopeValidated}, p.Lang, env.now)
			if err != nil {
				return err
			}
			return emit(*pg)
		})
	}}, nil
}

func (p *backofficePlan) resultsTable(ctx context.Context, db postgres.DBTX, sc backoffice.Scope) (content, error) {
	read := func(q backoffice.Query) ([]backoffice.ResultRow, int64, error) {
		return backoffice.Results(ctx, db, sc, q, p.Basis)
	}
	_, total, err := read(p.query(0))
	if err != nil {
		return content{}, err
	}
	cols := []Column{{"year", Integer}, {"unit_cf", Text}, {"unit_name", Text}, {"affiliation", Text}, {"basis", Text},
		{"scope_1_kg", Number}, {"scope_2_kg", Number}, {"scope_3_kg", Number}, {"total_kg", Number}}
	cats := emission.Categories()
	for _, c := range cats {
		cols = append(cols, Column{string(c.Key) + "_kg", Number})
	}
	cols = append(cols, Column{"fte", Number}, Column{"validated_modules", Integer})
	t := Table{Name: "results", Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		row := make([]any, 0, len(cols))
		return pages(ctx, p, read, func(r backoffice.ResultRow) error {
			row = append(row[:0], int64(r.Year), cfOf(r.Unit), r.Unit.Name, backoffice.AffiliationLabel(r.Unit), r.Basis,
				r.ByScopeKgCO2eq["1"], r.ByScopeKgCO2eq["2"], r.ByScopeKgCO2eq["3"], r.TotalKgCO2eq)
			for _, c := range cats {
				row = append(row, r.ByCategoryKgCO2eq[string(c.Key)])
			}
			row = append(row, optNumber(r.FTE), int64(r.ValidatedModules))
			return emit(row)
		})
	}}
	return content{Total: total, Tables: []Table{t}}, nil
}

func (p *backofficePlan) usageTable(ctx context.Context, db postgres.DBTX, sc backoffice.Scope) (content, error) {
	read := func(q backoffice.Query) ([]backoffice.UsageRow, int64, error) {
		return backoffice.Usage(ctx, db, sc, q)
	}
	_, total, err := read(p.query(0))
	if err != nil {
		return content{}, err
	}
	cols := []Column{{"year", Integer}, {"unit_cf", Text}, {"unit_name", Text}, {"affiliation", Text}, {"module", Text},
		{"status", Text}, {"status_changed_at", Time}, {"data_updated_at", Time}}
	t := Table{Name: "usage", Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		return pages(ctx, p, read, func(r backoffice.UsageRow) error {
			var changed, updated any
			if r.StatusChangedAt != nil {
				changed = *r.StatusChangedAt
			}
			if r.DataUpdatedAt != nil {
				updated = *r.DataUpdatedAt
			}
			return emit([]any{int64(r.Year), cfOf(r.Unit), r.Unit.Name, backoffice.AffiliationLabel(r.Unit), r.Module,
				r.Status, changed, updated})
		})
	}}
	return content{Total: total, Tables: []Table{t}}, nil
}

// detailed is backoffice_detailed: the entries of the selected reports,
// one table per submodule of the chosen modules (all by default).
func (p *backofficePlan) detailed(ctx context.Context, db postgres.DBTX, sc backoffice.Scope) (content, error) {
	modules := p.Modules
	if len(modules) == 0 {
		modules = report.ModuleKeys()
	}
	var units []report.Unit
	var unitIDs []int64
	var years []int32
	err := pages(ctx, p, func(q backoffice.Query) ([]backoffice.UnitRow, int64, error) { return backoffice.Units(ctx, db, sc, q) },
		func(r backoffice.UnitRow) error {
			units = append(units, r.Unit)
			unitIDs = append(unitIDs, r.Unit.ID)
			years = append(years, r.Year)
			return nil
		})
	if err != nil {
		return content{}, err
	}
	rows, err := dbsqlc.New(db).ExportReportModulesOfUnitYears(ctx, dbsqlc.ExportReportModulesOfUnitYearsParams{
		UnitIds: unitIDs, Years: years, Modules: modules})
	if err != nil {
		return content{}, fmt.Errorf("error reading report modules: %w", err)
	}
	rms := make([]reportModule, len(rows))
	for i, r := range rows {
		rms[i] = reportModule{unit: units[r.N-1], year: r.Year, id: r.ID, module: r.Module, status: r.Status}
	}
	src, err := newEntrySource(ctx, db, rms, modules, "")
	if err != nil {
		return content{}, err
	}
	if len(src.submodules) == 0 {
		return content{}, invalidField("params.modules", "required", "no module with entries selected")
	}
	return content{Total: src.total, Tables: src.tables()}, nil
}
