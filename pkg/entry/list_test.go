package entry_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// oracleValue is the sort value of the in-memory sort the list used before
// it sorted every key in the database (issue 17): numbers compare as
// numbers, strings lower-cased, booleans as 0 and 1, a missing value (nil)
// sorts last in both directions. One key changed on purpose: surface_m2 of
// a room is the listed surface (the entry's own, else the reference room's
// the engine used), where the old sort read the entry's own only.
func oracleValue(e *entry.Entry, key string) any {
	switch key {
	case "id":
		return float64(e.Row.ID)
	case "kg_co2eq":
		return e.Row.KgCo2eq
	case "created_at":
		return float64(e.Row.CreatedAt.UnixNano())
	case "updated_at":
		return float64(e.Row.UpdatedAt.UnixNano())
	case "distance_km":
		if e.Details.DistanceKm == 0 {
			return nil
		}
		return e.Details.DistanceKm
	case "traveler_name":
		if e.TravelerName == nil {
			return nil
		}
		return strings.ToLower(*e.TravelerName)
	case "surface_m2":
		if e.Data["surface_m2"] == nil && e.Details.SurfaceM2 > 0 {
			return e.Details.SurfaceM2
		}
	}
	switch v := e.Data[key].(type) {
	case string:
		return strings.ToLower(v)
	case json.Number:
		f, _ := v.Float64()
		return f
	case float64:
		return v
	case bool:
		if v {
			return 1.0
		}
		return 0.0
	}
	return nil
}

// oracleCompare is the comparator of that in-memory sort: the keys in
// order (a missing value last whatever the direction), then id.
func oracleCompare(keys []entry.SortKey) func(a, b entry.Entry) int {
	return func(a, b entry.Entry) int {
		for _, k := range keys {
			va, vb := oracleValue(&a, k.Field), oracleValue(&b, k.Field)
			var c int
			switch {
			case va == nil && vb == nil:
				continue
			case va == nil:
				return 1
			case vb == nil:
				return -1
			}
			fa, okA := va.(float64)
			fb, okB := vb.(float64)
			if okA && okB {
				c = cmp.Compare(fa, fb)
			} else {
				c = strings.Compare(fmt.Sprint(va), fmt.Sprint(vb))
			}
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Row.ID, b.Row.ID)
	}
}

func ids(items []entry.Entry) []int64 {
	out := make([]int64, len(items))
	for i := range items {
		out[i] = items[i].Row.ID
	}
	return out
}

// computeAll runs the engine over entries inserted by the factory, as an
// import does: totals and sort values stored.
func computeAll(ctx context.Context, t *testing.T, b *testBundle, module emission.ModuleKey, entries []dbsqlc.DataEntry) {
	t.Helper()
	lk, err := calc.LoadLookup(ctx, b.tx, int(b.year), module)
	require.NoError(t, err)
	_, err = calc.ComputeAndStore(ctx, b.tx, lk, entries, time.Now())
	require.NoError(t, err)
}

// requireOracleOrder lists every entry of sc with sort and checks the order
// against the in-memory comparator.
func requireOracleOrder(t *testing.T, b *testBundle, sc entry.Scope, sort string, n int) {
	t.Helper()
	keys, err := entry.ParseSort(sc.Submodule, sort)
	require.NoError(t, err)
	res, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: keys, Limit: entry.MaxLimit})
	require.NoError(t, err)
	require.Len(t, res.Items, n)
	want := slices.Clone(res.Items)
	slices.SortStableFunc(want, oracleCompare(keys))
	require.Equal(t, ids(want), ids(res.Items), "sort=%s", sort)
	require.False(t, res.HasMore)
	require.Empty(t, res.NextCursor)
	require.Equal(t, ids(want), walkByCursor(t, b, sc, keys, 2, n), "sort=%s by cursor", sort)
}

