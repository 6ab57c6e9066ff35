package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestFXRates(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready}))

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		for _, url := range []string{
			"/api/v1/fx-rates",
			"/api/v1/fx-rates?year=",
			"/api/v1/fx-rates?year=abc",
			"/api/v1/fx-rates?year=2025.5",
			"/api/v1/fx-rates?year=1999",
			"/api/v1/fx-rates?year=2101",
		} {
			rec := serve(t, router, http.MethodGet, url, nil)
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, url)
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, "validation_failed", env.Error.Code, url)
			require.NotEmpty(t, env.Error.Details, url)
			require.Equal(t, "year", env.Error.Details[0]["field"], url)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, router, http.MethodGet, "/api/v1/fx-rates?year=2000", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		require.JSONEq(t, `[]`, rec.Body.String())
	})

	t.Run("SortedByCurrency", func(t *testing.T) {
		t.Parallel()
		q := dbsqlc.New(schema.Pool)
		months := int32(12)
		for _, p := range []dbsqlc.FXRateUpsertParams{
			{Year: 2025, Currency: "USD", PerEur: 1.08, Source: "ecb_annual"},
			{Year: 2025, Currency: "CHF", PerEur: 0.94, Source: "ecb_monthly_avg", MonthsCovered: &months},
			{Year: 2025, Currency: "GBP", PerEur: 0.85, Source: "manual"},
			{Year: 2024, Currency: "AUD", PerEur: 1.6, Source: "ecb_annual"}, // other year
		} {
			n, err := q.FXRateUpsert(ctx, p)
			require.NoError(t, err)
			require.Equal(t, int64(1), n)
		}

		rec := serve(t, router, http.MethodGet, "/api/v1/fx-rates?year=2025", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		var got []map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Len(t, got, 3)
		currencies := make([]string, 0, len(got))
		for _, r := range got {
			currencies = append(currencies, r["currency"].(string)) //nolint:forcetypeassert // test
			require.InDelta(t, 2025, r["year"], 0)
			require.NotEmpty(t, r["fetched_at"])
			require.Contains(t, r, "months_covered")
		}
		require.Equal(t, []string{"CHF", "GBP", "USD"}, currencies)
		require.InDelta(t, 0.94, got[0]["per_eur"], 1e-9)
		require.Equal(t, "ecb_monthly_avg", got[0]["source"])
		require.InDelta(t, 12, got[0]["months_covered"], 0)
		require.Nil(t, got[1]["months_covered"])
	})
}
