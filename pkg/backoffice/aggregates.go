package backoffice

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Overview is GET /backoffice/overview: counts and the sums of the
// validated blocks of the selected reports (docs/domain.md §12.4).
type Overview struct {
	// UnitsCount is the number of selected reports (one per unit and
	// year), split by overall status.
	UnitsCount      int64 `json:"units_count"`
	ValidatedCount  int64 `json:"validated_count"`
	InProgressCount int64 `json:"in_progress_count"`
	NotStartedCount int64 `json:"not_started_count"`
	// ModuleStatusCounts counts, per module, the reports in each status
	// (reports whose year disables the module are not counted).
	ModuleStatusCounts map[string]StatusCounts `json:"module_status_counts"`
	Totals             Totals                  `json:"totals"`
	ByModuleTCO2eq     map[string]float64      `json:"by_module_t_co2eq"`
	ByCategoryTCO2eq   map[string]float64      `json:"by_category_t_co2eq"`
	ByScopeTCO2eq      map[string]float64      `json:"by_scope_t_co2eq"`
	IT                 ITFocus                 `json:"it"`
}

// StatusCounts are report counts by module status.
type StatusCounts struct {
	NotStarted int64 `json:"not_started"`
	InProgress int64 `json:"in_progress"`
	Validated  int64 `json:"validated"`
}

// Totals are the validated total, the validated FTE (null when no selected
// report has its headcount validated) and the total per FTE, computed over
// the reports having a validated FTE only (their total / their FTE).
type Totals struct {
	TCO2eq       float64  `json:"t_co2eq"`
	FTE          *float64 `json:"fte"`
	TCO2eqPerFTE *float64 `json:"t_co2eq_per_fte"`
}

// ITFocus is the IT share of the validated totals: by IT focus category
// (equipment_it, purchases_it, external_cloud_ai, research_facilities_it),
// its share of the validated total and per FTE (as Totals).
type ITFocus struct {
	TCO2eq           float64            `json:"t_co2eq"`
	PercentOfTotal   *float64           `json:"percent_of_total"`
	TCO2eqPerFTE     *float64           `json:"t_co2eq_per_fte"`
	ByCategoryTCO2eq map[string]float64 `json:"by_category_t_co2eq"`
}

// GetOverview aggregates the selected reports; a year filter is required
// (400).
func GetOverview(ctx context.Context, db postgres.DBTX, scope Scope, f Filters) (Overview, error) {
	if err := requireYear(f); err != nil {
		return Overview{}, err
	}
	ids, err := scope.reportIDs(ctx, db, f, nil)
	if err != nil {
		return Overview{}, err
	}
	rows, err := dbsqlc.New(db).BackofficeOverview(ctx, ids)
	if err != nil {
		return Overview{}, fmt.Errorf("error aggregating reports: %w", err)
	}
	sums := map[string]map[string]float64{}
	for _, r := range rows {
		if sums[r.Kind] == nil {
			sums[r.Kind] = map[string]float64{}
		}
		sums[r.Kind][r.Key] += r.Value
	}
	one := func(kind string) float64 { return sums[kind][""] }

	status := sums["status"]
	out := Overview{
		UnitsCount:     int64(len(ids)),
		ValidatedCount: int64(status[report.StatusValidated]), InProgressCount: int64(status[report.StatusInProgress]),
		NotStartedCount:    int64(status[report.StatusNotStarted]),
		ModuleStatusCounts: map[string]StatusCounts{},
		ByModuleTCO2eq:     map[string]float64{}, ByCategoryTCO2eq: map[string]float64{}, ByScopeTCO2eq: map[string]float64{},
		IT: ITFocus{ByCategoryTCO2eq: map[string]float64{}},
	}
	ms := sums["module_status"]
	for _, m := range report.ModuleKeys() {
		out.ModuleStatusCounts[m] = StatusCounts{
			NotStarted: int64(ms[m+":"+report.StatusNotStarted]), InProgress: int64(ms[m+":"+report.StatusInProgress]),
			Validated: int64(ms[m+":"+report.StatusValidated]),
		}
		out.ByModuleTCO2eq[m] = report.KgToT(sums["by_module"][m])
	}
	for _, c := range emission.Categories() {
		out.ByCategoryTCO2eq[string(c.Key)] = report.KgToT(sums["by_category"][string(c.Key)])
	}
	for _, sc := range scopeKeys {
		out.ByScopeTCO2eq[sc] = report.KgToT(sums["by_scope"][sc])
	}
	for _, k := range report.ITCategoryKeys() {
		out.IT.ByCategoryTCO2eq[k] = report.KgToT(sums["it_by_category"][k])
	}
	total, it := one("total"), one("it")
	out.Totals.TCO2eq = report.KgToT(total)
	out.IT.TCO2eq = report.KgToT(it)
	if total != 0 {
		out.IT.PercentOfTotal = new(report.RoundPercent(it / total * 100))
	}
	if one("fte_reports") > 0 {
		fte := one("fte")
		out.Totals.FTE = new(report.RoundFTE(fte))
		if fte != 0 {
			out.Totals.TCO2eqPerFTE = new(report.KgToT(one("fte_total") / fte))
			out.IT.TCO2eqPerFTE = new(report.KgToT(one("fte_it") / fte))
		}
	}
	return out, nil
}

