package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/buildinfo"
	"github.com/co2-calculator/co2-calculator/pkg/fleet"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// call answers a request of user and decodes a 2xx body into out.
func (o *opsEnv) call(t *testing.T, user, method, path string, out any) int {
	t.Helper()
	rec := o.sessions[user].do(t, method, path, nil)
	if rec.Code < 300 && out != nil {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), out), rec.Body.String())
	}
	return rec.Code
}

// requireError checks the status and the code of an error answer.
func (o *opsEnv) requireError(t *testing.T, method, path string, status int, code string) errorEnvelope {
	t.Helper()
	rec := o.sessions["admin"].do(t, method, path, nil)
	require.Equal(t, status, rec.Code, "%s %s: %s", method, path, rec.Body.String())
	env := requireErrorEnvelope(t, rec)
	require.Equal(t, code, env.Error.Code, "%s %s", method, path)
	return env
}

// failJob ends the job's only attempt as the worker middleware records a
// last failed attempt: River discards it, its links become `failed`.
func (o *opsEnv) failJob(ctx context.Context, t *testing.T, id uuid.UUID, jobID int64) {
	t.Helper()
	_, err := o.schema.Pool.Exec(ctx, `UPDATE river_job SET state = 'discarded', attempt = max_attempts,
		attempted_at = now(), finalized_at = now() WHERE id = $1`, jobID)
	require.NoError(t, err)
	startJob(ctx, t, o.schema, testPipeline{ID: id, JobID: jobID})
	_, err = postgres.WithTxV(ctx, o.schema.Pool, func(ctx context.Context, tx pgx.Tx) (int64, error) {
		if _, err := dbsqlc.New(tx).PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: "failed",
			Message: new("boom"), JobID: jobID}); err != nil {
			return 0, err
		}
		return pipeline.Refresh(ctx, tx, id, time.Now())
	})
	require.NoError(t, err)
}

// auditEvent is the row of an operator's event.
type auditEvent struct {
	UserID   *int64
	Route    *string
	Snapshot json.RawMessage
}

func (o *opsEnv) events(ctx context.Context, t *testing.T, event, entityType, entityID string) []auditEvent {
	t.Helper()
	rows, err := o.schema.Pool.Query(ctx, `SELECT actor_user_id, route, snapshot FROM audit_events
		WHERE event = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY seq`, event, entityType, entityID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditEvent, error) {
		var ev auditEvent
		return ev, r.Scan(&ev.UserID, &ev.Route, &ev.Snapshot)
	})
	require.NoError(t, err)
	var last int64
	require.NoError(t, o.schema.Pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM audit_events").Scan(&last))
	if last > 0 {
		report, err := audit.Verify(ctx, o.schema.Pool, 1, last)
		require.NoError(t, err)
		require.True(t, report.OK, "%+v", report.Broken)
	}
	return out
}

// retriedPipeline is the part of a Pipeline the tests read.
type retriedPipeline struct {
	Status    string  `json:"status"`
	Cancelled bool    `json:"cancelled"`
	LastError *string `json:"last_error"`
	Jobs      []struct {
		JobID       int64  `json:"job_id"`
		State       string `json:"state"`
		MaxAttempts int    `json:"max_attempts"`
	} `json:"jobs"`
}

