package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// extraEnv is a year 2025 with one report, the factors and airports the
// member, plane and equipment entries need, and a real user acting as the
// unit's principal.
type extraEnv struct {
	schema testdb.Schema
	rep    testfactory.ReportBundle
	cf     string
	user   dbsqlc.User
}

func newExtraEnv(ctx context.Context, t *testing.T) *extraEnv {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	pool := schema.Pool
	year := testfactory.Year(ctx, t, pool, &testfactory.YearOpts{Year: new(int32(2025))})
	rep := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{Year: &year.Year})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("member")})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("plane"),
		Classification: map[string]string{"cabin_class": "economy", "category": "very_short_haul"},
		Values:         map[string]any{"ef_kg_co2eq_per_km": 0.258, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 500}})
	testfactory.Factor(ctx, t, pool, &testfactory.FactorOpts{Year: &year.Year, Submodule: new("plane"),
		Classification: map[string]string{"cabin_class": "business", "category": "very_short_haul"},
		Values:         map[string]any{"ef_kg_co2eq_per_km": 0.5, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 500}})
	testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{IATA: new("GVA"), Name: new("Geneva Airport"),
		Latitude: new(46.238098), Longitude: new(6.10895)})
	testfactory.Location(ctx, t, pool, &testfactory.LocationOpts{IATA: new("ZRH"), Name: new("Zurich Airport"),
		Latitude: new(47.458056), Longitude: new(8.548056)})
	user := testfactory.User(ctx, t, pool, &testfactory.UserOpts{DisplayName: new("Pat Principal")})
	return &extraEnv{schema: schema, rep: rep, cf: unitCF(ctx, t, pool, rep.Report.UnitID), user: user}
}

func (e *extraEnv) principal(roles ...perm.Assignment) *auth.Principal {
	p := httpapi.NewTestPrincipal(e.user.Sciper, roles...)
	p.User = e.user
	return p
}

func (e *extraEnv) router(t *testing.T, deps httpapi.Deps, p *auth.Principal) http.Handler {
	t.Helper()
	deps.Pool, deps.Logger, deps.Ready, deps.Actor = e.schema.Pool, testdb.QuietLogger(), ready, httpapi.PrincipalActor
	return httpapi.AsPrincipal(httpapi.NewRouter(deps), p)
}

func (e *extraEnv) url(rest string) string {
	return fmt.Sprintf("/api/v1/units/%d/years/2025/modules/%s", e.rep.Report.UnitID, rest)
}

type auditRow struct {
	Event, Action, EntityType, EntityID string
	Version                             int32
	Handled                             []string
	Sciper                              string
	Route, RequestID                    *string
	Snapshot, Diff                      json.RawMessage
}