// walkByCursor lists every entry of sc with sort keys, limit entries a
// page, the first page by number and the others by the cursor of the page
// before, checking the page numbers, the total and has_more on the way.
func walkByCursor(t *testing.T, b *testBundle, sc entry.Scope, keys []entry.SortKey, limit, total int) []int64 {
	t.Helper()
	var out []int64
	p := entry.ListParams{Sort: keys, Limit: limit}
	for page := 1; ; page++ {
		res, err := b.svc.List(b.ctx, b.actor(), sc, p)
		require.NoError(t, err)
		require.Equal(t, page, res.Page)
		require.EqualValues(t, total, res.Total)
		out = append(out, ids(res.Items)...)
		require.Equal(t, len(out) < total, res.HasMore, "page %d", page)
		if !res.HasMore {
			require.Empty(t, res.NextCursor)
			return out
		}
		require.Len(t, res.Items, limit)
		require.NotEmpty(t, res.NextCursor)
		p.Cursor = res.NextCursor
	}
}

func TestListSortOrder(t *testing.T) {
	t.Parallel()

	// sorts returns every key of sub ascending and descending, then the
	// combinations given.
	sorts := func(sub emission.SubmoduleKey, combos ...string) []string {
		var out []string
		for _, k := range entry.SortKeys(sub) {
			out = append(out, k, "-"+k)
		}
		return append(out, combos...)
	}

	t.Run("Member", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		hc := b.rep.Module(emission.ModuleHeadcount)
		b.factor(t, emission.SubMember, nil, nil)
		var rows []dbsqlc.DataEntry
		for i, m := range []map[string]any{
			{"name": "carol", "sius_code": "53", "fte": 0.5, "note": "b"},
			{"name": "Alice", "sius_code": "51", "fte": 1},
			{"name": "bob", "sius_code": "57", "fte": 0.8, "note": "A"},
			{"name": "ALICE", "sius_code": "53", "fte": 0.5},
			{"name": "Dave", "sius_code": "53", "fte": 0.2, "note": "a"},
			{"name": "émile", "sius_code": "51", "fte": 1},
		} {
			m["user_institutional_id"] = strconv.Itoa(200001 + i)
			rows = append(rows, testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"), Data: m}))
		}
		computeAll(b.ctx, t, b, emission.ModuleHeadcount, rows)
		for _, sort := range sorts(emission.SubMember, "sius_code,-name", "-fte,note,name", "note,-sius_code,fte,-id") {
			requireOracleOrder(t, b, b.scope(emission.SubMember), sort, len(rows))
		}
	})

	t.Run("Plane", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.factor(t, emission.SubPlane, map[string]string{"cabin_class": "economy", "category": "all"},
			map[string]any{"ef_kg_co2eq_per_km": 0.15, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 20000})
		coords := [][2]float64{gva, zrh, {49.012798, 2.55}, {40.639447, -73.779317}}
		iata := make([]string, len(coords))
		for i, c := range coords {
			iata[i] = *testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{Latitude: &c[0], Longitude: &c[1]}).IataCode
		}
		hc := b.rep.Module(emission.ModuleHeadcount)
		for sciper, name := range map[string]string{"300001": "alice", "300002": "Bob", "300003": "ALICE", "300004": "émile"} {
			testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
				Data: map[string]any{"name": name, "sius_code": "53", "user_institutional_id": sciper, "fte": 1}})
		}
		travel := b.rep.Module(emission.ModuleProfessionalTravel)
		var rows []dbsqlc.DataEntry
		for _, p := range []map[string]any{
			{"origin_iata": iata[0], "destination_iata": iata[1], "user_institutional_id": "300001", "cabin_class": "economy", "departure_date": dateIn(b.year)},
			{"origin_iata": iata[1], "destination_iata": iata[0], "user_institutional_id": "300002", "cabin_class": "economy"}, // same distance
			{"origin_iata": iata[0], "destination_iata": iata[2], "user_institutional_id": "300003", "cabin_class": "business", "number_of_trips": 2,
				"departure_date": strconv.Itoa(int(b.year)) + "-01-15", "round_trip": true, "supplier": "Acme"},
			{"origin_iata": iata[0], "destination_iata": iata[3], "user_institutional_id": "300005", "cabin_class": "first", // no member
				"departure_date": strconv.Itoa(int(b.year)) + "-12-01", "round_trip": false, "supplier": "acme", "provider_distance_km": 6300},
			{"origin_iata": iata[0], "destination_iata": "QQQ", "user_institutional_id": "300004", "cabin_class": "economy"}, // unknown: no distance
			{"origin_iata": iata[2], "destination_iata": iata[0], "user_institutional_id": "300001", "cabin_class": "economy", "number_of_trips": 2},
			{"origin_iata": iata[3], "destination_iata": iata[1], "user_institutional_id": "300002", "cabin_class": "business", "note": "Zebra"},
			{"origin_iata": iata[1], "destination_iata": iata[2], "user_institutional_id": "300005", "cabin_class": "economy", "number_of_trips": 3, "note": "apple"},
		} {
			rows = append(rows, testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
				Data: p, Source: new("csv_unit")}))
		}
		computeAll(b.ctx, t, b, emission.ModuleProfessionalTravel, rows)
		for _, sort := range sorts(emission.SubPlane, "cabin_class,-distance_km", "traveler_name,-number_of_trips,departure_date,-id",
			"-round_trip,traveler_name", "supplier,-kg_co2eq", "-traveler_name,distance_km", "+distance_km, traveler_name") {
			requireOracleOrder(t, b, b.scope(emission.SubPlane), sort, len(rows))
		}
	})

	t.Run("Room", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		building := fmt.Sprintf("B%d", b.year)
		testfactory.Room(b.ctx, t, b.tx, &testfactory.RoomOpts{BuildingName: &building, RoomName: new(building + "-150"), SurfaceM2: new(20.0)})
		b.factor(t, emission.SubRoom, map[string]string{"building_name": building, "room_type": "office"}, nil)
		bld := b.rep.Module(emission.ModuleBuildings)
		var rows []dbsqlc.DataEntry
		for _, r := range []map[string]any{
			{"building_name": building, "room_name": building + "-150"},                                                 // reference surface 20
			{"building_name": building, "room_name": building + "-150", "surface_m2": 35, "room_allocation_ratio": 0.5}, // own surface
			{"building_name": "BX", "room_name": "BX-1", "room_type": "laboratories", "surface_m2": 12.5},
			{"building_name": "BX", "room_name": "BX-2", "room_type": "office", "building_location": "Ecublens"}, // no surface at all
			{"building_name": "bx", "room_name": "BX-3", "room_type": "office", "surface_m2": 20},                // ties the reference room
		} {
			if _, ok := r["room_type"]; !ok {
				r["room_type"] = "office"
			}
			rows = append(rows, testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &bld, Submodule: new("room"), Data: r}))
		}
		computeAll(b.ctx, t, b, emission.ModuleBuildings, rows)
		for _, sort := range sorts(emission.SubRoom, "building_name,-surface_m2", "-room_type,surface_m2,room_name") {
			requireOracleOrder(t, b, b.scope(emission.SubRoom), sort, len(rows))
		}
		// The listed surface: 35, 20 and 20 (reference, then own, by id), 12.5, none.
		keys, err := entry.ParseSort(emission.SubRoom, "-surface_m2")
		require.NoError(t, err)
		res, err := b.svc.List(b.ctx, b.actor(), b.scope(emission.SubRoom), entry.ListParams{Sort: keys})
		require.NoError(t, err)
		require.Equal(t, []int64{rows[1].ID, rows[0].ID, rows[4].ID, rows[2].ID, rows[3].ID}, ids(res.Items))
	})
}