func TestPipelineJobRetry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	year := int32(2025)
	principal := o.userIDs["principal"]
	newPipeline := func(t *testing.T) (uuid.UUID, int64) {
		t.Helper()
		return o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser,
			Year: &year, CreatedBy: &principal})
	}
	retryURL := func(id uuid.UUID, jobID int64) string {
		return fmt.Sprintf("/api/v1/pipelines/%s/jobs/%d/retry", id, jobID)
	}

	t.Run("CancelledPipeline", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		require.Equal(t, http.StatusAccepted, o.call(t, "principal", http.MethodPost, "/api/v1/pipelines/"+id.String()+"/cancel", nil))
		var v retriedPipeline
		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, retryURL(id, jobID), &v))
		require.False(t, v.Cancelled)
		require.Equal(t, "NOT_STARTED", v.Status, "the job was cancelled before it started")
		require.Equal(t, "queued", v.Jobs[0].State)
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)
	})
	t.Run("FailedJob", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		o.failJob(ctx, t, id, jobID)
		var v retriedPipeline
		require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/pipelines/"+id.String(), &v))
		require.Equal(t, "FAILED", v.Status)

		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, retryURL(id, jobID), &v))
		require.Equal(t, "RUNNING", v.Status)
		require.Nil(t, v.LastError)
		require.Equal(t, "queued", v.Jobs[0].State)
		require.Equal(t, 26, v.Jobs[0].MaxAttempts, "River grants one more attempt")
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateAvailable, job.State)

		evs := o.events(ctx, t, pipeline.EventRetry, "pipeline", id.String())
		require.Len(t, evs, 1)
		require.Equal(t, new(o.userIDs["admin"]), evs[0].UserID)
		require.Equal(t, new("POST /api/v1/pipelines/{id}/jobs/{job_id}/retry"), evs[0].Route)
		require.JSONEq(t, fmt.Sprintf(`{"kind": "recalculation", "status": "FAILED", "cancelled": false, "year": 2025,
			"module": null, "unit_id": null, "job_id": %d, "job_kind": "noop", "job_state": "failed", "attempt": 1,
			"max_attempts": 26}`, jobID), string(evs[0].Snapshot))

		o.requireError(t, http.MethodPost, retryURL(id, jobID), http.StatusConflict, "pipeline_not_terminal")
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		o.requireError(t, http.MethodPost, retryURL(id, jobID), http.StatusConflict, "pipeline_not_terminal")
		// The creator may cancel but not retry.
		require.Equal(t, http.StatusForbidden, o.call(t, "principal", http.MethodPost, retryURL(id, jobID), nil))

		done, doneJob := newPipeline(t)
		finishJob(ctx, t, o.schema, testPipeline{ID: done, JobID: doneJob})
		o.requireError(t, http.MethodPost, retryURL(done, doneJob), http.StatusConflict, "job_not_retryable")
		require.Empty(t, o.events(ctx, t, pipeline.EventRetry, "pipeline", done.String()), "a refused retry is not audited")

		o.requireError(t, http.MethodPost, retryURL(done, jobID), http.StatusNotFound, "not_found") // not its job
		o.requireError(t, http.MethodPost, retryURL(uuid.New(), jobID), http.StatusNotFound, "not_found")
		o.requireError(t, http.MethodPost, "/api/v1/pipelines/"+done.String()+"/jobs/x/retry", http.StatusNotFound, "not_found")
		o.requireError(t, http.MethodPost, "/api/v1/pipelines/"+done.String()+"/jobs/0/retry", http.StatusNotFound, "not_found")
	})
}

func TestOpsWorkers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	hb := fleet.NewHeartbeat(o.schema.Pool, testdb.QuietLogger(), fleet.HeartbeatConfig{ID: "w-live",
		Queues: map[string]int{"imports": 2, "compute": 4}, Running: func() int64 { return 3 }})
	require.NoError(t, hb.Beat(ctx))
	for id, age := range map[string]string{"w-silent": "5 minutes", "w-forgotten": "2 hours"} {
		_, err := o.schema.Pool.Exec(ctx, `INSERT INTO workers (id, hostname, version, queues, started_at, heartbeat_at)
			VALUES ($1, 'old-host', 'v0', '{"default": 1}', now() - interval '3 hours', now() - $2::interval)`, id, age)
		require.NoError(t, err)
	}

	var ws []fleet.Worker
	require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/workers", &ws))
	require.Len(t, ws, 2, "a worker silent for more than an hour is not listed")
	byID := map[string]fleet.Worker{}
	for _, w := range ws {
		byID[w.ID] = w
	}
	host, _ := os.Hostname()
	live := byID["w-live"]
	require.True(t, live.Live)
	require.Equal(t, host, live.Hostname)
	require.Equal(t, buildinfo.Version, live.Version)
	require.Equal(t, int32(3), live.RunningJobs)
	require.JSONEq(t, `{"imports": 2, "compute": 4}`, string(live.Queues))
	require.Less(t, live.HeartbeatAgeS, int64(60))
	require.False(t, live.StartedAt.IsZero())
	silent := byID["w-silent"]
	require.False(t, silent.Live)
	require.GreaterOrEqual(t, silent.HeartbeatAgeS, int64(300))
	require.Less(t, silent.HeartbeatAgeS, int64(400))

	require.Equal(t, http.StatusForbidden, o.call(t, "principal", http.MethodGet, "/api/v1/ops/workers", nil))
}

