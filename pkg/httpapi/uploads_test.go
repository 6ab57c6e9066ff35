package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestUploads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	type testBundle struct {
		router http.Handler
		admin  *session
		store  blob.Store
		pool   *pgxpool.Pool
		year   int32
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		e := newAuthEnv(t, nil)
		store, err := blob.NewLocal(t.TempDir())
		require.NoError(t, err)
		client, err := jobs.NewInsertClient(e.schema.Pool)
		require.NoError(t, err)
		y := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Year: new(int32(2031))})
		deps := e.deps
		deps.Blob, deps.River, deps.UploadMaxBytes = store, client, 1<<20
		e.deps = deps
		return &testBundle{router: httpapi.NewRouter(deps), admin: e.login(t, "admin"), store: store, pool: e.schema.Pool, year: y.Year}
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
}
