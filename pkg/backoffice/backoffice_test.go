package backoffice_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/migrations"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/backoffice"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// yearSeq hands out the years of this package's tests: only they create
// years here, so parallel transactions never insert the same one.
var yearSeq atomic.Int32

func nextYear() *int32 { return new(2000 + yearSeq.Add(1)) }

// world is a small organisation with reports in three years:
//
//	root (1) ─┬─ facA (2) ── instA (3) ─┬─ lab1 "Alpha lab"
//	          │                          └─ lab2 "Beta lab"
//	          └─ facB (2) ── lab3 "Gamma lab"
//
// Year y (open, process_emissions disabled): lab1 in progress (headcount
// validated: FTE 10, 4 000 kg food; equipment validated: 1 000 kg IT;
// purchases in progress: 500 kg of which 200 kg IT), lab2 never
// aggregated, lab3 all validated (FTE 5, 1 000 kg food; travel 6 000 kg).
// Year closed: lab1 with travel validated (2 000 kg). Year ready: lab1,
// nothing.
type world struct {
	tx                        pgx.Tx
	root, facA, instA, facB   dbsqlc.Unit
	lab1, lab2, lab3          dbsqlc.Unit
	y, closed, ready          int32
	rep1, rep2, rep3, repOld  testfactory.ReportBundle
	admin, metierA, principal backoffice.Scope
}

func newWorld(ctx context.Context, t *testing.T) *world {
	t.Helper()
	tx := testdb.TestTx(ctx, t)
	w := &world{tx: tx}
	unit := func(name string, level int16, parent *dbsqlc.Unit) dbsqlc.Unit {
		return testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Name: new(name), Level: new(level), Parent: parent,
			PrincipalName: new("Boss of " + name)})
	}
	w.root = unit("ROOT", 1, nil)
	w.facA = unit("ENAC-X", 2, &w.root)
	w.instA = unit("ENAC-X-SG", 3, &w.facA)
	w.facB = unit("SB-X", 2, &w.root)
	w.lab1 = unit("Alpha lab", 4, &w.instA)
	w.lab2 = unit("Beta lab", 4, &w.instA)
	w.lab3 = unit("Gamma lab", 4, &w.facB)

	cfg := testfactory.DefaultYearConfig()
	cfg["modules"].(map[string]any)["process_emissions"].(map[string]any)["enabled"] = false //nolint:forcetypeassert // test config
	w.y = testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: nextYear(), Config: cfg}).Year
	w.closed = testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: nextYear(), Status: new("closed")}).Year
	w.ready = testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: nextYear(), Status: new("ready")}).Year

	rep := func(u dbsqlc.Unit, y int32) testfactory.ReportBundle {
		return testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &u.ID, Year: &y})
	}
	w.rep1, w.rep2, w.rep3, w.repOld = rep(w.lab1, w.y), rep(w.lab2, w.y), rep(w.lab3, w.y), rep(w.lab1, w.closed)
	rep(w.lab1, w.ready)

	set := func(b testfactory.ReportBundle, m emission.ModuleKey, status string, s report.ModuleStats) {
		setModule(ctx, t, tx, b.Module(m), status, s)
	}
	set(w.rep1, emission.ModuleHeadcount, report.StatusValidated, stats(4000, "food", "3", "headcount.food", 10, 0, new(10.0)))
	set(w.rep1, emission.ModuleEquipment, report.StatusValidated, stats(1000, "equipment", "2", "equipment.it", 5, 1000, nil))
	set(w.rep1, emission.ModulePurchases, report.StatusInProgress, stats(500, "purchases", "3", "purchases.it_equipment", 3, 200, nil))
	for _, m := range emission.Modules() {
		s := report.ModuleStats{}
		switch m.Key {
		case emission.ModuleHeadcount:
			s = stats(1000, "food", "3", "headcount.food", 4, 0, new(5.0))
		case emission.ModuleProfessionalTravel:
			s = stats(6000, "professional_travel", "3", "professional_travel.plane.economy", 12, 0, nil)
		}
		set(w.rep3, m.Key, report.StatusValidated, s)
	}
	set(w.repOld, emission.ModuleProfessionalTravel, report.StatusValidated,
		stats(2000, "professional_travel", "3", "professional_travel.plane.economy", 2, 0, nil))
	require.NoError(t, report.RefreshReports(ctx, tx, []int64{w.rep1.Report.ID, w.rep3.Report.ID, w.repOld.Report.ID}, time.Now()))

	w.admin = backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RoleAdmin, "")}))
	w.metierA = backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RoleMetier, *w.facA.Cf)}))
	w.principal = backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RolePrincipal, *w.lab1.Cf)}))
	return w
}