func TestOpsQueues(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	client := o.deps.River
	insert := func(args river.JobArgs, opts *river.InsertOpts) int64 {
		res, err := client.Insert(ctx, args, opts)
		require.NoError(t, err)
		return res.Job.ID
	}
	insert(jobs.NoopArgs{}, nil)                                                                                 // default: available
	insert(jobs.AggregateArgs{Year: 2025}, nil)                                                                  // compute: available
	insert(jobs.NoopArgs{}, &river.InsertOpts{Queue: jobs.QueueCompute, ScheduledAt: time.Now().Add(time.Hour)}) // compute: scheduled
	running := insert(jobs.NoopArgs{}, &river.InsertOpts{Queue: jobs.QueueCompute})
	retryable := insert(jobs.NoopArgs{}, &river.InsertOpts{Queue: jobs.QueueCompute})
	done := insert(jobs.NoopArgs{}, &river.InsertOpts{Queue: jobs.QueueCompute})
	insert(jobs.NoopArgs{}, &river.InsertOpts{Queue: "legacy"}) // a queue no worker is configured for
	for id, state := range map[int64]string{running: "running", retryable: "retryable", done: "completed"} {
		_, err := o.schema.Pool.Exec(ctx, `UPDATE river_job SET state = $2::river_job_state,
			finalized_at = CASE WHEN $2::text = 'completed' THEN now() END WHERE id = $1`, id, state)
		require.NoError(t, err)
	}
	_, err := o.schema.Pool.Exec(ctx, "INSERT INTO river_queue (name, paused_at, updated_at) VALUES ('imports', now(), now())")
	require.NoError(t, err)

	var qs []fleet.Queue
	require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/queues", &qs))
	require.Equal(t, []fleet.Queue{
		{Queue: "audit"},
		{Queue: "compute", Available: 1, Scheduled: 1, Running: 1, Retryable: 1},
		{Queue: "default", Available: 1},
		{Queue: "exports"},
		{Queue: "imports", Paused: true},
		{Queue: "integrations"},
		{Queue: "legacy", Available: 1},
	}, qs)
}

func TestOpsJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	var noops []int64
	for range 3 {
		res, err := o.deps.River.Insert(ctx, jobs.NoopArgs{SleepMS: 5}, nil)
		require.NoError(t, err)
		noops = append(noops, res.Job.ID)
	}
	// A job whose args carry credentials, discarded after four failed
	// attempts (inserted as River would have stored it).
	var secret int64
	require.NoError(t, o.schema.Pool.QueryRow(ctx, `INSERT INTO river_job (kind, queue, state, attempt, max_attempts,
		attempted_at, finalized_at, args, errors)
		VALUES ('accred_unit_sync', 'integrations', 'discarded', 4, 4, now(), clock_timestamp(),
		        '{"year": 2026, "password": "hunter2", "auth": {"Token": "t0k", "Authorization": "Bearer x"},
		          "targets": [{"secret": "s", "name": "kept"}]}',
		        ARRAY(SELECT jsonb_build_object('at', '2026-01-02T03:04:05Z', 'attempt', n, 'error', 'failure ' || n,
		                                        'trace', 'goroutine 1 [running]')
		              FROM generate_series(1, 4) n))
		RETURNING id`).Scan(&secret))

	type jobsPage struct {
		Items   []map[string]any `json:"items"`
		Total   int64            `json:"total"`
		HasMore bool             `json:"has_more"`
	}
	idsOf := func(p jobsPage) []int64 {
		out := []int64{}
		for _, it := range p.Items {
			out = append(out, int64(it["id"].(float64))) //nolint:forcetypeassert // test
		}
		return out
	}

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		env := o.requireError(t, http.MethodGet, "/api/v1/ops/jobs?state=stuck", http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, "state", env.Error.Details[0]["field"])
		require.Equal(t, "invalid_enum", env.Error.Details[0]["code"])
		o.requireError(t, http.MethodGet, "/api/v1/ops/jobs?limit=0", http.StatusBadRequest, "bad_request")
		o.requireError(t, http.MethodGet, "/api/v1/ops/jobs?page=x", http.StatusBadRequest, "bad_request")
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			query string
			want  []int64
		}{
			{"", []int64{secret, noops[2], noops[1], noops[0]}},
			{"?kind=noop", []int64{noops[2], noops[1], noops[0]}},
			{"?state=discarded", []int64{secret}},
			{"?state=available&state=discarded", []int64{secret, noops[2], noops[1], noops[0]}},
			{"?queue=integrations&queue=imports", []int64{secret}},
			{"?kind=noop&queue=integrations", []int64{}},
			{"?limit=2&page=2", []int64{noops[1], noops[0]}},
		}
		for _, tt := range tests {
			var p jobsPage
			require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/jobs"+tt.query, &p), tt.query)
			require.Equal(t, tt.want, idsOf(p), tt.query)
		}
		var p jobsPage
		require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/jobs?limit=3", &p))
		require.Equal(t, int64(4), p.Total)
		require.True(t, p.HasMore)
		noop := p.Items[1]
		require.Equal(t, "noop", noop["kind"])
		require.Equal(t, map[string]any{"sleep_ms": float64(5)}, noop["args"])
		require.Equal(t, []any{}, noop["errors"])
		require.Nil(t, noop["attempted_at"])
		require.Nil(t, noop["finalized_at"])
	})
	t.Run("SecretsRemoved", func(t *testing.T) {
		t.Parallel()
		var p jobsPage
		require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/jobs?kind=accred_unit_sync", &p))
		require.Len(t, p.Items, 1)
		it := p.Items[0]
		args, err := json.Marshal(it["args"])
		require.NoError(t, err)
		require.JSONEq(t, `{"year": 2026, "password": "[redacted]", "auth": {"Token": "[redacted]", "Authorization": "[redacted]"},
			"targets": [{"secret": "[redacted]", "name": "kept"}]}`, string(args))
		errs, err := json.Marshal(it["errors"])
		require.NoError(t, err)
		require.JSONEq(t, `[{"at": "2026-01-02T03:04:05Z", "attempt": 2, "error": "failure 2"},
			{"at": "2026-01-02T03:04:05Z", "attempt": 3, "error": "failure 3"},
			{"at": "2026-01-02T03:04:05Z", "attempt": 4, "error": "failure 4"}]`, string(errs), "the last three, no trace")
		require.Equal(t, "discarded", it["state"])
		require.Equal(t, "integrations", it["queue"])
		require.InDelta(t, 4, it["attempt"], 0)
		require.InDelta(t, 4, it["max_attempts"], 0)
		for _, k := range []string{"created_at", "attempted_at", "finalized_at"} {
			require.NotNil(t, it[k], k)
		}
	})
}