// TestListSortValuesFollowChanges: the stored distance follows a PATCH and
// a recalculation after a reference change; the traveller names are read
// when listing, so a member's rename reorders the trips at once.
func TestListSortValuesFollowChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.factor(t, emission.SubPlane, map[string]string{"cabin_class": "economy", "category": "all"},
		map[string]any{"ef_kg_co2eq_per_km": 0.15, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 20000})
	var iata []string
	for _, c := range [][2]float64{gva, zrh, {49.012798, 2.55}} {
		iata = append(iata, *testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{Latitude: &c[0], Longitude: &c[1]}).IataCode)
	}
	hc := b.scope(emission.SubMember)
	ada, err := b.svc.Create(b.ctx, b.actor(), hc, mustJSON(t, map[string]any{"name": "Ada", "sius_code": "53", "user_institutional_id": "400001", "fte": 1}))
	require.NoError(t, err)
	_, err = b.svc.Create(b.ctx, b.actor(), hc, mustJSON(t, map[string]any{"name": "Bea", "sius_code": "53", "user_institutional_id": "400002", "fte": 1}))
	require.NoError(t, err)

	planes := b.scope(emission.SubPlane)
	short, err := b.svc.Create(b.ctx, b.actor(), planes, mustJSON(t, map[string]any{"origin_iata": iata[0], "destination_iata": iata[1],
		"user_institutional_id": "400001", "cabin_class": "economy"})) // 325 km
	require.NoError(t, err)
	require.InDelta(t, 325, *short.Row.DistanceKm, 0)
	long, err := b.svc.Create(b.ctx, b.actor(), planes, mustJSON(t, map[string]any{"origin_iata": iata[0], "destination_iata": iata[2],
		"user_institutional_id": "400002", "cabin_class": "economy"})) // 503 km
	require.NoError(t, err)
	list := func(sort string) []int64 {
		t.Helper()
		keys, err := entry.ParseSort(emission.SubPlane, sort)
		require.NoError(t, err)
		res, err := b.svc.List(b.ctx, b.actor(), planes, entry.ListParams{Sort: keys})
		require.NoError(t, err)
		return ids(res.Items)
	}
	require.Equal(t, []int64{short.Row.ID, long.Row.ID}, list("distance_km"))
	require.Equal(t, []int64{short.Row.ID, long.Row.ID}, list("traveler_name"))

	_, err = b.svc.Update(b.ctx, b.actor(), planes, short.Row.ID, mustJSON(t, map[string]any{"number_of_trips": 2}), nil) // 650 km
	require.NoError(t, err)
	require.Equal(t, []int64{long.Row.ID, short.Row.ID}, list("distance_km"))

	// The reference data moves the third airport next door; the
	// recalculation stores the new distance.
	_, err = b.tx.Exec(b.ctx, "UPDATE locations SET latitude = $1, longitude = $2 WHERE iata_code = $3", gva[0]+0.01, gva[1], iata[2])
	require.NoError(t, err)
	rows, err := b.q.EntriesByReportModule(b.ctx, b.rep.Module(emission.ModuleProfessionalTravel).ID)
	require.NoError(t, err)
	lk, err := calc.LoadLookup(b.ctx, b.tx, int(b.year), emission.ModuleProfessionalTravel)
	require.NoError(t, err)
	_, err = calc.RecomputeAndStore(b.ctx, b.tx, lk, rows, time.Now())
	require.NoError(t, err)
	require.Equal(t, []int64{long.Row.ID, short.Row.ID}, list("distance_km"))
	got, err := b.q.EntryGet(b.ctx, dbsqlc.EntryGetParams{ID: long.Row.ID, ReportModuleID: long.Row.ReportModuleID, Submodule: "plane"})
	require.NoError(t, err)
	require.InDelta(t, 96, *got.DistanceKm, 0, "round(1.11 km) + 95")

	_, err = b.svc.Update(b.ctx, b.actor(), hc, ada.Row.ID, mustJSON(t, map[string]any{"name": "Zoe"}), nil)
	require.NoError(t, err)
	require.Equal(t, []int64{long.Row.ID, short.Row.ID}, list("traveler_name"))
}

