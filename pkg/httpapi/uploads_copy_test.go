package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// copyEnv is the auth env with uploads configured (local blob store,
// insert-only River client, audit hooks), a source year 2030 and an open
// target year 2031.
type copyEnv struct {
	*authEnv
	store          blob.Store
	blobDir        string // the local store's root
	pool           *pgxpool.Pool
	from, to       int32
	labDemo        dbsqlc.Unit // cf 7918, the dev principal's unit
	admin, princip *session
}

func newCopyEnv(ctx context.Context, t *testing.T) *copyEnv {
	t.Helper()
	e := newAuthEnv(t, nil)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	require.NoError(t, err)
	client, err := jobs.NewInsertClient(e.schema.Pool)
	require.NoError(t, err)
	from := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Year: new(int32(2030))})
	to := testfactory.Year(ctx, t, e.schema.Pool, &testfactory.YearOpts{Year: new(int32(2031))})
	e.deps.Blob, e.deps.River, e.deps.UploadMaxBytes = store, client, 1<<20
	unit, err := dbsqlc.New(e.schema.Pool).UnitGetByCF(ctx, "7918")
	require.NoError(t, err)
	return &copyEnv{authEnv: e, store: store, blobDir: dir, pool: e.schema.Pool, from: from.Year, to: to.Year, labDemo: unit,
		admin: e.login(t, "admin"), princip: e.login(t, "principal")}
}

// sourceSpec describes a committed source upload and its pipeline.
type sourceSpec struct {
	kind, scope, module, submodule, dataset string
	unitID, uploadedBy                      *int64
	status                                  pipeline.Status // "" : no pipeline
	options                                 string          // JSON; default {}
}

const copyCSV = "unit_institutional_id,category,quantity\n7918,co2,4\n7918,co2,6\n"

// source stores copyCSV and commits an upload of year e.from whose
// pipeline has status s.status.
func (e *copyEnv) source(ctx context.Context, t *testing.T, s sourceSpec) dbsqlc.Upload {
	t.Helper()
	id := uuid.New()
	key := fmt.Sprintf("uploads/%d/%s.csv", e.from, id)
	_, err := e.store.Put(ctx, key, strings.NewReader(copyCSV), int64(len(copyCSV)), "text/csv")
	require.NoError(t, err)
	var pipelineID *uuid.UUID
	if s.status != "" {
		kind := map[string]pipeline.Kind{"data": pipeline.KindDataUpload, "factors": pipeline.KindFactorUpload,
			"reference": pipeline.KindReferenceUpload}[s.kind]
		p, err := pipeline.Create(ctx, e.pool, pipeline.CreateParams{Kind: kind, Trigger: pipeline.TriggerUser, Year: &e.from})
		require.NoError(t, err)
		_, err = e.pool.Exec(ctx, `UPDATE pipelines SET status = $2 WHERE id = $1`, p.ID, string(s.status))
		require.NoError(t, err)
		pipelineID = &p.ID
	}
	var rmID *int64
	if s.scope == "unit" {
		rep := testfactory.Report(ctx, t, e.pool, &testfactory.ReportOpts{UnitID: s.unitID, Year: &e.from})
		rm, err := dbsqlc.New(e.pool).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
			UnitID: *s.unitID, Year: e.from, Module: s.module})
		require.NoError(t, err)
		require.Equal(t, rep.Report.ID, rm.ReportID)
		rmID = &rm.ID
	}
	opts := s.options
	if opts == "" {
		opts = "{}"
	}
	sum := sha256.Sum256([]byte(copyCSV))
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	up, err := dbsqlc.New(e.pool).UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: s.kind, Scope: s.scope, Year: e.from,
		Module: str(s.module), Submodule: str(s.submodule), Dataset: str(s.dataset), UnitID: s.unitID, ReportModuleID: rmID,
		BlobKey: key, Filename: new("gas 2030.csv"), ContentType: new("text/csv"), SizeBytes: int64(len(copyCSV)),
		Sha256: hex.EncodeToString(sum[:]), Options: []byte(opts), UploadedBy: s.uploadedBy, PipelineID: pipelineID})
	require.NoError(t, err)
	return up
}

