package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// serveEntry runs one request with a body (and the CSRF double-submit
// token on writes) through h.
func serveEntry(t *testing.T, h http.Handler, method, url, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Csrf-Token", "tok")
	req.AddCookie(&http.Cookie{Name: "csrf_token", Value: "tok"})
	maps.Copy(req.Header, header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		requireErrorEnvelope(t, rec)
	}
	return rec
}

func decodeEntry[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

type moduleFixture struct {
	router http.Handler
	pool   postgres.DBTX
	year   int32
	unitID int64
	rep    testfactory.ReportBundle
	other  testfactory.ReportBundle // another unit, same year
	closed testfactory.ReportBundle // same unit, closed year
}

func (f *moduleFixture) url(unitID int64, year int32, rest string) string {
	return fmt.Sprintf("/api/v1/units/%d/years/%d/modules/%s", unitID, year, rest)
}

func newModuleFixture(ctx context.Context, t *testing.T) *moduleFixture {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	pool := schema.Pool
	year := testfactory.Year(ctx, t, pool, &testfactory.YearOpts{Year: new(int32(2025))})
	rep := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{Year: &year.Year})
	other := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{Year: &year.Year})
	closedYear := testfactory.Year(ctx, t, pool, &testfactory.YearOpts{Year: new(int32(2024)), Status: new("closed")})
	closed := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{Year: &closedYear.Year, UnitID: &rep.Report.UnitID})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("member")})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("it")})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("plane"),
		Classification: map[string]string{"cabin_class": "economy", "category": "very_short_haul"},
		Values:         map[string]any{"ef_kg_co2eq_per_km": 0.258, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 500}})
	testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{IATA: new("GVA"), Name: new("Geneva Cointrin International Airport"),
		Municipality: new("Geneva"), AirportSize: new("large_airport"), Latitude: new(46.238098), Longitude: new(6.10895)})
	testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{IATA: new("ZRH"), Name: new("Zurich Airport"),
		Municipality: new("Zurich"), AirportSize: new("large_airport"), Latitude: new(47.458056), Longitude: new(8.548056)})
	testfactory.Room(ctx, t, pool, &testfactory.RoomOpts{BuildingName: new("BC"), RoomName: new("BC-150"), SurfaceM2: new(20.0)})
	// The routes need a session (authz.go): a principal of both units.
	router := httpapi.AsPrincipal(httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready}),
		httpapi.NewTestPrincipal("DEV-000002", perm.New(perm.RolePrincipal, unitCF(ctx, t, pool, rep.Report.UnitID)),
			perm.New(perm.RolePrincipal, unitCF(ctx, t, pool, other.Report.UnitID))))
	return &moduleFixture{
		router: router,
		pool:   pool, year: year.Year, unitID: rep.Report.UnitID, rep: rep, other: other, closed: closed,
	}
}

func unitCF(ctx context.Context, t *testing.T, db dbsqlc.DBTX, id int64) string {
	t.Helper()
	u, err := dbsqlc.New(db).UnitGet(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, u.Cf)
	return *u.Cf
}

type entryResp struct {
	ID             int64            `json:"id"`
	Module         string           `json:"module"`
	Submodule      string           `json:"submodule"`
	Source         string           `json:"source"`
	ReadOnly       bool             `json:"read_only"`
	Data           map[string]any   `json:"data"`
	Computed       map[string]any   `json:"computed"`
	AboveThreshold bool             `json:"above_threshold"`
	Version        int              `json:"version"`
	Emissions      []map[string]any `json:"emissions"`
	ModuleReopened *bool            `json:"module_reopened"` // POST and PATCH only
}

func TestModuleEntriesHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newModuleFixture(ctx, t)
	members := f.url(f.unitID, f.year, "headcount/member/entries")

	// Create: 201, ETag, the docs/api.md §2 shape.
	rec := serveEntry(t, f.router, http.MethodPost, members,
		`{"data": {"name": "Ada Lovelace", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8}}`, nil)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	ada := decodeEntry[entryResp](t, rec)
	require.Equal(t, fmt.Sprintf(`W/"e%d-v1"`, ada.ID), rec.Header().Get("ETag"))
	require.Equal(t, "headcount", ada.Module)
	require.Equal(t, "manual", ada.Source)
	require.Equal(t, map[string]any{"name": "Ada Lovelace", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8, "note": nil}, ada.Data)
	require.InDelta(t, 160, ada.Computed["kg_co2eq"], 1e-9)
	require.Equal(t, "ok", ada.Computed["calc_status"])
	require.Nil(t, ada.Computed["calc_message"])
	require.NotNil(t, ada.Computed["factor_id"])
	require.Len(t, ada.Emissions, 1)
	require.Equal(t, "food.vegetarian", ada.Emissions[0]["emission_type"])
	require.Equal(t, new(false), ada.ModuleReopened)
	adaURL := fmt.Sprintf("%s/%d", members, ada.ID)

	t.Run("CheckUnique", func(t *testing.T) {
		t.Parallel()
		rec := serveEntry(t, f.router, http.MethodGet, members+"/check-unique?field=user_institutional_id&value=123456", "", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, fmt.Sprintf(`{"unique": false, "conflicting_entry_id": %d}`, ada.ID), rec.Body.String())
		rec = serveEntry(t, f.router, http.MethodGet, members+"/check-unique?field=user_institutional_id&value=999", "", nil)
		require.JSONEq(t, `{"unique": true, "conflicting_entry_id": null}`, rec.Body.String())
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name, method, url, body string
			status                  int
			code                    string
			field                   string
			detail                  string // the detail's code, when checked
		}{
			{name: "BadEntryID", method: http.MethodGet, url: members + "/abc", status: 404, code: "not_found"},
			{name: "ClosedYear", method: http.MethodPost, url: f.url(f.unitID, 2024, "headcount/member/entries"),
				body: `{"data": {"name": "B", "sius_code": "53", "user_institutional_id": "5", "fte": 1}}`, status: 409, code: "year_closed"},
			{name: "CrossUnit", method: http.MethodGet, url: fmt.Sprintf("%s/%d", f.url(f.other.Report.UnitID, f.year, "headcount/member/entries"), ada.ID),
				status: 404, code: "not_found"},
			{name: "CrossUnitPatch", method: http.MethodPatch, url: fmt.Sprintf("%s/%d", f.url(f.other.Report.UnitID, f.year, "headcount/member/entries"), ada.ID),
				body: `{"data": {"fte": 1}}`, status: 404, code: "not_found"},
			{name: "Duplicate", method: http.MethodPost, url: members,
				body: `{"data": {"name": "Ada", "sius_code": "53", "user_institutional_id": "123456", "fte": 1}}`, status: 409,
				code: "duplicate_institutional_id", field: "data.user_institutional_id"},
			{name: "InvalidSort", method: http.MethodGet, url: members + "?sort=-password", status: 400, code: "invalid_sort"},
			{name: "InvalidSortPlusDecoded", method: http.MethodGet, url: members + "?sort=+unknown", status: 400, code: "invalid_sort", field: "sort"},
			{name: "InvalidSortPlusEncoded", method: http.MethodGet, url: members + "?sort=%2Bunknown", status: 400, code: "invalid_sort", field: "sort"},
			{name: "InvalidSortPlusPrefixed", method: http.MethodGet, url: members + "?sort=+-name", status: 400, code: "invalid_sort", field: "sort"},
			{name: "InvalidSortTooMany", method: http.MethodGet, url: members + "?sort=name,fte,note,sius_code,id", status: 400, code: "invalid_sort"},
			{name: "LimitTooLarge", method: http.MethodGet, url: members + "?limit=1001", status: 400, code: "bad_request"},
			{name: "MalformedJSON", method: http.MethodPost, url: members, body: `{"data": `, status: 400, code: "bad_request"},
			{name: "OtherModuleSubmodule", method: http.MethodGet, url: f.url(f.unitID, f.year, "equipment/member/entries"), status: 404, code: "not_found"},
			{name: "OutOfRange", method: http.MethodPost, url: members,
				body: `{"data": {"name": "B", "sius_code": "53", "user_institutional_id": "7", "fte": 1.5}}`, status: 422,
				code: "validation_failed", field: "data.fte"},
			{name: "TaxonomyValue", method: http.MethodPost, url: f.url(f.unitID, f.year, "equipment/it/entries"),
				body: `{"data": {"equipment_id": "INV-T", "name": "x", "equipment_class": "Laptop"}}`, status: 422,
				code: "validation_failed", field: "data.equipment_class", detail: "invalid_enum"},
			{name: "TaxonomySubValue", method: http.MethodPost, url: f.url(f.unitID, f.year, "equipment/it/entries"),
				body: `{"data": {"equipment_id": "INV-T", "name": "x", "equipment_class": "centrifuge", "sub_class": "Floor"}}`, status: 422,
				code: "validation_failed", field: "data.sub_class", detail: "invalid_enum"},
			{name: "StaleIfMatch", method: http.MethodPatch, url: adaURL, body: `{"data": {"fte": 1}}`, status: 412, code: "precondition_failed"},
			{name: "UnknownBodyField", method: http.MethodPost, url: members, body: `{"data": {}, "kg_override": 1}`, status: 422,
				code: "validation_failed", field: "kg_override"},
			// An unknown module is 404 in the handler (entry.CheckSubmodule),
			// but requireUnit(ModuleView) answers 403 first: see the report.
			{name: "UnknownSubmodule", method: http.MethodGet, url: f.url(f.unitID, f.year, "headcount/nope/entries"), status: 404, code: "not_found"},
			{name: "UnknownYear", method: http.MethodGet, url: f.url(f.unitID, 1999, "headcount/member/entries"), status: 404, code: "not_found"},
			{name: "WrongType", method: http.MethodPost, url: members,
				body: `{"data": {"name": 5, "sius_code": "53", "user_institutional_id": "8", "fte": 1}}`, status: 422,
				code: "validation_failed", field: "data.name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var header http.Header
				if tt.name == "StaleIfMatch" {
					header = http.Header{"If-Match": {fmt.Sprintf(`W/"e%d-v9"`, ada.ID)}}
				}
				rec := serveEntry(t, f.router, tt.method, tt.url, tt.body, header)
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				env := requireErrorEnvelope(t, rec)
				require.Equal(t, tt.code, env.Error.Code, rec.Body.String())
				if tt.field != "" {
					require.NotEmpty(t, env.Error.Details)
					require.Equal(t, tt.field, env.Error.Details[0]["field"], rec.Body.String())
				}
				if tt.detail != "" {
					require.Equal(t, tt.detail, env.Error.Details[0]["code"], rec.Body.String())
				}
			})
		}
	})

	t.Run("ETag304", func(t *testing.T) {
		t.Parallel()
		rec := serveEntry(t, f.router, http.MethodGet, adaURL, "", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		tag := rec.Header().Get("ETag")
		require.NotEmpty(t, tag)
		require.NotEmpty(t, decodeEntry[entryResp](t, rec).Emissions)
		rec = serveEntry(t, f.router, http.MethodGet, adaURL, "", http.Header{"If-None-Match": {tag}})
		require.Equal(t, http.StatusNotModified, rec.Code)
		require.Empty(t, rec.Body.String())
	})

	t.Run("PayloadTooLarge", func(t *testing.T) {
		t.Parallel()
		big := `{"data": {"note": "` + strings.Repeat("x", 1<<20) + `"}}`
		rec := serveEntry(t, f.router, http.MethodPost, members, big, nil)
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.Equal(t, "payload_too_large", requireErrorEnvelope(t, rec).Error.Code)
	})

	t.Run("PlaneLifecycle", func(t *testing.T) {
		t.Parallel()
		planes := f.url(f.unitID, f.year, "professional_travel/plane/entries")
		rec := serveEntry(t, f.router, http.MethodPost, planes,
			`{"data": {"origin_iata": "gva", "destination_iata": "ZRH", "user_institutional_id": "123456", "cabin_class": "economy", "departure_date": "2025-05-01"}}`, nil)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		e := decodeEntry[entryResp](t, rec)
		require.Equal(t, "GVA", e.Data["origin_iata"])
		require.InDelta(t, 167.70, e.Computed["kg_co2eq"], 1e-9) // P2
		require.InDelta(t, 325, e.Computed["distance_km"], 0)
		require.Equal(t, "very_short_haul", e.Computed["haul_band"])
		require.Equal(t, "Geneva Cointrin International Airport", e.Computed["origin_name"])
		require.Equal(t, "Ada Lovelace", e.Computed["traveler_name"])
		url := fmt.Sprintf("%s/%d", planes, e.ID)

		// PATCH with the current ETag; a second trip doubles the distance.
		rec = serveEntry(t, f.router, http.MethodPatch, url, `{"data": {"number_of_trips": 2}}`,
			http.Header{"If-Match": {fmt.Sprintf(`W/"e%d-v1"`, e.ID)}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		e = decodeEntry[entryResp](t, rec)
		require.Equal(t, 2, e.Version)
		require.InDelta(t, 650, e.Computed["distance_km"], 0)
		require.InDelta(t, 335.4, e.Computed["kg_co2eq"], 1e-9)
		require.Len(t, e.Emissions, 1)

		rec = serveEntry(t, f.router, http.MethodGet, planes+"?sort=-distance_km,traveler_name", "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

		rec = serveEntry(t, f.router, http.MethodDelete, url, "", nil)
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		rec = serveEntry(t, f.router, http.MethodGet, url, "", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	})

	t.Run("TrainImported", func(t *testing.T) {
		t.Parallel()
		testfactory.Factor(ctx, t, f.pool, &testfactory.FactorOpts{Year: &f.year, Submodule: new("train")}) // CH 0.004
		testfactory.Location(ctx, t, f.pool, &testfactory.LocationOpts{TransportMode: new("train"), Name: new("Genève Cornavin"),
			Latitude: new(46.210208), Longitude: new(6.142428)})
		testfactory.Location(ctx, t, f.pool, &testfactory.LocationOpts{TransportMode: new("train"), Name: new("Zürich HB"),
			Latitude: new(47.378186), Longitude: new(8.539203)})
		// A module-page CSV row: station names and countries, no keys.
		travel := f.rep.Module("professional_travel")
		row := testfactory.Entry(ctx, t, f.pool, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("train"), Source: new("csv_unit")})
		url := fmt.Sprintf("%s/%d", f.url(f.unitID, f.year, "professional_travel/train/entries"), row.ID)

		rec := serveEntry(t, f.router, http.MethodGet, url, "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		got := decodeEntry[entryResp](t, rec)
		require.Nil(t, got.Data["origin_key"])
		require.Equal(t, "Genève Cornavin", got.Computed["origin_name"])
		require.Equal(t, "Zürich HB", got.Computed["destination_name"])

		// Saved unchanged, as the form sends it back: the keys are
		// resolved from the names and stored.
		body, err := json.Marshal(map[string]any{"data": got.Data})
		require.NoError(t, err)
		rec = serveEntry(t, f.router, http.MethodPatch, url, string(body), http.Header{"If-Match": {rec.Header().Get("ETag")}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		saved := decodeEntry[entryResp](t, rec)
		require.Equal(t, "train:CH:genève cornavin", saved.Data["origin_key"])
		require.Equal(t, "train:CH:zürich hb", saved.Data["destination_key"])
		require.Equal(t, "csv_unit", saved.Source)
		require.InDelta(t, 269, saved.Computed["distance_km"], 0) // T1 reversed
		require.Equal(t, "ok", saved.Computed["calc_status"])

		rec = serveEntry(t, f.router, http.MethodPatch, url, `{"data": {"destination_key": null, "destination_name": "Nowhere"}}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
		env := requireErrorEnvelope(t, rec)
		require.Equal(t, "data.destination_name", env.Error.Details[0]["field"])
		require.Equal(t, "unknown_location", env.Error.Details[0]["code"])
	})

	t.Run("EquipmentList", func(t *testing.T) {
		t.Parallel()
		its := f.url(f.unitID, f.year, "equipment/it/entries")
		for i, name := range []string{"Centrifuge A", "Laptop", "Centrifuge B"} {
			body := fmt.Sprintf(`{"data": {"equipment_id": "INV-%d", "name": %q, "equipment_class": "Centrifuge", "sub_class": "Benchtop"}}`, i, name)
			if name == "Laptop" {
				// A class of the taxonomy without a class-level factor.
				body = `{"data": {"equipment_id": "INV-9", "name": "Laptop", "equipment_class": "centrifuge"}}`
			}
			rec := serveEntry(t, f.router, http.MethodPost, its, body, nil)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			e := decodeEntry[entryResp](t, rec)
			if name == "Laptop" {
				require.Equal(t, "no_factor", e.Computed["calc_status"])
				require.NotEmpty(t, e.Computed["calc_message"])
				require.InDelta(t, 0, e.Computed["kg_co2eq"], 0)
				require.Nil(t, e.Computed["active_power_w"])
				require.Equal(t, false, e.Data["hours_defaulted"])
			} else {
				require.Equal(t, true, e.Data["hours_defaulted"])
				require.InDelta(t, 500, e.Computed["active_power_w"], 0)
			}
		}
		type listResp struct {
			Items   []entryResp    `json:"items"`
			Page    int            `json:"page"`
			Limit   int            `json:"limit"`
			Total   int            `json:"total"`
			HasMore bool           `json:"has_more"`
			Summary map[string]any `json:"summary"`
		}
		rec := serveEntry(t, f.router, http.MethodGet, its+"?sort=-name&limit=2&q=bench", "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		l := decodeEntry[listResp](t, rec)
		require.Equal(t, 2, l.Total)
		require.False(t, l.HasMore)
		require.Equal(t, "Centrifuge B", l.Items[0].Data["name"])
		require.Nil(t, l.Items[0].Emissions, "lists carry no emissions")
		require.InDelta(t, 2, l.Summary["count"], 0)
		require.InDelta(t, 0, l.Summary["calc_issues"], 0)

		rec = serveEntry(t, f.router, http.MethodGet, its+"?calc_status=no_factor", "", nil)
		l = decodeEntry[listResp](t, rec)
		require.Equal(t, 1, l.Total)
		require.InDelta(t, 1, l.Summary["calc_issues"], 0)

		rec = serveEntry(t, f.router, http.MethodGet, its+"/check-unique?field=equipment_id&value=inv-9", "", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, false, decodeEntry[map[string]any](t, rec)["unique"])
	})

	t.Run("ModuleInProgress", func(t *testing.T) {
		t.Parallel()
		rm, err := dbsqlc.New(f.pool).ReportModuleGet(ctx, f.rep.Module("headcount").ID)
		require.NoError(t, err)
		require.Equal(t, "in_progress", rm.Status)
	})

	t.Run("ModuleReopened", func(t *testing.T) {
		t.Parallel()
		rec := serveJSON(t, f.router, http.MethodPatch, f.url(f.unitID, f.year, "process_emissions/status"), `{"status": "validated"}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		gases := f.url(f.unitID, f.year, "process_emissions/process_gas/entries")
		rec = serveEntry(t, f.router, http.MethodPost, gases, `{"data": {"category": "co2", "quantity": 1}}`, nil)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		e := decodeEntry[entryResp](t, rec)
		require.Equal(t, new(true), e.ModuleReopened, "the write reopened the validated module")
		rm, err := dbsqlc.New(f.pool).ReportModuleGet(ctx, f.rep.Module("process_emissions").ID)
		require.NoError(t, err)
		require.Equal(t, "in_progress", rm.Status)

		url := fmt.Sprintf("%s/%d", gases, e.ID)
		rec = serveEntry(t, f.router, http.MethodPatch, url, `{"data": {"quantity": 2}}`, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, new(false), decodeEntry[entryResp](t, rec).ModuleReopened)
		rec = serveJSON(t, f.router, http.MethodPatch, f.url(f.unitID, f.year, "process_emissions/status"), `{"status": "validated"}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = serveEntry(t, f.router, http.MethodPatch, url, `{"data": {"quantity": 3}}`, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, new(true), decodeEntry[entryResp](t, rec).ModuleReopened)
		rec = serveEntry(t, f.router, http.MethodGet, url, "", nil)
		require.Nil(t, decodeEntry[entryResp](t, rec).ModuleReopened, "reads do not carry module_reopened")
	})
}

func TestReferenceHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newModuleFixture(ctx, t)
	runHTTPCases(t, f.router, []httpCase{
		{name: "BuildingRooms", method: http.MethodGet, url: "/api/v1/building-rooms?building_name=bc&q=150", status: http.StatusOK,
			want: `[{"building_location": "ECUBLENS", "building_name": "BC", "room_name": "BC-150", "room_type": "office", "surface_m2": 20}]`},
		{name: "Buildings", method: http.MethodGet, url: "/api/v1/building-rooms/buildings", status: http.StatusOK,
			want: `[{"building_location": "ECUBLENS", "building_name": "BC"}]`},
		{name: "Distance", method: http.MethodGet, url: "/api/v1/locations/distance?mode=plane&origin=GVA&destination=ZRH", status: http.StatusOK,
			want: `{"great_circle_km": 229.79, "one_trip_km": 325, "distance_km": 325}`},
		{name: "DistanceTrips", method: http.MethodGet, url: "/api/v1/locations/distance?mode=plane&origin=GVA&destination=ZRH&trips=3", status: http.StatusOK,
			want: `{"great_circle_km": 229.79, "one_trip_km": 325, "distance_km": 975}`},
		{name: "DistanceUnknown", method: http.MethodGet, url: "/api/v1/locations/distance?mode=plane&origin=GVA&destination=QQQ", status: http.StatusNotFound,
			want: `{"error": {"code": "not_found", "message": "unknown airport \"QQQ\"", "details": []}}`},
		{name: "TaxonomyNone", method: http.MethodGet, url: "/api/v1/taxonomies/member?year=2025", status: http.StatusOK,
			want: `{"submodule": "member", "year": 2025, "kind_field": null, "subkind_field": null, "nodes": []}`},
		{name: "TaxonomyUnknown", method: http.MethodGet, url: "/api/v1/taxonomies/nope", status: http.StatusNotFound,
			want: `{"error": {"code": "not_found", "message": "unknown submodule \"nope\"", "details": []}}`},
	})

	t.Run("LocationsSearch", func(t *testing.T) {
		t.Parallel()
		rec := serveEntry(t, f.router, http.MethodGet, "/api/v1/locations?q=genev&mode=plane", "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		got := decodeEntry[[]map[string]any](t, rec)
		require.NotEmpty(t, got)
		require.Equal(t, "GVA", got[0]["iata_code"])
		for _, url := range []string{"/api/v1/locations?q=g&mode=plane", "/api/v1/locations?q=geneva", "/api/v1/locations?q=geneva&mode=plane&limit=21"} {
			rec := serveEntry(t, f.router, http.MethodGet, url, "", nil)
			require.Equal(t, http.StatusBadRequest, rec.Code, url)
		}
	})

	t.Run("TaxonomyDefaultYear", func(t *testing.T) {
		t.Parallel()
		rec := serveEntry(t, f.router, http.MethodGet, "/api/v1/taxonomies/it", "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		tax := decodeEntry[map[string]any](t, rec)
		require.InDelta(t, 2025, tax["year"], 0)
		require.Equal(t, "equipment_class", tax["kind_field"])
		nodes := tax["nodes"].([]any) //nolint:forcetypeassert // test
		require.Len(t, nodes, 1)
		node := nodes[0].(map[string]any) //nolint:forcetypeassert // test
		require.Equal(t, "Centrifuge", node["value"])
		children := node["children"].([]any) //nolint:forcetypeassert // test
		require.Len(t, children, 1)
		require.InDelta(t, 500, children[0].(map[string]any)["defaults"].(map[string]any)["active_power_w"], 0) //nolint:forcetypeassert // test
	})
}
