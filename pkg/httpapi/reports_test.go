package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// serveJSON sends a state-changing request with a JSON body and the CSRF
// double-submit pair.
func serveJSON(t *testing.T, h http.Handler, method, url, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Csrf-Token", "tok")
	req.AddCookie(&http.Cookie{Name: "csrf_token", Value: "tok"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		requireErrorEnvelope(t, rec)
	}
	return rec
}

func TestReportRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)

	open := testfactory.Year(ctx, t, schema.Pool, nil)
	closed := testfactory.Year(ctx, t, schema.Pool, &testfactory.YearOpts{Status: new("closed")})
	cfg := testfactory.DefaultYearConfig()
	cfg["modules"].(map[string]any)["equipment"].(map[string]any)["enabled"] = false //nolint:forcetypeassert // test config
	partial := testfactory.Year(ctx, t, schema.Pool, &testfactory.YearOpts{Config: cfg})
	unit := testfactory.Unit(ctx, t, schema.Pool, nil)
	router := httpapi.AsUnitPrincipal( // the routes need a session (authz.go)
		httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready}), *unit.Cf)
	testfactory.Report(ctx, t, schema.Pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &closed.Year})
	testfactory.Report(ctx, t, schema.Pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &partial.Year})
	u := "/api/v1/units/" + itoa(unit.ID)

	// Sequential steps on one unit: create the report, then walk the status
	// workflow.
	rec := serve(t, router, http.MethodGet, u+"/years/"+itoa(open.Year)+"/report", nil)
	require.Equal(t, http.StatusNotFound, rec.Code)

	rec = serveJSON(t, router, http.MethodPut, u+"/years/"+itoa(open.Year)+"/report", "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var rep struct {
		ID            int64  `json:"id"`
		OverallStatus string `json:"overall_status"`
		Modules       []struct {
			Module string `json:"module"`
			Status string `json:"status"`
		} `json:"modules"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
	require.Len(t, rep.Modules, 8)
	rec = serveJSON(t, router, http.MethodPut, u+"/years/"+itoa(open.Year)+"/report", "")
	require.Equal(t, http.StatusOK, rec.Code)

	status := u + "/years/" + itoa(open.Year) + "/modules/purchases/status"
	for _, tt := range []struct {
		name, url, body string
		status          int
		code            string
		want            string
	}{
		{name: "ToInProgress", url: status, body: `{"status":"in_progress"}`, status: 200, want: "in_progress"},
		{name: "ToValidated", url: status, body: `{"status":"validated"}`, status: 200, want: "validated"},
		{name: "BackToInProgress", url: status, body: `{"status":"in_progress"}`, status: 200, want: "in_progress"},
		{name: "BadValue", url: status, body: `{"status":"not_started"}`, status: 422, code: "validation_failed"},
		{name: "MalformedBody", url: status, body: `{`, status: 400, code: "bad_request"},
		{name: "ClosedYear", url: u + "/years/" + itoa(closed.Year) + "/modules/purchases/status", body: `{"status":"validated"}`, status: 409, code: "year_closed"},
		{name: "DisabledModule", url: u + "/years/" + itoa(partial.Year) + "/modules/equipment/status", body: `{"status":"validated"}`, status: 409, code: "invalid_transition"},
		{name: "UnknownModule", url: u + "/years/" + itoa(open.Year) + "/modules/nope/status", body: `{"status":"validated"}`, status: 404, code: "not_found"},
		{name: "UnknownUnit", url: "/api/v1/units/999999999/years/" + itoa(open.Year) + "/modules/purchases/status", body: `{"status":"validated"}`, status: 404, code: "not_found"},
	} {
		rec := serveJSON(t, router, http.MethodPatch, tt.url, tt.body)
		require.Equal(t, tt.status, rec.Code, "%s: %s", tt.name, rec.Body.String())
		if tt.code != "" {
			require.Equal(t, tt.code, requireErrorEnvelope(t, rec).Error.Code, tt.name)
			continue
		}
		var m struct {
			Module string `json:"module"`
			Status string `json:"status"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		require.Equal(t, "purchases", m.Module)
		require.Equal(t, tt.want, m.Status, tt.name)
	}

	t.Run("Reads", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name, url string
			status    int
		}{
			{"Unit", u, 200},
			{"UnitUnknown", "/api/v1/units/999999999", 404},
			{"UnitMalformed", "/api/v1/units/abc", 404},
			{"Reports", u + "/reports", 200},
			{"ReportsUnknownUnit", "/api/v1/units/999999999/reports", 404},
			{"Report", u + "/years/" + itoa(open.Year) + "/report", 200},
			{"ReportUnknownYear", u + "/years/2100/report", 404},
		} {
			rec := serve(t, router, http.MethodGet, tt.url, nil)
			require.Equal(t, tt.status, rec.Code, "%s: %s", tt.name, rec.Body.String())
		}
		rec := serve(t, router, http.MethodGet, u+"/reports", nil)
		var list []struct {
			Year int32 `json:"year"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
		require.Len(t, list, 3)
		for i := 1; i < len(list); i++ {
			require.Greater(t, list[i-1].Year, list[i].Year, "newest first")
		}
	})
}

func TestResultsRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	q := dbsqlc.New(schema.Pool)

	year := testfactory.Year(ctx, t, schema.Pool, nil)
	unit := testfactory.Unit(ctx, t, schema.Pool, nil)
	router := httpapi.AsUnitPrincipal( // the routes need a session (authz.go)
		httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready, CarKgPerKm: 0.25}), *unit.Cf)
	rep := testfactory.Report(ctx, t, schema.Pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year.Year})
	pe := rep.Module(emission.ModuleProcessEmissions)
	_, err := q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: pe.ID, Stats: json.RawMessage(
		`{"total_kg":2860,"main_kg":2860,"additional_kg":0,"by_scope":{"1":2860,"2":0,"3":0},
		  "by_category":{"process_emissions":2860},"by_emission_type":{"process_emissions.refrigerants":2860}}`)})
	require.NoError(t, err)
	_, err = q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: pe.ID, Status: "validated"})
	require.NoError(t, err)
	base := "/api/v1/units/" + itoa(unit.ID)
	y := base + "/years/" + itoa(year.Year)

	for _, tt := range []struct {
		name, url string
		status    int
		code      string
	}{
		{name: "Summary", url: y + "/results/summary", status: 200},
		{name: "SummaryExclude", url: y + "/results/summary?exclude_modules=process_emissions", status: 200},
		{name: "SummaryBadExclude", url: y + "/results/summary?exclude_modules=bogus", status: 422, code: "validation_failed"},
		{name: "SummaryUnknownUnit", url: "/api/v1/units/999999999/years/" + itoa(year.Year) + "/results/summary", status: 404, code: "not_found"},
		{name: "SummaryNoReport", url: base + "/years/2100/results/summary", status: 404, code: "not_found"},
		{name: "Breakdown", url: y + "/results/breakdown?scope=all", status: 200},
		{name: "BreakdownBadScope", url: y + "/results/breakdown?scope=everything", status: 422, code: "validation_failed"},
		{name: "IT", url: y + "/results/it", status: 200},
		{name: "ITBadScope", url: y + "/results/it?scope=x", status: 422, code: "validation_failed"},
		{name: "Yearly", url: base + "/results/yearly", status: 200},
		{name: "YearlyUnknownUnit", url: "/api/v1/units/999999999/results/yearly", status: 404, code: "not_found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, router, http.MethodGet, tt.url, nil)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.code != "" {
				require.Equal(t, tt.code, requireErrorEnvelope(t, rec).Error.Code)
			}
		})
	}

	t.Run("SummaryFigures", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, router, http.MethodGet, y+"/results/summary", nil)
		var s struct {
			Totals struct {
				KgCO2eq         float64  `json:"kg_co2eq"`
				TCO2eq          float64  `json:"t_co2eq"`
				EquivalentCarKm int64    `json:"equivalent_car_km"`
				FTE             *float64 `json:"fte"`
			} `json:"totals"`
			CarKgPerKm       float64  `json:"car_kg_per_km"`
			ValidatedModules []string `json:"validated_modules"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s))
		require.InDelta(t, 2860.0, s.Totals.KgCO2eq, 0)
		require.InDelta(t, 2.86, s.Totals.TCO2eq, 0)
		require.Equal(t, int64(11440), s.Totals.EquivalentCarKm) // 2 860 / 0.25
		require.Nil(t, s.Totals.FTE)
		require.InDelta(t, 0.25, s.CarKgPerKm, 0)
		require.Equal(t, []string{"process_emissions"}, s.ValidatedModules)
	})
}

func itoa[T ~int32 | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }
