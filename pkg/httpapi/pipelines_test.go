package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func etagOf(version int64) string { return fmt.Sprintf(`W/"p-%d"`, version) }

// pipelineJSON is the body GET /pipelines/{id} must answer for the stored
// pipeline.
func pipelineJSON(ctx context.Context, t *testing.T, schema testdb.Schema, id uuid.UUID) string {
	t.Helper()
	p, jobs, err := pipeline.Get(ctx, schema.Pool, id)
	require.NoError(t, err)
	b, err := json.Marshal(pipeline.ToView(p, jobs))
	require.NoError(t, err)
	return string(b)
}

func TestGetPipeline(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	router := httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready}))
	tp := createPipeline(ctx, t, schema)

	unknown := uuid.New()
	runHTTPCases(t, router, []httpCase{
		{name: "Found", method: http.MethodGet, url: "/api/v1/pipelines/" + tp.ID.String(), status: http.StatusOK,
			want: pipelineJSON(ctx, t, schema, tp.ID)},
		{name: "MalformedID", method: http.MethodGet, url: "/api/v1/pipelines/not-a-uuid", status: http.StatusNotFound,
			want: `{"error":{"code":"not_found","message":"pipeline \"not-a-uuid\" not found","details":[]}}`},
		{name: "NotModified", method: http.MethodGet, url: "/api/v1/pipelines/" + tp.ID.String(),
			header: http.Header{"If-None-Match": {etagOf(tp.Version)}}, status: http.StatusNotModified},
		{name: "UnknownID", method: http.MethodGet, url: "/api/v1/pipelines/" + unknown.String(), status: http.StatusNotFound,
			want: `{"error":{"code":"not_found","message":"pipeline ` + unknown.String() + ` not found","details":[]}}`},
		{name: "UnknownIDWithIfNoneMatch", method: http.MethodGet, url: "/api/v1/pipelines/" + unknown.String(),
			header: http.Header{"If-None-Match": {etagOf(1)}}, status: http.StatusNotFound,
			want: `{"error":{"code":"not_found","message":"pipeline ` + unknown.String() + ` not found","details":[]}}`},
	})

	t.Run("Body", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, router, http.MethodGet, "/api/v1/pipelines/"+tp.ID.String(), nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Equal(t, etagOf(tp.Version), rec.Header().Get("ETag"))

		// The fields of docs/jobs.md §2.4.
		var got map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		for _, k := range []string{
			"id", "kind", "status", "cancelled", "trigger", "year", "module", "submodule", "unit_id", "upload_id",
			"export_id", "created_by", "created_at", "started_at", "finished_at", "progress", "counters", "last_error",
			"jobs", "version",
		} {
			require.Contains(t, got, k)
		}
		require.Equal(t, tp.ID.String(), got["id"])
		require.Equal(t, "recalculation", got["kind"])
		require.Equal(t, "NOT_STARTED", got["status"])
		require.InDelta(t, tp.Version, got["version"], 0)
		require.InDelta(t, 2025, got["year"], 0)
		progress, ok := got["progress"].(map[string]any)
		require.True(t, ok)
		for _, k := range []string{"phase", "phase_index", "phases_total", "phase_label", "done", "total", "percent", "message", "eta_seconds"} {
			require.Contains(t, progress, k)
		}
		require.InDelta(t, 0, progress["percent"], 0)
		require.InDelta(t, 2, progress["phases_total"], 0)
		jobs, ok := got["jobs"].([]any)
		require.True(t, ok)
		require.Len(t, jobs, 1)
		job, ok := jobs[0].(map[string]any)
		require.True(t, ok)
		require.InDelta(t, tp.JobID, job["job_id"], 0)
		require.Equal(t, "noop", job["kind"])
		require.Equal(t, "root", job["role"])
		require.Equal(t, "queued", job["state"])
	})

	t.Run("ETagAfterRefresh", func(t *testing.T) {
		t.Parallel()
		tp := createPipeline(ctx, t, schema) // its own pipeline: the version changes
		url := "/api/v1/pipelines/" + tp.ID.String()
		old := http.Header{"If-None-Match": {etagOf(tp.Version)}}

		rec := serve(t, router, http.MethodGet, url, old)
		require.Equal(t, http.StatusNotModified, rec.Code)
		require.Equal(t, etagOf(tp.Version), rec.Header().Get("ETag"))
		require.Empty(t, rec.Body.String())

		newVersion, err := postgres.WithTxV(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) (int64, error) {
			return pipeline.Refresh(ctx, tx, tp.ID, time.Now())
		})
		require.NoError(t, err)
		require.Greater(t, newVersion, tp.Version)

		rec = serve(t, router, http.MethodGet, url, old)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, etagOf(newVersion), rec.Header().Get("ETag"))
		require.JSONEq(t, pipelineJSON(ctx, t, schema, tp.ID), rec.Body.String())

		rec = serve(t, router, http.MethodGet, url, http.Header{"If-None-Match": {etagOf(newVersion)}})
		require.Equal(t, http.StatusNotModified, rec.Code)
		require.Empty(t, rec.Body.String())
	})
}