// TestListPagesToTheEnd pages through a list longer than the 100 000
// entries the in-memory sort used to hold, sorted by a stored value with
// many ties and missing values, by cursor to the end and by number at
// chosen depths: every entry once, in order, has_more false on the last
// page, the same total on every page, nothing past the end.
// The entries are committed (a schema of its own) so that the list runs as
// in production: its own read-only snapshot, custom plans.
func TestListPagesToTheEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("101 pages of 100 123 entries")
	}
	ctx := t.Context()
	pool := testdb.TestSchema(ctx, t).Pool
	q := dbsqlc.New(pool)
	travel := testfactory.Report(ctx, t, pool, nil).Module(emission.ModuleProfessionalTravel)
	const n = 100_123
	reserved, err := q.EntryIDsReserve(ctx, n)
	require.NoError(t, err)
	params := make([]dbsqlc.EntriesCopyFromParams, n)
	data := json.RawMessage(`{"origin_iata": "QQA", "destination_iata": "QQB", "user_institutional_id": "500001", "cabin_class": "economy"}`)
	for i, id := range reserved {
		p := dbsqlc.EntriesCopyFromParams{ID: id, ReportModuleID: travel.ID, UnitID: travel.UnitID, Year: travel.Year,
			Module: travel.Module, Submodule: "plane", Data: data, Source: "csv_unit", CalcStatus: "unknown_location"}
		if i%10 != 0 { // a tenth without distance; many ties
			p.DistanceKm = new(float64(100 + i%997))
		}
		params[i] = p
	}
	_, err = q.EntriesCopyFrom(ctx, params)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "ANALYZE data_entries")
	require.NoError(t, err)

	svc := entry.New(pool)
	sc := entry.Scope{UnitID: travel.UnitID, Year: travel.Year, Module: emission.ModuleProfessionalTravel, Submodule: emission.SubPlane}
	keys, err := entry.ParseSort(emission.SubPlane, "-distance_km")
	require.NoError(t, err)
	const pages = (n + entry.MaxLimit - 1) / entry.MaxLimit

	// The whole list by cursor (keyset), as a client walks it.
	seen := make(map[int64]bool, n)
	var listed []dbsqlc.DataEntry
	byPage := map[int][]int64{}
	p := entry.ListParams{Sort: keys, Limit: entry.MaxLimit}
	for page := 1; ; page++ {
		res, err := svc.List(ctx, entry.Actor{}, sc, p)
		require.NoError(t, err)
		require.Equal(t, page, res.Page)
		require.EqualValues(t, n, res.Total)
		for _, e := range res.Items {
			require.False(t, seen[e.Row.ID], "entry %d listed twice", e.Row.ID)
			seen[e.Row.ID] = true
			listed = append(listed, e.Row)
		}
		byPage[page] = ids(res.Items)
		if !res.HasMore {
			require.Empty(t, res.NextCursor)
			require.Equal(t, pages, page)
			require.Len(t, res.Items, n%entry.MaxLimit)
			break
		}
		require.Len(t, res.Items, entry.MaxLimit)
		p.Cursor = res.NextCursor
	}
	require.Len(t, seen, n)
	require.True(t, slices.IsSortedFunc(listed, func(a, b dbsqlc.DataEntry) int {
		switch {
		case a.DistanceKm == nil && b.DistanceKm == nil:
			return cmp.Compare(a.ID, b.ID)
		case a.DistanceKm == nil:
			return 1
		case b.DistanceKm == nil:
			return -1
		}
		return cmp.Or(cmp.Compare(*b.DistanceKm, *a.DistanceKm), cmp.Compare(a.ID, b.ID))
	}), "distance descending, none last, ties by id")

	// By number (offset), pages past the 100 000th entry included: the same
	// pages, has_more false on the last, the same total on every page,
	// nothing past the end.
	for _, page := range []int{1, 2, pages / 2, pages - 1, pages, pages + 1} {
		res, err := svc.List(ctx, entry.Actor{}, sc, entry.ListParams{Sort: keys, Limit: entry.MaxLimit, Page: page})
		require.NoError(t, err)
		require.EqualValues(t, n, res.Total)
		require.Equal(t, page < pages, res.HasMore, "page %d", page)
		require.Equal(t, page < pages, res.NextCursor != "", "page %d", page)
		if page > pages {
			require.Empty(t, res.Items)
			continue
		}
		require.Equal(t, byPage[page], ids(res.Items), "page %d", page)
	}
}

func TestParseSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want []entry.SortKey // nil with ok false: 400 invalid_sort
		ok   bool
	}{
		{raw: "", ok: true},
		{raw: "name", want: []entry.SortKey{{Field: "name"}}, ok: true},
		{raw: "-fte,name", want: []entry.SortKey{{Field: "fte", Desc: true}, {Field: "name"}}, ok: true},
		{raw: "+name", want: []entry.SortKey{{Field: "name"}}, ok: true},
		{raw: " name", want: []entry.SortKey{{Field: "name"}}, ok: true}, // "+name" in a query string
		{raw: "name, -fte", want: nil},                                   // "name,+-fte"
		{raw: "name,-fte,sius_code,id", want: []entry.SortKey{{Field: "name"}, {Field: "fte", Desc: true}, {Field: "sius_code"}, {Field: "id"}}, ok: true},
		{raw: "name,-fte,sius_code,id,note"},
		{raw: "+unknown"},
		{raw: " unknown"},
		{raw: "+-name"},
		{raw: " -name"},
		{raw: "++name"},
		{raw: "--name"},
		{raw: "-+name"},
		{raw: "name "},
		{raw: " "},
		{raw: "+"},
		{raw: "-"},
		{raw: "name,"},
		{raw: ",name"},
		{raw: "name,-name"},
		{raw: "distance_km"}, // a travel key
		{raw: "password"},
	}
	for _, tt := range tests {
		got, err := entry.ParseSort(emission.SubMember, tt.raw)
		if !tt.ok {
			requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort")
			continue
		}
		require.NoError(t, err, "%q", tt.raw)
		require.Equal(t, tt.want, got, "%q", tt.raw)
	}

	// The service checks keys given directly too.
	b := setup(t)
	_, err := b.svc.List(b.ctx, b.actor(), b.scope(emission.SubMember), entry.ListParams{Sort: []entry.SortKey{{Field: "-name"}}})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort")
	_, err = b.svc.List(b.ctx, b.actor(), b.scope(emission.SubMember), entry.ListParams{
		Sort: []entry.SortKey{{Field: "name"}, {Field: "fte"}, {Field: "note"}, {Field: "id"}, {Field: "sius_code"}}})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort")
}

