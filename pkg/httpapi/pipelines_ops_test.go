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
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

type opsEnv struct {
	*authEnv
	sessions map[string]*session
	userIDs  map[string]int64
	unitID   int64
}

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	e := newAuthEnv(t, nil)
	client, err := jobs.NewInsertClient(e.schema.Pool)
	require.NoError(t, err)
	store, err := blob.NewLocal(t.TempDir())
	require.NoError(t, err)
	e.deps.River, e.deps.Blob = client, store
	unit, err := dbsqlc.New(e.schema.Pool).UnitGetByCF(t.Context(), "7918")
	require.NoError(t, err)
	o := &opsEnv{authEnv: e, sessions: map[string]*session{}, userIDs: map[string]int64{}, unitID: unit.ID}
	for _, u := range []string{"standard", "principal", "admin", "principal_other"} {
		s := e.login(t, u)
		rec := s.do(t, http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		var me struct {
			User struct {
				ID int64 `json:"id"`
			} `json:"user"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &me))
		o.sessions[u], o.userIDs[u] = s, me.User.ID
	}
	return o
}

// pipelineWithJob commits a pipeline with one queued root job.
func (o *opsEnv) pipelineWithJob(ctx context.Context, t *testing.T, p pipeline.CreateParams) (uuid.UUID, int64) {
	t.Helper()
	type out struct {
		id  uuid.UUID
		job int64
	}
	r, err := postgres.WithTxV(ctx, o.schema.Pool, func(ctx context.Context, tx pgx.Tx) (out, error) {
		pl, err := pipeline.Create(ctx, tx, p)
		if err != nil {
			return out{}, err
		}
		job, err := pipeline.InsertTx(ctx, o.deps.River, tx, pl.ID, jobs.NoopArgs{}, nil)
		if err != nil {
			return out{}, err
		}
		return out{pl.ID, job.ID}, nil
	})
	require.NoError(t, err)
	return r.id, r.job
}

type listResp struct {
	Items []map[string]any `json:"items"`
	Total int64            `json:"total"`
}

func (o *opsEnv) list(t *testing.T, user, query string) (int, listResp) {
	t.Helper()
	rec := o.sessions[user].do(t, http.MethodGet, "/api/v1/pipelines"+query, nil)
	var lr listResp
	if rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &lr))
	}
	return rec.Code, lr
}

func ids(lr listResp) []string {
	out := make([]string, 0, len(lr.Items))
	for _, it := range lr.Items {
		out = append(out, it["id"].(string)) //nolint:forcetypeassert // test
	}
	return out
}

func TestPipelinesList(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	year := int32(2025)
	mod, other := "professional_travel", "headcount"
	principal := o.userIDs["principal"]
	own, _ := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
		Year: &year, CreatedBy: &principal})
	onUnit, _ := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
		Year: &year, Module: &other, UnitID: &o.unitID})
	global, _ := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindECBSync, Trigger: pipeline.TriggerSchedule,
		Module: &mod})

	t.Run("Visibility", func(t *testing.T) {
		t.Parallel()
		code, lr := o.list(t, "admin", "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, []string{global.String(), onUnit.String(), own.String()}, ids(lr), "newest first")
		require.Equal(t, int64(3), lr.Total)
		_, lr = o.list(t, "principal", "")
		require.ElementsMatch(t, []string{own.String(), onUnit.String()}, ids(lr), "creator + module_sync on the unit")
		_, lr = o.list(t, "principal_other", "")
		require.Empty(t, ids(lr))
		_, lr = o.list(t, "standard", "")
		require.Empty(t, ids(lr), "standard users have no module_sync")
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			query string
			want  []string
		}{
			{"?status=not_started", []string{global.String(), onUnit.String(), own.String()}},
			{"?status=Running", []string{}},
			{"?kind=data_upload&kind=ecb_sync", []string{global.String(), onUnit.String()}},
			{"?year=2025", []string{onUnit.String(), own.String()}},
			{"?module=headcount", []string{onUnit.String()}},
			{"?unit_id=" + strconv.FormatInt(o.unitID, 10), []string{onUnit.String()}},
			{"?active=true", []string{global.String(), onUnit.String(), own.String()}},
			{"?active=false", []string{}},
			{"?has_errors=true", []string{}},
			{"?q=worker", []string{global.String(), onUnit.String(), own.String()}},
			{"?q=nothing_like_this", []string{}},
			{"?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z", []string{}},
			{"?limit=1&page=2", []string{onUnit.String()}},
		}
		for _, tt := range tests {
			code, lr := o.list(t, "admin", tt.query)
			require.Equal(t, http.StatusOK, code, tt.query)
			require.Equal(t, tt.want, ids(lr), tt.query)
		}
		for _, q := range []string{"?status=DONE", "?status="} {
			code, _ := o.list(t, "admin", q)
			require.Equal(t, http.StatusUnprocessableEntity, code, q)
		}
		for _, q := range []string{"?year=x", "?active=maybe", "?since=yesterday", "?limit=0", "?page=0"} {
			code, _ := o.list(t, "admin", q)
			require.Equal(t, http.StatusBadRequest, code, q)
		}
	})
	t.Run("ItemsOmitRowErrors", func(t *testing.T) {
		t.Parallel()
		_, lr := o.list(t, "admin", "?kind=data_upload")
		require.Len(t, lr.Items, 1)
		jobsList, ok := lr.Items[0]["jobs"].([]any)
		require.True(t, ok)
		require.Len(t, jobsList, 1)
		job, ok := jobsList[0].(map[string]any)
		require.True(t, ok)
		require.NotContains(t, job, "row_errors")
		require.Contains(t, job, "row_errors_total")
		require.Equal(t, "noop", job["kind"])
	})
}

func TestPipelineCancel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	year := int32(2025)
	principal := o.userIDs["principal"]
	mod := "headcount"

	t.Run("QueuedJobCancelled", func(t *testing.T) {
		t.Parallel()
		id, jobID := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: &principal})
		rec := o.sessions["principal"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		var v struct {
			Status    string `json:"status"`
			Cancelled bool   `json:"cancelled"`
			Jobs      []struct {
				State string `json:"state"`
			} `json:"jobs"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
		require.True(t, v.Cancelled)
		require.Equal(t, "FAILED", v.Status)
		require.Equal(t, "cancelled", v.Jobs[0].State)
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		p, err := dbsqlc.New(o.schema.Pool).PipelineGet(ctx, id)
		require.NoError(t, err)
		require.Equal(t, principal, *p.CancelRequestedBy)

		// Audited in the cancel's transaction, the chain intact.
		ev := cancelEvent(ctx, t, o, id)
		user, err := dbsqlc.New(o.schema.Pool).UserGet(ctx, principal)
		require.NoError(t, err)
		require.Equal(t, "U", ev.Action)
		require.Equal(t, "user", ev.ActorType)
		require.Equal(t, user.Sciper, ev.Sciper)
		require.Equal(t, &principal, ev.UserID)
		require.Equal(t, new("POST /api/v1/pipelines/{id}/cancel"), ev.Route)
		require.JSONEq(t, fmt.Sprintf(`{"kind": "recalculation", "status": "NOT_STARTED", "year": 2025, "module": null,
			"unit_id": null, "cancelled_job_ids": [%d], "stopping_job_ids": []}`, jobID), string(ev.Snapshot))
		var last int64
		require.NoError(t, o.schema.Pool.QueryRow(ctx, "SELECT max(seq) FROM audit_events").Scan(&last))
		report, err := audit.Verify(ctx, o.schema.Pool, 1, last)
		require.NoError(t, err)
		require.True(t, report.OK, "%+v", report.Broken)

		rec = o.sessions["principal"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusConflict, rec.Code)
		require.Equal(t, "pipeline_terminal", errorCode(t, rec))
		var n int
		require.NoError(t, o.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events
			WHERE event = 'pipeline.cancel' AND entity_id = $1`, id.String()).Scan(&n))
		require.Equal(t, 1, n, "a refused cancel is not audited")
	})
	t.Run("RunningJobLeftToTheWorker", func(t *testing.T) {
		t.Parallel()
		id, jobID := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: &principal})
		// The job runs: River state and bookkeeping as a worker would set them.
		_, err := o.schema.Pool.Exec(ctx, "UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1", jobID)
		require.NoError(t, err)
		startJob(ctx, t, o.schema, testPipeline{ID: id, JobID: jobID})
		rec := o.sessions["admin"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"status":"RUNNING"`)
		ev := cancelEvent(ctx, t, o, id)
		require.Equal(t, new(o.userIDs["admin"]), ev.UserID)
		require.JSONEq(t, fmt.Sprintf(`[%d]`, jobID), string(ev.StoppingJobIDs), "running: asked to stop")
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateRunning, job.State)
		require.Contains(t, string(job.Metadata), "cancel_attempted_at", "River asked the worker to cancel")
		// The worker middleware records the remote cancel: FAILED.
		_, err = postgres.WithTxV(ctx, o.schema.Pool, func(ctx context.Context, tx pgx.Tx) (int64, error) {
			if _, err := dbsqlc.New(tx).PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: "cancelled", JobID: jobID}); err != nil {
				return 0, err
			}
			return pipeline.Refresh(ctx, tx, id, job.AttemptedAt.Add(1))
		})
		require.NoError(t, err)
		p, err := dbsqlc.New(o.schema.Pool).PipelineGet(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "FAILED", p.Status)
	})
	t.Run("SharedJobKeepsRunning", func(t *testing.T) {
		t.Parallel()
		id, jobID := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: &principal})
		other, _ := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser, Year: &year})
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.NoError(t, postgres.WithTx(ctx, o.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
			return pipeline.Link(ctx, tx, other, job, pipeline.RoleRoot)
		}))
		rec := o.sessions["admin"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		job, err = o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State, "the other pipeline still needs it")
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		id, _ := o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
			Year: &year, Module: &mod, UnitID: &o.unitID})
		// principal sees it (module_sync) but is not its creator: 403.
		rec := o.sessions["principal"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusForbidden, rec.Code)
		rec = o.sessions["principal_other"].do(t, http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		rec = o.sessions["admin"].do(t, http.MethodPost, "/api/v1/pipelines/"+uuid.NewString()+"/cancel", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	})
}