func TestOpsJobActions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	year := int32(2025)
	newPipeline := func(t *testing.T) (uuid.UUID, int64) {
		t.Helper()
		return o.pipelineWithJob(ctx, t, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser, Year: &year})
	}
	jobURL := func(jobID int64, action string) string { return fmt.Sprintf("/api/v1/ops/jobs/%d/%s", jobID, action) }
	pipelineOf := func(t *testing.T, id uuid.UUID) retriedPipeline {
		t.Helper()
		var v retriedPipeline
		require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/pipelines/"+id.String(), &v))
		return v
	}

	// A running job is asked to stop; its worker records the end.
	t.Run("CancelRunningJob", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		_, err := o.schema.Pool.Exec(ctx, "UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1", jobID)
		require.NoError(t, err)
		startJob(ctx, t, o.schema, testPipeline{ID: id, JobID: jobID})
		var j fleet.Job
		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, jobURL(jobID, "cancel"), &j))
		require.Equal(t, "running", j.State)
		job, err := o.deps.River.JobGet(ctx, jobID)
		require.NoError(t, err)
		require.Contains(t, string(job.Metadata), "cancel_attempted_at")
		require.Equal(t, "RUNNING", pipelineOf(t, id).Status)
	})
	t.Run("CancelThenRetry", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		var j fleet.Job
		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, jobURL(jobID, "cancel"), &j))
		require.Equal(t, jobID, j.ID)
		require.Equal(t, "cancelled", j.State)
		v := pipelineOf(t, id)
		require.Equal(t, "FAILED", v.Status, "the pipeline follows its job")
		require.False(t, v.Cancelled)
		require.Equal(t, "cancelled", v.Jobs[0].State)
		evs := o.events(ctx, t, pipeline.EventJobCancel, "job", strconv.FormatInt(jobID, 10))
		require.Len(t, evs, 1)
		require.Equal(t, new("POST /api/v1/ops/jobs/{id}/cancel"), evs[0].Route)
		require.JSONEq(t, fmt.Sprintf(`{"kind": "noop", "queue": "default", "state": "available", "new_state": "cancelled",
			"attempt": 0, "max_attempts": 25, "pipeline_ids": [%q]}`, id), string(evs[0].Snapshot))

		o.requireError(t, http.MethodPost, jobURL(jobID, "cancel"), http.StatusConflict, "job_finalized")

		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, jobURL(jobID, "retry"), &j))
		require.Equal(t, "available", j.State)
		v = pipelineOf(t, id)
		require.Equal(t, "queued", v.Jobs[0].State)
		require.False(t, pipeline.Status(v.Status).Terminal())
		require.Len(t, o.events(ctx, t, pipeline.EventJobRetry, "job", strconv.FormatInt(jobID, 10)), 1)
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		_, jobID := newPipeline(t)
		_, err := o.schema.Pool.Exec(ctx, "UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1", jobID)
		require.NoError(t, err)
		o.requireError(t, http.MethodPost, jobURL(jobID, "retry"), http.StatusConflict, "job_not_retryable")
		require.Empty(t, o.events(ctx, t, pipeline.EventJobRetry, "job", strconv.FormatInt(jobID, 10)))
		o.requireError(t, http.MethodPost, jobURL(987654, "retry"), http.StatusNotFound, "not_found")
		o.requireError(t, http.MethodPost, jobURL(987654, "cancel"), http.StatusNotFound, "not_found")
		o.requireError(t, http.MethodPost, "/api/v1/ops/jobs/abc/cancel", http.StatusNotFound, "not_found")
		o.requireError(t, http.MethodPost, "/api/v1/ops/jobs/-1/retry", http.StatusNotFound, "not_found")
		require.Equal(t, http.StatusForbidden, o.call(t, "principal", http.MethodPost, jobURL(jobID, "cancel"), nil))
	})
	t.Run("RetryFailedJob", func(t *testing.T) {
		t.Parallel()
		id, jobID := newPipeline(t)
		o.failJob(ctx, t, id, jobID)
		var j fleet.Job
		require.Equal(t, http.StatusAccepted, o.call(t, "admin", http.MethodPost, jobURL(jobID, "retry"), &j))
		require.Equal(t, "available", j.State)
		require.Equal(t, int16(26), j.MaxAttempts)
		v := pipelineOf(t, id)
		require.Equal(t, "RUNNING", v.Status)
		require.Equal(t, "queued", v.Jobs[0].State)
	})
}