// TestListCursor: a cursor leads to the entries after the last one of its
// page, whatever was added or removed before that position since; it is
// refused (400 invalid_cursor) with page, under another sort or other
// filters, and when it is not one the list made.
func TestListCursor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.factor(t, emission.SubMember, nil, nil)
	sc := b.scope(emission.SubMember)
	sciper := 600000
	create := func(name string, fte float64) int64 {
		t.Helper()
		sciper++
		e, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, map[string]any{"name": name, "sius_code": "53",
			"user_institutional_id": strconv.Itoa(sciper), "fte": fte}))
		require.NoError(t, err)
		return e.Row.ID
	}
	c, d, e, f := create("Cc", 0.5), create("Dd", 0.5), create("Eee", 1), create("Ffff", 0.2)
	keys, err := entry.ParseSort(emission.SubMember, "name")
	require.NoError(t, err)
	first, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: keys, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []int64{c, d}, ids(first.Items))
	require.True(t, first.HasMore)

	// An entry added before the position and one removed before it do not
	// shift the next page; one added after it is listed.
	create("Aa", 1)
	require.NoError(t, b.svc.Delete(b.ctx, b.actor(), sc, c, nil))
	g := create("Ggggg", 0.1)
	next, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: keys, Limit: 2, Cursor: first.NextCursor})
	require.NoError(t, err)
	require.Equal(t, 2, next.Page)
	require.EqualValues(t, 5, next.Total)
	require.Equal(t, []int64{e, f}, ids(next.Items))
	require.True(t, next.HasMore)
	last, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: keys, Limit: 2, Cursor: next.NextCursor})
	require.NoError(t, err)
	require.Equal(t, 3, last.Page)
	require.Equal(t, []int64{g}, ids(last.Items))
	require.False(t, last.HasMore)
	require.Empty(t, last.NextCursor)

	// Refused.
	other, err := entry.ParseSort(emission.SubMember, "-name")
	require.NoError(t, err)
	forge := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	var made map[string]any
	raw, err := base64.RawURLEncoding.DecodeString(first.NextCursor)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &made))
	withPos := func(pos string) string {
		return forge(fmt.Sprintf(`{"p": 2, "s": %q, "f": %q, "k": %s}`, made["s"], made["f"], pos))
	}
	// position is a sort_position of the sort by name: n1, t1, the six
	// values of the unused keys, the id.
	position := func(n1, t1, id string) string {
		return "[" + n1 + ", " + t1 + strings.Repeat(", null", 6) + ", " + id + "]"
	}
	for name, p := range map[string]entry.ListParams{
		"WithPage":      {Sort: keys, Cursor: first.NextCursor, Page: 2},
		"OtherSort":     {Sort: other, Cursor: first.NextCursor},
		"NoSort":        {Cursor: first.NextCursor},
		"OtherFilter":   {Sort: keys, Cursor: first.NextCursor, Q: "e"},
		"OtherSource":   {Sort: keys, Cursor: first.NextCursor, Source: "manual"},
		"NotBase64":     {Sort: keys, Cursor: "not a cursor!"},
		"NotJSON":       {Sort: keys, Cursor: forge("{")},
		"UnknownMember": {Sort: keys, Cursor: forge(fmt.Sprintf(`{"p": 2, "s": %q, "f": %q, "k": [], "x": 1}`, made["s"], made["f"]))},
		"PageOne":       {Sort: keys, Cursor: forge(fmt.Sprintf(`{"p": 1, "s": %q, "f": %q, "k": null}`, made["s"], made["f"]))},
		"ShortPosition": {Sort: keys, Cursor: withPos(`[null, "dd", 1]`)},
		"TextForNumber": {Sort: keys, Cursor: withPos(position(`"x"`, `"dd"`, `1`))},
		"NumberForText": {Sort: keys, Cursor: withPos(position(`null`, `5`, `1`))},
		"HugeNumber":    {Sort: keys, Cursor: withPos(position(`1e999`, `"dd"`, `1`))},
		"NulInText":     {Sort: keys, Cursor: withPos(position(`null`, `"d\u0000"`, `1`))},
		"NoID":          {Sort: keys, Cursor: withPos(position(`null`, `"dd"`, `null`))},
		"FloatID":       {Sort: keys, Cursor: withPos(position(`null`, `"dd"`, `1.5`))},
		"TooLong":       {Sort: keys, Cursor: strings.Repeat("A", 9000)},
	} {
		_, err := b.svc.List(b.ctx, b.actor(), sc, p)
		ae := requireAppErr(t, err, apperr.CodeInvalid, "invalid_cursor")
		require.Equal(t, "cursor", ae.Fields[0].Field, name)
	}
	// A text PostgreSQL cannot compare is refused before the database.
	for _, q := range []string{"a\x00b", "a\xffb"} {
		_, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Q: q})
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
	}
	// A forged but well-formed position is only a position.
	res, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: keys, Limit: 10,
		Cursor: withPos(position(`null`, `"e"`, `0`))})
	require.NoError(t, err)
	require.Equal(t, []int64{e, f, g}, ids(res.Items))
}
