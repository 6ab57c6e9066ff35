package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// plane and train reference rows in the format of the reference CSV files.
func plane(iata, name, municipality, country, size string, lat, lon float64) dbsqlc.LocationsCopyFromParams {
	return dbsqlc.LocationsCopyFromParams{
		TransportMode: "plane", NaturalKey: emission.PlaneNaturalKey(iata), Name: name, IataCode: &iata,
		CountryCode: &country, Continent: new("EU"), AirportSize: &size, Municipality: &municipality,
		Latitude: lat, Longitude: lon,
	}
}

func train(name, country string, lat, lon float64) dbsqlc.LocationsCopyFromParams {
	return dbsqlc.LocationsCopyFromParams{
		TransportMode: "train", NaturalKey: emission.TrainNaturalKey(country, name), Name: name,
		CountryCode: &country, Latitude: lat, Longitude: lon,
	}
}

func iatas(rows []dbsqlc.LocationsSearchRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = *r.IataCode
	}
	return out
}

func TestLocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Locations are global: each subtest works in its own transaction, so
	// natural keys may repeat across subtests.
	setup := func(t *testing.T) (pgx.Tx, *dbsqlc.Queries) {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		q := dbsqlc.New(tx)
		n, err := q.LocationsCopyFrom(ctx, []dbsqlc.LocationsCopyFromParams{
			plane("GVA", "Geneva Cointrin International Airport", "Geneva", "CH", "large_airport", 46.238098, 6.10895),
			plane("ZRH", "Zürich Airport", "Zurich", "CH", "large_airport", 47.464699, 8.54917),
			plane("CDG", "Charles de Gaulle International Airport", "Paris", "FR", "large_airport", 49.012798, 2.55),
			plane("GNB", "Grenoble Alpes-Isère Airport", "Grenoble", "FR", "medium_airport", 45.3629, 5.32937),
			plane("GEN", "Oslo Gardermoen Airport", "Oslo", "NO", "large_airport", 60.193901, 11.1004),
			train("Genève Cornavin", "CH", 46.210208, 6.142437),
			train("Zürich HB", "CH", 47.378177, 8.540192),
		})
		require.NoError(t, err)
		require.Equal(t, int64(7), n)
		return tx, q
	}

	t.Run("GetByKeys", func(t *testing.T) {
		t.Parallel()
		_, q := setup(t)
		gva, err := q.LocationGetByIATA(ctx, " gva ")
		require.NoError(t, err)
		require.Equal(t, "Geneva Cointrin International Airport", gva.Name)
		require.Equal(t, new("geneva cointrin international airport gva geneva "), gva.SearchText)

		byID, err := q.LocationGet(ctx, gva.ID)
		require.NoError(t, err)
		require.Equal(t, gva, byID)

		st, err := q.LocationGetTrainByName(ctx, dbsqlc.LocationGetTrainByNameParams{CountryCode: "ch", FoldedName: emission.Fold("  GENÈVE   cornavin")})
		require.NoError(t, err)
		require.Equal(t, "Genève Cornavin", st.Name)

		_, err = q.LocationGetByIATA(ctx, "XXX")
		require.ErrorIs(t, err, pgx.ErrNoRows)

		all, err := q.LocationsByNaturalKeys(ctx, []string{"plane:GVA", emission.TrainNaturalKey("CH", "Zürich HB"), "plane:NOPE"})
		require.NoError(t, err)
		require.Len(t, all, 2)
	})

	t.Run("SearchGenev", func(t *testing.T) {
		t.Parallel()
		_, q := setup(t)
		got, err := q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "genev", TransportMode: "plane", Limit: 8})
		require.NoError(t, err)
		require.NotEmpty(t, got)
		require.Equal(t, "GVA", *got[0].IataCode)
		require.NotContains(t, iatas(got), "CDG")
	})

	t.Run("SearchOrderingAndRelevance", func(t *testing.T) {
		t.Parallel()
		_, q := setup(t)
		// "gen" is a substring of Geneva, Grenoble (no), Gardermoen's IATA
		// GEN: the Swiss airport first, then the exact IATA match.
		got, err := q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "GEN", TransportMode: "plane", Limit: 8})
		require.NoError(t, err)
		require.Equal(t, []string{"GVA", "GEN"}, iatas(got))
		require.InDelta(t, 1, got[1].Relevance, 0, "exact IATA match")

		// Typo: trigram word similarity.
		got, err = q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "zurik", TransportMode: "plane", Limit: 8})
		require.NoError(t, err)
		require.Equal(t, []string{"ZRH"}, iatas(got))

		// Mode filter and limit.
		stations, err := q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "genève", TransportMode: "train", Limit: 1})
		require.NoError(t, err)
		require.Len(t, stations, 1)
		require.Equal(t, "Genève Cornavin", stations[0].Name)

		// LIKE wildcards are literal.
		none, err := q.LocationsSearch(ctx, dbsqlc.LocationsSearchParams{Q: "%_", TransportMode: "plane", Limit: 8})
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("StagedMergeKeepsIDs", func(t *testing.T) {
		t.Parallel()
		_, q := setup(t)
		gva, err := q.LocationGetByIATA(ctx, "GVA")
		require.NoError(t, err)

		load := uuid.New()
		stage := func(r dbsqlc.LocationsCopyFromParams) dbsqlc.LocationsStageCopyFromParams {
			return dbsqlc.LocationsStageCopyFromParams{
				LoadID: load, TransportMode: r.TransportMode, NaturalKey: r.NaturalKey, Name: r.Name, IataCode: r.IataCode,
				CountryCode: r.CountryCode, Continent: r.Continent, AirportSize: r.AirportSize, Municipality: r.Municipality,
				Keywords: r.Keywords, Latitude: r.Latitude, Longitude: r.Longitude,
			}
		}
		renamed := plane("GVA", "Genève Aéroport", "Geneva", "CH", "large_airport", 46.238098, 6.10895)
		_, err = q.LocationsStageCopyFrom(ctx, []dbsqlc.LocationsStageCopyFromParams{
			stage(renamed),
			stage(plane("ZRH", "Zürich Airport", "Zurich", "CH", "large_airport", 47.464699, 8.54917)), // unchanged
			stage(plane("BSL", "EuroAirport Basel-Mulhouse-Freiburg", "Basel", "FR", "large_airport", 47.59, 7.529167)),
		})
		require.NoError(t, err)
		merged, err := q.LocationsMergeStaged(ctx, load)
		require.NoError(t, err)
		require.Equal(t, int64(2), merged, "GVA updated, BSL inserted, ZRH untouched")
		deleted, err := q.LocationsDeleteNotStaged(ctx, dbsqlc.LocationsDeleteNotStagedParams{TransportMode: "plane", LoadID: load})
		require.NoError(t, err)
		require.Equal(t, int64(3), deleted, "CDG, GNB, GEN")
		cleared, err := q.LocationsStagingClear(ctx, load)
		require.NoError(t, err)
		require.Equal(t, int64(3), cleared)

		after, err := q.LocationGetByIATA(ctx, "GVA")
		require.NoError(t, err)
		require.Equal(t, gva.ID, after.ID)
		require.Equal(t, "Genève Aéroport", after.Name)
		planes, err := q.LocationsByMode(ctx, "plane")
		require.NoError(t, err)
		require.Len(t, planes, 3)
		trains, err := q.LocationsByMode(ctx, "train")
		require.NoError(t, err)
		require.Len(t, trains, 2, "other mode untouched")
	})
}