// stats is module stats with one emission type.
func stats(kg float64, category, scope, emissionType string, entries int64, itKg float64, fte *float64) report.ModuleStats {
	s := report.ModuleStats{
		TotalKg: kg, ByScope: map[string]float64{"1": 0, "2": 0, "3": 0}, ByCategory: map[string]float64{category: kg},
		ByEmissionType: map[string]float64{emissionType: kg}, EntriesBySubmodule: map[string]int64{"x": entries}, ITKg: itKg,
	}
	s.ByScope[scope] = kg
	if emission.Category(category).IsAdditional() {
		s.AdditionalKg = kg
	} else {
		s.MainKg = kg
	}
	if fte != nil {
		s.FTE = &report.FTE{Total: *fte, BySiusCode: map[string]float64{}}
	}
	return s
}

// setModule stores a module's stats (what aggregate does) and status.
func setModule(ctx context.Context, t *testing.T, tx pgx.Tx, rm dbsqlc.ReportModule, status string, s report.ModuleStats) {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	q := dbsqlc.New(tx)
	_, err = q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: rm.ID, Stats: b})
	require.NoError(t, err)
	if status != report.StatusNotStarted {
		_, err = q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: status})
		require.NoError(t, err)
	}
}

func names(rows []backoffice.UnitRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Unit.Name
	}
	return out
}

// requireAppErr checks an application error's code, reason and detail.
func requireAppErr(t *testing.T, err error, code apperr.Code, label, field, detail string) {
	t.Helper()
	require.Error(t, err)
	e, ok := errors.AsType[*apperr.Error](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, code, e.Code, e.Message)
	require.Equal(t, label, e.Label(), e.Message)
	if field != "" {
		require.Len(t, e.Fields, 1)
		require.Equal(t, field, e.Fields[0].Field)
		require.Equal(t, detail, e.Fields[0].Code)
	}
}

func TestScopeOf(t *testing.T) {
	t.Parallel()
	admin := backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RoleAdmin, "")}))
	require.True(t, admin.Global)
	require.Contains(t, admin.YearStatuses, "ready")
	metier := backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RoleMetier, "13030"), perm.New(perm.RoleMetier, "14000")}))
	require.False(t, metier.Global)
	require.ElementsMatch(t, []string{"13030", "14000"}, metier.AffiliationCFs)
	require.ElementsMatch(t, []string{"open", "closed"}, metier.YearStatuses)
	none := backoffice.ScopeOf(perm.For([]perm.Assignment{perm.New(perm.RolePrincipal, "7918")}))
	require.False(t, none.Global)
	require.Empty(t, none.AffiliationCFs)
	require.False(t, backoffice.ScopeOf(nil).Global)
}

func TestUnitsRowOfAdmin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	rows, total, err := backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Years: year}})
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	require.Equal(t, []string{"Alpha lab", "Beta lab", "Gamma lab"}, names(rows))
	r := rows[0]
	require.Equal(t, w.lab1.ID, r.Unit.ID)
	require.Equal(t, []string{"ENAC-X", "ENAC-X-SG"}, r.Unit.Affiliations)
	require.Equal(t, w.y, r.Year)
	require.Equal(t, report.StatusInProgress, r.OverallStatus)
	require.Equal(t, 2, r.ValidatedModules)
	require.Equal(t, 7, r.EnabledModules) // process_emissions disabled
	require.InDelta(t, 28.6, r.CompletionPercent, 1e-9)
	require.Equal(t, "Boss of Alpha lab", *r.PrincipalName)
	require.Equal(t, "headcount", *r.HighestCategoryModule)
	require.InDelta(t, 5.0, r.TCO2eq, 1e-9)
	require.InDelta(t, 10.0, *r.FTE, 1e-9)
	require.Equal(t, backoffice.ViewPath(w.lab1.ID, w.y), r.ViewURL)

	never := rows[1] // lab2: stats never computed
	require.Equal(t, report.StatusNotStarted, never.OverallStatus)
	require.Zero(t, never.TCO2eq)
	require.Nil(t, never.FTE)
	require.Nil(t, never.HighestCategoryModule)

	require.InDelta(t, 100.0, rows[2].CompletionPercent, 1e-9)
	require.InDelta(t, 7.0, rows[2].TCO2eq, 1e-9)
}

