package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// access is the permission docs/api.md assigns to a route.
type access string

const (
	accPublic   access = "public"
	accAuth     access = "auth"
	accRefresh  access = "refresh cookie"
	accPipeline access = "visible pipeline"
	accBOCfgV   access = "bo(configuration, view)"
	accBOCfgE   access = "bo(configuration, edit)"
	accSync     access = "module_sync(u, m)"
	accResults  access = "unit_results(u)"
	accMember   access = "unit_member(u)"
	accView     access = "module_view(u, m)"
	accViewHcTr access = "module_view(u, headcount|professional_travel)"
	accEdit     access = "module_edit(u, m)"
	accValidate access = "module_validate(u)"
	accOpsView  access = "bo(pipeline_operations, view)"
	accOpsEdit  access = "bo(pipeline_operations, edit)"
	accBORepV   access = "bo(reporting, view)"
	accLogsV    access = "bo(logs, view)"
)

// routeAccess lists EVERY operation of the OpenAPI document with its
// permission. A route added to the document without a row here fails
// TestRouteAuthorization.
var routeAccess = map[string]access{
	"GET /openapi.json":  accPublic,
	"GET /version":       accPublic,
	"GET /config":        accPublic,
	"GET /auth/login":    accPublic,
	"GET /auth/callback": accPublic,
	"POST /auth/refresh": accRefresh,
	"POST /auth/logout":  accAuth,
	"GET /me":            accAuth,
	"GET /me/units":      accAuth,

	"GET /pipelines/{id}":               accPipeline,
	"GET /pipelines/{id}/events":        accPipeline,
	"GET /pipelines":                    accAuth,     // visible pipelines: the list is clamped, never 403
	"POST /pipelines/{id}/cancel":       accPipeline, // creator or bo(pipeline_operations, edit); unknown id: 404 for all
	"GET /templates/{kind}/{group}.csv": accAuth,
	"GET /fx-rates":                     accBOCfgV,

	"POST /uploads":                accBOCfgE,
	"POST /uploads/copy":           accBOCfgE, // back office only, also for a unit-scope source (uploads_copy_test.go)
	"GET /uploads":                 accBOCfgV,
	"GET /uploads/{id}":            accAuth, // bo(configuration, view) or uploader: 404 otherwise
	"GET /uploads/{id}/file":       accAuth, // idem
	"GET /uploads/{id}/errors.csv": accAuth, // idem
	"POST /units/{unit_id}/years/{year}/modules/{module}/uploads": accSync,
	"GET /units/{unit_id}/years/{year}/modules/{module}/uploads":  accSync,

	"GET /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries":               accView,
	"GET /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/check-unique":  accView,
	"GET /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}":    accView,
	"POST /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries":              accEdit,
	"PATCH /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}":  accEdit,
	"DELETE /units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}": accEdit,
	"GET /taxonomies/{submodule}":                                 accAuth,
	"GET /locations":                                              accAuth,
	"GET /locations/distance":                                     accAuth,
	"GET /building-rooms/buildings":                               accAuth,
	"GET /building-rooms":                                         accAuth,
	"GET /units/{unit_id}":                                        accResults,
	"GET /units/{unit_id}/reports":                                accResults,
	"GET /units/{unit_id}/years/{year}/report":                    accResults,
	"GET /units/{unit_id}/years/{year}/results/summary":           accResults,
	"GET /units/{unit_id}/years/{year}/results/breakdown":         accResults,
	"GET /units/{unit_id}/years/{year}/results/it":                accResults,
	"GET /units/{unit_id}/results/yearly":                         accResults,
	"PUT /units/{unit_id}/years/{year}/report":                    accMember,
	"PATCH /units/{unit_id}/years/{year}/modules/{module}/status": accValidate,

	// Module overview and extras (docs/api.md §5).
	"GET /units/{unit_id}/years/{year}/modules/{module}":                      accView,
	"GET /units/{unit_id}/years/{year}/modules/{module}/breakdown":            accView,
	"GET /units/{unit_id}/years/{year}/modules/headcount/members":             accViewHcTr,
	"GET /units/{unit_id}/years/{year}/modules/professional_travel/trips-map": accView,

	// Years and their setup (docs/api.md §7), Accred sync (§14).
	"GET /years":                    accAuth, // non-admins: open and closed years only
	"GET /years/{year}":             accAuth, // idem: other years 404
	"POST /years":                   accBOCfgE,
	"PATCH /years/{year}":           accBOCfgE,
	"POST /years/{year}/setup":      accBOCfgE,
	"GET /years/{year}/data-status": accBOCfgV,
	"POST /years/{year}/reduction-objectives/{dataset}": accBOCfgE,
	"POST /integrations/accred/sync":                    accBOCfgE,

	// Factors, FX rates, recalculations (docs/api.md §8, §9), ECB sync (§14).
	"GET /factors":                       accBOCfgV,
	"GET /factors/stale":                 accBOCfgV,
	"GET /factors/{id}":                  accBOCfgV, // a uuid names no factor: 404 for admin
	"POST /factors":                      accBOCfgE,
	"PATCH /factors/{id}":                accBOCfgE,
	"DELETE /factors/{id}":               accBOCfgE,
	"POST /factors/stale/purge":          accBOCfgE,
	"POST /factors/compute":              accBOCfgE,
	"PUT /fx-rates/{year}/{currency}":    accBOCfgE,
	"DELETE /fx-rates/{year}/{currency}": accBOCfgE,
	"POST /recalculations":               accBOCfgE,
	"POST /integrations/ecb/sync":        accBOCfgE,

	// Job operations (docs/api.md §10).
	"POST /pipelines/{id}/jobs/{job_id}/retry": accOpsEdit,
	"GET /ops/workers":                         accOpsView,
	"GET /ops/queues":                          accOpsView,
	"GET /ops/jobs":                            accOpsView,
	"POST /ops/jobs/{id}/retry":                accOpsEdit, // {id} is a River job id: the UUID of the test names nothing (404)
	"POST /ops/jobs/{id}/cancel":               accOpsEdit,
	"GET /ops/stale-stats":                     accOpsView,

	// Back-office reporting (docs/api.md §11).
	"GET /backoffice/years":        accBORepV,
	"GET /backoffice/affiliations": accBORepV,
	"GET /backoffice/units":        accBORepV, // no year: 400 for the granted
	"GET /backoffice/overview":     accBORepV, // idem
	"GET /backoffice/usage":        accBORepV,
	"GET /backoffice/results":      accBORepV,

	// Exports (docs/api.md §12).
	"POST /exports":              accAuth, // the kind's permission is the domain's (403); an empty body is 422 for all
	"GET /exports":               accAuth, // the caller's exports; mine=false: admins only (403)
	"GET /exports/{id}":          accAuth, // creator or admin: 404 otherwise
	"GET /exports/{id}/download": accAuth, // idem

	// Audit (docs/api.md §13).
	"GET /audit/events":                 accLogsV,
	"GET /audit/events/{id}":            accLogsV, // a uuid names no event: 404 for admin
	"GET /audit/stats":                  accLogsV,
	"GET /audit/verify":                 accLogsV,
	"POST /audit/shipping/retry-failed": accBOCfgE,

	// Integrations: overview, Tableau sync (docs/api.md §14).
	"GET /integrations":               accBOCfgV,
	"POST /integrations/tableau/sync": accBOCfgE,
}

