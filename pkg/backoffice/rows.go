package backoffice

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// UnitRow is one row of the units table (GET /backoffice/units, the
// backoffice_units export): one report, figures from its validated block.
type UnitRow struct {
	Unit              report.Unit `json:"unit"`
	Year              int32       `json:"year"`
	OverallStatus     string      `json:"overall_status"`
	ValidatedModules  int         `json:"validated_modules"`
	EnabledModules    int         `json:"enabled_modules"`
	CompletionPercent float64     `json:"completion_percent"`
	PrincipalName     *string     `json:"principal_name"`
	DataUpdatedAt     *time.Time  `json:"data_updated_at"`
	// HighestCategoryModule is the validated module with the largest total
	// (null when none is validated).
	HighestCategoryModule *string `json:"highest_category_module"`
	// TCO2eq is the validated total; FTE the validated headcount FTE (null
	// unless headcount is validated).
	TCO2eq float64  `json:"t_co2eq"`
	FTE    *float64 `json:"fte"`
	// ViewURL is the SPA path of the unit's read-only results (relative to
	// PUBLIC_BASE_URL; the SPA adds the language).
	ViewURL string `json:"view_url"`
}

// ViewPath is the SPA path of the back-office drill-down into one unit's
// results (docs/frontend.md: /:lang/backoffice/units/:unitId/:year; a path
// without the language is redirected to the caller's).
func ViewPath(unitID int64, year int32) string {
	return "/backoffice/units/" + strconv.FormatInt(unitID, 10) + "/" + strconv.Itoa(int(year))
}

// ResultRow is one row of the results table (GET /backoffice/results, the
// backoffice_results export): one report's figures for a basis.
type ResultRow struct {
	Unit  report.Unit `json:"unit"`
	Year  int32       `json:"year"`
	Basis string      `json:"basis"`
	// TotalKgCO2eq and the breakdowns come from the basis's block: by scope
	// "1", "2", "3"; by chart category, every category (docs/domain.md §5;
	// emission.Categories gives the chart order).
	TotalKgCO2eq      float64            `json:"total_kg_co2eq"`
	ByScopeKgCO2eq    map[string]float64 `json:"by_scope_kg_co2eq"`
	ByCategoryKgCO2eq map[string]float64 `json:"by_category_kg_co2eq"`
	// FTE is the basis's headcount FTE (validated: null unless headcount is
	// validated).
	FTE              *float64 `json:"fte"`
	ValidatedModules int      `json:"validated_modules"`
	EnabledModules   int      `json:"enabled_modules"`
}

// Bases of the results table (D9).
const (
	BasisValidated = report.ScopeValidated
	BasisAll       = report.ScopeAll
)

// ParseBasis validates a basis ("" is validated): 422 invalid_enum
// otherwise, like the scope of the unit results (docs/api.md §6).
func ParseBasis(s string) (string, error) {
	switch s {
	case "", BasisValidated:
		return BasisValidated, nil
	case BasisAll:
		return BasisAll, nil
	}
	return "", apperr.Validation("invalid query parameter", apperr.FieldError{
		Field: "basis", Code: "invalid_enum", Message: "must be validated or all",
	})
}

// Units returns one page of the units table and the number of rows the
// filters select (docs/api.md §11): a year filter is required (400).
func Units(ctx context.Context, db postgres.DBTX, scope Scope, q Query) ([]UnitRow, int64, error) {
	if err := requireYear(q.Filters); err != nil {
		return nil, 0, err
	}
	rows, total, err := scope.reportPage(ctx, db, q, BasisValidated)
	if err != nil {
		return nil, 0, err
	}
	out := make([]UnitRow, len(rows))
	for i, r := range rows {
		row := UnitRow{
			Unit: report.ToUnit(r.Unit), Year: r.Year, OverallStatus: r.OverallStatus,
			ValidatedModules: int(r.ValidatedModules), EnabledModules: int(r.EnabledModules),
			PrincipalName: r.Unit.PrincipalName, DataUpdatedAt: r.DataUpdatedAt,
			HighestCategoryModule: r.figures.HighestCategoryModule,
			TCO2eq:                report.KgToT(r.figures.TotalKg), FTE: roundFTE(r.figures.FTE),
			ViewURL: ViewPath(r.Unit.ID, r.Year),
		}
		if r.EnabledModules > 0 {
			row.CompletionPercent = report.RoundPercent(float64(r.ValidatedModules) / float64(r.EnabledModules) * 100)
		}
		out[i] = row
	}
	return out, total, nil
}