func TestUnitsSort(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	for _, tt := range []struct {
		sort string
		want []string
	}{
		{"-t_co2eq", []string{"Gamma lab", "Alpha lab", "Beta lab"}},
		{"t_co2eq", []string{"Beta lab", "Alpha lab", "Gamma lab"}},
		{"fte", []string{"Gamma lab", "Alpha lab", "Beta lab"}},  // null last
		{"-fte", []string{"Alpha lab", "Gamma lab", "Beta lab"}}, // null last
		{"-completion_percent", []string{"Gamma lab", "Alpha lab", "Beta lab"}},
		{"overall_status", []string{"Beta lab", "Alpha lab", "Gamma lab"}}, // workflow order
		{"-affiliation", []string{"Gamma lab", "Alpha lab", "Beta lab"}},
		{"affiliation,-unit_name", []string{"Beta lab", "Alpha lab", "Gamma lab"}},
		{"-unit_name", []string{"Gamma lab", "Beta lab", "Alpha lab"}},
		{"data_updated_at", []string{"Alpha lab", "Beta lab", "Gamma lab"}}, // all null: ties by name
	} {
		sort, err := backoffice.ParseSort(tt.sort)
		require.NoError(t, err)
		rows, _, err := backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Years: year}, Sort: sort})
		require.NoError(t, err)
		require.Equal(t, tt.want, names(rows), tt.sort)
	}
}

func TestUnitsPage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	rows, total, err := backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Years: year},
		Page: backoffice.Page{Limit: 1, Offset: 1}})
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	require.Equal(t, []string{"Beta lab"}, names(rows))
	rows, total, err = backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Years: year},
		Page: backoffice.Page{Limit: 10, Offset: 30}})
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	require.Empty(t, rows)
}

func TestUnitsFilters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	for _, tt := range []struct {
		name string
		f    backoffice.Filters
		want []string
	}{
		{"Status", backoffice.Filters{Statuses: []string{"validated", "not_started"}}, []string{"Beta lab", "Gamma lab"}},
		{"ModuleHasData", backoffice.Filters{ModuleStatuses: []string{"purchases"}}, []string{"Alpha lab"}},
		{"ModuleStatus", backoffice.Filters{ModuleStatuses: []string{"equipment:validated"}}, []string{"Alpha lab", "Gamma lab"}},
		{"ModuleStatusAny", backoffice.Filters{ModuleStatuses: []string{"headcount:not_started", "purchases"}}, []string{"Alpha lab", "Beta lab"}},
		{"Q", backoffice.Filters{Q: "GAM"}, []string{"Gamma lab"}},
		{"QByCF", backoffice.Filters{Q: *w.lab2.Cf}, []string{"Beta lab"}},
		{"QStar", backoffice.Filters{Q: "*"}, []string{"Alpha lab", "Beta lab", "Gamma lab"}},
		{"Affiliation", backoffice.Filters{Affiliations: []int64{w.instA.ID}}, []string{"Alpha lab", "Beta lab"}},
		{"AffiliationRoot", backoffice.Filters{Affiliations: []int64{w.root.ID}}, []string{"Alpha lab", "Beta lab", "Gamma lab"}},
		{"Unit", backoffice.Filters{Units: []int64{w.lab3.ID}}, []string{"Gamma lab"}},
		{"Intersection", backoffice.Filters{Affiliations: []int64{w.facB.ID}, Statuses: []string{"in_progress"}}, []string{}},
	} {
		tt.f.Years = year
		rows, _, err := backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: tt.f})
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, names(rows), tt.name)
	}
}

