package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// BenchmarkResultsSummary serves GET .../results/summary for a unit with
// 10 000 entries (and emission rows, loaded with COPY) after one
// aggregation, and reports the p95 latency (target < 20 ms).
func BenchmarkResultsSummary(b *testing.B) {
	ctx := b.Context()
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	q := dbsqlc.New(pool)
	year := testfactory.Year(ctx, b, pool, nil).Year
	unit := testfactory.Unit(ctx, b, pool, nil)
	rep := testfactory.Report(ctx, b, pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year})
	const n = 10000
	mods := []emission.ModuleKey{emission.ModuleProcessEmissions, emission.ModuleEquipment}
	for mi, key := range mods {
		rm := rep.Module(key)
		ids, err := q.EntryIDsReserve(ctx, n/2)
		require.NoError(b, err)
		entries := make([]dbsqlc.EntriesCopyFromParams, len(ids))
		rows := make([]dbsqlc.EmissionsCopyFromParams, len(ids))
		sub, et, scope, cat := "process_gas", "process_emissions.refrigerants", int16(1), "process_emissions"
		if mi == 1 {
			sub, et, scope, cat = "it", "equipment.it", 2, "equipment"
		}
		for i, id := range ids {
			entries[i] = dbsqlc.EntriesCopyFromParams{ID: id, ReportModuleID: rm.ID, UnitID: rm.UnitID, Year: year,
				Module: string(key), Submodule: sub, Data: json.RawMessage(`{"name":"item"}`), Source: "csv_year",
				CalcStatus: "ok", KgCo2eq: 1.5}
			rows[i] = dbsqlc.EmissionsCopyFromParams{EntryID: id, ReportModuleID: rm.ID, EmissionType: et, Scope: scope,
				Category: cat, KgCo2eq: 1.5, Meta: json.RawMessage(`{}`), EngineVersion: emission.EngineVersion, ComputedAt: time.Now()}
		}
		_, err = q.EntriesCopyFrom(ctx, entries)
		require.NoError(b, err)
		_, err = q.EmissionsCopyFrom(ctx, rows)
		require.NoError(b, err)
		_, err = q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: "validated"})
		require.NoError(b, err)
	}
	ids := make([]int64, len(rep.Modules))
	for i, m := range rep.Modules {
		ids[i] = m.ID
	}
	start := time.Now()
	require.NoError(b, report.RefreshModuleIDs(ctx, pool, ids, time.Now())) // what one aggregate run does
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "aggregate-ms")

	router := httpapi.AsUnitPrincipal(httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready}), *unit.Cf)
	url := "/api/v1/units/" + itoa(rep.Report.UnitID) + "/years/" + itoa(year) + "/results/summary"
	var lat []time.Duration
	for b.Loop() {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		rec := httptest.NewRecorder()
		t0 := time.Now()
		router.ServeHTTP(rec, req)
		lat = append(lat, time.Since(t0))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
