package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// benchPlaneEntries is the size of the module of BenchmarkEntryListLargeModule
// (the module of the black-box probe of issue 17).
const benchPlaneEntries = 133011

// BenchmarkEntryListLargeModule serves GET .../professional_travel/plane/entries
// of a unit with 133 011 plane entries (COPYed with their totals computed by
// the engine; 40 airports, 500 travellers of whom 400 are members of the
// headcount) and reports, per sort, the median latency and the bytes
// allocated per request (-benchmem) — the first, a middle and the last page
// of 1 000 sorted by distance, by page number (offset) and by cursor
// (keyset), after a walk of the whole list by cursor that must end with
// has_more false on page 134 — then the peak RSS of the process while 8
// requests sorted by distance_km run at once.
func BenchmarkEntryListLargeModule(b *testing.B) {
	ctx := b.Context()
	schema := testdb.TestSchema(ctx, b)
	pool := schema.Pool
	q := dbsqlc.New(pool)
	year := testfactory.Year(ctx, b, pool, &testfactory.YearOpts{Year: new(int32(2025))}).Year
	unit := testfactory.Unit(ctx, b, pool, nil)
	rep := testfactory.Report(ctx, b, pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year})
	for _, band := range []struct {
		cat      string
		min, max int
		ef       float64
	}{{"very_short_haul", 0, 500, 0.258}, {"short_haul", 500, 1500, 0.156}, {"medium_haul", 1500, 3500, 0.131}, {"long_haul", 3500, 20000, 0.151}} {
		testfactory.Factor(ctx, b, pool, &testfactory.FactorOpts{Year: &year, Submodule: new("plane"),
			Classification: map[string]string{"cabin_class": "economy", "category": band.cat},
			Values:         map[string]any{"ef_kg_co2eq_per_km": band.ef, "rfi_adjustment": 2, "min_distance": band.min, "max_distance": band.max}})
	}
	iatas := make([]string, 40)
	for i := range iatas {
		iatas[i] = fmt.Sprintf("Q%02d", i)
		testfactory.Location(ctx, b, pool, &testfactory.LocationOpts{IATA: &iatas[i],
			Latitude: new(-50 + float64(i*97%100)), Longitude: new(-170 + float64(i*211%340))})
	}
	hc := rep.Module(emission.ModuleHeadcount)
	for i := range 400 {
		testfactory.Entry(ctx, b, pool, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
			Data: map[string]any{"name": fmt.Sprintf("Traveller %03d", (i*37)%400), "sius_code": "53",
				"user_institutional_id": strconv.Itoa(100000 + i), "fte": 1}})
	}
	travel := rep.Module(emission.ModuleProfessionalTravel)
	lk, err := calc.LoadLookup(ctx, pool, int(year), emission.ModuleProfessionalTravel)
	require.NoError(b, err)
	start := time.Now()
	const batch = 20000
	for done := 0; done < benchPlaneEntries; done += batch {
		n := min(batch, benchPlaneEntries-done)
		ids, err := q.EntryIDsReserve(ctx, int32(n))
		require.NoError(b, err)
		entries := make([]dbsqlc.DataEntry, n)
		for i, id := range ids {
			k := done + i
			sciper := strconv.Itoa(100000 + k%500)
			data, err := json.Marshal(map[string]any{"origin_iata": iatas[k%40], "destination_iata": iatas[(k*7+1)%40],
				"user_institutional_id": sciper, "cabin_class": "economy", "number_of_trips": 1 + k%3,
				"departure_date": fmt.Sprintf("2025-%02d-%02d", 1+k%12, 1+k%28)})
			require.NoError(b, err)
			entries[i] = dbsqlc.DataEntry{ID: id, ReportModuleID: travel.ID, UnitID: unit.ID, Year: year,
				Module: string(emission.ModuleProfessionalTravel), Submodule: "plane", Data: data, Source: "csv_unit", OwnerSciper: &sciper}
		}
		cb, err := calc.Compute(lk, entries, time.Now())
		require.NoError(b, err)
		params := make([]dbsqlc.EntriesCopyFromParams, n)
		for i := range entries {
			e, o := &entries[i], &cb.Out[i].Outcome
			distanceKm, surfaceM2 := calc.SortValues(o)
			params[i] = dbsqlc.EntriesCopyFromParams{ID: e.ID, ReportModuleID: e.ReportModuleID, UnitID: e.UnitID, Year: year,
				Module: e.Module, Submodule: e.Submodule, Data: e.Data, Source: e.Source, OwnerSciper: e.OwnerSciper,
				CalcStatus: string(o.Status), KgCo2eq: float64(o.Kg), KgCo2eqAdditional: float64(o.KgAdditional),
				DistanceKm: distanceKm, SurfaceM2: surfaceM2}
		}
		_, err = q.EntriesCopyFrom(ctx, params)
		require.NoError(b, err)
	}
	_, err = pool.Exec(ctx, "ANALYZE data_entries")
	require.NoError(b, err)
	b.Logf("fixture: %d plane entries in %s", benchPlaneEntries, time.Since(start).Round(time.Millisecond))

	router := httpapi.AsUnitPrincipal(httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready}), *unit.Cf)
	base := fmt.Sprintf("/api/v1/units/%d/years/%d/modules/professional_travel/plane/entries", unit.ID, year)
	serve := func(tb testing.TB, query string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, base+query, nil)
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			tb.Fatalf("%s: status %d: %s", query, rec.Code, rec.Body.String())
		}
		return rec
	}
	lastPage := (benchPlaneEntries + 999) / 1000
	// The whole list by cursor, 1 000 entries a page, to the last page
	// (has_more false): the query of every page.
	t0 := time.Now()
	byCursor := []string{"?sort=-distance_km&limit=1000"}
	for {
		var res struct {
			HasMore    bool    `json:"has_more"`
			NextCursor *string `json:"next_cursor"`
		}
		require.NoError(b, json.Unmarshal(serve(b, byCursor[len(byCursor)-1]).Body.Bytes(), &res))
		if !res.HasMore {
			require.Nil(b, res.NextCursor)
			break
		}
		byCursor = append(byCursor, "?sort=-distance_km&limit=1000&cursor="+url.QueryEscape(*res.NextCursor))
	}
	require.Len(b, byCursor, lastPage)
	b.Logf("walk by cursor: %d pages of 1000 in %s (%.0f ms/page)", lastPage, time.Since(t0).Round(time.Millisecond),
		float64(time.Since(t0).Milliseconds())/float64(lastPage))
	middle := lastPage / 2
	for _, bc := range []struct{ name, query string }{
		{"Default", ""},
		{"DistanceKm", "?sort=distance_km"},
		{"DistanceKmDescFirstPage", byCursor[0]},
		{"DistanceKmDescMiddlePage", fmt.Sprintf("?sort=-distance_km&limit=1000&page=%d", middle)},
		{"DistanceKmDescMiddlePageByCursor", byCursor[middle-1]},
		{"DistanceKmDescLastPage", fmt.Sprintf("?sort=-distance_km&limit=1000&page=%d", lastPage)},
		{"DistanceKmDescLastPageByCursor", byCursor[lastPage-1]},
		{"TravelerName", "?sort=traveler_name"},
		{"ThreeDataFields", "?sort=destination_iata,-number_of_trips,departure_date"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				serve(b, bc.query)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
	b.Run("Concurrent8DistanceKm", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
			debug.FreeOSMemory()
			before := procStatusKiB(b, "VmRSS")
			resetPeakRSS(b)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() { serve(b, "?sort=distance_km") })
			}
			wg.Wait()
			b.ReportMetric(float64(procStatusKiB(b, "VmHWM")-before)/1024, "peak-rss-growth-MiB")
			b.ReportMetric(float64(procStatusKiB(b, "VmHWM"))/1024, "peak-rss-MiB")
		}
	})
}

// resetPeakRSS resets VmHWM of the process (Linux: clear_refs 5).
func resetPeakRSS(tb testing.TB) {
	tb.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// procStatusKiB reads a kB field of /proc/self/status.
func procStatusKiB(tb testing.TB, name string) int64 {
	tb.Helper()
	raw, err := os.ReadFile("/proc/self/status")
	require.NoError(tb, err)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(tb, err)
			return v
		}
	}
	tb.Fatalf("no %s in /proc/self/status", name)
	return 0
}