func TestUnitsScope(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	rows, total, err := backoffice.Units(ctx, w.tx, w.metierA, backoffice.Query{Filters: backoffice.Filters{Years: year}})
	require.NoError(t, err)
	require.EqualValues(t, 2, total)
	require.Equal(t, []string{"Alpha lab", "Beta lab"}, names(rows))

	rows, _, err = backoffice.Units(ctx, w.tx, w.metierA, backoffice.Query{Filters: backoffice.Filters{Years: []int32{w.ready}}})
	require.NoError(t, err)
	require.Empty(t, rows, "a ready year is hidden from non-administrators")
	rows, _, err = backoffice.Units(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Years: []int32{w.ready}}})
	require.NoError(t, err)
	require.Len(t, rows, 1)

	rows, _, err = backoffice.Units(ctx, w.tx, w.principal, backoffice.Query{Filters: backoffice.Filters{Years: year}})
	require.NoError(t, err)
	require.Empty(t, rows, "no reporting grant, no rows")
}

func TestUnitsBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	year := []int32{w.y}

	for _, tt := range []struct {
		name          string
		scope         backoffice.Scope
		f             backoffice.Filters
		sort          []backoffice.SortKey
		code          apperr.Code
		label, detail string
		field         string
	}{
		{"NoYear", w.admin, backoffice.Filters{}, nil, apperr.CodeInvalid, "invalid_filter", "required", "year"},
		{"OtherAffiliation", w.metierA, backoffice.Filters{Years: year, Affiliations: []int64{w.facB.ID}}, nil,
			apperr.CodeForbidden, "forbidden", "forbidden", "affiliation"},
		{"ParentAffiliation", w.metierA, backoffice.Filters{Years: year, Affiliations: []int64{w.root.ID}}, nil,
			apperr.CodeForbidden, "forbidden", "forbidden", "affiliation"},
		{"OtherUnit", w.metierA, backoffice.Filters{Years: year, Units: []int64{w.lab3.ID}}, nil,
			apperr.CodeForbidden, "forbidden", "forbidden", "unit"},
		{"LabAsAffiliation", w.admin, backoffice.Filters{Years: year, Affiliations: []int64{w.lab1.ID}}, nil,
			apperr.CodeInvalid, "invalid_filter", "not_an_affiliation", "affiliation"},
		{"UnknownAffiliation", w.admin, backoffice.Filters{Years: year, Affiliations: []int64{999999999}}, nil,
			apperr.CodeInvalid, "invalid_filter", "unknown_unit", "affiliation"},
		{"UnknownUnit", w.admin, backoffice.Filters{Years: year, Units: []int64{999999999}}, nil,
			apperr.CodeInvalid, "invalid_filter", "unknown_unit", "unit"},
		{"Status", w.admin, backoffice.Filters{Years: year, Statuses: []string{"done"}}, nil,
			apperr.CodeInvalid, "invalid_filter", "invalid_enum", "status"},
		{"Module", w.admin, backoffice.Filters{Years: year, ModuleStatuses: []string{"food"}}, nil,
			apperr.CodeInvalid, "invalid_filter", "invalid_enum", "module_status"},
		{"ModuleStatus", w.admin, backoffice.Filters{Years: year, ModuleStatuses: []string{"headcount:done"}}, nil,
			apperr.CodeInvalid, "invalid_filter", "invalid_enum", "module_status"},
		{"Year", w.admin, backoffice.Filters{Years: []int32{1999}}, nil, apperr.CodeInvalid, "invalid_filter", "out_of_range", "year"},
		{"LongQ", w.admin, backoffice.Filters{Years: year, Q: strings.Repeat("x", 101)}, nil,
			apperr.CodeInvalid, "invalid_filter", "too_long", "q"},
		{"SortKey", w.admin, backoffice.Filters{Years: year}, []backoffice.SortKey{{Field: "id"}},
			apperr.CodeInvalid, "invalid_sort", "invalid_sort", "sort"},
	} {
		_, _, err := backoffice.Units(ctx, w.tx, tt.scope, backoffice.Query{Filters: tt.f, Sort: tt.sort})
		requireAppErr(t, err, tt.code, tt.label, tt.field, tt.detail)
	}
	_, err := backoffice.ParseSort("unit_name,year")
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort", "sort", "invalid_sort")
	_, err = backoffice.ParseSort("unit_name,fte,t_co2eq")
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort", "sort", "invalid_sort")
	// One prefix at most; a query string's "+" arrives as a space.
	for _, raw := range []string{"+unknown", " unknown", " -unit_name", "+-unit_name", "++fte", "-+fte", "fte ", " ", "unit_name,"} {
		_, err = backoffice.ParseSort(raw)
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort", "sort", "invalid_sort")
	}
	keys, err := backoffice.ParseSort(" unit_name,-fte")
	require.NoError(t, err)
	require.Equal(t, []backoffice.SortKey{{Field: "unit_name"}, {Field: "fte", Desc: true}}, keys)
}