// allowed says whether each dev fixture user passes a permission on
// LAB-DEMO (cf 7918) for module professional_travel.
var allowed = map[access][]string{
	accAuth:     {"standard", "principal", "metier", "admin", "principal_other"},
	accRefresh:  {"standard", "principal", "metier", "admin", "principal_other"},
	accPipeline: {"standard", "principal", "metier", "admin", "principal_other"}, // unknown pipeline: 404 for all
	accBOCfgV:   {"admin"},
	accBOCfgE:   {"admin"},
	accSync:     {"principal"},
	accResults:  {"standard", "principal", "metier", "admin"},
	accMember:   {"standard", "principal"},
	accView:     {"standard", "principal"},
	accViewHcTr: {"standard", "principal"},
	accEdit:     {"standard", "principal"},
	accValidate: {"principal"},
	accOpsView:  {"admin"},
	accOpsEdit:  {"admin"},
	accBORepV:   {"metier", "admin"},
	accLogsV:    {"admin"},
}

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

func TestRouteAuthorization(t *testing.T) {
	t.Parallel()
	b, err := httpapi.OpenAPIDocument()
	require.NoError(t, err)
	_, ops := documentOperations(t, b)

	var missing []string
	for r := range ops {
		if _, ok := routeAccess[r.String()]; !ok {
			missing = append(missing, r.String())
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "routes of the OpenAPI document without an access rule in routeAccess (and probably without a check)")
	for key := range routeAccess {
		m, p, _ := strings.Cut(key, " ")
		_, ok := ops[route{Method: m, Path: p}]
		require.True(t, ok, "routeAccess lists %s, which the document does not have", key)
	}

	e := newAuthEnv(t, nil)
	unit, err := dbsqlc.New(e.schema.Pool).UnitGetByCF(t.Context(), "7918")
	require.NoError(t, err)
	params := map[string]string{"unit_id": strconv.FormatInt(unit.ID, 10), "year": "2025", "module": "professional_travel",
		"submodule": "plane", "entry_id": "999999", "id": uuid.NewString(), "kind": "data", "group": "plane", "job_id": "999999",
		"currency": "USD", "dataset": "footprint"}
	urlOf := func(path string) string {
		return "/api/v1" + pathParamRe.ReplaceAllStringFunc(path, func(m string) string { return params[m[1:len(m)-1]] })
	}
	users := []string{"standard", "principal", "metier", "admin", "principal_other"}
	sessions := map[string]*session{}
	for _, u := range users {
		sessions[u] = e.login(t, u)
	}

	for r := range ops {
		acc := routeAccess[r.String()]
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			u := urlOf(r.Path)
			// Anonymous (CSRF header and cookie present, no session).
			rec := serve(t, httpapi.NewRouter(e.deps), r.Method, u, http.Header{"X-Csrf-Token": {"t"}, "Cookie": {"csrf_token=t"}})
			if acc == accPublic {
				require.NotEqual(t, http.StatusUnauthorized, rec.Code)
				require.NotEqual(t, http.StatusForbidden, rec.Code)
				return
			}
			require.Equal(t, http.StatusUnauthorized, rec.Code, "anonymous %s: %s", r, rec.Body.String())

			for _, user := range users {
				s := sessions[user].clone()
				if r.String() == "POST /auth/logout" {
					s = e.login(t, user) // logging out must not end the shared sessions
				}
				rec := s.do(t, r.Method, u, http.Header{"Content-Type": {"application/json"}})
				if slices.Contains(allowed[acc], user) {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, rec.Code, "%s as %s (%s): %s", r, user, acc, rec.Body.String())
				} else {
					require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, rec.Code, "%s as %s (%s): %s", r, user, acc, rec.Body.String())
				}
			}
		})
	}
}

