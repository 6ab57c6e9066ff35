package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// send is a request with a body through the router as s (cookies and the
// CSRF header).
func (s *session) send(t *testing.T, h http.Handler, method, url, contentType string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, url, body)
	maps.Copy(req.Header, header)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Cookie", "auth_token="+s.cookies["auth_token"].Value+"; csrf_token="+s.cookies["csrf_token"].Value)
	req.Header.Set("X-Csrf-Token", s.cookies["csrf_token"].Value)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		requireErrorEnvelope(t, rec)
	}
	return rec
}

func TestYearsAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	type testBundle struct {
		router           http.Handler
		admin, principal *session
		pool             *pgxpool.Pool
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		e := newAuthEnv(t, nil)
		client, err := jobs.NewInsertClient(e.schema.Pool)
		require.NoError(t, err)
		store, err := blob.NewLocal(t.TempDir())
		require.NoError(t, err)
		deps := e.deps
		deps.River, deps.Blob = client, store
		e.deps = deps
		return &testBundle{router: httpapi.NewRouter(deps), admin: e.login(t, "admin"), principal: e.login(t, "principal"), pool: e.schema.Pool}
	}
	jsonReq := func(t *testing.T, b *testBundle, s *session, method, url, body string, header http.Header) *httptest.ResponseRecorder {
		t.Helper()
		return s.send(t, b.router, method, url, "application/json", strings.NewReader(body), header)
	}
	decode := func(t *testing.T, rec *httptest.ResponseRecorder, v any) {
		t.Helper()
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v), rec.Body.String())
	}
	type yearJSON struct {
		Year            int32           `json:"year"`
		Status          string          `json:"status"`
		Config          json.RawMessage `json:"config"`
		SetupPipelineID *string         `json:"setup_pipeline_id"`
	}

	t.Run("CreateQueuesTheSetup", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rec := jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years", `{"year": 2026}`, nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		var out struct {
			Year     yearJSON `json:"year"`
			Pipeline struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
				Jobs []struct {
					Kind string `json:"kind"`
				} `json:"jobs"`
			} `json:"pipeline"`
		}
		decode(t, rec, &out)
		require.Equal(t, "setting_up", out.Year.Status)
		require.Equal(t, "year_setup", out.Pipeline.Kind)
		require.Equal(t, out.Pipeline.ID, *out.Year.SetupPipelineID)
		require.Len(t, out.Pipeline.Jobs, 1)
		require.Equal(t, "accred_unit_sync", out.Pipeline.Jobs[0].Kind)
		job := rivertest.RequireInserted(ctx, t, riverpgxv5.New(b.pool), &jobs.AccredUnitSyncArgs{}, nil)
		require.Equal(t, int32(2026), *job.Args.Year)
		var event, route string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT event, route FROM audit_events WHERE entity_type = 'year' AND entity_id = '2026'`).Scan(&event, &route))
		require.Equal(t, "year.create", event)
		require.Equal(t, "POST /api/v1/years", route)

		rec = jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years", `{"year": 2026}`, nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "year_exists", errorCode(t, rec))
	})

	t.Run("CreateBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for body, field := range map[string]string{
			`{}`:                     "year",
			`{"year": 1999}`:         "year",
			`{"year": "2026"}`:       "year",
			`{"year": 2026, "x": 1}`: "x",
		} {
			rec := jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years", body, nil)
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, body)
			require.Equal(t, field, requireErrorEnvelope(t, rec).Error.Details[0]["field"], body)
		}
		rec := jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years", `[2026]`, nil)
		require.Equal(t, http.StatusBadRequest, rec.Code)
	})

	t.Run("PatchAndETags", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("ready")})

		get := b.admin.do(t, http.MethodGet, "/api/v1/years/2026", nil)
		require.Equal(t, http.StatusOK, get.Code)
		tag := get.Header().Get("ETag")
		require.True(t, strings.HasPrefix(tag, `W/"y2026-`), tag)
		require.Equal(t, http.StatusNotModified, b.admin.do(t, http.MethodGet, "/api/v1/years/2026", http.Header{"If-None-Match": {tag}}).Code)

		// Not a transition of docs/domain.md §11.1.
		rec := jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026", `{"status": "closed"}`, nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "invalid_transition", errorCode(t, rec))
		rec = jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026", `{"status": "archived"}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)

		// An invalid configuration: 422 naming the path.
		rec = jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026",
			`{"config": {"modules": {"equipment": {"submodules": {"it": {"threshold_kg": -1}}}}}}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		env := requireErrorEnvelope(t, rec)
		require.Equal(t, "validation_failed", env.Error.Code)
		require.Equal(t, "config.modules.equipment.submodules.it.threshold_kg", env.Error.Details[0]["field"])
		rec = jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026", `{"config": null}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)

		// Open it with the tag read: 200 with a new tag; the old tag is stale.
		rec = jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026",
			`{"status": "open", "config": {"modules": {"equipment": {"uncertainty": "medium"}}}}`, http.Header{"If-Match": {tag}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var y yearJSON
		decode(t, rec, &y)
		require.Equal(t, "open", y.Status)
		require.Contains(t, string(y.Config), `"uncertainty":"medium"`)
		require.NotEqual(t, tag, rec.Header().Get("ETag"))
		rec = jsonReq(t, b, b.admin, http.MethodPatch, "/api/v1/years/2026", `{"status": "closed"}`, http.Header{"If-Match": {tag}})
		require.Equal(t, http.StatusPreconditionFailed, rec.Code)

		rec = jsonReq(t, b, b.principal, http.MethodPatch, "/api/v1/years/2026", `{"status": "closed"}`, nil)
		require.Equal(t, http.StatusForbidden, rec.Code)
	})

	t.Run("ReductionObjectives", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("open")})
		upload := func(t *testing.T, dataset, name, body string) *httptest.ResponseRecorder {
			t.Helper()
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			w, err := mw.CreateFormFile("file", name)
			require.NoError(t, err)
			_, err = io.WriteString(w, body)
			require.NoError(t, err)
			require.NoError(t, mw.Close())
			return b.admin.send(t, b.router, http.MethodPost, "/api/v1/years/2026/reduction-objectives/"+dataset, mw.FormDataContentType(), &buf, nil)
		}
		rec := upload(t, "population", "pop.csv", "year,pop\n2030,18000\n2035,19000\n")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"population":18000`)

		rec = upload(t, "population", "pop.csv", "year,pop\n2030,-1\n")
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		d := requireErrorEnvelope(t, rec).Error.Details[0]
		require.Equal(t, "pop", d["field"])
		require.Equal(t, "out_of_range", d["code"])
		require.InDelta(t, 1, d["row"], 0)

		require.Equal(t, http.StatusNotFound, upload(t, "budget", "b.csv", "x\n").Code)
		require.Equal(t, http.StatusUnsupportedMediaType, upload(t, "population", "pop.txt", "x\n").Code)
		rec = jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years/2026/reduction-objectives/population", `{}`, nil)
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
	})

	t.Run("SetupDataStatusAccredSync", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2024)), Status: new("closed")})
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2025)), Status: new("setup_failed")})

		rec := jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years/2025/setup", ``, nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"kind":"year_setup"`)
		rec = jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years/2024/setup", ``, nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "invalid_transition", errorCode(t, rec))
		require.Equal(t, http.StatusNotFound, jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/years/2030/setup", ``, nil).Code)

		rec = b.admin.do(t, http.MethodGet, "/api/v1/years/2025/data-status", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		var mods []map[string]any
		decode(t, rec, &mods)
		require.Len(t, mods, 8)

		rec = jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/integrations/accred/sync", `{}`, nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"kind":"accred_sync"`)
		require.Equal(t, http.StatusAccepted, jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/integrations/accred/sync", ``, nil).Code)
		require.Equal(t, http.StatusUnprocessableEntity, jsonReq(t, b, b.admin, http.MethodPost, "/api/v1/integrations/accred/sync", `{"year": 2025}`, nil).Code)
	})

	t.Run("Visibility", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for y, st := range map[int32]string{2023: "closed", 2024: "open", 2025: "ready", 2026: "setting_up"} {
			testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: &y, Status: &st})
		}
		var list []map[string]any
		decode(t, b.principal.do(t, http.MethodGet, "/api/v1/years", nil), &list)
		require.Equal(t, []map[string]any{{"year": 2024.0, "status": "open"}, {"year": 2023.0, "status": "closed"}}, list)
		decode(t, b.admin.do(t, http.MethodGet, "/api/v1/years", nil), &list)
		require.Len(t, list, 4)
		require.Equal(t, http.StatusNotFound, b.principal.do(t, http.MethodGet, "/api/v1/years/2025", nil).Code)
		require.Equal(t, http.StatusOK, b.principal.do(t, http.MethodGet, "/api/v1/years/2024", nil).Code)
		require.Equal(t, http.StatusNotFound, b.admin.do(t, http.MethodGet, "/api/v1/years/1999", nil).Code)
	})
}
