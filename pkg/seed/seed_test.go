package seed_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/seed"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

const dataDir = "../../../shared/data"

func requireData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
}

func queryInt(ctx context.Context, t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(ctx, sql, args...).Scan(&n))
	return n
}

func locationIDs(ctx context.Context, t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT natural_key, id FROM locations")
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var id int64
		require.NoError(t, rows.Scan(&k, &id))
		out[k] = id
	}
	require.NoError(t, rows.Err())
	return out
}

func TestReferenceData(t *testing.T) {
	t.Parallel()
	requireData(t)
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)

	st, err := seed.ReferenceData(ctx, schema.Pool, dataDir)
	require.NoError(t, err)
	require.Equal(t, seed.ReferenceStats{Airports: 4517, Stations: 1021, LocationsUpserted: 4517 + 1021, Rooms: 50}, st)
	require.EqualValues(t, 4517, queryInt(ctx, t, schema.Pool, "SELECT count(*) FROM locations WHERE transport_mode = 'plane'"))
	require.EqualValues(t, 1021, queryInt(ctx, t, schema.Pool, "SELECT count(*) FROM locations WHERE transport_mode = 'train'"))
	require.EqualValues(t, 50, queryInt(ctx, t, schema.Pool, "SELECT count(*) FROM building_rooms"))
	require.EqualValues(t, 0, queryInt(ctx, t, schema.Pool, "SELECT count(*) FROM locations_staging"))
	require.EqualValues(t, 1, queryInt(ctx, t, schema.Pool,
		"SELECT count(*) FROM locations WHERE natural_key = 'train:CH:zürich hb' AND continent IS NULL"))
	require.EqualValues(t, 1, queryInt(ctx, t, schema.Pool,
		"SELECT count(*) FROM locations WHERE natural_key = 'plane:JFK' AND continent = 'NA'"))
	ids := locationIDs(ctx, t, schema.Pool)

	// Idempotent: a second run changes nothing and keeps every id.
	st, err = seed.ReferenceData(ctx, schema.Pool, dataDir)
	require.NoError(t, err)
	require.Equal(t, seed.ReferenceStats{Airports: 4517, Stations: 1021, Rooms: 50}, st)
	require.Equal(t, ids, locationIDs(ctx, t, schema.Pool))
	require.EqualValues(t, 50, queryInt(ctx, t, schema.Pool, "SELECT count(*) FROM building_rooms"))
}

// Expected totals of the demo lab (docs/domain.md Appendix A).
var demoTotals = map[emission.ModuleKey]float64{
	emission.ModuleHeadcount:          20873.0425,
	emission.ModuleProfessionalTravel: 41995.95,
	emission.ModuleBuildings:          21313.15,
	emission.ModuleEquipment:          9885.863,
	emission.ModulePurchases:          84797.228,
	emission.ModuleResearchFacilities: 8026.967,
	emission.ModuleExternalCloudAI:    898.663,
	emission.ModuleProcessEmissions:   4640.80,
}

type demoSnapshot struct {
	totals     map[emission.ModuleKey]float64
	entries    int64
	rows       int64
	issues     []string
	factors    int64
	fx         int64
	units      int64
	entryTotal float64
}

func snapshot(ctx context.Context, t *testing.T, pool *pgxpool.Pool) demoSnapshot {
	t.Helper()
	s := demoSnapshot{totals: map[emission.ModuleKey]float64{}}
	rows, err := pool.Query(ctx, `
		SELECT rm.module, coalesce(sum(e.kg_co2eq), 0), count(e.id)
		FROM report_modules rm
		JOIN units u ON u.id = rm.unit_id
		LEFT JOIN emissions e ON e.report_module_id = rm.id
		WHERE u.cf = '7918' AND rm.year = 2025
		GROUP BY rm.module`)
	require.NoError(t, err)
	for rows.Next() {
		var m string
		var kg float64
		var n int64
		require.NoError(t, rows.Scan(&m, &kg, &n))
		s.totals[emission.ModuleKey(m)] = kg
		s.rows += n
	}
	require.NoError(t, rows.Err())
	rows.Close()
	s.entries = queryInt(ctx, t, pool, "SELECT count(*) FROM data_entries d JOIN units u ON u.id = d.unit_id WHERE u.cf = '7918' AND d.year = 2025")
	require.NoError(t, pool.QueryRow(ctx, "SELECT coalesce(sum(kg_co2eq), 0) FROM data_entries WHERE year = 2025").Scan(&s.entryTotal))
	issues, err := pool.Query(ctx, "SELECT submodule || ':' || calc_status || ':' || (data->>'researchfacility_name') || ':' || (data->>'use_unit') FROM data_entries WHERE calc_status <> 'ok'")
	require.NoError(t, err)
	for issues.Next() {
		var v string
		require.NoError(t, issues.Scan(&v))
		s.issues = append(s.issues, v)
	}
	require.NoError(t, issues.Err())
	issues.Close()
	s.factors = queryInt(ctx, t, pool, "SELECT count(*) FROM factors WHERE year = 2025")
	s.fx = queryInt(ctx, t, pool, "SELECT count(*) FROM fx_rates WHERE year = 2025 AND source = 'ecb_annual'")
	s.units = queryInt(ctx, t, pool, "SELECT count(*) FROM units WHERE source = 'dev'")
	return s
}