func TestResults(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	q := backoffice.Query{Filters: backoffice.Filters{Years: []int32{w.y}}}

	rows, total, err := backoffice.Results(ctx, w.tx, w.admin, q, "")
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	r := rows[0]
	require.Equal(t, "Alpha lab", r.Unit.Name)
	require.Equal(t, "validated", r.Basis)
	require.InDelta(t, 5000.0, r.TotalKgCO2eq, 1e-9)
	require.Equal(t, map[string]float64{"1": 0, "2": 1000, "3": 4000}, r.ByScopeKgCO2eq)
	require.Len(t, r.ByCategoryKgCO2eq, len(emission.Categories()))
	require.InDelta(t, 4000.0, r.ByCategoryKgCO2eq["food"], 1e-9)
	require.InDelta(t, 1000.0, r.ByCategoryKgCO2eq["equipment"], 1e-9)
	require.Zero(t, r.ByCategoryKgCO2eq["purchases"], "purchases is not validated")
	require.InDelta(t, 10.0, *r.FTE, 1e-9)
	require.Equal(t, 2, r.ValidatedModules)
	require.Equal(t, 7, r.EnabledModules)
	require.Nil(t, rows[1].FTE)
	require.Len(t, rows[1].ByCategoryKgCO2eq, len(emission.Categories()))

	rows, _, err = backoffice.Results(ctx, w.tx, w.admin, q, "all")
	require.NoError(t, err)
	require.Equal(t, "all", rows[0].Basis)
	require.InDelta(t, 5500.0, rows[0].TotalKgCO2eq, 1e-9)
	require.InDelta(t, 500.0, rows[0].ByCategoryKgCO2eq["purchases"], 1e-9)

	// Every year when none is given: lab1 has three reports, newest first.
	rows, total, err = backoffice.Results(ctx, w.tx, w.admin, backoffice.Query{Filters: backoffice.Filters{Units: []int64{w.lab1.ID}}}, "")
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	want := []int32{w.y, w.closed, w.ready}
	slices.Sort(want)
	slices.Reverse(want)
	got := []int32{rows[0].Year, rows[1].Year, rows[2].Year}
	require.Equal(t, want, got)

	// The metier sees the closed year, not the ready one.
	rows, total, err = backoffice.Results(ctx, w.tx, w.metierA, backoffice.Query{Filters: backoffice.Filters{Units: []int64{w.lab1.ID}}}, "")
	require.NoError(t, err)
	require.EqualValues(t, 2, total)
	require.NotContains(t, []int32{rows[0].Year, rows[1].Year}, w.ready)

	_, _, err = backoffice.Results(ctx, w.tx, w.admin, q, "some")
	requireAppErr(t, err, apperr.CodeValidation, "validation_failed", "basis", "invalid_enum")
}