func TestOpsStaleStats(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	o := newOpsEnv(t)
	pool := o.schema.Pool
	y1 := testfactory.Year(ctx, t, pool, nil).Year
	y2 := testfactory.Year(ctx, t, pool, nil).Year
	r1 := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{UnitID: &o.unitID, Year: &y1})
	r2 := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{UnitID: &o.unitID, Year: &y2})
	dirty := func(rm dbsqlc.ReportModule, ago string) {
		_, err := pool.Exec(ctx, "UPDATE report_modules SET stats_dirty_at = now() - $2::interval WHERE id = $1", rm.ID, ago)
		require.NoError(t, err)
	}
	dirty(r1.Module("headcount"), "2 hours")
	dirty(r1.Module("buildings"), "10 minutes")
	dirty(r2.Module("purchases"), "3 hours")
	// The pending aggregation of y1; y2's has completed.
	res, err := o.deps.River.Insert(ctx, jobs.AggregateArgs{Year: int(y1)}, nil)
	require.NoError(t, err)
	pending := res.Job.ID
	res, err = o.deps.River.Insert(ctx, jobs.AggregateArgs{Year: int(y2)}, nil)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1", res.Job.ID)
	require.NoError(t, err)

	type row struct {
		Year    int32
		Module  string
		Pending *int64
	}
	stale := func(query string) []row {
		var ms []fleet.StaleModule
		require.Equal(t, http.StatusOK, o.call(t, "admin", http.MethodGet, "/api/v1/ops/stale-stats"+query, &ms), query)
		out := []row{}
		for _, m := range ms {
			require.Equal(t, o.unitID, m.UnitID)
			require.False(t, m.StatsDirtyAt.IsZero())
			out = append(out, row{m.Year, m.Module, m.PendingAggregateJobID})
		}
		return out
	}
	require.Equal(t, []row{{y2, "purchases", nil}, {y1, "headcount", &pending}}, stale(""), "older than 60 minutes, oldest first")
	require.Equal(t, []row{{y2, "purchases", nil}, {y1, "headcount", &pending}, {y1, "buildings", &pending}},
		stale("?older_than_minutes=5"))
	require.Equal(t, []row{}, stale("?older_than_minutes=600"))

	for _, bad := range []string{"0", "-5", "x", "1.5", "525601"} {
		env := o.requireError(t, http.MethodGet, "/api/v1/ops/stale-stats?older_than_minutes="+bad,
			http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, "older_than_minutes", env.Error.Details[0]["field"], bad)
		require.Contains(t, []any{"invalid_format", "out_of_range"}, env.Error.Details[0]["code"], bad)
	}
}