// Results returns one page of the results table for a basis (validated or
// all; "" is validated) and the number of rows the filters select.
func Results(ctx context.Context, db postgres.DBTX, scope Scope, q Query, basis string) ([]ResultRow, int64, error) {
	basis, err := ParseBasis(basis)
	if err != nil {
		return nil, 0, err
	}
	rows, total, err := scope.reportPage(ctx, db, q, basis)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ResultRow, len(rows))
	for i, r := range rows {
		b := r.figures
		row := ResultRow{
			Unit: report.ToUnit(r.Unit), Year: r.Year, Basis: basis, TotalKgCO2eq: report.RoundKg(b.TotalKg),
			ByScopeKgCO2eq: map[string]float64{}, ByCategoryKgCO2eq: map[string]float64{}, FTE: roundFTE(b.FTE),
			ValidatedModules: int(r.ValidatedModules), EnabledModules: int(r.EnabledModules),
		}
		for _, sc := range scopeKeys {
			row.ByScopeKgCO2eq[sc] = report.RoundKg(b.ByScope[sc])
		}
		for _, c := range emission.Categories() {
			row.ByCategoryKgCO2eq[string(c.Key)] = report.RoundKg(b.ByCategory[string(c.Key)])
		}
		out[i] = row
	}
	return out, total, nil
}

// scopeKeys are the GHG scopes as JSON keys.
var scopeKeys = []string{"1", "2", "3"}

func roundFTE(v *float64) *float64 {
	if v == nil {
		return nil
	}
	return new(report.RoundFTE(*v))
}

// figures are what the tables show of a report's stats
// (BackofficeReportRows): the figures of one block and the highest module.
type figures struct {
	TotalKg               float64            `json:"total_kg"`
	FTE                   *float64           `json:"fte"`
	ByScope               map[string]float64 `json:"by_scope"`
	ByCategory            map[string]float64 `json:"by_category"`
	HighestCategoryModule *string            `json:"highest_category_module"`
}

// reportRow is one selected report with its decoded figures.
type reportRow struct {
	dbsqlc.BackofficeReportRowsRow
	figures figures
}

// reportPage selects the reports of q and reads the page's rows, in order,
// with the figures of the basis's block.
func (s Scope) reportPage(ctx context.Context, db postgres.DBTX, q Query, basis string) ([]reportRow, int64, error) {
	ids, err := s.reportIDs(ctx, db, q.Filters, q.Sort)
	if err != nil {
		return nil, 0, err
	}
	from, to := q.Page.bounds(len(ids))
	page := ids[from:to]
	if len(page) == 0 {
		return []reportRow{}, int64(len(ids)), nil
	}
	rows, err := dbsqlc.New(db).BackofficeReportRows(ctx, dbsqlc.BackofficeReportRowsParams{Basis: basis, Ids: page})
	if err != nil {
		return nil, 0, fmt.Errorf("error reading reports: %w", err)
	}
	byID := make(map[int64]dbsqlc.BackofficeReportRowsRow, len(rows))
	for _, r := range rows {
		byID[r.ReportID] = r
	}
	out := make([]reportRow, 0, len(page))
	for _, id := range page {
		r, ok := byID[id]
		if !ok { // deleted since it was selected
			continue
		}
		var f figures
		if err := json.Unmarshal(r.Figures, &f); err != nil {
			return nil, 0, fmt.Errorf("error decoding the stats of report %d: %w", id, err)
		}
		out = append(out, reportRow{BackofficeReportRowsRow: r, figures: f})
	}
	return out, int64(len(ids)), nil
}