func TestOverview(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	f := backoffice.Filters{Years: []int32{w.y}}

	o, err := backoffice.GetOverview(ctx, w.tx, w.admin, f)
	require.NoError(t, err)
	require.EqualValues(t, 3, o.UnitsCount)
	require.EqualValues(t, 1, o.ValidatedCount)
	require.EqualValues(t, 1, o.InProgressCount)
	require.EqualValues(t, 1, o.NotStartedCount)
	require.Equal(t, backoffice.StatusCounts{NotStarted: 1, Validated: 2}, o.ModuleStatusCounts["headcount"])
	require.Equal(t, backoffice.StatusCounts{NotStarted: 1, InProgress: 1, Validated: 1}, o.ModuleStatusCounts["purchases"])
	require.Equal(t, backoffice.StatusCounts{}, o.ModuleStatusCounts["process_emissions"], "disabled in the year")
	require.Len(t, o.ModuleStatusCounts, 8)
	require.InDelta(t, 12.0, o.Totals.TCO2eq, 1e-9)
	require.InDelta(t, 15.0, *o.Totals.FTE, 1e-9)
	require.InDelta(t, 0.8, *o.Totals.TCO2eqPerFTE, 1e-9)
	require.InDelta(t, 5.0, o.ByModuleTCO2eq["headcount"], 1e-9)
	require.InDelta(t, 6.0, o.ByModuleTCO2eq["professional_travel"], 1e-9)
	require.Zero(t, o.ByModuleTCO2eq["purchases"])
	require.InDelta(t, 5.0, o.ByCategoryTCO2eq["food"], 1e-9)
	require.Len(t, o.ByCategoryTCO2eq, len(emission.Categories()))
	require.Equal(t, map[string]float64{"1": 0, "2": 1, "3": 11}, o.ByScopeTCO2eq)
	require.InDelta(t, 1.0, o.IT.TCO2eq, 1e-9)
	require.InDelta(t, 8.3, *o.IT.PercentOfTotal, 1e-9)
	require.InDelta(t, 0.067, *o.IT.TCO2eqPerFTE, 1e-9)
	require.Equal(t, map[string]float64{"equipment_it": 1, "purchases_it": 0, "external_cloud_ai": 0, "research_facilities_it": 0},
		o.IT.ByCategoryTCO2eq)

	// The metier's affiliation only: lab1 (FTE 10, 5 t) and lab2.
	o, err = backoffice.GetOverview(ctx, w.tx, w.metierA, f)
	require.NoError(t, err)
	require.EqualValues(t, 2, o.UnitsCount)
	require.EqualValues(t, 0, o.ValidatedCount)
	require.InDelta(t, 5.0, o.Totals.TCO2eq, 1e-9)
	require.InDelta(t, 0.5, *o.Totals.TCO2eqPerFTE, 1e-9)

	// Nothing selected: zeros, no FTE.
	o, err = backoffice.GetOverview(ctx, w.tx, w.admin, backoffice.Filters{Years: f.Years, Statuses: []string{"not_started"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, o.UnitsCount)
	require.Zero(t, o.Totals.TCO2eq)
	require.Nil(t, o.Totals.FTE)
	require.Nil(t, o.Totals.TCO2eqPerFTE)
	require.Nil(t, o.IT.PercentOfTotal)

	_, err = backoffice.GetOverview(ctx, w.tx, w.admin, backoffice.Filters{})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter", "year", "required")
	_, err = backoffice.GetOverview(ctx, w.tx, w.metierA, backoffice.Filters{Years: f.Years, Affiliations: []int64{w.facB.ID}})
	requireAppErr(t, err, apperr.CodeForbidden, "forbidden", "affiliation", "forbidden")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	q := backoffice.Query{Filters: backoffice.Filters{Years: []int32{w.y}}, Page: backoffice.Page{Limit: 7}}

	rows, total, err := backoffice.Usage(ctx, w.tx, w.admin, q)
	require.NoError(t, err)
	require.EqualValues(t, 21, total, "3 reports × 7 enabled modules")
	require.Len(t, rows, 7)
	var mods []string
	for _, r := range rows {
		require.Equal(t, "Alpha lab", r.Unit.Name)
		mods = append(mods, r.Module)
	}
	require.Equal(t, []string{"headcount", "professional_travel", "buildings", "equipment", "purchases",
		"research_facilities", "external_cloud_ai"}, mods)
	require.Equal(t, report.StatusValidated, rows[0].Status)
	require.NotNil(t, rows[0].StatusChangedAt)
	require.Equal(t, report.StatusNotStarted, rows[1].Status)

	q.Page.Offset = 7
	q.Sort = []backoffice.SortKey{{Field: "unit_name", Desc: true}}
	rows, _, err = backoffice.Usage(ctx, w.tx, w.admin, q)
	require.NoError(t, err)
	require.Equal(t, "Beta lab", rows[0].Unit.Name)

	rows, total, err = backoffice.Usage(ctx, w.tx, w.metierA, backoffice.Query{Filters: backoffice.Filters{Years: []int32{w.y}}})
	require.NoError(t, err)
	require.EqualValues(t, 14, total)
	require.Len(t, rows, 14)
}

func TestYears(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)

	all := []int32{w.y, w.closed, w.ready}
	slices.Sort(all)
	slices.Reverse(all)
	got, err := backoffice.Years(ctx, w.tx, w.admin)
	require.NoError(t, err)
	require.Equal(t, all, got.Years)
	latest := max(w.y, w.closed) // the newest open or closed year
	require.Equal(t, latest, *got.Latest)

	visible := slices.DeleteFunc(slices.Clone(all), func(y int32) bool { return y == w.ready })
	got, err = backoffice.Years(ctx, w.tx, w.metierA)
	require.NoError(t, err)
	require.Equal(t, visible, got.Years)

	got, err = backoffice.Years(ctx, w.tx, w.principal)
	require.NoError(t, err)
	require.Empty(t, got.Years)
	require.Nil(t, got.Latest)
}

func TestAffiliations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	testfactory.Unit(ctx, t, w.tx, &testfactory.UnitOpts{Name: new("OLD-X"), Level: new(int16(3)), Parent: &w.facA, IsActive: new(false)})

	unitNames := func(us []report.Unit) []string {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.Name
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		scope backoffice.Scope
		q     backoffice.AffiliationQuery
		want  []string
	}{
		{"Admin", w.admin, backoffice.AffiliationQuery{}, []string{"ENAC-X", "ENAC-X-SG", "SB-X"}},
		{"Metier", w.metierA, backoffice.AffiliationQuery{}, []string{"ENAC-X", "ENAC-X-SG"}},
		{"Level", w.admin, backoffice.AffiliationQuery{Level: new(3)}, []string{"ENAC-X-SG"}},
		{"Q", w.admin, backoffice.AffiliationQuery{Q: "sb"}, []string{"SB-X"}},
		{"Page", w.admin, backoffice.AffiliationQuery{Page: backoffice.Page{Limit: 1, Offset: 2}}, []string{"SB-X"}},
		{"None", w.principal, backoffice.AffiliationQuery{}, []string{}},
	} {
		got, total, err := backoffice.Affiliations(ctx, w.tx, tt.scope, tt.q)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, unitNames(got), tt.name)
		if tt.q.Page.Limit == 0 {
			require.EqualValues(t, len(tt.want), total, tt.name)
		} else {
			require.EqualValues(t, 3, total, tt.name)
		}
	}
	_, _, err := backoffice.Affiliations(ctx, w.tx, w.admin, backoffice.AffiliationQuery{Level: new(4)})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter", "level", "out_of_range")
}