type cancelAuditEvent struct {
	Action, ActorType, Sciper string
	UserID                    *int64
	Route                     *string
	Snapshot                  json.RawMessage
	StoppingJobIDs            json.RawMessage
}

// cancelEvent reads the pipeline.cancel event of pipeline id.
func cancelEvent(ctx context.Context, t *testing.T, o *opsEnv, id uuid.UUID) cancelAuditEvent {
	t.Helper()
	var ev cancelAuditEvent
	require.NoError(t, o.schema.Pool.QueryRow(ctx, `SELECT action, actor_type, actor_sciper, actor_user_id, route, snapshot,
		snapshot -> 'stopping_job_ids' FROM audit_events WHERE event = 'pipeline.cancel' AND entity_type = 'pipeline' AND entity_id = $1`,
		id.String()).Scan(&ev.Action, &ev.ActorType, &ev.Sciper, &ev.UserID, &ev.Route, &ev.Snapshot, &ev.StoppingJobIDs))
	return ev
}

func TestUploadErrorsCSVAndTemplates(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	y := testfactory.Year(ctx, t, o.schema.Pool, &testfactory.YearOpts{Year: new(int32(2032))})

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"kind": "data", "year": strconv.Itoa(int(y.Year)), "module": "process_emissions", "submodule": "process_gas"} {
		require.NoError(t, mw.WriteField(k, v))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="gas.csv"`)
	h.Set("Content-Type", "text/csv")
	fw, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = io.WriteString(fw, "unit_institutional_id,category,quantity\n7918,co2,4\n")
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	admin := o.sessions["admin"]
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", "auth_token="+admin.cookies["auth_token"].Value+"; csrf_token="+admin.cookies["csrf_token"].Value)
	req.Header.Set("X-Csrf-Token", admin.cookies["csrf_token"].Value)
	rec := httptest.NewRecorder()
	httpapi.NewRouter(o.deps).ServeHTTP(rec, req)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var resp struct {
		Upload struct {
			ID         string `json:"id"`
			PipelineID string `json:"pipeline_id"`
		} `json:"upload"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	rowErrors := `[{"row":1,"line":2,"column":"quantity","code":"invalid_number","message":"not a number","value":"=HYPERLINK(\"x\")","severity":"error"},
	               {"row":2,"line":3,"column":null,"code":"unknown_unit","message":"no unit","value":"@9999","severity":"error"},
	               {"row":3,"line":4,"column":"quantity","code":"invalid_number","message":"+x","value":"+SUM(A1)","severity":"error"},
	               {"row":4,"line":5,"column":"quantity","code":"invalid_number","message":"-x","value":"-1+2","severity":"error"},
	               {"row":5,"line":6,"column":"quantity","code":"invalid_number","message":"tab","value":"\tcmd","severity":"error"},
	               {"row":6,"line":7,"column":"quantity","code":"invalid_number","message":"cr","value":"\rcmd","severity":"error"}]`
	_, err = o.schema.Pool.Exec(ctx, "UPDATE pipeline_jobs SET row_errors = $1, row_errors_total = 6 WHERE pipeline_id = $2", rowErrors, resp.Upload.PipelineID)
	require.NoError(t, err)

	t.Run("ErrorsCSV", func(t *testing.T) {
		t.Parallel()
		rec := admin.do(t, http.MethodGet, "/api/v1/uploads/"+resp.Upload.ID+"/errors.csv", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment")
		b := rec.Body.String()
		require.True(t, strings.HasPrefix(b, "\ufeffrow,line,column,code,message,value,severity\r\n"), b)
		records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b, "\ufeff"))).ReadAll()
		require.NoError(t, err)
		require.Equal(t, [][]string{
			{"row", "line", "column", "code", "message", "value", "severity"},
			{"1", "2", "quantity", "invalid_number", "not a number", `'=HYPERLINK("x")`, "error"},
			{"2", "3", "", "unknown_unit", "no unit", "'@9999", "error"},
			{"3", "4", "quantity", "invalid_number", "'+x", "'+SUM(A1)", "error"},
			{"4", "5", "quantity", "invalid_number", "'-x", "'-1+2", "error"},
			{"5", "6", "quantity", "invalid_number", "tab", "'\tcmd", "error"},
			{"6", "7", "quantity", "invalid_number", "cr", "'cmd", "error"}, // a CSV writer with CRLF line ends drops a CR inside a cell
		}, records)
		// Not the uploader, no bo(configuration, view): 404.
		rec = o.sessions["principal"].do(t, http.MethodGet, "/api/v1/uploads/"+resp.Upload.ID+"/errors.csv", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
	})
	t.Run("Templates", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			path, header string
			status       int
		}{
			{"/data/process_gas.csv", "unit_institutional_id,category,quantity,subcategory,note,kg_co2eq", http.StatusOK},
			{"/reference/building_rooms.csv", "building_location,building_name,room_name,room_type,surface_m2", http.StatusOK},
			{"/factors/plane.csv", "", http.StatusOK},
			{"/data/nope.csv", "", http.StatusNotFound},
			{"/other/plane.csv", "", http.StatusNotFound},
		}
		for _, tt := range tests {
			rec := o.sessions["standard"].do(t, http.MethodGet, "/api/v1/templates"+tt.path, nil)
			require.Equal(t, tt.status, rec.Code, tt.path)
			if tt.status != http.StatusOK {
				continue
			}
			require.True(t, strings.HasPrefix(rec.Body.String(), "\ufeff"), tt.path)
			lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(rec.Body.String(), "\ufeff"), "\r\n"), "\r\n")
			require.Len(t, lines, 1, "header only: %s", tt.path)
			if tt.header != "" {
				require.Equal(t, tt.header, lines[0], tt.path)
			}
		}
	})
}