// UsageRow is one enabled module of a selected report (GET
// /backoffice/usage, the backoffice_usage export).
type UsageRow struct {
	Unit            report.Unit `json:"unit"`
	Year            int32       `json:"year"`
	Module          string      `json:"module"`
	Status          string      `json:"status"`
	StatusChangedAt *time.Time  `json:"status_changed_at"`
	DataUpdatedAt   *time.Time  `json:"data_updated_at"`
}

// Usage returns one page of the module rows of the selected reports (in
// report order, then module display order) and their number.
func Usage(ctx context.Context, db postgres.DBTX, scope Scope, q Query) ([]UsageRow, int64, error) {
	ids, err := scope.reportIDs(ctx, db, q.Filters, q.Sort)
	if err != nil {
		return nil, 0, err
	}
	db2 := dbsqlc.New(db)
	total, err := db2.BackofficeUsageCount(ctx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("error counting module rows: %w", err)
	}
	limit, offset := q.Page.sql()
	rows, err := db2.BackofficeUsage(ctx, dbsqlc.BackofficeUsageParams{Ids: ids, Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, fmt.Errorf("error reading module rows: %w", err)
	}
	out := make([]UsageRow, len(rows))
	for i, r := range rows {
		out[i] = UsageRow{Unit: report.ToUnit(r.Unit), Year: r.Year, Module: r.Module, Status: r.Status,
			StatusChangedAt: r.StatusChangedAt, DataUpdatedAt: r.DataUpdatedAt}
	}
	return out, total, nil
}

// YearList is GET /backoffice/years: the years having reports inside the
// scope, newest first, and the one to show by default (the newest open or
// closed one, else the newest; null when there is none).
type YearList struct {
	Years  []int32 `json:"years"`
	Latest *int32  `json:"latest"`
}

// Years lists the years the caller may report on.
func Years(ctx context.Context, db postgres.DBTX, scope Scope) (YearList, error) {
	rows, err := dbsqlc.New(db).BackofficeYears(ctx, dbsqlc.BackofficeYearsParams{
		YearStatuses: scope.yearStatuses(), Global: scope.Global, ScopeCfs: scope.cfs(),
	})
	if err != nil {
		return YearList{}, fmt.Errorf("error listing years: %w", err)
	}
	out := YearList{Years: make([]int32, len(rows))}
	for i, r := range rows {
		out.Years[i] = r.Year
		if out.Latest == nil && (r.Status == string(years.StatusOpen) || r.Status == string(years.StatusClosed)) {
			out.Latest = new(r.Year)
		}
	}
	if out.Latest == nil && len(rows) > 0 {
		out.Latest = new(rows[0].Year)
	}
	return out, nil
}

// AffiliationQuery filters GET /backoffice/affiliations.
type AffiliationQuery struct {
	// Level is 2 or 3 (nil: both; anything else is 400 invalid_filter).
	Level *int
	// Q is as Filters.Q.
	Q    string
	Page Page
}

// Affiliations returns one page of the active level-2 and level-3 units
// inside the scope, in tree order, and their number.
func Affiliations(ctx context.Context, db postgres.DBTX, scope Scope, aq AffiliationQuery) ([]report.Unit, int64, error) {
	var level *int16
	if aq.Level != nil {
		if !slices.Contains([]int{2, 3}, *aq.Level) {
			return nil, 0, InvalidFilter("level", "out_of_range", "level must be 2 or 3")
		}
		level = new(int16(*aq.Level))
	}
	q, err := query(aq.Q)
	if err != nil {
		return nil, 0, err
	}
	db2 := dbsqlc.New(db)
	total, err := db2.BackofficeAffiliationsCount(ctx, dbsqlc.BackofficeAffiliationsCountParams{
		Level: level, Global: scope.Global, ScopeCfs: scope.cfs(), Q: q,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("error counting affiliations: %w", err)
	}
	limit, offset := aq.Page.sql()
	rows, err := db2.BackofficeAffiliations(ctx, dbsqlc.BackofficeAffiliationsParams{
		Level: level, Global: scope.Global, ScopeCfs: scope.cfs(), Q: q, Limit: limit, Offset: offset,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("error listing affiliations: %w", err)
	}
	out := make([]report.Unit, len(rows))
	for i, r := range rows {
		out[i] = report.ToUnit(r.Unit)
	}
	return out, total, nil
}

// AffiliationLabel is the affiliation label of a unit ("ENAC / ENAC-SG"): its
// affiliations joined (exports).
func AffiliationLabel(u report.Unit) string { return strings.Join(u.Affiliations, " / ") }
