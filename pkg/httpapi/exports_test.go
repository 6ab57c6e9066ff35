package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// Exports through the API (docs/api.md §12): the request, the job run by a
// worker, the download read back and compared with the results endpoints,
// and the bad requests and faults of issue 14.
func TestExports(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	type testBundle struct {
		router    http.Handler
		pool      *pgxpool.Pool
		store     blob.Store
		principal *session
		metier    *session
		standard  *session
		admin     *session
		unitID    int64
		year      int32
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		e := newAuthEnv(t, nil)
		store, err := blob.NewLocal(t.TempDir())
		require.NoError(t, err)
		client, err := jobs.NewInsertClient(e.schema.Pool)
		require.NoError(t, err)
		deps := e.deps
		deps.Blob, deps.River = store, client
		e.deps = deps
		b := &testBundle{router: httpapi.NewRouter(deps), pool: e.schema.Pool, store: store, principal: e.login(t, "principal"),
			metier: e.login(t, "metier"), standard: e.login(t, "standard"), admin: e.login(t, "admin")}
		unit, err := dbsqlc.New(e.schema.Pool).UnitGetByCF(ctx, "7918")
		require.NoError(t, err)
		b.unitID = unit.ID
		b.year = testfactory.Year(ctx, t, e.schema.Pool, nil).Year
		rep := testfactory.Report(ctx, t, e.schema.Pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &b.year})
		testfactory.Factor(ctx, t, e.schema.Pool, &testfactory.FactorOpts{Year: &b.year, Submodule: new("process_gas")})
		pe := rep.Module(emission.ModuleProcessEmissions)
		testfactory.Entry(ctx, t, e.schema.Pool, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas")})
		lk, err := calc.LoadLookup(ctx, e.schema.Pool, int(b.year), emission.ModuleProcessEmissions)
		require.NoError(t, err)
		entries, err := dbsqlc.New(e.schema.Pool).EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{
			Year: b.year, Module: string(emission.ModuleProcessEmissions), Limit: 10})
		require.NoError(t, err)
		_, err = calc.ComputeAndStore(ctx, e.schema.Pool, lk, entries, time.Now())
		require.NoError(t, err)
		_, err = dbsqlc.New(e.schema.Pool).ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: pe.ID, Status: report.StatusValidated})
		require.NoError(t, err)
		ids := make([]int64, len(rep.Modules))
		for i, m := range rep.Modules {
			ids[i] = m.ID
		}
		require.NoError(t, report.RefreshModuleIDs(ctx, e.schema.Pool, ids, time.Now()))
		return b
	}
	post := func(t *testing.T, b *testBundle, s *session, body string) *httptest.ResponseRecorder {
		t.Helper()
		return s.post(t, b.router, "/api/v1/exports", "application/json", strings.NewReader(body))
	}
	get := func(t *testing.T, b *testBundle, s *session, url string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		req.Header.Set("Cookie", "auth_token="+s.cookies["auth_token"].Value)
		rec := httptest.NewRecorder()
		b.router.ServeHTTP(rec, req)
		return rec
	}
	type created struct {
		Export struct {
			ID          string  `json:"id"`
			Status      string  `json:"status"`
			Filename    string  `json:"filename"`
			RowCount    *int64  `json:"row_count"`
			DownloadURL *string `json:"download_url"`
		} `json:"export"`
		Pipeline struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"pipeline"`
	}
	create := func(t *testing.T, b *testBundle, s *session, body string) created {
		t.Helper()
		rec := post(t, b, s, body)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		var c created
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &c))
		require.Equal(t, "pending", c.Export.Status)
		require.Equal(t, "export", c.Pipeline.Kind)
		return c
	}
	unitParams := func(b *testBundle) string {
		return `{"unit_id": ` + strconv.FormatInt(b.unitID, 10) + `, "year": ` + strconv.Itoa(int(b.year)) + `}`
	}

	t.Run("PDFMatchesTheResults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := create(t, b, b.principal, `{"kind": "unit_results", "format": "pdf", "params": `+unitParams(b)+`}`)
		rec := get(t, b, b.principal, "/api/v1/exports/"+c.Export.ID+"/download")
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "export_not_ready", errorCode(t, rec))

		startExportWorker(ctx, t, b.pool, b.store)
		status, _ := waitPipelineEnd(ctx, t, b.pool, c.Pipeline.ID)
		require.Equal(t, "SUCCESS", status)
		rec = get(t, b, b.principal, "/api/v1/exports/"+c.Export.ID)
		require.Equal(t, http.StatusOK, rec.Code)
		var got struct {
			Status      string  `json:"status"`
			RowCount    int64   `json:"row_count"`
			DownloadURL *string `json:"download_url"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Equal(t, "ready", got.Status)
		require.Equal(t, "/api/v1/exports/"+c.Export.ID+"/download", *got.DownloadURL)

		rec = get(t, b, b.principal, *got.DownloadURL)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
		require.Equal(t, "attachment; filename*=UTF-8''"+c.Export.Filename, rec.Header().Get("Content-Disposition"))
		text := pdfToText(t, rec.Body.Bytes())

		rec = get(t, b, b.principal, "/api/v1/units/"+strconv.FormatInt(b.unitID, 10)+"/years/"+strconv.Itoa(int(b.year))+"/results/summary")
		require.Equal(t, http.StatusOK, rec.Code)
		var sum struct {
			Totals struct {
				TCO2eq float64 `json:"t_co2eq"`
			} `json:"totals"`
			ByScope map[string]float64 `json:"by_scope_t_co2eq"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &sum))
		require.Positive(t, sum.Totals.TCO2eq)
		require.Contains(t, text, "LAB-DEMO (7918)")
		require.Contains(t, text, "in_progress (1/8 modules validated)")
		require.Regexp(t, `Total \(validated modules only\)\s+`+strconv.FormatFloat(sum.Totals.TCO2eq, 'f', 3, 64), text)
		require.Regexp(t, `Scope 1\s+`+strconv.FormatFloat(sum.ByScope["1"], 'f', 3, 64), text)

		// The download is audited.
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event = 'export.download' AND entity_id = $1`,
			c.Export.ID).Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event = 'export.create' AND entity_id = $1
			AND route = 'POST /api/v1/exports'`, c.Export.ID).Scan(&n))
		require.Equal(t, 1, n)

		// Someone else's export is 404, an administrator's view is not.
		require.Equal(t, http.StatusNotFound, get(t, b, b.standard, "/api/v1/exports/"+c.Export.ID).Code)
		require.Equal(t, http.StatusNotFound, get(t, b, b.metier, "/api/v1/exports/"+c.Export.ID+"/download").Code)
		require.Equal(t, http.StatusOK, get(t, b, b.admin, "/api/v1/exports/"+c.Export.ID).Code)

		// Expired: 410 gone.
		_, err := b.pool.Exec(ctx, `UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1`, c.Export.ID)
		require.NoError(t, err)
		rec = get(t, b, b.principal, "/api/v1/exports/"+c.Export.ID+"/download")
		require.Equal(t, http.StatusGone, rec.Code)
		require.Equal(t, "gone", errorCode(t, rec))
	})

	t.Run("ListMine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, b.principal, `{"kind": "unit_results", "format": "csv", "params": `+unitParams(b)+`}`)
		create(t, b, b.metier, `{"kind": "backoffice_results", "format": "xlsx", "params": {"year": [`+strconv.Itoa(int(b.year))+`]}}`)
		var page struct {
			Items []struct {
				Kind string `json:"kind"`
			} `json:"items"`
			Total int64 `json:"total"`
		}
		rec := get(t, b, b.principal, "/api/v1/exports")
		require.Equal(t, http.StatusOK, rec.Code)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		require.Equal(t, int64(1), page.Total)
		require.Equal(t, "unit_results", page.Items[0].Kind)
		require.Equal(t, http.StatusForbidden, get(t, b, b.principal, "/api/v1/exports?mine=false").Code)
		rec = get(t, b, b.admin, "/api/v1/exports?mine=false&limit=1")
		require.Equal(t, http.StatusOK, rec.Code)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		require.Equal(t, int64(2), page.Total)
		require.Len(t, page.Items, 1)
		require.Equal(t, "backoffice_results", page.Items[0].Kind, "newest first")
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var sb int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM units WHERE cf = '14000'`).Scan(&sb))
		tests := []struct {
			name   string
			user   *session
			body   string
			status int
			code   string
			field  string
		}{
			{"UnknownKind", b.admin, `{"kind": "poster", "format": "pdf"}`, 422, "validation_failed", "kind"},
			{"UnknownFormat", b.admin, `{"kind": "unit_results", "format": "docx", "params": ` + unitParams(b) + `}`, 422, "validation_failed", "format"},
			{"UnknownFilter", b.admin, `{"kind": "backoffice_results", "format": "csv", "params": {"colour": ["red"]}}`, 422, "validation_failed", "params.colour"},
			{"BadFilterValue", b.admin, `{"kind": "backoffice_usage", "format": "csv", "params": {"status": ["done"]}}`, 422, "validation_failed", "params.status"},
			{"UnknownMember", b.admin, `{"kind": "unit_results", "format": "pdf", "paramz": {}}`, 422, "validation_failed", "paramz"},
			{"MetierOtherAffiliation", b.metier, `{"kind": "backoffice_results", "format": "csv", "params": {"affiliation": [` + strconv.FormatInt(sb, 10) + `]}}`, 403, "forbidden", "params.affiliation"},
			{"StandardOtherModule", b.standard, `{"kind": "unit_module_entries", "format": "csv", "params": {"unit_id": ` + strconv.FormatInt(b.unitID, 10) + `, "year": ` + strconv.Itoa(int(b.year)) + `, "module": "headcount"}}`, 403, "forbidden", ""},
			{"PrincipalBackoffice", b.principal, `{"kind": "backoffice_units", "format": "csv", "params": {"year": [2025]}}`, 403, "forbidden", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := post(t, b, tt.user, tt.body)
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				env := requireErrorEnvelope(t, rec)
				require.Equal(t, tt.code, env.Error.Code)
				if tt.field != "" {
					require.Equal(t, tt.field, env.Error.Details[0]["field"])
				}
			})
		}
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM exports`).Scan(&n))
		require.Zero(t, n, "nothing recorded")
	})
}

// startExportWorker runs a River client working the exports queue of pool
// (files into store) until the test ends.
func startExportWorker(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store blob.Store) {
	t.Helper()
	logger := testdb.QuietLogger()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{jobs.QueueExports: {MaxWorkers: 2}},
		Workers:           jobs.Workers(jobs.Deps{Pool: pool, Blob: store, Logger: logger}),
		Middleware:        []rivertype.Middleware{pipeline.NewMiddleware(pool, logger, jobs.AutoPipelines()).OnFinalFailure(jobs.FinalFailureHooks())},
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

// pdfToText extracts the text of a PDF with pdftotext (poppler-utils).
func pdfToText(t *testing.T, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext (Debian poppler-utils) is needed: make test installs it")
	path := filepath.Join(t.TempDir(), "export.pdf")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	out, err := exec.CommandContext(t.Context(), bin, "-layout", path, "-").Output()
	require.NoError(t, err)
	return string(out)
}
