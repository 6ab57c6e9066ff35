package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Reaper defaults.
const (
	// DefaultDeadAfterBeats is DeadAfter in heartbeat intervals: a worker
	// that missed this many beats in a row is dead.
	DefaultDeadAfterBeats = 3
	// MaxReapInterval bounds the time between two reaper runs.
	MaxReapInterval = 10 * time.Second
	// DefaultForgetAfter is how long the row of a dead worker is kept (the
	// ops page lists it as not live for an hour, docs/api.md §10).
	DefaultForgetAfter = time.Hour
	// DefaultOrphanGrace is how long after its fetch a job that river_job
	// says this worker runs, and that this worker never started, is handed
	// back (a fetched job starts within milliseconds).
	DefaultOrphanGrace = time.Minute

	reapBatch = 500
)

// ReaperConfig configures a Reaper.
type ReaperConfig struct {
	// Self is the id of the worker running the reaper: its own jobs are
	// never reaped, whatever its heartbeat says.
	Self string
	// DeadAfter is how long a worker may give no sign of life (heartbeat,
	// or the fetch of its job when later) before its running jobs are
	// handed back. Keep it several heartbeat intervals long and the same
	// on every worker.
	DeadAfter time.Duration
	// Interval between two runs (0: DeadAfter/4, at most MaxReapInterval).
	Interval time.Duration
	// ForgetAfter is when dead workers' rows are deleted (0:
	// DefaultForgetAfter).
	ForgetAfter time.Duration
	// Tracker, when set, is the middleware that records the jobs this
	// worker (Self) works: the reaper then also hands back Self's own
	// orphans, the jobs river_job says Self runs although Self never
	// started them, once they were fetched OrphanGrace ago.
	Tracker *Tracker
	// OrphanGrace (0: DefaultOrphanGrace).
	OrphanGrace time.Duration
}

// Reaper hands back the running jobs of dead workers and, with a Tracker,
// its own worker's orphans. Every worker runs one (a single cheap UPDATE
// and SELECT per run); concurrent reapers skip each other's rows.
type Reaper struct {
	db     postgres.DB
	logger *slog.Logger
	cfg    ReaperConfig
	now    func() time.Time

	mu sync.Mutex
	// upSince is when the runs started succeeding without interruption
	// (zero after a failed run): orphans are handed back only once the
	// database has answered for OrphanGrace, long enough for River's
	// completer to have written any outcome it held during an outage.
	upSince time.Time
}

// NewReaper returns the reaper of worker cfg.Self.
func NewReaper(db postgres.DB, logger *slog.Logger, cfg ReaperConfig) *Reaper {
	if cfg.Interval <= 0 {
		cfg.Interval = min(max(cfg.DeadAfter/4, 10*time.Millisecond), MaxReapInterval)
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = DefaultForgetAfter
	}
	if cfg.OrphanGrace <= 0 {
		cfg.OrphanGrace = DefaultOrphanGrace
	}
	return &Reaper{db: db, logger: logger, cfg: cfg, now: time.Now}
}

// Reaped is a job handed back by the reaper.
type Reaped struct {
	JobID       int64
	Kind        string
	State       rivertype.JobState // available, discarded or cancelled
	Attempt     int
	MaxAttempts int
	WorkerID    string        // the dead worker, or this worker for an orphan
	SilentFor   time.Duration // since its last sign of life; for an orphan, since its fetch
	// Orphan: the job of this (live) worker, which fetched it and never
	// started it.
	Orphan bool
}

// Reason is the message recorded in the job's pipelines.
func (r Reaped) Reason() string {
	if r.Orphan {
		return fmt.Sprintf("worker %s fetched the job %s ago but never ran it (its database connection probably broke during the fetch)",
			r.WorkerID, r.SilentFor.Round(time.Second))
	}
	return fmt.Sprintf("worker %s died (no sign of life for %s)", r.WorkerID, r.SilentFor.Round(time.Second))
}

// recordTx records the hand-back in the job's pipelines, in tx (the
// transaction that hands the job back).
func (r Reaped) recordTx(ctx context.Context, tx pgx.Tx) error {
	return pipeline.RecordRescueTx(ctx, tx, pipeline.Rescue{
		JobID: r.JobID, Attempt: r.Attempt, MaxAttempts: r.MaxAttempts, State: r.State, Reason: r.Reason(),
	}, time.Now())
}

// Run reaps once at once, then every Interval until ctx ends. Failures are
// logged: the next run retries.
func (r *Reaper) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "reaping jobs of dead workers failed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce hands back, in one transaction, the running jobs of dead workers
// and records each in its pipelines, then forgets long-dead workers; with a
// Tracker, it then hands back this worker's own orphans the same way.
func (r *Reaper) RunOnce(ctx context.Context) ([]Reaped, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reaped, err := r.reapDead(ctx)
	if err == nil && r.cfg.Tracker != nil {
		var orphans []Reaped
		orphans, err = r.reapOrphans(ctx)
		reaped = append(reaped, orphans...)
	}
	if err != nil {
		r.upSince = time.Time{}
	}
	return reaped, err
}

