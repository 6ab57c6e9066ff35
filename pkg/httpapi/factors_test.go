package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// curationEnv is a schema of its own with an open year, a closed year and
// a router serving them to an administrator (a real user row: pipelines
// and audit events name it) with an insert-only River client.
type curationEnv struct {
	router       http.Handler
	pool         dbsqlc.DBTX
	open, closed int32
}

func newCurationEnv(ctx context.Context, t *testing.T) *curationEnv {
	t.Helper()
	schema := testdb.TestSchema(ctx, t)
	client, err := jobs.NewInsertClient(schema.Pool)
	require.NoError(t, err)
	user := testfactory.User(ctx, t, schema.Pool, nil)
	p := httpapi.NewTestPrincipal(user.Sciper, perm.New(perm.RoleAdmin, ""))
	p.User = user
	router := httpapi.AsPrincipal(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, River: client, Logger: testdb.QuietLogger(), Ready: ready}), p)
	return &curationEnv{router: router, pool: schema.Pool,
		open:   testfactory.Year(ctx, t, schema.Pool, nil).Year,
		closed: testfactory.Year(ctx, t, schema.Pool, &testfactory.YearOpts{Status: new("closed")}).Year}
}

// send sends a request with a JSON body (none when empty), the CSRF pair
// and header.
func (e *curationEnv) send(t *testing.T, method, url, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	maps.Copy(req.Header, header)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Csrf-Token", "tok")
	req.AddCookie(&http.Cookie{Name: "csrf_token", Value: "tok"})
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		requireErrorEnvelope(t, rec)
	}
	return rec
}

// details returns the field → code map of an error answer.
func details(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, d := range requireErrorEnvelope(t, rec).Error.Details {
		out[d["field"].(string)] = d["code"] //nolint:forcetypeassert // the envelope check made field a string
	}
	return out
}

