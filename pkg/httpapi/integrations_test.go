package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/integrations"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestIntegrationsAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	settings := []integrations.Setting{
		{Name: integrations.Tableau, Configured: false, Schedule: "0 3 * * *"},
		{Name: integrations.ECB, Configured: true, Schedule: "0 5 * * *"},
		{Name: integrations.Accred, Configured: true, Schedule: ""},
		{Name: integrations.Elasticsearch, Configured: true, Schedule: "* * * * *"},
	}
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready,
		Integrations: settings}))
	pipelineID := uuid.New()
	_, err := schema.Pool.Exec(ctx, `INSERT INTO integration_state (name, last_attempt_at, last_success_at, last_status, last_message, last_pipeline_id, details)
		VALUES ('ecb', '2025-03-01T05:00:00Z', '2025-03-01T05:00:00Z', 'SUCCESS', '8 rates', $1, '{"currencies": ["USD"], "months_covered": 2}'),
		       ('elasticsearch', '2025-03-01T10:00:00Z', '2025-03-01T09:59:00Z', 'FAILED', 'POST http://es/_bulk: HTTP 503', NULL,
		        '{"pending": 12, "failed": 1}')`, pipelineID)
	require.NoError(t, err)

	before := time.Now().UTC()
	rec := serve(t, router, http.MethodGet, "/api/v1/integrations", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got []map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Len(t, got, 4)
	names := []string{}
	for _, g := range got {
		names = append(names, g["name"].(string)) //nolint:forcetypeassert // test
		for _, k := range []string{"configured", "schedule", "next_run_at", "last_attempt_at", "last_success_at", "last_status",
			"last_message", "last_pipeline_id", "details"} {
			require.Contains(t, g, k, g["name"])
		}
	}
	require.Equal(t, []string{"tableau", "ecb", "accred", "elasticsearch"}, names)

	tableau, ecb, accred, es := got[0], got[1], got[2], got[3]
	require.Equal(t, false, tableau["configured"])
	require.Nil(t, tableau["schedule"], "not configured: not scheduled")
	require.Nil(t, tableau["next_run_at"])
	require.Nil(t, tableau["last_status"])
	require.Equal(t, map[string]any{}, tableau["details"])

	require.Equal(t, true, ecb["configured"])
	require.Equal(t, "0 5 * * *", ecb["schedule"])
	next, err := time.Parse(time.RFC3339, ecb["next_run_at"].(string)) //nolint:forcetypeassert // test
	require.NoError(t, err)
	require.True(t, next.After(before) && !next.After(before.Add(24*time.Hour)), next)
	require.Equal(t, 5, next.Hour())
	require.Zero(t, next.Minute())
	require.Equal(t, "2025-03-01T05:00:00Z", ecb["last_success_at"])
	require.Equal(t, "SUCCESS", ecb["last_status"])
	require.Equal(t, pipelineID.String(), ecb["last_pipeline_id"])
	require.Equal(t, map[string]any{"currencies": []any{"USD"}, "months_covered": 2.0}, ecb["details"])

	require.Equal(t, true, accred["configured"])
	require.Nil(t, accred["schedule"], "SCHEDULE_ACCRED empty: not scheduled")
	require.Nil(t, accred["next_run_at"])

	require.Equal(t, true, es["configured"])
	next, err = time.Parse(time.RFC3339, es["next_run_at"].(string)) //nolint:forcetypeassert // test
	require.NoError(t, err)
	require.True(t, next.After(before) && !next.After(before.Add(time.Minute)), next)
	require.Equal(t, "FAILED", es["last_status"])
	require.Equal(t, "POST http://es/_bulk: HTTP 503", es["last_message"])
	require.Equal(t, map[string]any{"pending": 12.0, "failed": 1.0}, es["details"])
	require.Nil(t, es["last_pipeline_id"])
}