func (r *Reaper) reapDead(ctx context.Context) ([]Reaped, error) {
	reaped, err := postgres.WithTxV(ctx, r.db, func(ctx context.Context, tx pgx.Tx) ([]Reaped, error) {
		q := dbsqlc.New(tx)
		var out []Reaped
		for {
			rows, err := q.FleetReapJobsOfDeadWorkers(ctx, dbsqlc.FleetReapJobsOfDeadWorkersParams{
				Self: r.cfg.Self, DeadAfterSecs: r.cfg.DeadAfter.Seconds(), Max: reapBatch,
			})
			if err != nil {
				return nil, fmt.Errorf("error reaping jobs of dead workers: %w", err)
			}
			for _, row := range rows {
				j := Reaped{
					JobID: row.ID, Kind: row.Kind, State: rivertype.JobState(row.State),
					Attempt: int(row.Attempt), MaxAttempts: int(row.MaxAttempts), WorkerID: row.WorkerID,
					SilentFor: secs(row.SilentSecs),
				}
				if err := j.recordTx(ctx, tx); err != nil {
					return nil, err
				}
				out = append(out, j)
			}
			if len(rows) < reapBatch {
				break
			}
		}
		if _, err := q.FleetForgetDeadWorkers(ctx, dbsqlc.FleetForgetDeadWorkersParams{
			Self: r.cfg.Self, ForgetAfterSecs: r.cfg.ForgetAfter.Seconds(),
		}); err != nil {
			return nil, fmt.Errorf("error forgetting dead workers: %w", err)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range reaped {
		r.logger.WarnContext(ctx, "job of a dead worker handed back",
			slog.Int64("job_id", j.JobID), slog.String("kind", j.Kind), slog.String("state", string(j.State)),
			slog.Int("attempt", j.Attempt), slog.Int("max_attempts", j.MaxAttempts),
			slog.String("dead_worker_id", j.WorkerID), slog.Duration("silent_for", j.SilentFor))
	}
	return reaped, nil
}

// reapOrphans hands back the jobs river_job says this worker runs although
// it never started them. The snapshot of those jobs also tells the tracker
// which returned attempts River has recorded since (they are forgotten).
// The hand-back re-checks each job under its row lock, so a job that River
// fetched again since the snapshot is left alone.
func (r *Reaper) reapOrphans(ctx context.Context) ([]Reaped, error) {
	since := r.now()
	rows, err := dbsqlc.New(r.db).FleetRunningJobsOfWorker(ctx, r.cfg.Self)
	if err != nil {
		return nil, fmt.Errorf("error listing the running jobs of worker %s: %w", r.cfg.Self, err)
	}
	if r.upSince.IsZero() {
		r.upSince = since
	}
	running := make([]RunningJob, len(rows))
	for i, row := range rows {
		running[i] = RunningJob{ID: row.ID, Attempt: int(row.Attempt), FetchedAgo: secs(row.FetchedSecs)}
	}
	r.cfg.Tracker.forget(running, since)
	if since.Sub(r.upSince) < r.cfg.OrphanGrace {
		return nil, nil // the database has not answered for long enough
	}
	orphans := r.cfg.Tracker.orphans(running, r.cfg.OrphanGrace)
	if len(orphans) == 0 {
		return nil, nil
	}
	params := dbsqlc.FleetHandBackOrphansParams{Self: r.cfg.Self, GraceSecs: r.cfg.OrphanGrace.Seconds()}
	for _, j := range orphans {
		params.Ids = append(params.Ids, j.ID)
		params.Attempts = append(params.Attempts, int32(j.Attempt))
	}
	reaped, err := postgres.WithTxV(ctx, r.db, func(ctx context.Context, tx pgx.Tx) ([]Reaped, error) {
		rows, err := dbsqlc.New(tx).FleetHandBackOrphans(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("error handing back orphans of worker %s: %w", r.cfg.Self, err)
		}
		out := make([]Reaped, 0, len(rows))
		for _, row := range rows {
			j := Reaped{
				JobID: row.ID, Kind: row.Kind, State: rivertype.JobState(row.State),
				Attempt: int(row.Attempt), MaxAttempts: int(row.MaxAttempts), WorkerID: r.cfg.Self,
				SilentFor: secs(row.FetchedSecs), Orphan: true,
			}
			if err := j.recordTx(ctx, tx); err != nil {
				return nil, err
			}
			out = append(out, j)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range reaped {
		r.logger.WarnContext(ctx, "orphaned job of this worker handed back",
			slog.Int64("job_id", j.JobID), slog.String("kind", j.Kind), slog.String("state", string(j.State)),
			slog.Int("attempt", j.Attempt), slog.Int("max_attempts", j.MaxAttempts),
			slog.String("worker_id", j.WorkerID), slog.Duration("fetched_ago", j.SilentFor))
	}
	return reaped, nil
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