func TestRiverUIAccess(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	deps := e.deps
	deps.RiverUI = ui
	router := httpapi.NewRouter(deps)
	tests := []struct {
		user       string
		get, post  int
		withOrigin bool
	}{
		{user: "", get: http.StatusNotFound, post: http.StatusNotFound},
		{user: "principal", get: http.StatusNotFound, post: http.StatusNotFound},
		{user: "metier", get: http.StatusNotFound, post: http.StatusNotFound},
		{user: "admin", get: http.StatusAccepted, post: http.StatusAccepted, withOrigin: true},
		{user: "admin", get: http.StatusAccepted, post: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.user+strconv.FormatBool(tt.withOrigin), func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.user != "" {
				s := e.login(t, tt.user)
				h.Set("Cookie", "auth_token="+s.cookies["auth_token"].Value)
			}
			rec := serve(t, router, http.MethodGet, "/system/jobs/api/jobs", h)
			require.Equal(t, tt.get, rec.Code)
			if tt.withOrigin {
				h.Set("Origin", e.srv.URL)
			}
			rec = serve(t, router, http.MethodPost, "/system/jobs/api/jobs/cancel", h)
			require.Equal(t, tt.post, rec.Code)
		})
	}
}

func TestRiverUIMounted(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	client, err := river.NewClient(riverpgxv5.New(e.schema.Pool), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ui, err := httpapi.NewRiverUI(ctx, client, testdb.QuietLogger())
	require.NoError(t, err)
	deps := e.deps
	deps.RiverUI = ui
	router := httpapi.NewRouter(deps)
	s := e.login(t, "admin")
	h := http.Header{"Cookie": {"auth_token=" + s.cookies["auth_token"].Value}}
	rec := serve(t, router, http.MethodGet, "/system/jobs/", h)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	rec = serve(t, router, http.MethodGet, "/system/jobs/api/queues", h)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = serve(t, router, http.MethodGet, "/system/jobs/", nil)
	require.Equal(t, http.StatusNotFound, rec.Code)
}
