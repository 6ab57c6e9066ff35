package fleet

import (
	"context"
	"fmt"
	"log/slog"
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
	// ops page lists it as not live for an hour, api.md §10).
	DefaultForgetAfter = time.Hour

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
}

// Reaper hands back the running jobs of dead workers. Every worker runs
// one (a single cheap UPDATE per run); concurrent reapers skip each other's
// rows.
type Reaper struct {
	db     postgres.TxBeginner
	logger *slog.Logger
	cfg    ReaperConfig
}

// NewReaper returns the reaper of worker cfg.Self.
func NewReaper(db postgres.TxBeginner, logger *slog.Logger, cfg ReaperConfig) *Reaper {
	if cfg.Interval <= 0 {
		cfg.Interval = min(max(cfg.DeadAfter/4, 10*time.Millisecond), MaxReapInterval)
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = DefaultForgetAfter
	}
	return &Reaper{db: db, logger: logger, cfg: cfg}
}

// Reaped is a job handed back by the reaper.
type Reaped struct {
	JobID       int64
	Kind        string
	State       rivertype.JobState // available, discarded or cancelled
	Attempt     int
	MaxAttempts int
	WorkerID    string        // the dead worker
	SilentFor   time.Duration // since its last sign of life
}

// Reason is the message recorded in the job's pipelines.
func (r Reaped) Reason() string {
	return fmt.Sprintf("worker %s died (no sign of life for %s)", r.WorkerID, r.SilentFor.Round(time.Second))
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
// and records each in its pipelines, then forgets long-dead workers.
func (r *Reaper) RunOnce(ctx context.Context) ([]Reaped, error) {
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
					SilentFor: time.Duration(row.SilentSecs * float64(time.Second)),
				}
				if err := pipeline.RecordRescueTx(ctx, tx, pipeline.Rescue{
					JobID: j.JobID, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, State: j.State, Reason: j.Reason(),
				}, time.Now()); err != nil {
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