func TestDemo(t *testing.T) {
	t.Parallel()
	requireData(t)
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	_, err := seed.ReferenceData(ctx, schema.Pool, dataDir)
	require.NoError(t, err)

	st, err := seed.Demo(ctx, schema.Pool, dataDir)
	require.NoError(t, err)
	require.Equal(t, 7, st.Units)
	require.Equal(t, 287, st.Factors)
	require.Equal(t, 8, st.FXRates)
	require.Equal(t, 214, st.Entries)
	require.Equal(t, 776, st.EmissionRows)
	require.Equal(t, 1, st.CalcIssues)
	require.Zero(t, st.EntriesDeleted)

	first := snapshot(ctx, t, schema.Pool)
	require.EqualValues(t, 214, first.entries)
	require.EqualValues(t, 776, first.rows)
	require.Equal(t, []string{"facility:no_factor:EM-DEMO:days"}, first.issues)
	require.EqualValues(t, 287, first.factors)
	require.EqualValues(t, 8, first.fx)
	require.EqualValues(t, 7, first.units)
	sum := 0.0
	for m, want := range demoTotals {
		require.InDelta(t, want, first.totals[m], 0.001, m)
		require.InDelta(t, want, st.KgByModule[m], 0.001, m)
		sum += first.totals[m]
	}
	require.InDelta(t, 192431.663, sum, 0.001)
	require.InDelta(t, sum, first.entryTotal, 1e-6)

	requireFreshStats(ctx, t, schema.Pool)

	var path []string
	require.NoError(t, schema.Pool.QueryRow(ctx, "SELECT path_cfs FROM units WHERE cf = '7918'").Scan(&path))
	require.Equal(t, []string{"10000", "13030", "13031", "7918"}, path)
	var status string
	require.NoError(t, schema.Pool.QueryRow(ctx, "SELECT status FROM years WHERE year = 2025").Scan(&status))
	require.Equal(t, "open", status)
	var chf float64
	require.NoError(t, schema.Pool.QueryRow(ctx, "SELECT per_eur FROM fx_rates WHERE year = 2025 AND currency = 'CHF'").Scan(&chf))
	require.InDelta(t, 0.9360, chf, 0)

	// Idempotent: a second run replaces the demo entries and gives the
	// same data.
	st, err = seed.Demo(ctx, schema.Pool, dataDir)
	require.NoError(t, err)
	require.EqualValues(t, 214, st.EntriesDeleted)
	second := snapshot(ctx, t, schema.Pool)
	require.Equal(t, first.entries, second.entries)
	require.Equal(t, first.rows, second.rows)
	require.Equal(t, first.issues, second.issues)
	require.Equal(t, first.factors, second.factors)
	for m := range demoTotals {
		require.InDelta(t, first.totals[m], second.totals[m], 1e-9, m)
	}
	requireFreshStats(ctx, t, schema.Pool)
}

// requireFreshStats checks that Demo left the LAB-DEMO stats computed: no
// dirty module, the module stats hold the expected totals and the report's
// results (scope all) add up to the demo total.
func requireFreshStats(ctx context.Context, t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var unitID int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT id FROM units WHERE cf = '7918'").Scan(&unitID))
	require.EqualValues(t, 0, queryInt(ctx, t, pool,
		"SELECT count(*) FROM report_modules WHERE unit_id = $1 AND year = 2025 AND stats_dirty_at IS NOT NULL", unitID))
	rows, err := pool.Query(ctx, "SELECT module, stats FROM report_modules WHERE unit_id = $1 AND year = 2025", unitID)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var m string
		var raw []byte
		require.NoError(t, rows.Scan(&m, &raw))
		st, err := report.DecodeModuleStats(raw)
		require.NoError(t, err)
		require.InDelta(t, demoTotals[emission.ModuleKey(m)], st.TotalKg, 0.001, m)
	}
	require.NoError(t, rows.Err())

	var raw []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT stats FROM carbon_reports WHERE unit_id = $1 AND year = 2025", unitID).Scan(&raw))
	var rs report.ReportStats
	require.NoError(t, json.Unmarshal(raw, &rs))
	require.InDelta(t, 192431.663, rs.All.TotalKg, 0.001)
	b, err := report.GetBreakdown(ctx, pool, unitID, seed.DemoYear, report.Options{Scope: report.ScopeAll})
	require.NoError(t, err)
	require.InDelta(t, 192.432, b.TotalTCO2eq, 1e-9)
	sum := 0.0
	for _, c := range b.Categories {
		sum += c.TCO2eq
	}
	require.InDelta(t, 192.432, sum, 0.01)
}
