package fakes_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/fakes"
)

func TestAccred(t *testing.T) {
	t.Parallel()
	fake := fakes.NewAccred("../../../shared/data/external/accred", "u", "p")
	get := func(t *testing.T, path string, auth bool) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
		if auth {
			req.SetBasicAuth("u", "p")
		}
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		return rec
	}
	type page struct {
		Count int               `json:"count"`
		Units []json.RawMessage `json:"units"`
	}
	decode := func(t *testing.T, rec *httptest.ResponseRecorder) page {
		t.Helper()
		var p page
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		return p
	}
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"/units?pageindex=0&pagesize=100", "/persons/100001", "/authorizations?persid=100001"} {
			require.Equal(t, http.StatusUnauthorized, get(t, p, false).Code, p)
		}
	})
	t.Run("UnitsPaging", func(t *testing.T) {
		t.Parallel()
		p0 := decode(t, get(t, "/v1/units?pageindex=0&pagesize=100", true))
		require.Equal(t, 30, p0.Count)
		require.Len(t, p0.Units, 30)
		require.Empty(t, decode(t, get(t, "/v1/units?pageindex=1&pagesize=100", true)).Units)
		p1 := decode(t, get(t, "/units?pageindex=2&pagesize=12", true))
		require.Len(t, p1.Units, 6)
		require.Equal(t, http.StatusBadRequest, get(t, "/units?pageindex=x&pagesize=1", true).Code)
	})
	t.Run("PersonsAndAuthorizations", func(t *testing.T) {
		t.Parallel()
		rec := get(t, "/persons/100001", true)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "Claire Dubois")
		require.Equal(t, http.StatusNotFound, get(t, "/persons/999999", true).Code)
		require.Equal(t, http.StatusBadRequest, get(t, "/persons/..%2f..%2fetc", true).Code)
		rec = get(t, "/authorizations?persid=100001&state=active", true)
		require.Contains(t, rec.Body.String(), "calco2.user.principal")
		require.JSONEq(t, `{"authorizations":[],"count":0}`, get(t, "/authorizations?persid=999999", true).Body.String())
	})
	t.Run("Switches", func(t *testing.T) {
		t.Parallel()
		f := fakes.NewAccred("../../../shared/data/external/accred", "u", "p")
		f.SetTruncateUnits(true)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/units?pageindex=0&pagesize=100", nil)
		req.SetBasicAuth("u", "p")
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		require.Equal(t, 15, decode(t, rec).Count)
		f.FailNext(1)
		rec = httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, 2, f.Requests())
	})
}