func (e *copyEnv) copy(t *testing.T, s *session, source string, year int32) *httptest.ResponseRecorder {
	t.Helper()
	body := fmt.Sprintf(`{"source_upload_id": %q, "year": %d}`, source, year)
	return s.post(t, httpapi.NewRouter(e.deps), "/api/v1/uploads/copy", "application/json", strings.NewReader(body))
}

// requireNothingCopied checks that no upload row and no file exist
// outside the source year.
func (e *copyEnv) requireNothingCopied(ctx context.Context, t *testing.T) {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM uploads WHERE year <> $1`, e.from).Scan(&n))
	require.Zero(t, n)
	dirs, err := os.ReadDir(filepath.Join(e.blobDir, "uploads"))
	require.NoError(t, err)
	for _, d := range dirs {
		if d.Name() == strconv.Itoa(int(e.from)) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(e.blobDir, "uploads", d.Name()))
		require.NoError(t, err)
		require.Empty(t, files, "files under uploads/%s", d.Name())
	}
}

type copyResponse struct {
	Upload struct {
		ID                 string          `json:"id"`
		Kind               string          `json:"kind"`
		Scope              string          `json:"scope"`
		Year               int32           `json:"year"`
		Module             *string         `json:"module"`
		Submodule          *string         `json:"submodule"`
		Dataset            *string         `json:"dataset"`
		UnitID             *int64          `json:"unit_id"`
		Filename           string          `json:"filename"`
		SizeBytes          int64           `json:"size_bytes"`
		SHA256             string          `json:"sha256"`
		Options            json.RawMessage `json:"options"`
		CopiedFromUploadID string          `json:"copied_from_upload_id"`
		PipelineID         string          `json:"pipeline_id"`
	} `json:"upload"`
	Pipeline struct {
		ID     string `json:"id"`
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Year   int32  `json:"year"`
		UnitID *int64 `json:"unit_id"`
		Jobs   []struct {
			JobID int64  `json:"job_id"`
			Kind  string `json:"kind"`
		} `json:"jobs"`
	} `json:"pipeline"`
}

func decodeCopy(t *testing.T, rec *httptest.ResponseRecorder) copyResponse {
	t.Helper()
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var resp copyResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp
}

func TestUploadCopy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("AcceptedCopiedAndQueued", func(t *testing.T) {
		t.Parallel()
		e := newCopyEnv(ctx, t)
		tests := []struct {
			name    string
			spec    sourceSpec
			pl, job string
		}{
			{"Data", sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: pipeline.StatusSuccess},
				"data_upload", "upload_import"},
			{"DataPartial", sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: pipeline.StatusPartial},
				"data_upload", "upload_import"},
			{"Factors", sourceSpec{kind: "factors", scope: "global", module: "process_emissions", submodule: "process_gas",
				status: pipeline.StatusSuccess, options: `{"delete_stale": true}`}, "factor_upload", "factor_import"},
			{"Reference", sourceSpec{kind: "reference", scope: "global", dataset: "locations_plane", status: pipeline.StatusSuccess},
				"reference_upload", "reference_import"},
		}
		for _, tt := range tests {
			src := e.source(ctx, t, tt.spec)
			resp := decodeCopy(t, e.copy(t, e.admin, src.ID.String(), e.to))
			up := resp.Upload

			// The new upload: the source's target in the new year.
			require.NotEqual(t, src.ID.String(), up.ID, tt.name)
			require.Equal(t, src.ID.String(), up.CopiedFromUploadID, tt.name)
			require.Equal(t, []any{tt.spec.kind, tt.spec.scope, e.to, src.Module, src.Submodule, src.Dataset, "gas 2030.csv"},
				[]any{up.Kind, up.Scope, up.Year, up.Module, up.Submodule, up.Dataset, up.Filename}, tt.name)
			require.Equal(t, src.Sha256, up.SHA256, tt.name)
			require.Equal(t, src.SizeBytes, up.SizeBytes, tt.name)
			if tt.spec.options != "" {
				require.JSONEq(t, tt.spec.options, string(up.Options), tt.name)
			}

			// The same bytes, under a new key of the target year.
			row, err := dbsqlc.New(e.pool).UploadGet(ctx, uuid.MustParse(up.ID))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("uploads/%d/%s.csv", e.to, up.ID), row.BlobKey, tt.name)
			rc, _, err := e.store.Get(ctx, row.BlobKey)
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
			require.Equal(t, copyCSV, string(b), tt.name)
			_, err = e.store.Stat(ctx, src.BlobKey)
			require.NoError(t, err, "the source's file stays")

			// A new pipeline with the import job of the source's kind.
			require.Equal(t, resp.Pipeline.ID, up.PipelineID, tt.name)
			require.Equal(t, tt.pl, resp.Pipeline.Kind, tt.name)
			require.Equal(t, "NOT_STARTED", resp.Pipeline.Status, tt.name)
			require.Equal(t, e.to, resp.Pipeline.Year, tt.name)
			require.Len(t, resp.Pipeline.Jobs, 1, tt.name)
			var kind string
			var args map[string]any
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT kind, args FROM river_job WHERE id = $1`, resp.Pipeline.Jobs[0].JobID).Scan(&kind, &args))
			require.Equal(t, tt.job, kind, tt.name)
			require.Equal(t, map[string]any{"upload_id": up.ID}, args, tt.name)

			// upload.create, by the admin, naming the source.
			var event, actor, route string
			var snapshot map[string]any
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT event, actor_sciper, coalesce(route, ''), snapshot FROM audit_events
				WHERE entity_type = 'upload' AND entity_id = $1`, up.ID).Scan(&event, &actor, &route, &snapshot))
			require.Equal(t, "upload.create", event, tt.name)
			require.Equal(t, "DEV-000004", actor, tt.name)
			require.Equal(t, "POST /api/v1/uploads/copy", route, tt.name)
			require.Equal(t, src.ID.String(), snapshot["copied_from"], tt.name)
			require.InDelta(t, float64(e.to), snapshot["year"], 0, tt.name)
		}
	})

	t.Run("SourceNotImported", func(t *testing.T) {
		t.Parallel()
		e := newCopyEnv(ctx, t)
		for _, status := range []pipeline.Status{pipeline.StatusFailed, pipeline.StatusRunning, pipeline.StatusNotStarted, ""} {
			src := e.source(ctx, t, sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: status})
			rec := e.copy(t, e.admin, src.ID.String(), e.to)
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "%s: %s", status, rec.Body.String())
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, "validation_failed", env.Error.Code)
			require.Len(t, env.Error.Details, 1)
			require.Equal(t, "source_upload_id", env.Error.Details[0]["field"])
			require.Equal(t, "source_not_imported", env.Error.Details[0]["code"])
		}
		// Nothing was recorded.
		n, err := dbsqlc.New(e.pool).UploadsFilteredCount(ctx, dbsqlc.UploadsFilteredCountParams{Year: &e.to})
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		e := newCopyEnv(ctx, t)
		closed := testfactory.Year(ctx, t, e.pool, &testfactory.YearOpts{Year: new(int32(2032)), Status: new("closed")})
		settingUp := testfactory.Year(ctx, t, e.pool, &testfactory.YearOpts{Year: new(int32(2033)), Status: new("setting_up")})
		ready := testfactory.Year(ctx, t, e.pool, &testfactory.YearOpts{Year: new(int32(2034)), Status: new("ready")})
		src := e.source(ctx, t, sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: pipeline.StatusSuccess})
		unitSrc := e.source(ctx, t, sourceSpec{kind: "data", scope: "unit", module: "process_emissions", submodule: "process_gas",
			unitID: &e.labDemo.ID, status: pipeline.StatusSuccess})
		principal, err := dbsqlc.New(e.pool).UserGetBySciper(ctx, "DEV-000002")
		require.NoError(t, err)
		// Visible to the principal (its uploader) but not theirs to copy.
		byPrincipal := e.source(ctx, t, sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas",
			status: pipeline.StatusSuccess, uploadedBy: &principal.ID})
		id := src.ID.String()
		tests := []struct {
			name   string
			user   *session
			source string
			year   int32
			status int
			code   string
			detail string
		}{
			{"UnknownSource", e.admin, uuid.NewString(), e.to, http.StatusNotFound, "not_found", ""},
			{"NotAUUID", e.admin, "nope", e.to, http.StatusUnprocessableEntity, "validation_failed", "invalid_format"},
			{"YearOutOfRange", e.admin, id, 1999, http.StatusUnprocessableEntity, "validation_failed", "required"},
			{"SameYear", e.admin, id, e.from, http.StatusUnprocessableEntity, "validation_failed", "same_year"},
			{"UnknownYear", e.admin, id, 2040, http.StatusNotFound, "not_found", ""},
			{"ClosedYear", e.admin, id, closed.Year, http.StatusConflict, "year_closed", ""},
			{"YearNotReady", e.admin, id, settingUp.Year, http.StatusConflict, "year_not_ready", ""},
			// A unit-scope file goes only into an open year, as on the module page.
			{"UnitScopeReadyYear", e.admin, unitSrc.ID.String(), ready.Year, http.StatusConflict, "year_not_open", ""},
			{"UnitScopeClosedYear", e.admin, unitSrc.ID.String(), closed.Year, http.StatusConflict, "year_closed", ""},
			// Permissions: back office only. Without bo(configuration, edit)
			// → 403 before the body is read, whatever the source: a unit's
			// principal may not copy a file of its unit, not even one it
			// uploaded itself.
			{"Standard", e.login(t, "standard"), id, e.to, http.StatusForbidden, "forbidden", ""},
			{"Metier", e.login(t, "metier"), id, e.to, http.StatusForbidden, "forbidden", ""},
			{"PrincipalYearScope", e.princip, id, e.to, http.StatusForbidden, "forbidden", ""},
			{"PrincipalUploaderYearScope", e.princip, byPrincipal.ID.String(), e.to, http.StatusForbidden, "forbidden", ""},
			{"PrincipalOwnUnitScope", e.princip, unitSrc.ID.String(), e.to, http.StatusForbidden, "forbidden", ""},
			{"PrincipalOwnUnitScopeUnknownSource", e.princip, uuid.NewString(), e.to, http.StatusForbidden, "forbidden", ""},
			{"OtherUnitsPrincipal", e.login(t, "principal_other"), unitSrc.ID.String(), e.to, http.StatusForbidden, "forbidden", ""},
		}
		for _, tt := range tests {
			rec := e.copy(t, tt.user, tt.source, tt.year)
			require.Equal(t, tt.status, rec.Code, "%s: %s", tt.name, rec.Body.String())
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, tt.code, env.Error.Code, tt.name)
			if tt.detail != "" {
				require.Equal(t, tt.detail, env.Error.Details[0]["code"], tt.name)
			}
			if tt.status == http.StatusForbidden {
				require.Equal(t, "backoffice.configuration:edit", env.Error.Details[0]["permission"], tt.name)
			}
		}
		// Malformed body.
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/uploads/copy", strings.NewReader(`{"year": "2031"`))
		req.Header.Set("Cookie", "auth_token="+e.admin.cookies["auth_token"].Value+"; csrf_token=t")
		req.Header.Set("X-Csrf-Token", "t")
		rec := httptest.NewRecorder()
		httpapi.NewRouter(e.deps).ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())

		// Nothing was recorded or stored for the target years.
		e.requireNothingCopied(ctx, t)
	})

	// A failure inside the transaction (here the audit write) records
	// nothing and removes the copied file.
	t.Run("FailedRecordDiscardsTheFile", func(t *testing.T) {
		t.Parallel()
		e := newCopyEnv(ctx, t)
		src := e.source(ctx, t, sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: pipeline.StatusSuccess})
		testdb.FailInserts(ctx, t, e.schema, "audit_events", "audit store down")
		rec := e.copy(t, e.admin, src.ID.String(), e.to)
		require.Equal(t, http.StatusInternalServerError, rec.Code, rec.Body.String())
		e.requireNothingCopied(ctx, t)
	})

	// The back office re-imports a module-page file of LAB-DEMO, uploaded
	// by the unit's principal, into next year; the report of that year is
	// created on the way. The copy is the back office's upload: the
	// principal still downloads its own file but neither copies it nor
	// reads the copy, so copy and download follow one rule (back office or
	// uploader) and a unit's principal never reaches another's file.
	t.Run("UnitScopeByBackOffice", func(t *testing.T) {
		t.Parallel()
		e := newCopyEnv(ctx, t)
		q := dbsqlc.New(e.pool)
		principal, err := q.UserGetBySciper(ctx, "DEV-000002")
		require.NoError(t, err)
		src := e.source(ctx, t, sourceSpec{kind: "data", scope: "unit", module: "process_emissions", submodule: "process_gas",
			unitID: &e.labDemo.ID, status: pipeline.StatusSuccess, options: `{"replace_existing": true}`, uploadedBy: &principal.ID})
		_, err = q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: e.labDemo.ID, Year: e.to, Module: "process_emissions"})
		require.Error(t, err, "no report yet in the target year")

		rec := e.copy(t, e.princip, src.ID.String(), e.to)
		require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())

		resp := decodeCopy(t, e.copy(t, e.admin, src.ID.String(), e.to))
		require.Equal(t, "unit", resp.Upload.Scope)
		require.Equal(t, &e.labDemo.ID, resp.Upload.UnitID)
		require.JSONEq(t, `{"replace_existing": true}`, string(resp.Upload.Options))
		require.Equal(t, &e.labDemo.ID, resp.Pipeline.UnitID)
		rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: e.labDemo.ID, Year: e.to, Module: "process_emissions"})
		require.NoError(t, err)
		row, err := q.UploadGet(ctx, uuid.MustParse(resp.Upload.ID))
		require.NoError(t, err)
		require.Equal(t, &rm.ID, row.ReportModuleID, "the target year's report module")
		admin, err := q.UserGetBySciper(ctx, "DEV-000004")
		require.NoError(t, err)
		require.Equal(t, &admin.ID, row.UploadedBy)
		var actor string
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT actor_sciper FROM audit_events WHERE entity_type = 'upload' AND entity_id = $1`,
			resp.Upload.ID).Scan(&actor))
		require.Equal(t, "DEV-000004", actor)
		get := e.admin.do(t, http.MethodGet, "/api/v1/pipelines/"+resp.Pipeline.ID, nil)
		require.Equal(t, http.StatusOK, get.Code, get.Body.String())

		// Downloads: the uploader its own file, the back office both,
		// nobody else either.
		file := func(s *session, id string) int {
			t.Helper()
			return s.do(t, http.MethodGet, "/api/v1/uploads/"+id+"/file", nil).Code
		}
		other := e.login(t, "principal_other")
		require.Equal(t, http.StatusOK, file(e.princip, src.ID.String()))
		require.Equal(t, http.StatusNotFound, file(e.princip, resp.Upload.ID))
		require.Equal(t, http.StatusNotFound, file(other, src.ID.String()))
		require.Equal(t, http.StatusNotFound, file(other, resp.Upload.ID))
		require.Equal(t, http.StatusOK, file(e.admin, src.ID.String()))
		require.Equal(t, http.StatusOK, file(e.admin, resp.Upload.ID))
	})
}

