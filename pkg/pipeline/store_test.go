package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

type storeBundle struct {
	client *river.Client[pgx.Tx] // insert-only, as in cmd/api
	tx     pgx.Tx
}

func setupStore(ctx context.Context, t *testing.T) *storeBundle {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
	require.NoError(t, err)
	return &storeBundle{client: client, tx: testdb.TestTx(ctx, t)}
}

// createPipeline creates a user pipeline of the given kind.
func createPipeline(ctx context.Context, t *testing.T, db postgres.DBTX, kind pipeline.Kind) dbsqlc.Pipeline {
	t.Helper()
	p, err := pipeline.Create(ctx, db, pipeline.CreateParams{Kind: kind, Trigger: pipeline.TriggerUser})
	require.NoError(t, err)
	return p
}

// getPipeline reads a pipeline and its jobs, failing the test on error.
func getPipeline(ctx context.Context, t *testing.T, db postgres.DBTX, id uuid.UUID) (dbsqlc.Pipeline, []dbsqlc.PipelineJob) {
	t.Helper()
	p, js, err := pipeline.Get(ctx, db, id)
	require.NoError(t, err)
	return p, js
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		p, err := pipeline.Create(ctx, bundle.tx, pipeline.CreateParams{
			Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser,
			Year: new(int32(2025)), Module: new("headcount"), Submodule: new("member"),
			UnitID: new(int64(12)), CreatedBy: new(int64(4)),
		})
		require.NoError(t, err)
		require.NotEqual(t, uuid.Nil, p.ID)
		require.Equal(t, "data_upload", p.Kind)
		require.Equal(t, string(pipeline.StatusNotStarted), p.Status)
		require.Equal(t, "user", p.Trigger)
		require.Equal(t, []string{"validate", "replace", "load", "aggregate"}, p.Phases)
		require.Equal(t, new(int32(2025)), p.Year)
		require.Equal(t, new("headcount"), p.Module)
		require.Equal(t, new("member"), p.Submodule)
		require.Equal(t, new(int64(12)), p.UnitID)
		require.Equal(t, new(int64(4)), p.CreatedBy)
		require.Equal(t, new("Waiting for a worker"), p.Message)
		require.JSONEq(t, `{}`, string(p.Counters))
		require.Equal(t, int64(1), p.Version)
		require.Zero(t, p.JobCount)
		require.False(t, p.Cancelled)
		require.Nil(t, p.StartedAt)
		require.Nil(t, p.FinishedAt)
	})

	t.Run("UnknownKind", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		_, err := pipeline.Create(ctx, bundle.tx, pipeline.CreateParams{Kind: "bogus", Trigger: pipeline.TriggerUser})
		require.ErrorContains(t, err, `unknown pipeline kind "bogus"`)
	})

	t.Run("UnknownTrigger", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		_, err := pipeline.Create(ctx, bundle.tx, pipeline.CreateParams{Kind: pipeline.KindExport, Trigger: "cron"})
		require.Error(t, err) // rejected by the table's CHECK constraint
	})
}

func TestGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		_, _, err := pipeline.Get(ctx, bundle.tx, uuid.New())
		require.Error(t, err)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("WithJobsInLinkOrder", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindRecalculation)

		first, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{SleepMS: 1}, nil)
		require.NoError(t, err)
		second, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{SleepMS: 2}, nil)
		require.NoError(t, err)

		got, js, err := pipeline.Get(ctx, bundle.tx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p.ID, got.ID)
		require.Len(t, js, 2)
		require.Equal(t, first.ID, js[0].JobID)
		require.Equal(t, second.ID, js[1].JobID)
	})
}

func TestInsertTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("LinksRootJob", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindDataUpload)

		job, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{}, nil)
		require.NoError(t, err)

		inserted := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, bundle.tx, &jobs.NoopArgs{}, nil)
		require.Equal(t, job.ID, inserted.ID)

		got, js := getPipeline(ctx, t, bundle.tx, p.ID)
		require.Equal(t, string(pipeline.StatusNotStarted), got.Status)
		require.Equal(t, int32(1), got.JobCount)
		require.Zero(t, got.FailedJobCount)
		require.Equal(t, int64(2), got.Version) // created, then refreshed by the link
		require.Equal(t, new("validate"), got.Phase)
		require.Equal(t, int32(1), got.PhaseIndex)
		require.Zero(t, got.Percent)
		require.Nil(t, got.StartedAt)
		require.Len(t, js, 1)
		require.Equal(t, job.ID, js[0].JobID)
		require.Equal(t, "noop", js[0].Kind)
		require.Equal(t, jobs.QueueDefault, js[0].Queue)
		require.Equal(t, pipeline.RoleRoot, js[0].Role)
		require.Equal(t, string(pipeline.JobQueued), js[0].State)
		require.Zero(t, js[0].Attempt)
		require.Equal(t, int32(job.MaxAttempts), js[0].MaxAttempts)
		require.Nil(t, js[0].StartedAt)
	})

	t.Run("UniqueDuplicateLinksExistingJob", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		first := createPipeline(ctx, t, bundle.tx, pipeline.KindRecalculation)
		second := createPipeline(ctx, t, bundle.tx, pipeline.KindFactorEdit)
		opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}

		job1, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, first.ID, &jobs.NoopArgs{SleepMS: 7}, opts)
		require.NoError(t, err)
		job2, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, second.ID, &jobs.NoopArgs{SleepMS: 7}, opts)
		require.NoError(t, err)
		require.Equal(t, job1.ID, job2.ID, "the duplicate insert returns the existing job")

		for _, id := range []uuid.UUID{first.ID, second.ID} {
			got, js := getPipeline(ctx, t, bundle.tx, id)
			require.Equal(t, int32(1), got.JobCount)
			require.Equal(t, job1.ID, js[0].JobID)
			require.Equal(t, pipeline.RoleRoot, js[0].Role)
		}
	})

	t.Run("UnknownJobKind", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindExport)

		_, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, unregisteredArgs{}, nil)
		require.ErrorContains(t, err, "error inserting unregistered job")
	})
}

type unregisteredArgs struct{}

func (unregisteredArgs) Kind() string { return "unregistered" }

// TestLink covers linking a job that a unique insert answered with an
// existing job in some other state (coalescing, docs/jobs.md §2.3).
func TestLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	tests := []struct {
		name       string
		state      rivertype.JobState
		wantState  pipeline.JobState
		wantStatus pipeline.Status
	}{
		{name: "Available", state: rivertype.JobStateAvailable, wantState: pipeline.JobQueued, wantStatus: pipeline.StatusNotStarted},
		// River's cancelled state does not tell a JobCancel with an error
		// from a remote cancel; it is recorded as failed.
		{name: "Cancelled", state: rivertype.JobStateCancelled, wantState: pipeline.JobFailed, wantStatus: pipeline.StatusFailed},
		{name: "Completed", state: rivertype.JobStateCompleted, wantState: pipeline.JobSucceeded, wantStatus: pipeline.StatusSuccess},
		{name: "Discarded", state: rivertype.JobStateDiscarded, wantState: pipeline.JobFailed, wantStatus: pipeline.StatusFailed},
		{name: "Running", state: rivertype.JobStateRunning, wantState: pipeline.JobRunning, wantStatus: pipeline.StatusRunning},
		{name: "Scheduled", state: rivertype.JobStateScheduled, wantState: pipeline.JobQueued, wantStatus: pipeline.StatusNotStarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setupStore(ctx, t)
			p := createPipeline(ctx, t, bundle.tx, pipeline.KindRecalculation)
			job := &rivertype.JobRow{
				ID: 424242, Kind: "emission_recalc", Queue: jobs.QueueCompute,
				State: tt.state, Attempt: 1, MaxAttempts: 3,
			}

			require.NoError(t, pipeline.Link(ctx, bundle.tx, p.ID, job, pipeline.RoleRoot))

			got, js := getPipeline(ctx, t, bundle.tx, p.ID)
			require.Len(t, js, 1)
			require.Equal(t, string(tt.wantState), js[0].State)
			require.Equal(t, "emission_recalc", js[0].Kind)
			require.Equal(t, jobs.QueueCompute, js[0].Queue)
			require.Equal(t, int32(3), js[0].MaxAttempts)
			require.Equal(t, string(tt.wantStatus), got.Status)
			require.Equal(t, tt.wantStatus.Terminal(), got.FinishedAt != nil)
		})
	}

	t.Run("TwiceKeepsOneLink", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindRecalculation)
		job := &rivertype.JobRow{ID: 7, Kind: "emission_recalc", Queue: jobs.QueueCompute, State: rivertype.JobStateAvailable, MaxAttempts: 3}

		require.NoError(t, pipeline.Link(ctx, bundle.tx, p.ID, job, pipeline.RoleRoot))
		require.NoError(t, pipeline.Link(ctx, bundle.tx, p.ID, job, pipeline.RoleRoot))

		got, js := getPipeline(ctx, t, bundle.tx, p.ID)
		require.Len(t, js, 1)
		require.Equal(t, int32(1), got.JobCount)
		require.Equal(t, int64(3), got.Version)
	})
}

func TestLinkChildrenTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("EveryPipelineOfParent", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		first := createPipeline(ctx, t, bundle.tx, pipeline.KindRecalculation)
		second := createPipeline(ctx, t, bundle.tx, pipeline.KindFactorEdit)
		unrelated := createPipeline(ctx, t, bundle.tx, pipeline.KindFXManual)

		parent, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, first.ID, &jobs.NoopArgs{SleepMS: 1}, nil)
		require.NoError(t, err)
		require.NoError(t, pipeline.Link(ctx, bundle.tx, second.ID, parent, pipeline.RoleRoot)) // coalesced
		_, err = pipeline.InsertTx(ctx, bundle.client, bundle.tx, unrelated.ID, &jobs.NoopArgs{SleepMS: 3}, nil)
		require.NoError(t, err)

		child, err := bundle.client.InsertTx(ctx, bundle.tx, &jobs.NoopArgs{SleepMS: 2}, nil)
		require.NoError(t, err)
		require.NoError(t, pipeline.LinkChildrenTx(ctx, bundle.tx, parent.ID, child.Job))

		for _, id := range []uuid.UUID{first.ID, second.ID} {
			got, js := getPipeline(ctx, t, bundle.tx, id)
			require.Equal(t, int32(2), got.JobCount)
			require.Len(t, js, 2)
			require.Equal(t, parent.ID, js[0].JobID)
			require.Equal(t, pipeline.RoleRoot, js[0].Role)
			require.Equal(t, child.Job.ID, js[1].JobID)
			require.Equal(t, pipeline.RoleChild, js[1].Role)
			require.Equal(t, string(pipeline.JobQueued), js[1].State)
		}
		got, js := getPipeline(ctx, t, bundle.tx, unrelated.ID)
		require.Equal(t, int32(1), got.JobCount)
		require.Len(t, js, 1)
	})

	t.Run("ParentWithoutPipeline", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		child, err := bundle.client.InsertTx(ctx, bundle.tx, &jobs.NoopArgs{}, nil)
		require.NoError(t, err)
		require.NoError(t, pipeline.LinkChildrenTx(ctx, bundle.tx, 999999, child.Job))

		ids, err := dbsqlc.New(bundle.tx).PipelineIDsByJob(ctx, child.Job.ID)
		require.NoError(t, err)
		require.Empty(t, ids)
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("MissingPipeline", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)

		_, err := pipeline.Refresh(ctx, bundle.tx, uuid.New(), testNow)
		require.Error(t, err)
	})

	t.Run("RecomputesFromJobs", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindDataUpload)
		job, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{}, nil)
		require.NoError(t, err)

		// What the middleware does at job start.
		_, err = dbsqlc.New(bundle.tx).PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: 1, JobID: job.ID})
		require.NoError(t, err)
		_, err = pipeline.Refresh(ctx, bundle.tx, p.ID, testNow)
		require.NoError(t, err)

		got, js := getPipeline(ctx, t, bundle.tx, p.ID)
		require.Equal(t, string(pipeline.StatusRunning), got.Status)
		require.NotNil(t, got.StartedAt)
		require.Equal(t, js[0].StartedAt, got.StartedAt)
		require.Nil(t, got.FinishedAt)
		require.Equal(t, string(pipeline.JobRunning), js[0].State)
		require.Equal(t, int32(1), js[0].Attempt)
	})

	t.Run("VersionIncrements", func(t *testing.T) {
		t.Parallel()
		bundle := setupStore(ctx, t)
		p := createPipeline(ctx, t, bundle.tx, pipeline.KindExport)
		require.Equal(t, int64(1), p.Version)

		for want := int64(2); want <= 4; want++ {
			version, err := pipeline.Refresh(ctx, bundle.tx, p.ID, testNow)
			require.NoError(t, err)
			require.Equal(t, want, version)
			got, _ := getPipeline(ctx, t, bundle.tx, p.ID)
			require.Equal(t, want, got.Version)
		}
	})
}

func TestFinishTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type rowError struct {
		Row     int    `json:"row"`
		Message string `json:"message"`
	}
	tests := []struct {
		name           string
		result         pipeline.Result
		wantStatus     pipeline.Status
		wantCounters   string
		wantRowErrors  string
		wantErrorTotal int32
	}{
		{
			name: "PartialWhenRowsSkipped",
			result: pipeline.Result{
				Counters:       map[string]any{"rows_total": 40, "rows_loaded": 38, "rows_skipped": 2},
				RowErrors:      []rowError{{Row: 3, Message: "unknown unit"}, {Row: 9, Message: "negative amount"}},
				RowErrorsTotal: 2,
				Message:        "38 rows loaded, 2 skipped",
			},
			wantStatus:     pipeline.StatusPartial,
			wantCounters:   `{"rows_total": 40, "rows_loaded": 38, "rows_skipped": 2}`,
			wantRowErrors:  `[{"row": 3, "message": "unknown unit"}, {"row": 9, "message": "negative amount"}]`,
			wantErrorTotal: 2,
		},
		{
			name: "Success",
			result: pipeline.Result{
				Counters: map[string]any{"rows_total": 40, "rows_loaded": 40, "rows_skipped": 0, "note": "ignored"},
				Message:  "40 rows loaded",
			},
			wantStatus:    pipeline.StatusSuccess,
			wantCounters:  `{"rows_total": 40, "rows_loaded": 40, "rows_skipped": 0}`,
			wantRowErrors: `[]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setupStore(ctx, t)
			p := createPipeline(ctx, t, bundle.tx, pipeline.KindDataUpload)
			job, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{}, nil)
			require.NoError(t, err)
			_, err = dbsqlc.New(bundle.tx).PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: 1, JobID: job.ID})
			require.NoError(t, err)

			require.NoError(t, pipeline.FinishTx(ctx, bundle.tx, job.ID, tt.result))

			got, js := getPipeline(ctx, t, bundle.tx, p.ID)
			require.Equal(t, string(tt.wantStatus), got.Status)
			require.Equal(t, int32(100), got.Percent)
			require.JSONEq(t, tt.wantCounters, string(got.Counters))
			require.NotNil(t, got.FinishedAt)
			require.Nil(t, got.LastError)
			require.Zero(t, got.FailedJobCount)
			require.Len(t, js, 1)
			require.Equal(t, string(pipeline.JobSucceeded), js[0].State)
			require.NotNil(t, js[0].FinishedAt)
			require.Equal(t, new(tt.result.Message), js[0].Message)
			require.JSONEq(t, tt.wantRowErrors, string(js[0].RowErrors))
			require.Equal(t, tt.wantErrorTotal, js[0].RowErrorsTotal)

			var result map[string]any
			require.NoError(t, json.Unmarshal(js[0].Result, &result))
			require.Len(t, result, len(tt.result.Counters), "the stored result keeps every member")

			// A second finish (the middleware's, after the job returns) is
			// a no-op: the job is already terminal.
			require.NoError(t, pipeline.FinishTx(ctx, bundle.tx, job.ID, pipeline.Result{Message: "again"}))
			again, js := getPipeline(ctx, t, bundle.tx, p.ID)
			require.Equal(t, got.Version, again.Version)
			require.Equal(t, new(tt.result.Message), js[0].Message)
		})
	}
}

func TestToView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bundle := setupStore(ctx, t)

	p, err := pipeline.Create(ctx, bundle.tx, pipeline.CreateParams{
		Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser, Year: new(int32(2025)), CreatedBy: new(int64(4)),
	})
	require.NoError(t, err)
	job, err := pipeline.InsertTx(ctx, bundle.client, bundle.tx, p.ID, &jobs.NoopArgs{}, nil)
	require.NoError(t, err)

	v := pipeline.ToView(getPipeline(ctx, t, bundle.tx, p.ID))
	require.Equal(t, p.ID, v.ID)
	require.Equal(t, "NOT_STARTED", v.Status)
	require.Equal(t, &pipeline.UserRef{ID: 4}, v.CreatedBy)
	require.Equal(t, pipeline.ProgressView{
		Phase: "validate", PhaseIndex: 1, PhasesTotal: 4, PhaseLabel: "Validating rows",
		Message: "Waiting for a worker",
	}, v.Progress)
	require.Len(t, v.Jobs, 1)
	require.Equal(t, job.ID, v.Jobs[0].JobID)
	require.Equal(t, "queued", v.Jobs[0].State)
	require.Equal(t, int64(2), v.Version)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, key := range []string{"id", "kind", "status", "cancelled", "trigger", "year", "module", "submodule", "unit_id", "upload_id", "export_id", "created_by", "created_at", "started_at", "finished_at", "progress", "counters", "last_error", "jobs", "version"} {
		require.Contains(t, m, key)
	}
}