func TestBuildingRooms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)

	_, err := q.BuildingRoomsDeleteAll(ctx)
	require.NoError(t, err)
	n, err := q.BuildingRoomsCopyFrom(ctx, []dbsqlc.BuildingRoomsCopyFromParams{
		{BuildingLocation: new("ECUBLENS"), BuildingName: "BX", RoomName: "BX-010", RoomType: new("laboratories"), SurfaceM2: new(62.5)},
		{BuildingLocation: new("ECUBLENS"), BuildingName: "BX", RoomName: "BX-012", RoomType: new("office"), SurfaceM2: new(20.0)},
		{BuildingLocation: new("NEUCHATEL"), BuildingName: "MC", RoomName: "MC A1 272", SurfaceM2: new(15.0)},
	})
	require.NoError(t, err)
	require.Equal(t, int64(3), n)

	r, err := q.BuildingRoomGet(ctx, dbsqlc.BuildingRoomGetParams{BuildingName: "bx", RoomName: "bx-012"})
	require.NoError(t, err)
	require.Equal(t, new("office"), r.RoomType)

	requirePgError(ctx, t, tx, codeUnique, "building_rooms_building_room_key", func(tx pgx.Tx) error {
		_, err := dbsqlc.New(tx).BuildingRoomInsert(ctx, dbsqlc.BuildingRoomInsertParams{BuildingName: "Bx", RoomName: "BX-010"})
		return err
	})
	requirePgError(ctx, t, tx, codeCheck, "building_rooms_room_type_check", func(tx pgx.Tx) error {
		_, err := dbsqlc.New(tx).BuildingRoomInsert(ctx, dbsqlc.BuildingRoomInsertParams{BuildingName: "BX", RoomName: "BX-099", RoomType: new("garage")})
		return err
	})

	buildings, err := q.BuildingRoomsBuildings(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, []dbsqlc.BuildingRoomsBuildingsRow{
		{BuildingLocation: "ECUBLENS", BuildingName: "BX"},
		{BuildingLocation: "NEUCHATEL", BuildingName: "MC"},
	}, buildings)
	buildings, err = q.BuildingRoomsBuildings(ctx, new("NEUCHATEL"))
	require.NoError(t, err)
	require.Len(t, buildings, 1)

	rooms, err := q.BuildingRoomsSearch(ctx, dbsqlc.BuildingRoomsSearchParams{BuildingName: new("bx"), Q: new("01"), Limit: 10})
	require.NoError(t, err)
	require.Len(t, rooms, 2)
}

func TestReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx   pgx.Tx
		q    *dbsqlc.Queries
		unit dbsqlc.Unit
		year dbsqlc.Year
		user dbsqlc.User
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		return &testBundle{
			tx: tx, q: dbsqlc.New(tx),
			unit: testfactory.Unit(ctx, t, tx, nil),
			year: testfactory.Year(ctx, t, tx, nil),
			user: testfactory.User(ctx, t, tx, nil),
		}
	}
	moduleKeys := func() []string {
		var out []string
		for _, m := range emission.Modules() {
			out = append(out, string(m.Key))
		}
		return out
	}

	t.Run("GetOrCreate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p := dbsqlc.ReportGetOrCreateParams{UnitID: b.unit.ID, Year: b.year.Year, EnabledModules: 8}
		first, err := b.q.ReportGetOrCreate(ctx, p)
		require.NoError(t, err)
		require.True(t, first.Created)
		require.Equal(t, "calculator", first.Kind)
		require.Equal(t, "not_started", first.OverallStatus)
		second, err := b.q.ReportGetOrCreate(ctx, p)
		require.NoError(t, err)
		require.False(t, second.Created)
		require.Equal(t, first.ID, second.ID)

		mods, err := b.q.ReportModulesByReport(ctx, first.ID)
		require.NoError(t, err)
		var keys []string
		for _, m := range mods {
			keys = append(keys, m.Module)
			require.Equal(t, "not_started", m.Status)
			require.Equal(t, b.unit.ID, m.UnitID)
			require.Equal(t, b.year.Year, m.Year)
		}
		require.Equal(t, moduleKeys(), keys, "eight modules in display order")

		byKey, err := b.q.ReportGetByUnitYear(ctx, dbsqlc.ReportGetByUnitYearParams{UnitID: b.unit.ID, Year: b.year.Year})
		require.NoError(t, err)
		require.Equal(t, first.ID, byKey.ID)
		rm, err := b.q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: b.unit.ID, Year: b.year.Year, Module: "buildings"})
		require.NoError(t, err)
		require.Equal(t, mods[2].ID, rm.ID)
	})

	t.Run("CreateForActiveUnits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		inactive := testfactory.Unit(ctx, t, b.tx, &testfactory.UnitOpts{IsActive: new(false)})
		testfactory.Unit(ctx, t, b.tx, nil)
		testfactory.Unit(ctx, t, b.tx, &testfactory.UnitOpts{Level: new(int16(2))})
		testfactory.Report(ctx, t, b.tx, &testfactory.ReportOpts{UnitID: &b.unit.ID, Year: &b.year.Year}) // exists already
		active := count(ctx, t, b.tx, `SELECT count(*) FROM units WHERE is_active`)

		created, err := b.q.ReportsCreateForActiveUnits(ctx, dbsqlc.ReportsCreateForActiveUnitsParams{Year: b.year.Year, EnabledModules: 8})
		require.NoError(t, err)
		require.Equal(t, int64(3), active)
		require.Equal(t, active-1, created)
		reports, err := b.q.ReportsByYear(ctx, b.year.Year)
		require.NoError(t, err)
		require.Len(t, reports, int(active))
		for _, r := range reports {
			require.NotEqual(t, inactive.ID, r.UnitID)
		}
		require.Equal(t, 8*active, count(ctx, t, b.tx, `SELECT count(*) FROM report_modules WHERE year = $1`, b.year.Year))
		again, err := b.q.ReportsCreateForActiveUnits(ctx, dbsqlc.ReportsCreateForActiveUnitsParams{Year: b.year.Year, EnabledModules: 8})
		require.NoError(t, err)
		require.Zero(t, again)
	})

	t.Run("StatusWorkflow", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rep := testfactory.Report(ctx, t, b.tx, &testfactory.ReportOpts{UnitID: &b.unit.ID, Year: &b.year.Year})
		hc := rep.Module(emission.ModuleHeadcount)
		refresh := func(enabled []string) dbsqlc.CarbonReport {
			t.Helper()
			r, err := b.q.ReportRefreshStatus(ctx, dbsqlc.ReportRefreshStatusParams{ID: rep.Report.ID, EnabledModules: enabled})
			require.NoError(t, err)
			return r
		}
		r := refresh(moduleKeys())
		require.Equal(t, "not_started", r.OverallStatus)
		require.Equal(t, int16(8), r.EnabledModules)

		// First data change: not_started → in_progress, dirty, stamped.
		changed, err := b.q.ReportModuleMarkDataChanged(ctx, dbsqlc.ReportModuleMarkDataChangedParams{ID: hc.ID, ChangedBy: &b.user.ID})
		require.NoError(t, err)
		require.Equal(t, "not_started", changed.PreviousStatus)
		require.Equal(t, "in_progress", changed.Status)
		require.NotNil(t, changed.StatsDirtyAt)
		require.NotNil(t, changed.DataUpdatedAt)
		require.Equal(t, &b.user.ID, changed.StatusChangedBy)
		report, err := b.q.ReportGet(ctx, rep.Report.ID)
		require.NoError(t, err)
		require.NotNil(t, report.DataUpdatedAt)
		require.Equal(t, "in_progress", refresh(moduleKeys()).OverallStatus)

		// Validate, then a recalculation flags it without un-validating.
		v, err := b.q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: hc.ID, Status: "validated", ChangedBy: &b.user.ID})
		require.NoError(t, err)
		require.Equal(t, "in_progress", v.PreviousStatus)
		require.Equal(t, "validated", v.Status)
		n, err := b.q.ReportModulesMarkRecomputed(ctx, []int64{hc.ID, rep.Module(emission.ModuleBuildings).ID})
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		mods, err := b.q.ReportModulesByReport(ctx, rep.Report.ID)
		require.NoError(t, err)
		require.Equal(t, "validated", mods[0].Status)
		require.True(t, mods[0].RecomputedAfterValidation)
		require.False(t, mods[2].RecomputedAfterValidation, "only validated modules are flagged")

		// Only headcount enabled and validated → report validated.
		r = refresh([]string{"headcount"})
		require.Equal(t, "validated", r.OverallStatus)
		require.Equal(t, int16(1), r.EnabledModules)
		require.Equal(t, int16(1), r.ValidatedModules)

		// Re-validating clears the flag; a data change reopens (D6).
		v, err = b.q.ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: hc.ID, Status: "validated"})
		require.NoError(t, err)
		require.False(t, v.RecomputedAfterValidation)
		changedMany, err := b.q.ReportModulesMarkDataChanged(ctx, dbsqlc.ReportModulesMarkDataChangedParams{Ids: []int64{hc.ID}})
		require.NoError(t, err)
		require.Len(t, changedMany, 1)
		require.Equal(t, "validated", changedMany[0].PreviousStatus)
		require.Equal(t, "in_progress", changedMany[0].Status)
	})

	t.Run("StatsDirtyFlag", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rep := testfactory.Report(ctx, t, b.tx, &testfactory.ReportOpts{UnitID: &b.unit.ID, Year: &b.year.Year})
		hc := rep.Module(emission.ModuleHeadcount)
		_, err := b.q.ReportModuleMarkDataChanged(ctx, dbsqlc.ReportModuleMarkDataChangedParams{ID: hc.ID})
		require.NoError(t, err)

		dirty, err := b.q.ReportModulesDirty(ctx, dbsqlc.ReportModulesDirtyParams{Year: b.year.Year, DirtyBefore: time.Now().Add(time.Minute)})
		require.NoError(t, err)
		require.Len(t, dirty, 1)
		require.Equal(t, hc.ID, dirty[0].ID)

		// A stale read does not clear the flag; the value read does.
		stale := dirty[0].StatsDirtyAt.Add(-time.Second)
		n, err := b.q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: hc.ID, Stats: json.RawMessage(`{"total_kg": 1}`), ReadDirtyAt: &stale})
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
		got, err := b.q.ReportModuleGet(ctx, hc.ID)
		require.NoError(t, err)
		require.NotNil(t, got.StatsDirtyAt)
		require.JSONEq(t, `{"total_kg": 1}`, string(got.Stats))

		_, err = b.q.ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: hc.ID, Stats: json.RawMessage(`{"total_kg": 2}`), ReadDirtyAt: dirty[0].StatsDirtyAt})
		require.NoError(t, err)
		got, err = b.q.ReportModuleGet(ctx, hc.ID)
		require.NoError(t, err)
		require.Nil(t, got.StatsDirtyAt)
		require.NotNil(t, got.StatsComputedAt)
	})
}

func TestEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx pgx.Tx
		q  *dbsqlc.Queries
		rm dbsqlc.ReportModule
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		rm := testfactory.Report(ctx, t, tx, nil).Module(emission.ModuleHeadcount)
		return &testBundle{tx: tx, q: dbsqlc.New(tx), rm: rm}
	}
	member := func(name, sius, sciper string, fte float64) map[string]any {
		return map[string]any{"name": name, "sius_code": sius, "user_institutional_id": sciper, "fte": fte}
	}
	names := func(es []dbsqlc.DataEntry) []string {
		out := make([]string, len(es))
		for i, e := range es {
			var p struct{ Name string }
			_ = json.Unmarshal(e.Data, &p)
			out[i] = p.Name
		}
		return out
	}

	t.Run("ListSortFilterCount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, m := range []struct {
			data map[string]any
			kg   float64
			st   string
		}{
			{member("carol", "53", "100003", 0.5), 200, "ok"},
			{member("Alice", "51", "100001", 1), 400, "ok"},
			{member("bob", "57", "100002", 0.8), 0, "no_factor"},
			{member("Dave", "53", "100004", 0.2), 80, "override"},
		} {
			testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &b.rm, Data: m.data, KgCO2eq: &m.kg, CalcStatus: &m.st})
		}
		testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &b.rm, Submodule: new("student")}) // other submodule

		list := func(p dbsqlc.EntriesListParams) []string {
			t.Helper()
			p.ReportModuleID, p.Submodule = b.rm.ID, "member"
			if p.Limit == 0 {
				p.Limit = 50
			}
			rows, err := b.q.EntriesList(ctx, p)
			require.NoError(t, err)
			es := make([]dbsqlc.DataEntry, len(rows))
			for i, r := range rows {
				es[i] = r.DataEntry
			}
			return names(es)
		}
		require.Equal(t, []string{"carol", "Alice", "bob", "Dave"}, list(dbsqlc.EntriesListParams{Sort1: "id"}))
		require.Equal(t, []string{"Alice", "bob", "carol", "Dave"}, list(dbsqlc.EntriesListParams{Sort1: "name"}), "case-insensitive")
		require.Equal(t, []string{"Dave", "carol", "bob", "Alice"}, list(dbsqlc.EntriesListParams{Sort1: "name", Sort1Desc: true}))
		require.Equal(t, []string{"Alice", "carol", "Dave", "bob"}, list(dbsqlc.EntriesListParams{Sort1: "kg_co2eq", Sort1Desc: true}))
		require.Equal(t, []string{"Dave", "carol", "bob", "Alice"}, list(dbsqlc.EntriesListParams{Sort1: "fte"}), "numeric data field")
		require.Equal(t, []string{"Alice", "Dave", "carol", "bob"}, list(dbsqlc.EntriesListParams{Sort1: "sius_code", Sort2: "name", Sort2Desc: true}))
		require.Equal(t, []string{"bob", "carol"}, list(dbsqlc.EntriesListParams{Sort1: "name", Limit: 2, Offset: 1}))
		require.Equal(t, []string{"carol", "Alice"}, list(dbsqlc.EntriesListParams{Sort1: "id", MinKg: new(100.0)}))
		require.Equal(t, []string{"bob"}, list(dbsqlc.EntriesListParams{CalcStatus: new("no_factor")}))
		require.Equal(t, []string{"Alice", "carol", "Dave"}, list(dbsqlc.EntriesListParams{Sort1: "name", Q: new("A"), QFields: []string{"name"}}))
		require.Equal(t, []string{"bob"}, list(dbsqlc.EntriesListParams{Q: new("0002"), QFields: []string{"name", "user_institutional_id"}}))

		summary, err := b.q.EntriesCount(ctx, dbsqlc.EntriesCountParams{ReportModuleID: b.rm.ID, Submodule: "member"})
		require.NoError(t, err)
		require.Equal(t, dbsqlc.EntriesCountRow{Total: 4, KgCo2eq: 680, CalcIssues: 1}, summary)
		summary, err = b.q.EntriesCount(ctx, dbsqlc.EntriesCountParams{ReportModuleID: b.rm.ID, Submodule: "member", Q: new("o"), QFields: []string{"name"}})
		require.NoError(t, err)
		require.Equal(t, int64(2), summary.Total, "carol, bob")

		members, err := b.q.MembersByReportModule(ctx, dbsqlc.MembersByReportModuleParams{ReportModuleID: b.rm.ID})
		require.NoError(t, err)
		require.Equal(t, dbsqlc.MembersByReportModuleRow{Sciper: "100001", Name: "Alice"}, members[0])
		own, err := b.q.MembersByReportModule(ctx, dbsqlc.MembersByReportModuleParams{ReportModuleID: b.rm.ID, Sciper: new("100002")})
		require.NoError(t, err)
		require.Len(t, own, 1)
	})

	t.Run("OwnScope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		travel := testfactory.Report(ctx, t, b.tx, nil).Module(emission.ModuleProfessionalTravel)
		for _, s := range []string{"111111", "222222", "111111"} {
			testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
				Data: map[string]any{"origin_iata": "GVA", "destination_iata": "CDG", "user_institutional_id": s, "cabin_class": "economy"}})
		}
		es, err := b.q.EntriesList(ctx, dbsqlc.EntriesListParams{ReportModuleID: travel.ID, Submodule: "plane", OwnerSciper: new("111111"), Limit: 10})
		require.NoError(t, err)
		require.Len(t, es, 2)
	})

	t.Run("ScopedGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &b.rm, Data: member("Ada", "53", "123456", 1)})
		require.Equal(t, int32(1), e.Version)
		require.Equal(t, "pending", e.CalcStatus)

		_, err := b.q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: b.rm.ID, Submodule: "student"})
		require.ErrorIs(t, err, pgx.ErrNoRows, "wrong submodule in the URL")
		_, err = b.q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: b.rm.ID + 1, Submodule: "member"})
		require.ErrorIs(t, err, pgx.ErrNoRows, "wrong report module in the URL")

		upd := dbsqlc.EntryUpdateParams{
			ID: e.ID, ReportModuleID: b.rm.ID, Submodule: "member",
			Data: json.RawMessage(`{"name":"Ada","sius_code":"53","user_institutional_id":"123456","fte":0.8}`),
		}
		upd.ExpectedVersion = new(int32(7))
		_, err = b.q.EntryUpdate(ctx, upd)
		require.ErrorIs(t, err, pgx.ErrNoRows, "If-Match mismatch")
		upd.ExpectedVersion = new(int32(1))
		got, err := b.q.EntryUpdate(ctx, upd)
		require.NoError(t, err)
		require.Equal(t, int32(2), got.Version)
		require.JSONEq(t, string(upd.Data), string(got.Data))

		require.NoError(t, b.q.EntrySetComputed(ctx, dbsqlc.EntrySetComputedParams{
			ID: e.ID, KgCo2eq: 400, KgCo2eqAdditional: 400, CalcStatus: "ok",
		}))
		got, err = b.q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: b.rm.ID, Submodule: "member"})
		require.NoError(t, err)
		require.InDelta(t, 400, got.KgCo2eq, 0)
		require.NotNil(t, got.ComputedAt)
		require.Equal(t, int32(2), got.Version, "computing does not bump the version")

		_, err = b.q.EntryDelete(ctx, dbsqlc.EntryDeleteParams{ID: e.ID, ReportModuleID: b.rm.ID, Submodule: "member", ExpectedVersion: new(int32(1))})
		require.ErrorIs(t, err, pgx.ErrNoRows)
		deleted, err := b.q.EntryDelete(ctx, dbsqlc.EntryDeleteParams{ID: e.ID, ReportModuleID: b.rm.ID, Submodule: "member"})
		require.NoError(t, err)
		require.Equal(t, e.ID, deleted.ID)
	})

	t.Run("BulkLoadAndRecompute", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		upload := uuid.New()
		_, err := b.q.UploadInsert(ctx, dbsqlc.UploadInsertParams{
			ID: upload, Kind: "data", Scope: "year", Year: b.rm.Year, Module: new("headcount"), Submodule: new("member"),
			BlobKey: "uploads/" + upload.String() + ".csv", SizeBytes: 123,
			Sha256: "9f34d11bdee90d0fd10a349eda692d1e5db9e370c1224a39f239643484c7a4fe", Options: json.RawMessage(`{"replace_existing": true}`),
		})
		require.NoError(t, err)

		ids, err := b.q.EntryIDsReserve(ctx, 3)
		require.NoError(t, err)
		require.Len(t, ids, 3)
		var entries []dbsqlc.EntriesCopyFromParams
		var rows []dbsqlc.EmissionsCopyFromParams
		for i, id := range ids {
			entries = append(entries, dbsqlc.EntriesCopyFromParams{
				ID: id, ReportModuleID: b.rm.ID, UnitID: b.rm.UnitID, Year: b.rm.Year, Module: "headcount", Submodule: "member",
				Data:   json.RawMessage(`{"name":"M","sius_code":"53","user_institutional_id":"` + uuid.NewString()[:8] + `","fte":1}`),
				Source: "csv_year", UploadID: &upload, CalcStatus: "ok", KgCo2eq: float64(10 * (i + 1)),
			})
			rows = append(rows, emissionRow(dbsqlc.DataEntry{ID: id, ReportModuleID: b.rm.ID}, "food.vegetarian", float64(10*(i+1))))
		}
		n, err := b.q.EntriesCopyFrom(ctx, entries)
		require.NoError(t, err)
		require.Equal(t, int64(3), n)
		_, err = b.q.EmissionsCopyFrom(ctx, rows)
		require.NoError(t, err)

		// Recompute: replace rows, update totals in one statement.
		removed, err := b.q.EmissionsDeleteByEntries(ctx, ids[:2])
		require.NoError(t, err)
		require.Equal(t, int64(2), removed)
		updated, err := b.q.EntriesSetComputed(ctx, dbsqlc.EntriesSetComputedParams{
			Ids: ids[:2], KgCo2eqs: []float64{0, 0}, KgCo2eqAdditionals: []float64{0, 0},
			CalcStatuses: []string{"no_factor", "no_factor"}, CalcMessages: []string{"no factor", ""}, PrimaryFactorIds: []int64{0, 0},
		})
		require.NoError(t, err)
		require.Equal(t, int64(2), updated)
		page, err := b.q.EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{Year: b.rm.Year, Module: "headcount", AfterID: 0, Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 3)
		require.Equal(t, new("no factor"), page[0].CalcMessage)
		require.Nil(t, page[1].CalcMessage)
		require.Nil(t, page[1].PrimaryFactorID)
		left, err := b.q.EmissionsByEntries(ctx, ids)
		require.NoError(t, err)
		require.Len(t, left, 1)

		// Replacement of the per-year upload.
		byModule, err := b.q.EntriesDeleteByYearSource(ctx, dbsqlc.EntriesDeleteByYearSourceParams{Year: b.rm.Year, Module: "headcount", Submodules: []string{"member"}, Source: "csv_year"})
		require.NoError(t, err)
		require.Equal(t, []dbsqlc.EntriesDeleteByYearSourceRow{{ReportModuleID: b.rm.ID, Deleted: 3}}, byModule)
		require.Zero(t, count(ctx, t, b.tx, `SELECT count(*) FROM emissions WHERE report_module_id = $1`, b.rm.ID))
	})
}

func TestFactorsQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)
	year := testfactory.Year(ctx, t, tx, nil)

	upload := uuid.New()
	p := dbsqlc.FactorUpsertParams{
		Year: year.Year, Module: "purchases", Submodule: "additional", EmissionType: "purchases.additional.ln2",
		Classification: json.RawMessage(`{"name":"ln2"}`), ClassKey: emission.ClassKey(map[string]string{"name": "LN2"}),
		Values: json.RawMessage(`{"ef_kg_co2eq_per_kg": 0.25}`), Source: "csv",
	}
	first, err := q.FactorUpsert(ctx, p)
	require.NoError(t, err)
	require.True(t, first.Inserted)
	require.Equal(t, "name=ln2", first.ClassKey)

	requirePgError(ctx, t, tx, codeForeignKey, "factors_last_upload_id_fkey", func(tx pgx.Tx) error {
		withUpload := p
		withUpload.LastUploadID = &upload
		_, err := dbsqlc.New(tx).FactorUpsert(ctx, withUpload)
		return err
	})
	again, err := q.FactorUpsert(ctx, p)
	require.NoError(t, err)
	require.False(t, again.Inserted)
	require.Equal(t, first.ID, again.ID)

	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("it_equipment")})
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("cloud")})

	bySub, err := q.FactorsByYearSubmodule(ctx, dbsqlc.FactorsByYearSubmoduleParams{Year: year.Year, Submodule: "additional"})
	require.NoError(t, err)
	require.Len(t, bySub, 1)
	byModule, err := q.FactorsByYearModule(ctx, dbsqlc.FactorsByYearModuleParams{Year: year.Year, Module: "purchases"})
	require.NoError(t, err)
	require.Len(t, byModule, 2)
	all, err := q.FactorsByYear(ctx, year.Year)
	require.NoError(t, err)
	require.Len(t, all, 3)
	got, err := q.FactorGet(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, "purchases.additional.ln2", got.EmissionType)
	got, err = q.FactorGetByClassKey(ctx, dbsqlc.FactorGetByClassKeyParams{Year: year.Year, Submodule: "additional", ClassKey: "name=ln2"})
	require.NoError(t, err)
	require.Equal(t, first.ID, got.ID)

	// Deleting a factor keeps the rows that used it, with a null factor id.
	e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{Submodule: new("additional"), PrimaryFactorID: &first.ID, KgCO2eq: new(100.0)})
	row := emissionRow(e, "purchases.additional.ln2", 100)
	row.FactorID = &first.ID
	_, err = q.EmissionsCopyFrom(ctx, []dbsqlc.EmissionsCopyFromParams{row})
	require.NoError(t, err)
	_, err = q.FactorDelete(ctx, first.ID)
	require.NoError(t, err)
	ems, err := q.EmissionsByEntry(ctx, e.ID)
	require.NoError(t, err)
	require.Nil(t, ems[0].FactorID)
	e2, err := q.EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: e.ReportModuleID, Submodule: e.Submodule})
	require.NoError(t, err)
	require.Nil(t, e2.PrimaryFactorID)
}

func TestOrganisationQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UnitsAndSubtree", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		q := dbsqlc.New(tx)
		root := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(1)), Name: new("EPFL-TEST")})
		fac := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(2)), Parent: &root, Name: new("ENAC-TEST")})
		lab := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Parent: &fac, CF: new("7918"), Name: new("LAB-DEMO")})
		other := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(2)), Parent: &root})
		require.Equal(t, []string{"EPFL-TEST", "ENAC-TEST", "LAB-DEMO"}, lab.PathNames)

		sub, err := q.UnitsInSubtree(ctx, dbsqlc.UnitsInSubtreeParams{AnchorCode: fac.InstitutionalCode, ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, sub, 2)
		require.Equal(t, fac.ID, sub[0].ID)
		require.Equal(t, lab.ID, sub[1].ID)
		_ = other

		byCF, err := q.UnitGetByCF(ctx, "7918")
		require.NoError(t, err)
		require.Equal(t, lab.ID, byCF.ID)
		byCode, err := q.UnitGetByInstitutionalCode(ctx, lab.InstitutionalCode)
		require.NoError(t, err)
		require.Equal(t, lab.ID, byCode.ID)

		// Upsert by code renames in place.
		renamed := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{InstitutionalCode: &lab.InstitutionalCode, Parent: &fac, CF: new("7918"), Name: new("LAB-RENAMED")})
		require.Equal(t, lab.ID, renamed.ID)
		require.Equal(t, "LAB-RENAMED", renamed.Name)

		requirePgError(ctx, t, tx, codeCheck, "units_path_self", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
				InstitutionalCode: "55555", Name: "X", Level: 4, PathCodes: []string{"1"}, PathCfs: []string{""}, PathNames: []string{"X"}, Source: "dev",
			})
			return err
		})
		requirePgError(ctx, t, tx, codeCheck, "units_cf_check", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
				InstitutionalCode: "55555", Cf: new("0"), Name: "X", Level: 4, PathCodes: []string{"55555"}, PathCfs: []string{""}, PathNames: []string{"X"}, Source: "dev",
			})
			return err
		})
	})

	t.Run("UsersAndUnitUsers", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		q := dbsqlc.New(tx)
		u := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Email: new("Dev-Principal@Example.org"), Roles: []map[string]any{
			{"role": "calco2.user.principal", "scope": map[string]any{"kind": "unit", "cf": "7918"}},
		}})
		require.JSONEq(t, `[{"role":"calco2.user.principal","scope":{"kind":"unit","cf":"7918"}}]`, string(u.Roles))
		require.NotNil(t, u.RolesSyncedAt)

		requirePgError(ctx, t, tx, codeUnique, "users_email_key", func(tx pgx.Tx) error {
			_, err := dbsqlc.New(tx).UserUpsert(ctx, dbsqlc.UserUpsertParams{Sciper: "DEV-999999", Provider: "dev", Email: new("dev-principal@example.ORG")})
			return err
		})
		same, err := q.UserUpsert(ctx, dbsqlc.UserUpsertParams{Sciper: u.Sciper, Provider: "oidc", DisplayName: new("Renamed")})
		require.NoError(t, err)
		require.Equal(t, u.ID, same.ID)
		require.Equal(t, u.Email, same.Email, "a nil email keeps the stored one")
		bySciper, err := q.UserGetBySciper(ctx, u.Sciper)
		require.NoError(t, err)
		require.Equal(t, new("Renamed"), bySciper.DisplayName)

		a, b, c := testfactory.Unit(ctx, t, tx, nil), testfactory.Unit(ctx, t, tx, nil), testfactory.Unit(ctx, t, tx, nil)
		replace := func(ids []int64, roles []string) []dbsqlc.UnitUsersByUserRow {
			t.Helper()
			require.NoError(t, q.UnitUsersReplaceForUser(ctx, dbsqlc.UnitUsersReplaceForUserParams{UserID: u.ID, UnitIds: ids, Roles: roles}))
			rows, err := q.UnitUsersByUser(ctx, u.ID)
			require.NoError(t, err)
			return rows
		}
		require.Len(t, replace([]int64{a.ID, b.ID}, []string{"principal", "standard"}), 2)
		rows := replace([]int64{b.ID, c.ID}, []string{"principal", "standard"})
		require.Len(t, rows, 2)
		got := map[int64]string{}
		for _, r := range rows {
			got[r.UnitID] = r.Role
		}
		require.Equal(t, map[int64]string{b.ID: "principal", c.ID: "standard"}, got)
		require.Empty(t, replace([]int64{}, []string{}))
	})

	t.Run("YearsAndRecalcState", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		q := dbsqlc.New(tx)
		y := testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Status: new("setting_up")})
		require.Equal(t, "setting_up", y.Status)

		_, err := q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Year: y.Year, Status: "open", FromStatuses: []string{"ready"}})
		require.ErrorIs(t, err, pgx.ErrNoRows, "setting_up → open is not a transition")
		ready, err := q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Year: y.Year, Status: "ready", FromStatuses: []string{"setting_up"}})
		require.NoError(t, err)
		require.NotNil(t, ready.SetupCompletedAt)
		open, err := q.YearUpdateStatus(ctx, dbsqlc.YearUpdateStatusParams{Year: y.Year, Status: "open", FromStatuses: []string{"ready", "closed"}})
		require.NoError(t, err)
		require.NotNil(t, open.OpenedAt)

		s, err := q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y.Year, Module: "purchases", Reason: "fx"})
		require.NoError(t, err)
		require.Equal(t, int64(1), s.RecalcRequestedSeq)
		require.NotNil(t, s.FxChangedAt)
		s, err = q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y.Year, Module: "purchases", Reason: "factors"})
		require.NoError(t, err)
		require.Equal(t, int64(2), s.RecalcRequestedSeq)
		require.NotNil(t, s.FxChangedAt)
		require.NotNil(t, s.FactorsChangedAt)

		need, err := q.ModuleYearStatesNeedingRecalc(ctx)
		require.NoError(t, err)
		require.Contains(t, need, s)
		s, err = q.ModuleYearStateFinish(ctx, dbsqlc.ModuleYearStateFinishParams{Year: y.Year, Module: "purchases", Seq: 2})
		require.NoError(t, err)
		require.Equal(t, int64(2), s.RecalcDoneSeq)
		s, err = q.ModuleYearStateFinish(ctx, dbsqlc.ModuleYearStateFinishParams{Year: y.Year, Module: "purchases", Seq: 1})
		require.NoError(t, err)
		require.Equal(t, int64(2), s.RecalcDoneSeq, "never backwards")
		need, err = q.ModuleYearStatesNeedingRecalc(ctx)
		require.NoError(t, err)
		for _, n := range need {
			require.NotEqual(t, y.Year, n.Year)
		}
	})

	t.Run("Uploads", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		q := dbsqlc.New(tx)
		id := uuid.New()
		pipelineID := uuid.New()
		// Upload and pipeline point at each other: either order works
		// within the transaction (deferred constraints).
		up, err := q.UploadInsert(ctx, dbsqlc.UploadInsertParams{
			ID: id, Kind: "reference", Scope: "global", Year: 2025, Dataset: new("locations_plane"),
			BlobKey: "uploads/2025/" + id.String() + ".csv", SizeBytes: 10, Options: json.RawMessage(`{}`),
			Sha256: "b7984e6972cc0974132bb141532c6a1ac9b78dfaa04438c937594ceb463f3813", PipelineID: &pipelineID,
		})
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO pipelines (id, kind, trigger, phases, upload_id) VALUES ($1, 'reference_upload', 'user', '{import}', $2)`, pipelineID, id)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SET CONSTRAINTS ALL IMMEDIATE`)
		require.NoError(t, err)
		got, err := q.UploadGet(ctx, id)
		require.NoError(t, err)
		require.Equal(t, up, got)
		list, err := q.UploadsList(ctx, dbsqlc.UploadsListParams{Year: new(int32(2025)), Kind: new("reference"), Limit: 10})
		require.NoError(t, err)
		require.Contains(t, list, up)

		requirePgError(ctx, t, tx, codeCheck, "uploads_dataset_of_kind", func(tx pgx.Tx) error {
			other := uuid.New()
			_, err := dbsqlc.New(tx).UploadInsert(ctx, dbsqlc.UploadInsertParams{
				ID: other, Kind: "data", Scope: "year", Year: 2025, Dataset: new("building_rooms"),
				BlobKey: other.String(), Options: json.RawMessage(`{}`), Sha256: up.Sha256,
			})
			return err
		})
	})
}