// GET /uploads/{id}/file records upload.download (R) with the caller as
// actor.
func TestUploadDownloadAudited(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newCopyEnv(ctx, t)
	src := e.source(ctx, t, sourceSpec{kind: "data", scope: "year", module: "process_emissions", submodule: "process_gas", status: pipeline.StatusSuccess})
	rec := e.admin.do(t, http.MethodGet, "/api/v1/uploads/"+src.ID.String()+"/file", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, copyCSV, rec.Body.String())
	rows := auditRows(ctx, t, e.pool)
	var got []auditRow
	for _, r := range rows {
		if r.EntityType == "upload" {
			got = append(got, r)
		}
	}
	require.Len(t, got, 1)
	require.Equal(t, "upload.download", got[0].Event)
	require.Equal(t, "R", got[0].Action)
	require.Equal(t, src.ID.String(), got[0].EntityID)
	require.Equal(t, "DEV-000004", got[0].Sciper)
	require.NotNil(t, got[0].Route)
	require.Equal(t, "GET /api/v1/uploads/{id}/file", *got[0].Route)
	require.JSONEq(t, `{"filename": "gas 2030.csv", "size_bytes": `+strconv.Itoa(len(copyCSV))+`, "sha256": "`+src.Sha256+`"}`, string(got[0].Snapshot))

	// Not visible: 404 and nothing audited.
	rec = e.princip.do(t, http.MethodGet, "/api/v1/uploads/"+src.ID.String()+"/file", nil)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Len(t, auditRows(ctx, t, e.pool), len(rows))

	// A download that cannot be audited is refused.
	testdb.FailInserts(ctx, t, e.schema, "audit_events", "audit store down")
	rec = e.admin.do(t, http.MethodGet, "/api/v1/uploads/"+src.ID.String()+"/file", nil)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, rec.Body.String(), "7918")
}

