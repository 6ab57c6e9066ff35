package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// sharedSamples holds the sample data files of the repository's shared
// data directory (../shared/data/samples).
const sharedSamples = "../../../shared/data/samples"

func TestUploads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	type testBundle struct {
		router  http.Handler
		admin   *session
		store   blob.Store
		blobDir string
		pool    *pgxpool.Pool
		year    int32
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		e := newAuthEnv(t, nil)
		dir := t.TempDir()
		store, err := blob.NewLocal(dir)
		require.NoError(t, err)
		client, err := jobs.NewInsertClient(e.schema.Pool)
		require.NoError(t, err)
		y := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Year: new(int32(2031))})
		deps := e.deps
		deps.Blob, deps.River, deps.UploadMaxBytes = store, client, 1<<20
		e.deps = deps
		return &testBundle{router: httpapi.NewRouter(deps), admin: e.login(t, "admin"), store: store, blobDir: dir, pool: e.schema.Pool, year: y.Year}
	}
	type part struct{ name, filename, contentType, body string }
	post := func(t *testing.T, b *testBundle, url string, parts []part) *httptest.ResponseRecorder {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, p := range parts {
			if p.filename == "" {
				require.NoError(t, mw.WriteField(p.name, p.body))
				continue
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", p.contentType)
			w, err := mw.CreatePart(h)
			require.NoError(t, err)
			_, err = io.WriteString(w, p.body)
			require.NoError(t, err)
		}
		require.NoError(t, mw.Close())
		return b.admin.post(t, b.router, url, mw.FormDataContentType(), &body)
	}
	fields := func(b *testBundle) []part {
		return []part{{name: "kind", body: "data"}, {name: "year", body: strconv.Itoa(int(b.year))},
			{name: "module", body: "process_emissions"}, {name: "submodule", body: "process_gas"}}
	}
	const okCSV = "unit_institutional_id,category,quantity\n7918,co2,4\n"

	t.Run("AcceptedStoredAndQueued", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rec := post(t, b, "/api/v1/uploads", append(fields(b), part{name: "file", filename: "gas.CSV", contentType: "text/csv", body: "\ufeff" + okCSV}))
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		var resp struct {
			Upload struct {
				ID         string `json:"id"`
				SizeBytes  int64  `json:"size_bytes"`
				SHA256     string `json:"sha256"`
				PipelineID string `json:"pipeline_id"`
			} `json:"upload"`
			Pipeline struct {
				ID     string `json:"id"`
				Kind   string `json:"kind"`
				Status string `json:"status"`
				Jobs   []struct {
					Kind string `json:"kind"`
				} `json:"jobs"`
			} `json:"pipeline"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
		require.Equal(t, int64(len("\ufeff"+okCSV)), resp.Upload.SizeBytes)
		require.Len(t, resp.Upload.SHA256, 64)
		require.Equal(t, resp.Pipeline.ID, resp.Upload.PipelineID)
		require.Equal(t, "data_upload", resp.Pipeline.Kind)
		require.Equal(t, "NOT_STARTED", resp.Pipeline.Status)
		require.Len(t, resp.Pipeline.Jobs, 1)
		require.Equal(t, "upload_import", resp.Pipeline.Jobs[0].Kind)

		// Audited in the same transaction (upload.create, by the admin).
		var event, actor, route string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT event, actor_sciper, coalesce(route, '') FROM audit_events
			WHERE entity_type = 'upload' AND entity_id = $1`, resp.Upload.ID).Scan(&event, &actor, &route))
		require.Equal(t, "upload.create", event)
		require.Equal(t, "DEV-000004", actor)
		require.Equal(t, "POST /api/v1/uploads", route)

		// The original bytes come back.
		get := b.admin.do(t, http.MethodGet, "/api/v1/uploads/"+resp.Upload.ID+"/file", nil)
		require.Equal(t, http.StatusOK, get.Code)
		require.Equal(t, "\ufeff"+okCSV, get.Body.String())
		require.Contains(t, get.Header().Get("Content-Disposition"), "attachment")
		list := b.admin.do(t, http.MethodGet, "/api/v1/uploads?year="+strconv.Itoa(int(b.year)), nil)
		require.Equal(t, http.StatusOK, list.Code)
		require.Contains(t, list.Body.String(), resp.Upload.ID)
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tests := []struct {
			name   string
			file   part
			status int
			code   string
		}{
			{"WrongExtension", part{name: "file", filename: "gas.xlsx", contentType: "text/csv", body: okCSV}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"WrongContentType", part{name: "file", filename: "gas.csv", contentType: "image/png", body: okCSV}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"BinaryContent", part{name: "file", filename: "gas.csv", contentType: "text/csv", body: "a,b\x00c\n"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"Oversize", part{name: "file", filename: "gas.csv", contentType: "text/csv", body: okCSV + strings.Repeat("7918,co2,4\n", 200_000)}, http.StatusRequestEntityTooLarge, "payload_too_large"},
			{"MissingColumns", part{name: "file", filename: "gas.csv", contentType: "text/csv", body: "category;amount\nco2;1\n"}, http.StatusUnprocessableEntity, "csv_header_invalid"},
			{"Empty", part{name: "file", filename: "gas.csv", contentType: "text/csv", body: ""}, http.StatusUnprocessableEntity, "csv_header_invalid"},
		}
		for _, tt := range tests {
			rec := post(t, b, "/api/v1/uploads", append(fields(b), tt.file))
			require.Equal(t, tt.status, rec.Code, "%s: %s", tt.name, rec.Body.String())
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, tt.code, env.Error.Code, tt.name)
			if tt.name == "MissingColumns" {
				require.Contains(t, rec.Body.String(), `"missing_columns":["unit_institutional_id","quantity"]`)
			}
		}
		// Nothing was recorded or stored.
		n, err := dbsqlc.New(b.admin.env.schema.Pool).UploadsFilteredCount(ctx, dbsqlc.UploadsFilteredCountParams{Year: &b.year})
		require.NoError(t, err)
		require.Zero(t, n)
	})

	// A file already imported into the same target is refused with 409
	// duplicate_upload unless allow_duplicate=true (docs/api.md §9).
	t.Run("DuplicateRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		send := func(t *testing.T, csv string, extra ...part) *httptest.ResponseRecorder {
			t.Helper()
			parts := append(fields(b), extra...)
			return post(t, b, "/api/v1/uploads", append(parts, part{name: "file", filename: "gas.csv", contentType: "text/csv", body: csv}))
		}
		accepted := func(t *testing.T, rec *httptest.ResponseRecorder) (id, pipelineID string, at time.Time) {
			t.Helper()
			require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
			var resp struct {
				Upload struct {
					ID         string    `json:"id"`
					PipelineID string    `json:"pipeline_id"`
					UploadedAt time.Time `json:"uploaded_at"`
				} `json:"upload"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			return resp.Upload.ID, resp.Upload.PipelineID, resp.Upload.UploadedAt
		}
		setStatus := func(t *testing.T, pipelineID, status string) {
			t.Helper()
			_, err := b.pool.Exec(ctx, `UPDATE pipelines SET status = $2 WHERE id = $1`, pipelineID, status)
			require.NoError(t, err)
		}
		stored := func(t *testing.T) (files, rows int) {
			t.Helper()
			dir := filepath.Join(b.blobDir, "uploads", strconv.Itoa(int(b.year)))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, f := range entries {
				if strings.HasSuffix(f.Name(), ".csv") { // the local store keeps a metadata file next to each blob
					files++
				}
			}
			n, err := dbsqlc.New(b.pool).UploadsFilteredCount(ctx, dbsqlc.UploadsFilteredCountParams{Year: &b.year})
			require.NoError(t, err)
			return files, int(n)
		}

		// An earlier upload that has not been imported (yet) does not count.
		first, firstPipeline, firstAt := accepted(t, send(t, okCSV))
		_, secondPipeline, _ := accepted(t, send(t, okCSV))
		setStatus(t, secondPipeline, "FAILED")

		// Once imported (SUCCESS or PARTIAL), the same bytes are refused.
		setStatus(t, firstPipeline, "PARTIAL")
		rec := send(t, okCSV)
		require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
		env := requireErrorEnvelope(t, rec)
		require.Equal(t, "duplicate_upload", env.Error.Code)
		require.Len(t, env.Error.Details, 1)
		d := env.Error.Details[0]
		require.Equal(t, "file", d["field"])
		require.Equal(t, "duplicate_upload", d["code"])
		require.NotEmpty(t, d["message"])
		require.Equal(t, first, d["upload_id"])
		at, err := time.Parse(time.RFC3339, d["uploaded_at"].(string)) //nolint:forcetypeassert // fails the test otherwise
		require.NoError(t, err)
		require.Equal(t, firstAt.Truncate(time.Second).UTC(), at.UTC())
		files, rows := stored(t)
		require.Equal(t, 2, files, "the refused file was deleted from the blob store")
		require.Equal(t, 2, rows, "nothing was recorded")

		// Other content, or allow_duplicate, is accepted; allow_duplicate
		// must be a boolean.
		accepted(t, send(t, okCSV+"7918,co2,5\n"))
		accepted(t, send(t, okCSV, part{name: "allow_duplicate", body: "true"}))
		rec = send(t, okCSV, part{name: "allow_duplicate", body: "maybe"})
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
		require.Equal(t, "allow_duplicate", requireErrorEnvelope(t, rec).Error.Details[0]["field"])
		files, rows = stored(t)
		require.Equal(t, 4, files)
		require.Equal(t, 4, rows)
	})
}

// startImportWorker runs a River client working the import and compute
// queues of pool (the real import jobs) until the test ends.
func startImportWorker(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store blob.Store) {
	t.Helper()
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueImports: {MaxWorkers: 2}, jobs.QueueCompute: {MaxWorkers: 2}},
		Workers:           jobs.Workers(jobs.Deps{Pool: pool, Blob: store, Logger: logger}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(pool, logger, jobs.AutoPipelines())},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(stopCtx))
	})
}

// waitPipelineEnd waits for pipeline id to end; returns its status and
// counters.
func waitPipelineEnd(ctx context.Context, t *testing.T, pool *pgxpool.Pool, id string) (string, map[string]float64) {
	t.Helper()
	var status string
	var counters map[string]float64
	require.Eventually(t, func() bool {
		require.NoError(t, pool.QueryRow(ctx, `SELECT status, counters FROM pipelines WHERE id = $1`, id).Scan(&status, &counters))
		return pipeline.Status(status).Terminal()
	}, 60*time.Second, 20*time.Millisecond)
	return status, counters
}

// The equipment module file of the samples, uploaded on the module page
// without a submodule, is imported whole through the API and the worker:
// every row goes to the submodule its equipment_category names (issue 11
// item 6). The same file pinned to one submodule keeps only that
// submodule's rows (category_mismatch for the others). Re-sending the file
// is refused as a duplicate unless allow_duplicate is set, and the result
// counts the rows identical to existing ones (rows_duplicate).
func TestModuleFileUpload(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sample, err := os.ReadFile(filepath.Join(sharedSamples, "equipment_2025.csv"))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	want := map[string]int{}
	recs, err := csv.NewReader(bytes.NewReader(sample)).ReadAll()
	require.NoError(t, err)
	col := slices.Index(recs[0], "equipment_category")
	require.GreaterOrEqual(t, col, 0)
	for _, r := range recs[1:] {
		want[r[col]]++
	}
	require.Len(t, want, 3, "the sample has rows of the three equipment submodules")

	e := newCopyEnv(ctx, t)
	testfactory.Report(ctx, t, e.pool, &testfactory.ReportOpts{UnitID: &e.labDemo.ID, Year: &e.to})
	startImportWorker(ctx, t, e.pool, e.store)
	url := fmt.Sprintf("/api/v1/units/%d/years/%d/modules/equipment/uploads", e.labDemo.ID, e.to)
	send := func(t *testing.T, fields ...[2]string) *httptest.ResponseRecorder {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, f := range fields {
			require.NoError(t, mw.WriteField(f[0], f[1]))
		}
		fw, err := mw.CreateFormFile("file", "equipment_2025.csv")
		require.NoError(t, err)
		_, err = fw.Write(sample)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		return e.princip.post(t, httpapi.NewRouter(e.deps), url, mw.FormDataContentType(), &body)
	}
	imported := func(t *testing.T, rec *httptest.ResponseRecorder) (string, map[string]float64, copyResponse) {
		t.Helper()
		resp := decodeCopy(t, rec)
		status, counters := waitPipelineEnd(ctx, t, e.pool, resp.Pipeline.ID)
		return status, counters, resp
	}
	bySubmodule := func(t *testing.T) map[string]int {
		t.Helper()
		rows, err := e.pool.Query(ctx, `SELECT submodule, count(*) FROM data_entries
			WHERE unit_id = $1 AND year = $2 AND module = 'equipment' GROUP BY submodule`, e.labDemo.ID, e.to)
		require.NoError(t, err)
		got := map[string]int{}
		for rows.Next() {
			var sub string
			var n int
			require.NoError(t, rows.Scan(&sub, &n))
			got[sub] = n
		}
		require.NoError(t, rows.Err())
		return got
	}
	scale := func(m map[string]int, k int) map[string]int {
		out := map[string]int{}
		for sub, n := range m {
			out[sub] = k * n
		}
		return out
	}

	// Module-level upload (no submodule field): every row is routed.
	status, counters, first := imported(t, send(t))
	require.Equal(t, "SUCCESS", status)
	require.Nil(t, first.Upload.Submodule)
	require.InDelta(t, 40, counters["rows_loaded"], 0)
	require.InDelta(t, 0, counters["rows_skipped"], 0)
	require.Equal(t, want, bySubmodule(t))

	// Pinned to scientific (what a submodule table's dialog sends): the
	// other submodules' rows are refused.
	status, counters, _ = imported(t, send(t, [2]string{"submodule", "scientific"}))
	require.Equal(t, "PARTIAL", status)
	require.InDelta(t, want["scientific"], counters["rows_loaded"], 0)
	require.InDelta(t, 40-want["scientific"], counters["rows_skipped"], 0)
	_, err = e.pool.Exec(ctx, `DELETE FROM data_entries WHERE upload_id <> $1 AND unit_id = $2 AND year = $3`, first.Upload.ID, e.labDemo.ID, e.to)
	require.NoError(t, err)

	// The same file into the same target again: refused, naming the first.
	rec := send(t)
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	env := requireErrorEnvelope(t, rec)
	require.Equal(t, "duplicate_upload", env.Error.Code)
	require.Equal(t, first.Upload.ID, env.Error.Details[0]["upload_id"])

	// Allowed: appended, every row identical to an existing one.
	status, counters, _ = imported(t, send(t, [2]string{"allow_duplicate", "true"}))
	require.Equal(t, "SUCCESS", status)
	require.InDelta(t, 40, counters["rows_duplicate"], 0)
	require.Equal(t, scale(want, 2), bySubmodule(t))

	// Allowed and replacing: the module file replaces the csv_unit entries
	// of every equipment submodule; nothing identical is left.
	status, counters, _ = imported(t, send(t, [2]string{"replace_existing", "true"}, [2]string{"allow_duplicate", "true"}))
	require.Equal(t, "SUCCESS", status)
	require.InDelta(t, 80, counters["entries_deleted"], 0)
	require.InDelta(t, 0, counters["rows_duplicate"], 0)
	require.Equal(t, want, bySubmodule(t))
}
