package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// TestBackofficeReporting serves the reporting routes (docs/api.md §11)
// through the real router as the dev fixture users admin (global) and
// metier (affiliation 13030 ENAC-TEST: LAB-DEMO and ENAC-OTHER-TEST, not
// SB-LAB-TEST) over the dev units with a report each in an open year;
// LAB-DEMO has headcount validated (FTE 4, 2 000 kg).
func TestBackofficeReporting(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	pool := schema.Pool
	require.NoError(t, auth.UpsertDevUnits(ctx, pool, time.Now()))
	q := dbsqlc.New(pool)
	unit := func(cf string) dbsqlc.Unit {
		u, err := q.UnitGetByCF(ctx, cf)
		require.NoError(t, err)
		return u
	}
	demo, other, sbLab, sb := unit("7918"), unit("13033"), unit("14001"), unit("14000")
	year := testfactory.Year(ctx, t, pool, nil).Year
	var demoReport testfactory.ReportBundle
	for _, u := range []dbsqlc.Unit{demo, other, sbLab} {
		b := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{UnitID: &u.ID, Year: &year})
		if u.ID == demo.ID {
			demoReport = b
		}
	}
	hc := demoReport.Module(emission.ModuleHeadcount)
	st, err := json.Marshal(report.ModuleStats{TotalKg: 2000, AdditionalKg: 2000, ByScope: map[string]float64{"3": 2000},
		ByCategory: map[string]float64{"food": 2000}, EntriesBySubmodule: map[string]int64{"member": 4},
		FTE: &report.FTE{Total: 4, BySiusCode: map[string]float64{}}})
	require.NoError(t, err)
	_, err = q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: hc.ID, Stats: st})
	require.NoError(t, err)
	_, err = q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: hc.ID, Status: report.StatusValidated})
	require.NoError(t, err)
	require.NoError(t, report.RefreshReports(ctx, pool, []int64{demoReport.Report.ID}, time.Now()))

	router := httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready})
	as := func(key string) http.Handler {
		u, ok := auth.DevUserByKey(key)
		require.True(t, ok)
		return httpapi.AsPrincipal(router, httpapi.NewTestPrincipal(u.Sciper, u.Roles...))
	}
	admin, metier := as("admin"), as("metier")
	y := "year=" + itoa(year)

	type page struct {
		Items []map[string]any `json:"items"`
		Total int64            `json:"total"`
	}
	unitNames := func(t *testing.T, body []byte) []string {
		t.Helper()
		var p page
		require.NoError(t, json.Unmarshal(body, &p))
		out := []string{}
		for _, it := range p.Items {
			u, _ := it["unit"].(map[string]any)
			if u == nil {
				u = it // affiliations: Unit items
			}
			name, _ := u["name"].(string)
			out = append(out, name)
		}
		return out
	}

	for _, tt := range []struct {
		name   string
		h      http.Handler
		url    string
		status int
		code   string                       // error code (errors only)
		check  func(t *testing.T, b []byte) // successful answers
	}{
		{name: "YearsAdmin", h: admin, url: "/backoffice/years", status: 200, check: func(t *testing.T, b []byte) {
			require.JSONEq(t, `{"years":[`+itoa(year)+`],"latest":`+itoa(year)+`}`, string(b))
		}},
		{name: "YearsUnknownParameter", h: admin, url: "/backoffice/years?year=2025", status: 400, code: "invalid_filter"},
		{name: "AffiliationsMetier", h: metier, url: "/backoffice/affiliations", status: 200, check: func(t *testing.T, b []byte) {
			require.Equal(t, []string{"ENAC-TEST", "ENAC-SG-TEST"}, unitNames(t, b))
		}},
		{name: "AffiliationsLevel", h: admin, url: "/backoffice/affiliations?level=2&q=test", status: 200, check: func(t *testing.T, b []byte) {
			require.Equal(t, []string{"ENAC-TEST", "SB-TEST"}, unitNames(t, b))
		}},
		{name: "AffiliationsBadLevel", h: admin, url: "/backoffice/affiliations?level=4", status: 400, code: "invalid_filter"},
		{name: "UnitsAdmin", h: admin, url: "/backoffice/units?" + y + "&sort=-t_co2eq", status: 200, check: func(t *testing.T, b []byte) {
			require.Equal(t, []string{"LAB-DEMO", "ENAC-OTHER-TEST", "SB-LAB-TEST"}, unitNames(t, b))
			var p page
			require.NoError(t, json.Unmarshal(b, &p))
			row := p.Items[0]
			require.InDelta(t, 2.0, row["t_co2eq"], 1e-9)
			require.InDelta(t, 4.0, row["fte"], 1e-9)
			require.Equal(t, "in_progress", row["overall_status"])
			require.InDelta(t, 12.5, row["completion_percent"], 1e-9)
			require.Equal(t, "headcount", row["highest_category_module"])
			require.Equal(t, "/backoffice/units/"+itoa(demo.ID)+"/"+itoa(year), row["view_url"])
			require.Equal(t, []any{"ENAC-TEST", "ENAC-SG-TEST"}, row["unit"].(map[string]any)["affiliations"]) //nolint:forcetypeassert // test
		}},
		{name: "UnitsMetier", h: metier, url: "/backoffice/units?" + y, status: 200, check: func(t *testing.T, b []byte) {
			require.Equal(t, []string{"ENAC-OTHER-TEST", "LAB-DEMO"}, unitNames(t, b))
		}},
		{name: "UnitsAdminAffiliation", h: admin, url: "/backoffice/units?" + y + "&affiliation=" + itoa(sb.ID), status: 200,
			check: func(t *testing.T, b []byte) { require.Equal(t, []string{"SB-LAB-TEST"}, unitNames(t, b)) }},
		{name: "UnitsMetierOtherAffiliation", h: metier, url: "/backoffice/units?" + y + "&affiliation=" + itoa(sb.ID), status: 403, code: "forbidden"},
		{name: "UnitsMetierOtherUnit", h: metier, url: "/backoffice/units?" + y + "&unit=" + itoa(sbLab.ID), status: 403, code: "forbidden"},
		{name: "UnitsMetierOwnUnit", h: metier, url: "/backoffice/units?" + y + "&unit=" + itoa(other.ID), status: 200,
			check: func(t *testing.T, b []byte) { require.Equal(t, []string{"ENAC-OTHER-TEST"}, unitNames(t, b)) }},
		{name: "UnitsPage", h: admin, url: "/backoffice/units?" + y + "&limit=1&page=2", status: 200, check: func(t *testing.T, b []byte) {
			require.JSONEq(t, `{"page":2,"limit":1,"total":3,"has_more":true}`, withoutItems(t, b))
		}},
		{name: "UnitsNoYear", h: admin, url: "/backoffice/units", status: 400, code: "invalid_filter"},
		{name: "UnitsBadYear", h: admin, url: "/backoffice/units?year=20x5", status: 400, code: "invalid_filter"},
		{name: "UnitsBadStatus", h: admin, url: "/backoffice/units?" + y + "&status=done", status: 400, code: "invalid_filter"},
		{name: "UnitsBadModuleStatus", h: admin, url: "/backoffice/units?" + y + "&module_status=headcount:done", status: 400, code: "invalid_filter"},
		{name: "UnitsBadAffiliation", h: admin, url: "/backoffice/units?" + y + "&affiliation=abc", status: 400, code: "invalid_filter"},
		{name: "UnitsLabAffiliation", h: admin, url: "/backoffice/units?" + y + "&affiliation=" + itoa(demo.ID), status: 400, code: "invalid_filter"},
		{name: "UnitsUnknownFilter", h: admin, url: "/backoffice/units?" + y + "&afiliation=1", status: 400, code: "invalid_filter"},
		{name: "UnitsBadSort", h: admin, url: "/backoffice/units?" + y + "&sort=name", status: 400, code: "invalid_sort"},
		{name: "UnitsBadLimit", h: admin, url: "/backoffice/units?" + y + "&limit=0", status: 400, code: "bad_request"},
		{name: "OverviewMetier", h: metier, url: "/backoffice/overview?" + y, status: 200, check: func(t *testing.T, b []byte) {
			var o struct {
				UnitsCount      int `json:"units_count"`
				InProgressCount int `json:"in_progress_count"`
				Totals          struct {
					TCO2eq       float64  `json:"t_co2eq"`
					FTE          *float64 `json:"fte"`
					TCO2eqPerFTE *float64 `json:"t_co2eq_per_fte"`
				} `json:"totals"`
				ModuleStatusCounts map[string]map[string]int `json:"module_status_counts"`
			}
			require.NoError(t, json.Unmarshal(b, &o))
			require.Equal(t, 2, o.UnitsCount)
			require.Equal(t, 1, o.InProgressCount)
			require.InDelta(t, 2.0, o.Totals.TCO2eq, 1e-9)
			require.InDelta(t, 4.0, *o.Totals.FTE, 1e-9)
			require.InDelta(t, 0.5, *o.Totals.TCO2eqPerFTE, 1e-9)
			require.Equal(t, map[string]int{"not_started": 1, "in_progress": 0, "validated": 1}, o.ModuleStatusCounts["headcount"])
		}},
		{name: "OverviewNoYear", h: metier, url: "/backoffice/overview", status: 400, code: "invalid_filter"},
		{name: "OverviewSortRefused", h: metier, url: "/backoffice/overview?" + y + "&sort=unit_name", status: 400, code: "invalid_filter"},
		{name: "UsageMetier", h: metier, url: "/backoffice/usage?" + y + "&module_status=headcount", status: 200, check: func(t *testing.T, b []byte) {
			var p page
			require.NoError(t, json.Unmarshal(b, &p))
			require.EqualValues(t, 8, p.Total, "LAB-DEMO's eight modules")
			require.Equal(t, "headcount", p.Items[0]["module"])
			require.Equal(t, "validated", p.Items[0]["status"])
		}},
		{name: "ResultsAll", h: admin, url: "/backoffice/results?" + y + "&basis=all&unit=" + itoa(demo.ID), status: 200, check: func(t *testing.T, b []byte) {
			var p page
			require.NoError(t, json.Unmarshal(b, &p))
			require.Len(t, p.Items, 1)
			r := p.Items[0]
			require.Equal(t, "all", r["basis"])
			require.InDelta(t, 2000.0, r["total_kg_co2eq"], 1e-9)
			require.Equal(t, map[string]any{"1": 0.0, "2": 0.0, "3": 2000.0}, r["by_scope_kg_co2eq"])
			require.Len(t, r["by_category_kg_co2eq"], len(emission.Categories()))
		}},
		{name: "ResultsEveryYear", h: metier, url: "/backoffice/results", status: 200, check: func(t *testing.T, b []byte) {
			require.Equal(t, []string{"ENAC-OTHER-TEST", "LAB-DEMO"}, unitNames(t, b))
		}},
		{name: "ResultsBadBasis", h: admin, url: "/backoffice/results?basis=raw", status: 422, code: "validation_failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, tt.h, http.MethodGet, "/api/v1"+tt.url, nil)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.code != "" {
				require.Equal(t, tt.code, requireErrorEnvelope(t, rec).Error.Code)
				return
			}
			tt.check(t, rec.Body.Bytes())
		})
	}
}

// withoutItems is a page envelope without its items, as JSON.
func withoutItems(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	delete(m, "items")
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}