type factorAnswer struct {
	Factor struct {
		ID             int64             `json:"id"`
		Source         string            `json:"source"`
		Version        int64             `json:"version"`
		ClassKey       string            `json:"class_key"`
		EmissionType   string            `json:"emission_type"`
		Classification map[string]string `json:"classification"`
		Values         map[string]any    `json:"values"`
		Stale          bool              `json:"stale"`
	} `json:"factor"`
	Pipeline struct {
		Kind string `json:"kind"`
		Jobs []struct {
			Kind string `json:"kind"`
		} `json:"jobs"`
	} `json:"pipeline"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

func TestFactorRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newCurationEnv(ctx, t)
	gas := func(year int32, category string) string {
		return fmt.Sprintf(`{"year": %d, "submodule": "process_gas", "classification": {"category": %q},
			"values": {"ef_kg_co2eq_per_unit": 25, "unit": "kg"}}`, year, category)
	}

	rec := e.send(t, http.MethodPost, "/api/v1/factors", gas(e.open, "ch4"), nil)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decode[factorAnswer](t, rec)
	id := created.Factor.ID
	factorURL := "/api/v1/factors/" + strconv.FormatInt(id, 10)
	tag := fmt.Sprintf(`W/"f%d-v1"`, id)
	require.Equal(t, tag, rec.Header().Get("ETag"))
	require.Equal(t, "api", created.Factor.Source)
	require.Equal(t, "process_emissions.ch4", created.Factor.EmissionType)
	require.Equal(t, "factor_edit", created.Pipeline.Kind)
	require.Equal(t, "emission_recalc", created.Pipeline.Jobs[0].Kind)

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name   string
			body   string
			status int
			code   string
			fields map[string]any
		}{
			{"ClassificationNotInTree", gas(e.open, "plutonium"), http.StatusUnprocessableEntity, "validation_failed",
				map[string]any{"classification": "classification_not_in_tree"}},
			{"UnknownUnit", fmt.Sprintf(`{"year": %d, "submodule": "student", "classification": {"headcount_category": "waste",
				"headcount_class": "incineration"}, "values": {"number_of_unit_per_fte": 60, "ef_kg_co2eq_per_unit": 0.45, "unit": "barrels"}}`, e.open),
				http.StatusUnprocessableEntity, "validation_failed", map[string]any{"values.unit": "invalid_enum"}},
			{"InvalidValues", fmt.Sprintf(`{"year": %d, "submodule": "train", "classification": {"country_code": "CH"},
				"values": {"ef_kg_co2eq_per_km": "lots", "speed": 3}}`, e.open), http.StatusUnprocessableEntity, "validation_failed",
				map[string]any{"values.ef_kg_co2eq_per_km": "invalid_format", "values.speed": "unknown_field"}},
			{"UnknownMember", `{"year": 2025, "colour": "red"}`, http.StatusUnprocessableEntity, "validation_failed",
				map[string]any{"colour": "unknown_field"}},
			{"WrongType", `{"year": "2025"}`, http.StatusUnprocessableEntity, "validation_failed", map[string]any{"year": "invalid_format"}},
			{"UnknownSubmodule", fmt.Sprintf(`{"year": %d, "submodule": "rockets"}`, e.open), http.StatusUnprocessableEntity, "validation_failed",
				map[string]any{"submodule": "invalid_enum"}},
			{"Exists", gas(e.open, "CH4"), http.StatusConflict, "factor_exists", map[string]any{"classification": "factor_exists"}},
			{"ClosedYear", gas(e.closed, "ch4"), http.StatusConflict, "year_closed", map[string]any{}},
			{"NotAnObject", `[]`, http.StatusBadRequest, "bad_request", map[string]any{}},
		}
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rec := e.send(t, http.MethodPost, "/api/v1/factors", tt.body, nil)
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				require.Equal(t, tt.code, errorCode(t, rec))
				require.Equal(t, tt.fields, details(t, rec))
			})
		}
	})

	t.Run("GetAndList", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodGet, factorURL, "", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, tag[:len(tag)-2], rec.Header().Get("ETag")[:len(tag)-2], "ETag of the factor")
		rec = e.send(t, http.MethodGet, factorURL, "", http.Header{"If-None-Match": {rec.Header().Get("ETag")}})
		require.Equal(t, http.StatusNotModified, rec.Code)
		for _, u := range []string{"/api/v1/factors/999999999", "/api/v1/factors/abc", "/api/v1/factors/0"} {
			require.Equal(t, http.StatusNotFound, e.send(t, http.MethodGet, u, "", nil).Code, u)
		}

		rec = e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/factors?year=%d&submodule=process_gas&sort=-updated_at,id&limit=1", e.open), "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		page := decode[struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
			Limit int              `json:"limit"`
		}](t, rec)
		require.GreaterOrEqual(t, page.Total, 1)
		require.Len(t, page.Items, 1)
		for _, k := range []string{"id", "year", "module", "submodule", "emission_type", "classification", "class_key", "values",
			"source", "stale", "last_upload_id", "updated_at", "version"} {
			require.Contains(t, page.Items[0], k)
		}
		for u, code := range map[string]string{
			"/api/v1/factors?sort=colour":   "invalid_sort",
			"/api/v1/factors?sort=+-id":     "invalid_sort",
			"/api/v1/factors?year=1999":     "invalid_filter",
			"/api/v1/factors?stale=perhaps": "invalid_filter",
			"/api/v1/factors?module=rocket": "invalid_filter",
			"/api/v1/factors?limit=0":       "bad_request",
		} {
			rec := e.send(t, http.MethodGet, u, "", nil)
			require.Equal(t, http.StatusBadRequest, rec.Code, u)
			require.Equal(t, code, errorCode(t, rec), u)
		}
		rec = e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/factors/stale?year=%d", e.open), "", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `[]`, rec.Body.String(), "no upload: nothing is stale")
	})

	t.Run("PatchIfMatch", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodPost, "/api/v1/factors", gas(e.open, "n2o"), nil)
		require.Equal(t, http.StatusCreated, rec.Code)
		read := rec.Header().Get("ETag")
		u := fmt.Sprintf("/api/v1/factors/%d", decode[factorAnswer](t, rec).Factor.ID)

		// Two operators read the same version; the first edit wins.
		rec = e.send(t, http.MethodPatch, u, `{"values": {"ef_kg_co2eq_per_unit": 273}}`, http.Header{"If-Match": {read}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		won := decode[factorAnswer](t, rec)
		require.Equal(t, int64(2), won.Factor.Version)
		require.InDelta(t, 273.0, won.Factor.Values["ef_kg_co2eq_per_unit"], 0)
		require.Equal(t, "kg", won.Factor.Values["unit"], "merged")
		require.NotEqual(t, read, rec.Header().Get("ETag"))
		rec = e.send(t, http.MethodPatch, u, `{"values": {"ef_kg_co2eq_per_unit": 300}}`, http.Header{"If-Match": {read}})
		require.Equal(t, http.StatusPreconditionFailed, rec.Code, "the loser")
		require.Equal(t, "precondition_failed", errorCode(t, rec))
		rec = e.send(t, http.MethodPatch, u, `{}`, http.Header{"If-Match": {`W/"e1-v1"`}})
		require.Equal(t, http.StatusPreconditionFailed, rec.Code, "a tag of something else")

		rec = e.send(t, http.MethodPatch, u, `{"classification": {"category": "unobtainium"}}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		require.Equal(t, map[string]any{"classification": "classification_not_in_tree"}, details(t, rec))
		rec = e.send(t, http.MethodPatch, u, `{"submodule": "plane"}`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "the submodule is not editable")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodPost, "/api/v1/factors", gas(e.open, "co2"), nil)
		require.Equal(t, http.StatusCreated, rec.Code)
		u := fmt.Sprintf("/api/v1/factors/%d", decode[factorAnswer](t, rec).Factor.ID)
		rec = e.send(t, http.MethodDelete, u, "", http.Header{"If-Match": {`W/"f1-v9"`}})
		require.Equal(t, http.StatusPreconditionFailed, rec.Code)
		rec = e.send(t, http.MethodDelete, u, "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		answer := decode[factorAnswer](t, rec)
		require.Equal(t, "factor_edit", answer.Pipeline.Kind)
		require.Equal(t, http.StatusNotFound, e.send(t, http.MethodGet, u, "", nil).Code)
		require.Equal(t, http.StatusNotFound, e.send(t, http.MethodDelete, u, "", nil).Code)
	})

	t.Run("PurgeAndCompute", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodPost, "/api/v1/factors/stale/purge", fmt.Sprintf(`{"year": %d}`, e.open), nil)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Equal(t, "nothing_to_purge", errorCode(t, rec))
		rec = e.send(t, http.MethodPost, "/api/v1/factors/stale/purge", fmt.Sprintf(`{"year": %d}`, e.closed), nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "year_closed", errorCode(t, rec))

		rec = e.send(t, http.MethodPost, "/api/v1/factors/compute", fmt.Sprintf(`{"year": %d, "submodule": "facility"}`, e.open), nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		p := decode[map[string]any](t, rec)
		require.Equal(t, "factor_compute", p["kind"])
		rec = e.send(t, http.MethodPost, "/api/v1/factors/compute", fmt.Sprintf(`{"year": %d, "submodule": "plane"}`, e.open), nil)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		require.Equal(t, map[string]any{"submodule": "invalid_enum"}, details(t, rec))
	})
}

func TestFXRateRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newCurationEnv(ctx, t)
	rateURL := func(year int32, c string) string { return fmt.Sprintf("/api/v1/fx-rates/%d/%s", year, c) }
	missing := int32(2000)
	for missing == e.open || missing == e.closed {
		missing++
	}

	rec := e.send(t, http.MethodPut, rateURL(e.open, "usd"), `{"per_eur": 1.1}`, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	set := decode[struct {
		Rate     map[string]any `json:"rate"`
		Pipeline struct {
			Kind string           `json:"kind"`
			Jobs []map[string]any `json:"jobs"`
		} `json:"pipeline"`
	}](t, rec)
	require.Equal(t, "USD", set.Rate["currency"])
	require.Equal(t, "manual", set.Rate["source"])
	require.Equal(t, "fx_manual", set.Pipeline.Kind)
	require.Len(t, set.Pipeline.Jobs, 2, "purchases and external_cloud_ai")

	rec = e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/fx-rates?year=%d", e.open), "", nil)
	require.Contains(t, rec.Body.String(), `"source":"manual"`)

	cases := []struct {
		name, method, url, body string
		status                  int
		code                    string
	}{
		{"NoRate", http.MethodPut, rateURL(e.open, "CHF"), `{}`, http.StatusUnprocessableEntity, "validation_failed"},
		{"ZeroRate", http.MethodPut, rateURL(e.open, "CHF"), `{"per_eur": 0}`, http.StatusUnprocessableEntity, "validation_failed"},
		{"EUR", http.MethodPut, rateURL(e.open, "EUR"), `{"per_eur": 1}`, http.StatusUnprocessableEntity, "validation_failed"},
		{"MalformedCurrency", http.MethodPut, rateURL(e.open, "US"), `{"per_eur": 1}`, http.StatusNotFound, "not_found"},
		{"ClosedYear", http.MethodPut, rateURL(e.closed, "CHF"), `{"per_eur": 0.9}`, http.StatusConflict, "year_closed"},
		{"MissingYear", http.MethodPut, rateURL(missing, "CHF"), `{"per_eur": 0.9}`, http.StatusNotFound, "not_found"},
		{"DeleteNothing", http.MethodDelete, rateURL(e.open, "JPY"), "", http.StatusNotFound, "not_found"},
		{"DeleteClosed", http.MethodDelete, rateURL(e.closed, "USD"), "", http.StatusConflict, "year_closed"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := e.send(t, tt.method, tt.url, tt.body, nil)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Equal(t, tt.code, errorCode(t, rec))
		})
	}

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		_, err := dbsqlc.New(e.pool).FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: e.open, Currency: "GBP", PerEur: 0.85, Source: "ecb_annual"})
		require.NoError(t, err)
		rec := e.send(t, http.MethodDelete, rateURL(e.open, "GBP"), "", nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "rate_not_manual", errorCode(t, rec))

		require.Equal(t, http.StatusOK, e.send(t, http.MethodPut, rateURL(e.open, "SEK"), `{"per_eur": 11.4}`, nil).Code)
		rec = e.send(t, http.MethodDelete, rateURL(e.open, "SEK"), "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "fx_manual", decode[factorAnswer](t, rec).Pipeline.Kind)
		require.Equal(t, http.StatusNotFound, e.send(t, http.MethodDelete, rateURL(e.open, "SEK"), "", nil).Code)
	})
}

func TestRecalculationAndECBRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newCurationEnv(ctx, t)
	cases := []struct {
		name, url, body string
		status          int
		code            string
	}{
		{"NothingNeeded", "/api/v1/recalculations", fmt.Sprintf(`{"year": %d}`, e.open), http.StatusBadRequest, "nothing_to_recalculate"},
		{"UnknownModule", "/api/v1/recalculations", fmt.Sprintf(`{"year": %d, "modules": ["rockets"]}`, e.open), http.StatusUnprocessableEntity, "validation_failed"},
		{"Closed", "/api/v1/recalculations", fmt.Sprintf(`{"year": %d, "only_needed": false}`, e.closed), http.StatusConflict, "year_closed"},
		{"NoYear", "/api/v1/recalculations", `{}`, http.StatusUnprocessableEntity, "validation_failed"},
		{"FutureECBYear", "/api/v1/integrations/ecb/sync", `{"years": [2099]}`, http.StatusUnprocessableEntity, "validation_failed"},
	}
	// The refusals end before "Forced" starts: its request makes a
	// recalculation of the open year pending, which NothingNeeded must not see.
	t.Run("Refusals", func(t *testing.T) {
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rec := e.send(t, http.MethodPost, tt.url, tt.body, nil)
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				require.Equal(t, tt.code, errorCode(t, rec))
			})
		}
	})

	t.Run("Forced", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodPost, "/api/v1/recalculations",
			fmt.Sprintf(`{"year": %d, "modules": ["purchases", "buildings"], "only_needed": false}`, e.open), nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		answer := decode[factorAnswer](t, rec)
		require.Equal(t, "recalculation", answer.Pipeline.Kind)
		require.Len(t, answer.Pipeline.Jobs, 2)
	})

	t.Run("ECB", func(t *testing.T) {
		t.Parallel()
		rec := e.send(t, http.MethodPost, "/api/v1/integrations/ecb/sync", `{}`, nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		p := decode[map[string]any](t, rec)
		require.Equal(t, "ecb_sync", p["kind"])
		require.Equal(t, "user", p["trigger"])
	})
}