// A copied data upload is imported end to end by a real River worker: the
// 2030 file, uploaded and imported, is copied to 2031 and its entries land
// in 2031 with the 2031 factor.
func TestUploadCopyImported(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newCopyEnv(ctx, t)
	for y, ef := range map[int32]float64{e.from: 2, e.to: 3} {
		testfactory.Factor(ctx, t, e.pool, &testfactory.FactorOpts{Year: &y, Submodule: new("process_gas"),
			Classification: map[string]string{"category": "co2", "subcategory": ""},
			Values:         map[string]any{"ef_kg_co2eq_per_unit": ef, "unit": "kg"}})
	}
	startImportWorker(ctx, t, e.pool, e.store)
	waitSuccess := func(id string) {
		t.Helper()
		status, _ := waitPipelineEnd(ctx, t, e.pool, id)
		require.Equal(t, "SUCCESS", status)
	}
	entries := func(year int32) (n int, kg float64) {
		t.Helper()
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(kg_co2eq), 0) FROM data_entries
			WHERE year = $1 AND submodule = 'process_gas'`, year).Scan(&n, &kg))
		return n, kg
	}

	// The 2030 file, uploaded through POST /uploads and imported.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"kind", "data"}, {"year", strconv.Itoa(int(e.from))}, {"module", "process_emissions"}, {"submodule", "process_gas"}} {
		require.NoError(t, mw.WriteField(f[0], f[1]))
	}
	fw, err := mw.CreateFormFile("file", "gas.csv")
	require.NoError(t, err)
	_, err = io.WriteString(fw, copyCSV)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	rec := e.admin.post(t, httpapi.NewRouter(e.deps), "/api/v1/uploads", mw.FormDataContentType(), &body)
	original := decodeCopy(t, rec)
	waitSuccess(original.Pipeline.ID)
	n, kg := entries(e.from)
	require.Equal(t, 2, n)
	require.InDelta(t, 20.0, kg, 1e-9)

	// Copied to 2031 and imported there; 2030 is untouched.
	copied := decodeCopy(t, e.copy(t, e.admin, original.Upload.ID, e.to))
	waitSuccess(copied.Pipeline.ID)
	n, kg = entries(e.to)
	require.Equal(t, 2, n)
	require.InDelta(t, 30.0, kg, 1e-9)
	n, kg = entries(e.from)
	require.Equal(t, 2, n)
	require.InDelta(t, 20.0, kg, 1e-9)
	var uploadIDs []string
	rows, err := e.pool.Query(ctx, `SELECT DISTINCT upload_id::text FROM data_entries WHERE year = $1`, e.to)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		uploadIDs = append(uploadIDs, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{copied.Upload.ID}, uploadIDs, "the 2031 entries come from the copy")
}

// post sends a state-changing request with body and the session's cookies.
func (s *session) post(t *testing.T, h http.Handler, url, contentType string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, url, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Cookie", "auth_token="+s.cookies["auth_token"].Value+"; csrf_token="+s.cookies["csrf_token"].Value)
	req.Header.Set("X-Csrf-Token", s.cookies["csrf_token"].Value)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		requireErrorEnvelope(t, rec)
	}
	return rec
}
