package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// BenchmarkBackofficeReporting serves the back-office reporting routes over
// an organisation of 500 laboratories (1 school, 5 faculties, 25 institutes:
// 531 reports per year, all levels as the year setup creates them) in three
// years, every report module with realistic stored statistics and a third
// of them validated, and reports the p50 and p95 latency of each request
// (target p95 < 50 ms for the results and units of 500 units; reported,
// not asserted).
func BenchmarkBackofficeReporting(b *testing.B) {
	ctx := b.Context()
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	q := dbsqlc.New(pool)

	root := testfactory.Unit(ctx, b, pool, &testfactory.UnitOpts{Name: new("SCHOOL"), Level: new(int16(1))})
	var faculty dbsqlc.Unit
	for f := range 5 {
		fac := testfactory.Unit(ctx, b, pool, &testfactory.UnitOpts{Name: new(fmt.Sprintf("FAC-%d", f)), Level: new(int16(2)), Parent: &root})
		if f == 0 {
			faculty = fac
		}
		for i := range 5 {
			inst := testfactory.Unit(ctx, b, pool, &testfactory.UnitOpts{Name: new(fmt.Sprintf("INST-%d-%d", f, i)), Level: new(int16(3)), Parent: &fac})
			for l := range 20 {
				testfactory.Unit(ctx, b, pool, &testfactory.UnitOpts{Name: new(fmt.Sprintf("LAB-%d-%d-%02d", f, i, l)), Parent: &inst,
					PrincipalName: new("Principal")})
			}
		}
	}

	var year int32
	for range 3 {
		year = testfactory.Year(ctx, b, pool, nil).Year
		_, err := q.ReportsCreateForActiveUnits(ctx, dbsqlc.ReportsCreateForActiveUnitsParams{Year: year, EnabledModules: 8})
		require.NoError(b, err)
		benchModuleStats(ctx, b, pool, year)
	}

	router := httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready})
	admin := httpapi.AsAdmin(router)
	metier := httpapi.AsPrincipal(router, httpapi.NewTestPrincipal("DEV-000003", perm.New(perm.RoleMetier, *faculty.Cf)))
	y := "year=" + itoa(year)
	for _, bc := range []struct {
		name string
		h    http.Handler
		url  string
	}{
		{"ResultsPage", admin, "/backoffice/results?" + y},
		{"ResultsAll500", admin, "/backoffice/results?" + y + "&limit=1000&sort=-t_co2eq"},
		{"UnitsPage", admin, "/backoffice/units?" + y + "&sort=-t_co2eq"},
		{"UnitsAll500", admin, "/backoffice/units?" + y + "&limit=1000&sort=affiliation,-completion_percent"},
		{"UnitsFiltered", admin, "/backoffice/units?" + y + "&status=in_progress&module_status=equipment&q=lab-1"},
		{"UnitsMetier", metier, "/backoffice/units?" + y + "&sort=-fte"},
		{"Overview", admin, "/backoffice/overview?" + y},
		{"UsagePage", admin, "/backoffice/usage?" + y + "&page=20"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			url := "/api/v1" + bc.url
			var lat []time.Duration
			for b.Loop() {
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				bc.h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// benchModuleStats gives every report module of year stored statistics of
// a realistic size (every category and a dozen emission types), validates
// the modules of one report in three and in-progresses another third, then
// aggregates the reports as the aggregate job does.
func benchModuleStats(ctx context.Context, b *testing.B, pool *pgxpool.Pool, year int32) {
	b.Helper()
	q := dbsqlc.New(pool)
	reports, err := q.ReportsByYear(ctx, year)
	require.NoError(b, err)
	ids := make([]int64, len(reports))
	for i, r := range reports {
		ids[i] = r.ID
	}
	mods, err := q.ReportModulesByReports(ctx, ids)
	require.NoError(b, err)
	leaves := emission.Leaves()
	for i, rm := range mods {
		s := report.ModuleStats{ByScope: map[string]float64{"1": 0, "2": 0, "3": 0}, ByCategory: map[string]float64{},
			ByEmissionType: map[string]float64{}, QuantityByEmissionType: map[string]emission.Quantity{},
			EntriesBySubmodule: map[string]int64{"a": int64(i % 40), "b": 3}, ITKg: float64(i % 7)}
		for j := range 12 {
			n := leaves[(i+j*7)%len(leaves)]
			kg := float64((i*31+j*17)%997) + 0.5
			s.ByEmissionType[string(n.Path)] += kg
			s.QuantityByEmissionType[string(n.Path)] = emission.Quantity{Value: kg * 3, Unit: "km"}
			s.ByCategory[string(n.Category)] += kg
			s.ByScope[strconv.Itoa(int(n.Scope))] += kg
			s.TotalKg += kg
		}
		s.MainKg = s.TotalKg
		if rm.Module == string(emission.ModuleHeadcount) {
			s.FTE = &report.FTE{Total: float64(i%30) + 1, BySiusCode: map[string]float64{"51": 1}}
		}
		raw, err := json.Marshal(s)
		require.NoError(b, err)
		_, err = q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: rm.ID, Stats: raw})
		require.NoError(b, err)
		if status := []string{report.StatusValidated, report.StatusInProgress, ""}[rm.ReportID%3]; status != "" {
			_, err = q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: status})
			require.NoError(b, err)
		}
	}
	require.NoError(b, report.RefreshReports(ctx, pool, ids, time.Now()))
}