func auditRows(ctx context.Context, t *testing.T, db dbsqlc.DBTX) []auditRow {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT event, action, entity_type, entity_id, entity_version, handled_ids, actor_sciper,
		route, request_id, snapshot, diff FROM audit_events ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		require.NoError(t, rows.Scan(&r.Event, &r.Action, &r.EntityType, &r.EntityID, &r.Version, &r.Handled, &r.Sciper,
			&r.Route, &r.RequestID, &r.Snapshot, &r.Diff))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestEntryWritesAudited(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newExtraEnv(ctx, t)
	client, err := jobs.NewInsertClient(e.schema.Pool)
	require.NoError(t, err)
	router := e.router(t, httpapi.Deps{River: client}, e.principal(perm.New(perm.RolePrincipal, e.cf)))
	members := e.url("headcount/member/entries")

	rec := serveEntry(t, router, http.MethodPost, members,
		`{"data": {"name": "Ada Lovelace", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8}}`, nil)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	ada := decodeEntry[entryResp](t, rec)
	rec = serveEntry(t, router, http.MethodPatch, fmt.Sprintf("%s/%d", members, ada.ID), `{"data": {"fte": 1}}`, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = serveEntry(t, router, http.MethodGet, members+"?sort=name", "", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = serveEntry(t, router, http.MethodDelete, fmt.Sprintf("%s/%d", members, ada.ID), "", nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	rec = serveJSON(t, router, http.MethodPatch, e.url("headcount/status"), `{"status": "validated"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rows := auditRows(ctx, t, e.schema.Pool)
	require.Len(t, rows, 5)
	entryID := strconv.FormatInt(ada.ID, 10)
	rmID := strconv.FormatInt(e.rep.Module("headcount").ID, 10)
	want := []struct{ event, action, entityType, entityID, route string }{
		{"entry.create", "C", "data_entry", entryID, "POST /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries"},
		{"entry.update", "U", "data_entry", entryID, "PATCH /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}"},
		{"entry.list", "R", "report_module", rmID, "GET /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries"},
		{"entry.delete", "D", "data_entry", entryID, "DELETE /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}"},
		{"report_module.status", "U", "report_module", rmID, "PATCH /api/v1/units/{unit_id}/years/{year}/modules/{module}/status"},
	}
	for i, w := range want {
		r := rows[i]
		require.Equal(t, w.event, r.Event)
		require.Equal(t, w.action, r.Action, w.event)
		require.Equal(t, w.entityType, r.EntityType, w.event)
		require.Equal(t, w.entityID, r.EntityID, w.event)
		require.NotNil(t, r.Route, w.event)
		require.Equal(t, w.route, *r.Route, w.event)
		require.Equal(t, e.user.Sciper, r.Sciper, w.event)
		require.NotNil(t, r.RequestID, w.event)
	}
	// Entry versions follow the entry (1, 2, then the delete), the
	// snapshot is the entry data and the update is diffed.
	require.Equal(t, []int32{1, 2, 3}, []int32{rows[0].Version, rows[1].Version, rows[3].Version})
	require.Equal(t, int32(ada.Version), rows[0].Version)
	require.JSONEq(t, `{"name": "Ada Lovelace", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8}`, string(rows[0].Snapshot))
	require.Nil(t, rows[0].Diff)
	require.JSONEq(t, `{"added": {}, "removed": {}, "changed": {"fte": {"old": 0.8, "new": 1}}}`, string(rows[1].Diff))
	require.JSONEq(t, `{"added": {}, "removed": {}, "changed": {}}`, string(rows[3].Diff))
	for _, i := range []int{0, 1, 2, 3} {
		require.Equal(t, []string{"123456"}, rows[i].Handled, rows[i].Event)
	}
	require.Empty(t, rows[4].Handled)
	var list struct {
		Submodule string              `json:"submodule"`
		Query     map[string][]string `json:"query"`
	}
	require.NoError(t, json.Unmarshal(rows[2].Snapshot, &list))
	require.Equal(t, "member", list.Submodule)
	require.Equal(t, map[string][]string{"sort": {"name"}}, list.Query)
	var status map[string]any
	require.NoError(t, json.Unmarshal(rows[4].Snapshot, &status))
	require.Equal(t, "validated", status["status"])
	require.Equal(t, "in_progress", status["previous_status"])

	rep, err := audit.Verify(ctx, e.schema.Pool, 1, 5)
	require.NoError(t, err)
	require.True(t, rep.OK, "%+v", rep.Broken)
	require.Equal(t, 5, rep.Checked)

	// Each write enqueued aggregate{2025}; uniqueness by year keeps one job.
	require.NoError(t, postgres.WithTx(ctx, e.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobs.AggregateArgs{Year: 2025}, nil)
		require.Equal(t, "aggregate", job.Kind)
		return nil
	}))
	var n int
	require.NoError(t, e.schema.Pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'aggregate'").Scan(&n))
	require.Equal(t, 1, n)
}

func TestFailingAuditAbortsWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newExtraEnv(ctx, t)
	client, err := jobs.NewInsertClient(e.schema.Pool)
	require.NoError(t, err)
	members := e.url("headcount/member/entries")
	p := e.principal(perm.New(perm.RolePrincipal, e.cf))
	router := e.router(t, httpapi.Deps{River: client}, p)
	// failing breaks the audit store of the schema until restored.
	failing := func() (restore func()) {
		return testdb.FailInserts(ctx, t, e.schema, "audit_events", "audit store down")
	}

	restore := failing()
	rec := serveEntry(t, router, http.MethodPost, members,
		`{"data": {"name": "Ada", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8}}`, nil)
	require.Equal(t, http.StatusInternalServerError, rec.Code, rec.Body.String())
	var entries, jobsN int
	require.NoError(t, e.schema.Pool.QueryRow(ctx, "SELECT count(*) FROM data_entries").Scan(&entries))
	require.Zero(t, entries)
	require.NoError(t, e.schema.Pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&jobsN))
	require.Zero(t, jobsN, "the aggregate job is rolled back with the write")
	rm, err := dbsqlc.New(e.schema.Pool).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
		UnitID: e.rep.Report.UnitID, Year: 2025, Module: "headcount"})
	require.NoError(t, err)
	require.Equal(t, "not_started", rm.Status)
	require.Nil(t, rm.StatsDirtyAt)

	// Update and delete roll back too.
	restore()
	rec = serveEntry(t, router, http.MethodPost, members,
		`{"data": {"name": "Ada", "sius_code": "53", "user_institutional_id": "123456", "fte": 0.8}}`, nil)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	ada := decodeEntry[entryResp](t, rec)
	item := fmt.Sprintf("%s/%d", members, ada.ID)
	restore = failing()
	rec = serveEntry(t, router, http.MethodPatch, item, `{"data": {"fte": 1}}`, nil)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	rec = serveEntry(t, router, http.MethodDelete, item, "", nil)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	restore()
	rec = serveEntry(t, router, http.MethodGet, item, "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, 1, decodeEntry[entryResp](t, rec).Version)

	// A status change is refused with its audit event.
	failing()
	rec = serveJSON(t, router, http.MethodPatch, e.url("headcount/status"), `{"status": "validated"}`)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	rm, err = dbsqlc.New(e.schema.Pool).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
		UnitID: e.rep.Report.UnitID, Year: 2025, Module: "headcount"})
	require.NoError(t, err)
	require.Equal(t, "in_progress", rm.Status)
}

type overviewResp struct {
	Module     string `json:"module"`
	Status     string `json:"status"`
	Enabled    bool   `json:"enabled"`
	Submodules []struct {
		Submodule  string  `json:"submodule"`
		EntryCount int64   `json:"entry_count"`
		KgCO2eq    float64 `json:"kg_co2eq"`
		CalcIssues int64   `json:"calc_issues"`
	} `json:"submodules"`
	Totals struct {
		KgCO2eq       float64            `json:"kg_co2eq"`
		TCO2eq        float64            `json:"t_co2eq"`
		MainKgCO2eq   float64            `json:"main_kg_co2eq"`
		AdditionalKg  float64            `json:"additional_kg_co2eq"`
		EntryCount    int64              `json:"entry_count"`
		CalcIssues    int64              `json:"calc_issues"`
		FTE           *float64           `json:"fte"`
		FTEBySiusCode map[string]float64 `json:"fte_by_sius_code"`
	} `json:"totals"`
	ByScope         map[string]float64 `json:"by_scope_kg_co2eq"`
	ByCategory      map[string]float64 `json:"by_category_kg_co2eq"`
	ByEmissionType  map[string]float64 `json:"by_emission_type_kg_co2eq"`
	StatsComputedAt *string            `json:"stats_computed_at"`
	StatsPending    bool               `json:"stats_pending"`
}

// nonZero drops the zero figures of a breakdown map.
func nonZero(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

type breakdownResp []struct {
	Name      string  `json:"name"`
	Submodule string  `json:"submodule"`
	KgCO2eq   float64 `json:"kg_co2eq"`
	Children  []struct {
		Name    string   `json:"name"`
		Label   *string  `json:"label"`
		KgCO2eq float64  `json:"kg_co2eq"`
		Percent *float64 `json:"percent"`
	} `json:"children"`
}

func TestModuleOverviewAndExtras(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newExtraEnv(ctx, t)
	pool := e.schema.Pool
	principal := e.router(t, httpapi.Deps{}, e.principal(perm.New(perm.RolePrincipal, e.cf)))
	post := func(sub, data string) {
		t.Helper()
		rec := serveEntry(t, principal, http.MethodPost, e.url(sub+"/entries"), `{"data": `+data+`}`, nil)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	post("headcount/member", `{"name": "Zoe", "sius_code": "53", "user_institutional_id": "111111", "fte": 0.8}`)
	post("headcount/member", `{"name": "ada", "sius_code": "51", "user_institutional_id": "222222", "fte": 0.5}`)
	post("professional_travel/plane", `{"origin_iata": "GVA", "destination_iata": "ZRH", "cabin_class": "economy", "user_institutional_id": "111111", "number_of_trips": 2}`)
	post("professional_travel/plane", `{"origin_iata": "ZRH", "destination_iata": "GVA", "cabin_class": "business", "user_institutional_id": "222222"}`)
	// A trip whose airports are unknown has no coordinates.
	travel := e.rep.Module("professional_travel")
	testfactory.Entry(ctx, t, pool, &testfactory.EntryOpts{ReportModule: &travel, Submodule: new("plane"),
		Data:    map[string]any{"origin_iata": "XXX", "destination_iata": "GVA", "cabin_class": "economy", "user_institutional_id": "111111"},
		KgCO2eq: new(0.0), CalcStatus: new("unknown_location")})
	// Equipment: five IT classes and one scientific entry.
	equipment := e.rep.Module("equipment")
	for i, kg := range []float64{10, 50, 30, 5, 20} {
		testfactory.Entry(ctx, t, pool, &testfactory.EntryOpts{ReportModule: &equipment, Submodule: new("it"),
			Data: map[string]any{"equipment_id": fmt.Sprint("IT-", i), "name": "x", "equipment_class": fmt.Sprint("class", i)}, KgCO2eq: new(kg)})
	}
	testfactory.Entry(ctx, t, pool, &testfactory.EntryOpts{ReportModule: &equipment, Submodule: new("scientific"), KgCO2eq: new(7.0)})

	get := func(h http.Handler, rest string) ([]byte, int) {
		t.Helper()
		rec := serveEntry(t, h, http.MethodGet, e.url(rest), "", nil)
		return rec.Body.Bytes(), rec.Code
	}

	// Before the aggregate job: counts from the entries, stats pending.
	b, code := get(principal, "headcount")
	require.Equal(t, http.StatusOK, code, string(b))
	var pending overviewResp
	require.NoError(t, json.Unmarshal(b, &pending))
	require.Equal(t, "headcount", pending.Module)
	require.Equal(t, "in_progress", pending.Status)
	require.True(t, pending.StatsPending, "entries changed since the last aggregate")
	require.Len(t, pending.Submodules, 2)
	require.Equal(t, "member", pending.Submodules[0].Submodule)
	require.EqualValues(t, 2, pending.Submodules[0].EntryCount)
	require.InDelta(t, 260, pending.Submodules[0].KgCO2eq, 1e-9) // (0.8 + 0.5) FTE × 100 kg × 2

	// What the aggregate job does.
	hc := e.rep.Module("headcount")
	require.NoError(t, postgres.WithTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		return report.RefreshModuleIDs(ctx, tx, []int64{hc.ID, travel.ID, equipment.ID}, time.Now())
	}))

	t.Run("OverviewFromStats", func(t *testing.T) {
		t.Parallel()
		b, code := get(principal, "headcount")
		require.Equal(t, http.StatusOK, code, string(b))
		var ov overviewResp
		require.NoError(t, json.Unmarshal(b, &ov))
		require.False(t, ov.StatsPending)
		require.NotNil(t, ov.StatsComputedAt)
		require.InDelta(t, 260, ov.Totals.KgCO2eq, 1e-9)
		require.InDelta(t, 0.26, ov.Totals.TCO2eq, 1e-9)
		require.NotNil(t, ov.Totals.FTE)
		require.InDelta(t, 1.3, *ov.Totals.FTE, 1e-9)
		require.Equal(t, map[string]float64{"51": 0.5, "53": 0.8}, ov.Totals.FTEBySiusCode)
		require.InDelta(t, 260, ov.ByScope["3"], 1e-9)
	})

	t.Run("OwnScopeTravel", func(t *testing.T) {
		t.Parallel()
		std := httpapi.NewTestPrincipal("111111", perm.New(perm.RoleStandard, e.cf))
		own := e.router(t, httpapi.Deps{}, std)
		b, code := get(own, "professional_travel")
		require.Equal(t, http.StatusOK, code, string(b))
		var ov overviewResp
		require.NoError(t, json.Unmarshal(b, &ov))
		require.Equal(t, "plane", ov.Submodules[0].Submodule)
		require.EqualValues(t, 2, ov.Submodules[0].EntryCount, "own trips only")
		b, code = get(principal, "professional_travel")
		require.Equal(t, http.StatusOK, code)
		var all overviewResp
		require.NoError(t, json.Unmarshal(b, &all))
		require.EqualValues(t, 3, all.Submodules[0].EntryCount)
		require.Greater(t, all.Submodules[0].KgCO2eq, ov.Submodules[0].KgCO2eq)
		require.InDelta(t, ov.Submodules[0].KgCO2eq, ov.Totals.KgCO2eq, 0.01, "totals of the own trips")
		require.False(t, ov.StatsPending)

		// Every figure of the module header follows the scope: own trips
		// (GVA→ZRH economy ×2 and the unknown-airport trip) for the
		// standard user, the unit's trips for the principal.
		economy := 650 * 0.258 * 2.0
		business := 325 * 0.5 * 2.0
		require.InDelta(t, economy, ov.Totals.KgCO2eq, 1e-9)
		require.InDelta(t, 0.335, ov.Totals.TCO2eq, 1e-9)
		require.InDelta(t, economy, ov.Totals.MainKgCO2eq, 1e-9)
		require.Zero(t, ov.Totals.AdditionalKg)
		require.EqualValues(t, 2, ov.Totals.EntryCount)
		require.EqualValues(t, 1, ov.Totals.CalcIssues, "the own unknown-airport trip")
		require.EqualValues(t, 1, ov.Submodules[0].CalcIssues)
		require.Equal(t, map[string]float64{"1": 0, "2": 0, "3": economy}, ov.ByScope)
		require.Equal(t, map[string]float64{"professional_travel.plane.economy": economy}, nonZero(ov.ByEmissionType))
		require.Len(t, nonZero(ov.ByCategory), 1)
		for _, kg := range nonZero(ov.ByCategory) {
			require.InDelta(t, economy, kg, 1e-9)
		}

		require.InDelta(t, economy+business, all.Totals.KgCO2eq, 1e-9)
		require.InDelta(t, economy+business, all.Totals.MainKgCO2eq, 1e-9)
		require.EqualValues(t, 3, all.Totals.EntryCount)
		require.EqualValues(t, 1, all.Totals.CalcIssues)
		require.Equal(t, map[string]float64{"1": 0, "2": 0, "3": economy + business}, all.ByScope)
		require.Equal(t, map[string]float64{"professional_travel.plane.economy": economy,
			"professional_travel.plane.business": business}, nonZero(all.ByEmissionType))

		// The travel breakdown follows the scope too.
		b, code = get(own, "professional_travel/breakdown?by=class")
		require.Equal(t, http.StatusOK, code, string(b))
		var bd breakdownResp
		require.NoError(t, json.Unmarshal(b, &bd))
		require.InDelta(t, economy, bd[0].KgCO2eq, 1e-9)
		require.Len(t, bd[0].Children, 1)
		require.Equal(t, "economy", bd[0].Children[0].Name)

		// Members: only themselves; trips map: only their trips.
		b, code = get(own, "headcount/members")
		require.Equal(t, http.StatusOK, code, string(b))
		require.JSONEq(t, `[{"sciper": "111111", "name": "Zoe"}]`, string(b))
		b, code = get(own, "professional_travel/trips-map")
		require.Equal(t, http.StatusOK, code, string(b))
		var m struct {
			Legs []struct {
				TravelerName *string `json:"traveler_name"`
			} `json:"legs"`
			DroppedCount int `json:"dropped_count"`
		}
		require.NoError(t, json.Unmarshal(b, &m))
		require.Len(t, m.Legs, 1)
		require.Equal(t, 1, m.DroppedCount)
		require.Equal(t, new("Zoe"), m.Legs[0].TravelerName)
		// Own-scoped users have no equipment grant.
		_, code = get(own, "equipment")
		require.Equal(t, http.StatusForbidden, code)
	})

	t.Run("Members", func(t *testing.T) {
		t.Parallel()
		b, code := get(principal, "headcount/members")
		require.Equal(t, http.StatusOK, code, string(b))
		require.JSONEq(t, `[{"sciper": "222222", "name": "ada"}, {"sciper": "111111", "name": "Zoe"}]`, string(b))
	})

	t.Run("TripsMap", func(t *testing.T) {
		t.Parallel()
		b, code := get(principal, "professional_travel/trips-map")
		require.Equal(t, http.StatusOK, code, string(b))
		var m struct {
			Legs []struct {
				Mode   string `json:"mode"`
				Origin struct {
					Name string  `json:"name"`
					Lat  float64 `json:"lat"`
					Lon  float64 `json:"lon"`
				} `json:"origin"`
				KgCO2eq       float64 `json:"kg_co2eq"`
				NumberOfTrips int     `json:"number_of_trips"`
				TravelerName  *string `json:"traveler_name"`
			} `json:"legs"`
			DroppedCount int `json:"dropped_count"`
		}
		require.NoError(t, json.Unmarshal(b, &m))
		require.Len(t, m.Legs, 2)
		require.Equal(t, 1, m.DroppedCount)
		require.Equal(t, "plane", m.Legs[0].Mode)
		require.Equal(t, "Geneva Airport", m.Legs[0].Origin.Name)
		require.InDelta(t, 46.238098, m.Legs[0].Origin.Lat, 1e-9)
		require.Equal(t, 2, m.Legs[0].NumberOfTrips)
		require.Positive(t, m.Legs[0].KgCO2eq)
		require.Equal(t, new("ada"), m.Legs[1].TravelerName)
	})

	t.Run("BreakdownByClass", func(t *testing.T) {
		t.Parallel()
		b, code := get(principal, "professional_travel/breakdown?by=class")
		require.Equal(t, http.StatusOK, code, string(b))
		var bd breakdownResp
		require.NoError(t, json.Unmarshal(b, &bd))
		require.Len(t, bd, 2)
		require.Equal(t, "plane", bd[0].Name)
		require.Equal(t, "train", bd[1].Name)
		require.Empty(t, bd[1].Children)
		require.Len(t, bd[0].Children, 2)
		pct := 0.0
		for _, c := range bd[0].Children {
			require.Contains(t, []string{"economy", "business"}, c.Name)
			require.NotNil(t, c.Percent)
			pct += *c.Percent
		}
		require.InDelta(t, 100, pct, 0.11)
	})

	t.Run("BreakdownTopClass", func(t *testing.T) {
		t.Parallel()
		b, code := get(principal, "equipment/breakdown?by=top_class")
		require.Equal(t, http.StatusOK, code, string(b))
		var bd breakdownResp
		require.NoError(t, json.Unmarshal(b, &bd))
		require.Len(t, bd, 3)
		bySub := map[string]int{}
		for i, n := range bd {
			bySub[n.Submodule] = i
		}
		it := bd[bySub["it"]]
		require.InDelta(t, 115, it.KgCO2eq, 1e-9)
		var names []string
		var kgs []float64
		for _, c := range it.Children {
			names, kgs = append(names, c.Name), append(kgs, c.KgCO2eq)
		}
		require.Equal(t, []string{"class1", "class2", "class4", "rest"}, names)
		require.Equal(t, []float64{50, 30, 20, 15}, kgs)
		sci := bd[bySub["scientific"]]
		require.InDelta(t, 7, sci.KgCO2eq, 1e-9)
		require.Len(t, sci.Children, 1)
		require.Equal(t, "Centrifuge", sci.Children[0].Name)
		require.Empty(t, bd[bySub["other"]].Children)
	})

	t.Run("BreakdownErrors", func(t *testing.T) {
		t.Parallel()
		for _, rest := range []string{"equipment/breakdown?by=class", "headcount/breakdown?by=top_class",
			"professional_travel/breakdown?by=top_class", "equipment/breakdown", "equipment/breakdown?by=nope"} {
			b, code := get(principal, rest)
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", rest, string(b))
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		other := testfactory.Unit(ctx, t, pool, nil)
		h := httpapi.AsUnitPrincipal(httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready}), *other.Cf)
		for _, rest := range []string{"headcount", "equipment/breakdown?by=top_class", "headcount/members", "professional_travel/trips-map"} {
			rec := serveEntry(t, h, http.MethodGet, fmt.Sprintf("/api/v1/units/%d/years/2025/modules/%s", other.ID, rest), "", nil)
			require.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", rest, rec.Body.String())
		}
		rec := serveEntry(t, principal, http.MethodGet, fmt.Sprintf("/api/v1/units/%d/years/1999/modules/headcount", e.rep.Report.UnitID), "", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	})
}
