package pipeline_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// testNow is the fixed clock of the Derive tests.
var testNow = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// ago returns testNow minus d.
func ago(d time.Duration) *time.Time {
	t := testNow.Add(-d)
	return &t
}

// Job constructors with realistic defaults; mods tweak the result.
func queuedJob(kind, role string) pipeline.Job {
	return pipeline.Job{Kind: kind, Role: role, State: pipeline.JobQueued}
}

func runningJob(kind, role string, started time.Duration, progress pipeline.JobProgress, message string) pipeline.Job {
	return pipeline.Job{
		Kind: kind, Role: role, State: pipeline.JobRunning, StartedAt: ago(started),
		Progress: progress, Message: message,
	}
}

func finishedJob(kind, role string, state pipeline.JobState, started, finished time.Duration) pipeline.Job {
	return pipeline.Job{Kind: kind, Role: role, State: state, StartedAt: ago(started), FinishedAt: ago(finished)}
}

func with(j pipeline.Job, mod func(*pipeline.Job)) pipeline.Job {
	mod(&j)
	return j
}

// TestDeriveStatus covers every row of the status table of docs/jobs.md §2.4 (the
// first matching row wins) and the percent rule tied to the status.
func TestDeriveStatus(t *testing.T) {
	t.Parallel()

	const (
		upload = "upload_import"
		aggr   = "aggregate"
		root   = pipeline.RoleRoot
		child  = pipeline.RoleChild
	)
	loaded := pipeline.JobProgress{Phase: "load", Done: 40, Total: 40}
	uploadSucceeded := with(finishedJob(upload, root, pipeline.JobSucceeded, 60*time.Second, 30*time.Second),
		func(j *pipeline.Job) { j.Progress = loaded })

	tests := []struct {
		name        string
		cancelled   bool
		jobs        []pipeline.Job
		wantStatus  pipeline.Status
		wantPercent int
	}{
		{
			name:        "AllQueued",
			jobs:        []pipeline.Job{queuedJob(upload, root), queuedJob(aggr, child)},
			wantStatus:  pipeline.StatusNotStarted,
			wantPercent: 0,
		},
		{
			name:        "AllSucceeded",
			jobs:        []pipeline.Job{uploadSucceeded, finishedJob(aggr, child, pipeline.JobSucceeded, 20*time.Second, 10*time.Second)},
			wantStatus:  pipeline.StatusSuccess,
			wantPercent: 100,
		},
		{
			name:        "CancelledEvenThoughJobsSucceeded",
			cancelled:   true,
			jobs:        []pipeline.Job{uploadSucceeded, finishedJob(aggr, child, pipeline.JobSucceeded, 20*time.Second, 10*time.Second)},
			wantStatus:  pipeline.StatusFailed,
			wantPercent: 75, // aggregate phase, no progress reported; never 100 when FAILED
		},
		{
			name:        "CancelledWhileJobRunning",
			cancelled:   true,
			jobs:        []pipeline.Job{runningJob(upload, root, 10*time.Second, pipeline.JobProgress{Phase: "load", Done: 20, Total: 40}, "")},
			wantStatus:  pipeline.StatusRunning, // "some job running" matches before "cancelled"
			wantPercent: 62,
		},
		{
			name:        "CancelledWithChildCancelled",
			cancelled:   true,
			jobs:        []pipeline.Job{uploadSucceeded, finishedJob(aggr, child, pipeline.JobCancelled, 20*time.Second, 10*time.Second)},
			wantStatus:  pipeline.StatusFailed,
			wantPercent: 75,
		},
		{
			name:        "ChildCancelled",
			jobs:        []pipeline.Job{uploadSucceeded, finishedJob(aggr, child, pipeline.JobCancelled, 20*time.Second, 10*time.Second)},
			wantStatus:  pipeline.StatusPartial,
			wantPercent: 100,
		},
		{
			name:        "ChildFailed",
			jobs:        []pipeline.Job{uploadSucceeded, finishedJob(aggr, child, pipeline.JobFailed, 20*time.Second, 10*time.Second)},
			wantStatus:  pipeline.StatusPartial,
			wantPercent: 100,
		},
		{
			name: "EveryRootFailedOrCancelled",
			jobs: []pipeline.Job{
				finishedJob(upload, root, pipeline.JobFailed, 60*time.Second, 30*time.Second),
				finishedJob(upload, root, pipeline.JobCancelled, 60*time.Second, 20*time.Second),
				finishedJob(aggr, child, pipeline.JobSucceeded, 20*time.Second, 10*time.Second),
			},
			wantStatus:  pipeline.StatusFailed,
			wantPercent: 75,
		},
		{
			name:        "NoJobs",
			wantStatus:  pipeline.StatusNotStarted,
			wantPercent: 0,
		},
		{
			name:        "OneRetrying",
			jobs:        []pipeline.Job{with(runningJob(upload, root, 10*time.Second, pipeline.JobProgress{Phase: "validate", Done: 50, Total: 100}, ""), func(j *pipeline.Job) { j.State = pipeline.JobRetrying })},
			wantStatus:  pipeline.StatusRunning,
			wantPercent: 12,
		},
		{
			name:        "OneRunning",
			jobs:        []pipeline.Job{runningJob(upload, root, 10*time.Second, pipeline.JobProgress{Phase: "validate", Done: 50, Total: 100}, "")},
			wantStatus:  pipeline.StatusRunning,
			wantPercent: 12,
		},
		{
			name:        "OneStartedOthersQueued",
			jobs:        []pipeline.Job{uploadSucceeded, queuedJob(aggr, child)},
			wantStatus:  pipeline.StatusRunning,
			wantPercent: 75,
		},
		{
			name:        "QueuedAgainAfterStart",
			jobs:        []pipeline.Job{with(queuedJob(upload, root), func(j *pipeline.Job) { j.StartedAt = ago(5 * time.Second) })}, // snoozed
			wantStatus:  pipeline.StatusRunning,
			wantPercent: 0,
		},
		{
			name:        "RowsSkipped",
			jobs:        []pipeline.Job{with(uploadSucceeded, func(j *pipeline.Job) { j.Result = map[string]float64{"rows_loaded": 38, "rows_skipped": 2} })},
			wantStatus:  pipeline.StatusPartial,
			wantPercent: 100,
		},
		{
			name: "RowsSkippedSummedOverJobs",
			jobs: []pipeline.Job{
				with(uploadSucceeded, func(j *pipeline.Job) { j.Result = map[string]float64{"rows_skipped": 0} }),
				with(finishedJob(aggr, child, pipeline.JobSucceeded, 20*time.Second, 10*time.Second), func(j *pipeline.Job) {
					j.Result = map[string]float64{"rows_skipped": 1}
				}),
			},
			wantStatus:  pipeline.StatusPartial,
			wantPercent: 100,
		},
		{
			name:        "RowsSkippedZero",
			jobs:        []pipeline.Job{with(uploadSucceeded, func(j *pipeline.Job) { j.Result = map[string]float64{"rows_loaded": 40, "rows_skipped": 0} })},
			wantStatus:  pipeline.StatusSuccess,
			wantPercent: 100,
		},
		{
			name: "SomeRootFailed",
			jobs: []pipeline.Job{
				finishedJob(upload, root, pipeline.JobFailed, 60*time.Second, 30*time.Second),
				uploadSucceeded,
			},
			wantStatus:  pipeline.StatusPartial,
			wantPercent: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := pipeline.Derive(pipeline.KindDataUpload, tt.cancelled, tt.jobs, testNow)
			require.Equal(t, tt.wantStatus, d.Status)
			require.Equal(t, tt.wantPercent, d.Percent)
			require.Equal(t, len(tt.jobs), d.JobCount)
			require.Equal(t, d.Status.Terminal(), d.FinishedAt != nil, "finished_at is set exactly when terminal")
		})
	}
}