// TestBackfill checks that migration 000010 fills entries_by_module,
// module_statuses and the blocks' it_by_category of reports aggregated
// before them exactly as the aggregate job now does
// (report.BuildReportStats).
func TestBackfill(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(ctx, t)
	var up []byte
	for _, set := range migrations.Sets() {
		if set.Name == "app" {
			var err error
			up, err = fs.ReadFile(set.FS, "000010_backoffice_stats.up.sql")
			require.NoError(t, err)
		}
	}
	require.NotEmpty(t, up)
	const keys = `SELECT stats -> 'entries_by_module', stats -> 'module_statuses', stats -> 'all' -> 'it_by_category',
		stats -> 'validated' -> 'it_by_category' FROM carbon_reports WHERE id = ANY($1) ORDER BY id`
	ids := []int64{w.rep1.Report.ID, w.rep3.Report.ID, w.repOld.Report.ID}
	read := func() [][4]string {
		rows, err := w.tx.Query(ctx, keys, ids)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([4]string, error) {
			var a [4]string
			return a, r.Scan(&a[0], &a[1], &a[2], &a[3])
		})
		require.NoError(t, err)
		return out
	}
	want := read()
	require.Contains(t, want[0][2], "purchases_it")
	require.NotContains(t, want[0][1], "process_emissions", "disabled in the year")
	_, err := w.tx.Exec(ctx, `UPDATE carbon_reports SET stats = stats - 'entries_by_module' - 'module_statuses'
		#- '{all,it_by_category}' #- '{validated,it_by_category}' WHERE id = ANY($1)`, ids)
	require.NoError(t, err)
	_, err = w.tx.Exec(ctx, string(up))
	require.NoError(t, err)
	got := read()
	for i := range want {
		for j := range want[i] {
			require.JSONEq(t, want[i][j], got[i][j])
		}
	}
	var never string
	require.NoError(t, w.tx.QueryRow(ctx, `SELECT stats::text FROM carbon_reports WHERE id = $1`, w.rep2.Report.ID).Scan(&never))
	require.JSONEq(t, `{}`, never, "never aggregated: left alone")
}