// TestDeriveProgress checks every derived field for representative
// pipelines: the current phase, done/total sums, percent, eta, message,
// counters, last error, job counts and timestamps.
func TestDeriveProgress(t *testing.T) {
	t.Parallel()

	const (
		root  = pipeline.RoleRoot
		child = pipeline.RoleChild
	)
	tests := []struct {
		name      string
		kind      pipeline.Kind
		cancelled bool
		jobs      []pipeline.Job
		want      pipeline.Derived
	}{
		{
			name: "CancelledMessage",
			kind: pipeline.KindDataUpload, cancelled: true,
			jobs: []pipeline.Job{finishedJob("upload_import", root, pipeline.JobCancelled, 10*time.Second, time.Second)},
			want: pipeline.Derived{
				Status: pipeline.StatusFailed, Phase: "aggregate", PhaseIndex: 4, Percent: 75,
				Message: "Cancelled", Counters: map[string]float64{},
				JobCount: 1, FailedJobCount: 1, StartedAt: ago(10 * time.Second), FinishedAt: ago(time.Second),
			},
		},
		{
			// A job's done is counted as its total once it is terminal
			// (here the total was never reported).
			name: "CurrentPhaseSumsJobs",
			kind: pipeline.KindRecalculation,
			jobs: []pipeline.Job{
				with(finishedJob("emission_recalc", root, pipeline.JobSucceeded, 60*time.Second, 30*time.Second), func(j *pipeline.Job) {
					j.Progress = pipeline.JobProgress{Phase: "recalculate", Done: 100}
					j.Result = map[string]float64{"entries_computed": 100}
				}),
				runningJob("emission_recalc", root, 20*time.Second, pipeline.JobProgress{Phase: "recalculate", Done: 30, Total: 100}, "Recalculated 30 of 100 entries"),
				queuedJob("aggregate", child),
			},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "recalculate", PhaseIndex: 1,
				Done: 130, Total: 200, Percent: 32, // floor(100 × (0 + 130/200) / 2)
				ETASeconds: new(33), // 60 s for 130 → 70 left: ceil(32.3)
				Message:    "Recalculated 30 of 100 entries",
				Counters:   map[string]float64{"entries_computed": 100},
				JobCount:   3, StartedAt: ago(60 * time.Second),
			},
		},
		{
			name: "FailedCappedAt99",
			kind: pipeline.KindExport,
			jobs: []pipeline.Job{with(finishedJob("export", root, pipeline.JobFailed, 10*time.Second, 2*time.Second), func(j *pipeline.Job) {
				j.Progress = pipeline.JobProgress{Phase: "store", Done: 10, Total: 10}
				j.Message = "disk full"
			})},
			want: pipeline.Derived{
				Status: pipeline.StatusFailed, Phase: "store", PhaseIndex: 3, Done: 10, Total: 10, Percent: 99,
				Message: "Failed", Counters: map[string]float64{}, LastError: "disk full",
				JobCount: 1, FailedJobCount: 1, StartedAt: ago(10 * time.Second), FinishedAt: ago(2 * time.Second),
			},
		},
		{
			name: "FinishedAtDefaultsToNow",
			kind: pipeline.KindRecalculation,
			jobs: []pipeline.Job{with(queuedJob("emission_recalc", root), func(j *pipeline.Job) {
				j.State, j.StartedAt = pipeline.JobSucceeded, ago(3*time.Second)
			})},
			want: pipeline.Derived{
				Status: pipeline.StatusSuccess, Phase: "aggregate", PhaseIndex: 2, Percent: 100,
				Message: "Completed", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(3 * time.Second), FinishedAt: &testNow,
			},
		},
		{
			// last_error is the message of the earliest failure, whatever the
			// order of the jobs; a failure without a message is skipped.
			name: "FirstFailureIsLastError",
			kind: pipeline.KindFactorUpload,
			jobs: []pipeline.Job{
				with(finishedJob("factor_import", root, pipeline.JobSucceeded, 100*time.Second, 80*time.Second), func(j *pipeline.Job) {
					j.Progress = pipeline.JobProgress{Phase: "import", Done: 10, Total: 10}
					j.Result = map[string]float64{"rows_total": 10, "rows_loaded": 10}
				}),
				with(finishedJob("emission_recalc", child, pipeline.JobFailed, 70*time.Second, 5*time.Second), func(j *pipeline.Job) {
					j.Message = "later failure"
					j.Result = map[string]float64{"entries_computed": 5}
				}),
				with(finishedJob("emission_recalc", child, pipeline.JobFailed, 70*time.Second, 20*time.Second), func(j *pipeline.Job) {
					j.Message = "earlier failure"
					j.Result = map[string]float64{"entries_computed": 7, "calc_issues": 1}
				}),
				finishedJob("emission_recalc", child, pipeline.JobCancelled, 70*time.Second, 30*time.Second),
			},
			want: pipeline.Derived{
				Status: pipeline.StatusPartial, Phase: "aggregate", PhaseIndex: 3, Percent: 100,
				Message:   "Completed with errors",
				Counters:  map[string]float64{"rows_total": 10, "rows_loaded": 10, "entries_computed": 12, "calc_issues": 1},
				LastError: "earlier failure", JobCount: 4, FailedJobCount: 3,
				StartedAt: ago(100 * time.Second), FinishedAt: ago(5 * time.Second),
			},
		},
		{
			name: "MultiPhaseJobDone",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{with(finishedJob("upload_import", root, pipeline.JobSucceeded, 60*time.Second, 5*time.Second), func(j *pipeline.Job) {
				j.Progress = pipeline.JobProgress{Phase: "load", Done: 40, Total: 40}
				j.Result = map[string]float64{"rows_total": 40, "rows_loaded": 40}
			})},
			want: pipeline.Derived{
				// aggregate has no job: complete once every job is terminal.
				Status: pipeline.StatusSuccess, Phase: "aggregate", PhaseIndex: 4, Percent: 100,
				Message: "Completed", Counters: map[string]float64{"rows_total": 40, "rows_loaded": 40},
				JobCount: 1, StartedAt: ago(60 * time.Second), FinishedAt: ago(5 * time.Second),
			},
		},
		{
			name: "MultiPhaseJobLoading",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{runningJob("upload_import", root, 10*time.Second, pipeline.JobProgress{Phase: "load", Done: 10, Total: 40}, "Loaded 10 of 40 rows")},
			want: pipeline.Derived{
				// The job went from validate straight to load (nothing to
				// replace): replace counts as complete.
				Status: pipeline.StatusRunning, Phase: "load", PhaseIndex: 3, Done: 10, Total: 40,
				Percent:    56,      // floor(100 × (2 + 10/40) / 4)
				ETASeconds: new(30), // 10 s for 10 → 30 left
				Message:    "Loaded 10 of 40 rows", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(10 * time.Second),
			},
		},
		{
			name: "MultiPhaseJobReplacing",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{runningJob("upload_import", root, 10*time.Second, pipeline.JobProgress{Phase: "replace", Done: 20000, Total: 50000}, "Removed 20000 of 50000 previous rows")},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "replace", PhaseIndex: 2, Done: 20000, Total: 50000,
				Percent:    35,      // floor(100 × (1 + 0.4) / 4)
				ETASeconds: new(15), // 10 s for 20 000 → 30 000 left
				Message:    "Removed 20000 of 50000 previous rows", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(10 * time.Second),
			},
		},
		{
			name: "MultiPhaseJobValidating",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{runningJob("upload_import", root, 10*time.Second, pipeline.JobProgress{Phase: "validate", Done: 1200, Total: 50000}, "Validated 1 200 of 50 000 rows")},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "validate", PhaseIndex: 1, Done: 1200, Total: 50000,
				Percent:    0,        // floor(100 × 0.024 / 4)
				ETASeconds: new(407), // ceil(10 / 1200 × 48800)
				Message:    "Validated 1 200 of 50 000 rows", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(10 * time.Second),
			},
		},
		{
			name: "NoJobs",
			kind: pipeline.KindDataUpload,
			want: pipeline.Derived{
				Status: pipeline.StatusNotStarted, Phase: "validate", PhaseIndex: 1, Percent: 0,
				Message: "Waiting for a worker", Counters: map[string]float64{},
			},
		},
		{
			name: "NotStarted",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{queuedJob("upload_import", root)},
			want: pipeline.Derived{
				Status: pipeline.StatusNotStarted, Phase: "validate", PhaseIndex: 1, Percent: 0,
				Message: "Waiting for a worker", Counters: map[string]float64{}, JobCount: 1,
			},
		},
		{
			// A phase no job reports is not complete while some job runs.
			name: "PhaseWithoutJobIncompleteWhileJobsRun",
			kind: pipeline.KindRecalculation,
			jobs: []pipeline.Job{runningJob("aggregate", child, 5*time.Second, pipeline.JobProgress{Phase: "aggregate", Done: 1, Total: 4}, "Refreshed 1 of 4 modules")},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "recalculate", PhaseIndex: 1, Percent: 0,
				Message: "Recalculating emissions", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(5 * time.Second),
			},
		},
		{
			name: "RunningCappedAt99",
			kind: pipeline.KindExport,
			jobs: []pipeline.Job{runningJob("export", root, 4*time.Second, pipeline.JobProgress{Phase: "store", Done: 10, Total: 10}, "Stored 10 of 10 parts")},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "store", PhaseIndex: 3, Done: 10, Total: 10, Percent: 99,
				Message: "Stored 10 of 10 parts", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(4 * time.Second),
			},
		},
		{
			name: "TotalUnknown",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{runningJob("upload_import", root, 5*time.Second, pipeline.JobProgress{Phase: "validate", Done: 500}, "")},
			want: pipeline.Derived{
				// Fraction 0 and no eta when the total is unknown; the
				// message falls back to the phase label.
				Status: pipeline.StatusRunning, Phase: "validate", PhaseIndex: 1, Done: 500, Percent: 0,
				Message: "Validating rows", Counters: map[string]float64{},
				JobCount: 1, StartedAt: ago(5 * time.Second),
			},
		},
		{
			name: "WaitingForQueuedChild",
			kind: pipeline.KindDataUpload,
			jobs: []pipeline.Job{
				with(finishedJob("upload_import", root, pipeline.JobSucceeded, 60*time.Second, 30*time.Second), func(j *pipeline.Job) {
					j.Progress = pipeline.JobProgress{Phase: "load", Done: 40, Total: 40}
				}),
				queuedJob("aggregate", child),
			},
			want: pipeline.Derived{
				Status: pipeline.StatusRunning, Phase: "aggregate", PhaseIndex: 4, Percent: 75,
				Message: "Refreshing statistics", Counters: map[string]float64{},
				JobCount: 2, StartedAt: ago(60 * time.Second),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := pipeline.Derive(tt.kind, tt.cancelled, tt.jobs, testNow)
			require.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestDerivedCountersJSON(t *testing.T) {
	t.Parallel()

	d := pipeline.Derive(pipeline.KindDataUpload, false, []pipeline.Job{
		{Kind: "upload_import", Role: pipeline.RoleRoot, State: pipeline.JobSucceeded, Result: map[string]float64{"rows_loaded": 3}},
		{Kind: "aggregate", Role: pipeline.RoleChild, State: pipeline.JobSucceeded, Result: map[string]float64{"modules_refreshed": 2}},
	}, testNow)
	require.JSONEq(t, `{"rows_loaded": 3, "modules_refreshed": 2}`, string(d.CountersJSON()))

	empty := pipeline.Derive(pipeline.KindDataUpload, false, nil, testNow)
	require.JSONEq(t, `{}`, string(empty.CountersJSON()))
}

func TestKind(t *testing.T) {
	t.Parallel()

	t.Run("PhasesAreACopy", func(t *testing.T) {
		t.Parallel()
		phases := pipeline.KindDataUpload.Phases()
		require.Equal(t, []string{"validate", "replace", "load", "aggregate"}, phases)
		phases[0] = "mutated"
		require.Equal(t, []string{"validate", "replace", "load", "aggregate"}, pipeline.KindDataUpload.Phases())
	})

	t.Run("PhasesOfEveryKind", func(t *testing.T) {
		t.Parallel()
		want := map[pipeline.Kind][]string{
			pipeline.KindAccredSync:      {"fetch", "upsert", "reports"},
			pipeline.KindDataUpload:      {"validate", "replace", "load", "aggregate"},
			pipeline.KindECBSync:         {"fetch", "recalculate", "aggregate"},
			pipeline.KindExport:          {"query", "render", "store"},
			pipeline.KindFXManual:        {"recalculate", "aggregate"},
			pipeline.KindFactorCompute:   {"import", "recalculate", "aggregate"},
			pipeline.KindFactorEdit:      {"recalculate", "aggregate"},
			pipeline.KindFactorUpload:    {"import", "recalculate", "aggregate"},
			pipeline.KindRecalculation:   {"recalculate", "aggregate"},
			pipeline.KindReferenceUpload: {"import", "recalculate", "aggregate"},
			pipeline.KindTableauSync:     {"fetch", "load", "aggregate"},
			pipeline.KindYearSetup:       {"fetch", "upsert", "reports"},
		}
		for kind, phases := range want {
			require.True(t, kind.Valid(), kind)
			require.Equal(t, phases, kind.Phases(), kind)
			for _, ph := range phases {
				require.NotEmpty(t, pipeline.PhaseLabel(ph), ph)
			}
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		require.False(t, pipeline.Kind("bogus").Valid())
		require.Nil(t, pipeline.Kind("bogus").Phases())
	})
}

func TestTerminal(t *testing.T) {
	t.Parallel()

	t.Run("JobState", func(t *testing.T) {
		t.Parallel()
		for state, want := range map[pipeline.JobState]bool{
			pipeline.JobCancelled: true, pipeline.JobFailed: true, pipeline.JobQueued: false,
			pipeline.JobRetrying: false, pipeline.JobRunning: false, pipeline.JobSucceeded: true,
		} {
			require.Equal(t, want, state.Terminal(), state)
		}
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		for status, want := range map[pipeline.Status]bool{
			pipeline.StatusFailed: true, pipeline.StatusNotStarted: false, pipeline.StatusPartial: true,
			pipeline.StatusRunning: false, pipeline.StatusSuccess: true,
		} {
			require.Equal(t, want, status.Terminal(), status)
		}
	})
}
