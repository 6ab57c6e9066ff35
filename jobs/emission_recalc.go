package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"golang.org/x/sync/errgroup"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// EmissionRecalcArgs recomputes the emissions of one module-year
// (docs/jobs.md §4.4).
type EmissionRecalcArgs struct {
	Year   int    `json:"year"   river:"unique"`
	Module string `json:"module" river:"unique"`
}

// Kind implements river.JobArgs.
func (EmissionRecalcArgs) Kind() string { return "emission_recalc" }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by (year,
// module) (coalescing, docs/jobs.md §2.3).
func (EmissionRecalcArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue: QueueCompute, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: coalescingStates},
	}
}

// RecalcBatch is the number of entries recomputed per transaction.
const RecalcBatch = 5000

// EmissionRecalcWorker works EmissionRecalcArgs.
type EmissionRecalcWorker struct {
	river.WorkerDefaults[EmissionRecalcArgs]

	DB        postgres.DB
	Logger    *slog.Logger
	Now       func() time.Time
	BatchSize int // default RecalcBatch
	Parallel  int // batches at once, default RecalcParallel (1 when DB is a transaction)
}

// Timeout implements river.Worker.
func (w *EmissionRecalcWorker) Timeout(*river.Job[EmissionRecalcArgs]) time.Duration {
	return 30 * time.Minute
}

// Work recomputes every entry of the module-year, by id, in batches (each
// in its own transaction under the module-year lock), marks touched report
// modules dirty and flags validated ones whose kg changed (D6: the status
// is kept), then records recalc_done_seq = seq0, applies the follow-up rule
// and chains an aggregate of the year in the completion transaction.
// Closed years are skipped. Re-running is harmless (pure engine).
func (w *EmissionRecalcWorker) Work(ctx context.Context, job *river.Job[EmissionRecalcArgs]) error {
	year := int32(job.Args.Year)
	module := emission.ModuleKey(job.Args.Module)
	if _, ok := emission.LookupModule(module); !ok {
		return river.JobCancel(fmt.Errorf("unknown module %q", module))
	}
	q := dbsqlc.New(w.DB)
	y, err := years.Get(ctx, q, year)
	if err != nil {
		return failure(err)
	}
	if err := years.Allow(y.Year, years.Status(y.Status), years.OpRecalc); err != nil {
		return w.complete(ctx, job, pipeline.Result{
			Counters: map[string]any{"entries_computed": 0, "calc_issues": 0},
			Message:  fmt.Sprintf("year %d is closed: recalculation skipped", year),
		}, nil)
	}

	var seq0 int64
	st, err := q.ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: year, Module: string(module)})
	switch {
	case err == nil:
		seq0 = st.RecalcRequestedSeq
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("error reading module_year_state: %w", err)
	}
	lk, err := calc.LoadLookup(ctx, w.DB, int(year), module)
	if lk == nil {
		return err
	}
	if err != nil && w.Logger != nil {
		w.Logger.WarnContext(ctx, "recalculation with some invalid factors", slog.String("error", err.Error()))
	}
	total, err := q.EntriesCountByYearModule(ctx, dbsqlc.EntriesCountByYearModuleParams{Year: year, Module: string(module)})
	if err != nil {
		return fmt.Errorf("error counting entries: %w", err)
	}
	rep := pipeline.ReporterFrom(ctx)
	rep.Progress(ctx, "recalculate", 0, total, fmt.Sprintf("Recalculating %d entries", total))

	done, issues, err := w.recalculate(ctx, year, module, lk, func(done int64) {
		rep.Progress(ctx, "recalculate", done, max(total, done), fmt.Sprintf("Recalculated %d of %d entries", done, max(total, done)))
	})
	if err != nil {
		return err
	}
	return w.complete(ctx, job, pipeline.Result{
		Counters: map[string]any{"entries_computed": done, "calc_issues": issues},
		Message:  fmt.Sprintf("%d entries recalculated, %d with issues", done, issues),
	}, &seq0)
}

// RecalcParallel is the number of batches of one recalculation computed
// and written at once: on two cores, one batch's engine work in Go overlaps
// the other's database writes.
const RecalcParallel = 2

// recalculate runs the batches of a module-year, each in its own
// transaction: the bounds of the next batch are read in id order and the
// batches run Parallel (default RecalcParallel) at a time, each under the
// module-year lock in shared mode (they write disjoint entries; every other
// writer of the module-year takes the lock exclusively). progress is called
// after each batch with the number of entries done so far. It returns the
// entries computed and the calc issues. A failed batch stops the others;
// the job's retry recomputes everything (idempotent).
func (w *EmissionRecalcWorker) recalculate(ctx context.Context, year int32, module emission.ModuleKey, lk *emission.Lookup,
	progress func(done int64),
) (int64, int64, error) {
	batchSize := w.BatchSize
	if batchSize <= 0 {
		batchSize = RecalcBatch
	}
	par := w.Parallel
	if par <= 0 {
		par = RecalcParallel
	}
	now := nowFunc(w.Now)()
	q := dbsqlc.New(w.DB)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	// run starts a batch in the group, or runs it inline when DB is a
	// transaction (tests): that is one connection, so the bounds and the
	// batches then run one after the other.
	_, inline := w.DB.(pgx.Tx)
	var inlineErr error
	run := func(f func() error) {
		if !inline {
			g.Go(f)
		} else if inlineErr == nil {
			inlineErr = f()
		}
	}
	var (
		mu           sync.Mutex
		done, issues int64
	)
	after := int64(0)
	for gctx.Err() == nil && inlineErr == nil {
		last, err := q.RecalcBatchEnd(gctx, dbsqlc.RecalcBatchEndParams{Year: year, Module: string(module), AfterID: after, Size: int32(batchSize)})
		final := errors.Is(err, pgx.ErrNoRows)
		if err != nil && !final {
			run(func() error { return fmt.Errorf("error reading batch bounds: %w", err) })
			break
		}
		if final {
			last = math.MaxInt64
		}
		lo := after
		run(func() error {
			n, bad, err := w.batch(gctx, year, module, lk, lo, last, now)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			done, issues = done+int64(n), issues+bad
			progress(done)
			return nil
		})
		if final {
			break
		}
		after = last
	}
	err := g.Wait()
	if err == nil {
		err = inlineErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return done, issues, err
}

// batch recomputes the entries after < id <= last of the module-year in its
// own transaction; it returns the number of entries and of calc issues.
func (w *EmissionRecalcWorker) batch(ctx context.Context, year int32, module emission.ModuleKey, lk *emission.Lookup,
	after, last int64, now time.Time,
) (int, int64, error) {
	var n int
	var issues int64
	err := postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		// Asynchronous commit: a batch is idempotent, and the job completes
		// (synchronously, flushing the WAL of every earlier batch) only
		// after its last batch; a crash that loses the tail of committed
		// batches leaves the job running, so River reruns it.
		if err := q.RecalcAsyncCommit(ctx); err != nil {
			return fmt.Errorf("error setting asynchronous commit: %w", err)
		}
		if err := q.RecalcLockModuleYearShared(ctx, report.ModuleYearLockKey(string(module), year)); err != nil {
			return fmt.Errorf("error locking %s/%d: %w", module, year, err)
		}
		read, err := q.RecalcEntriesRange(ctx, dbsqlc.RecalcEntriesRangeParams{
			Year: year, Module: string(module), AfterID: after, LastID: last,
		})
		if err != nil {
			return fmt.Errorf("error reading entries: %w", err)
		}
		if n = len(read); n == 0 {
			return nil
		}
		// The columns the engine and RecomputeAndStore read.
		entries := make([]dbsqlc.DataEntry, n)
		for i, r := range read {
			entries[i] = dbsqlc.DataEntry{ID: r.ID, ReportModuleID: r.ReportModuleID, Submodule: r.Submodule, Data: r.Data,
				KgOverride: r.KgOverride, KgCo2eq: r.KgCo2eq, RowEmissionType: r.RowEmissionType}
		}
		computed, err := calc.RecomputeAndStore(ctx, tx, lk, entries, now)
		if err != nil {
			return err
		}
		oldKg, newKg := map[int64]float64{}, map[int64]float64{}
		var order []int64
		for i := range entries {
			rm := entries[i].ReportModuleID
			if _, seen := oldKg[rm]; !seen {
				order = append(order, rm)
			}
			oldKg[rm] += entries[i].KgCo2eq
			newKg[rm] += float64(computed[i].Outcome.Kg)
			if s := computed[i].Outcome.Status; s != emission.StatusOK && s != emission.StatusOverride {
				issues++
			}
		}
		var changed, unchanged []int64
		for _, rm := range order {
			if kgChanged(oldKg[rm], newKg[rm]) {
				changed = append(changed, rm)
			} else {
				unchanged = append(unchanged, rm)
			}
		}
		if err := q.RecalcLockReportModules(ctx, order); err != nil {
			return fmt.Errorf("error locking report modules: %w", err)
		}
		if len(changed) > 0 {
			if _, err := q.ReportModulesMarkRecomputed(ctx, changed); err != nil {
				return fmt.Errorf("error flagging recomputed modules: %w", err)
			}
		}
		if len(unchanged) > 0 {
			if _, err := q.ReportModulesMarkStatsDirty(ctx, unchanged); err != nil {
				return fmt.Errorf("error marking modules dirty: %w", err)
			}
		}
		return nil
	})
	return n, issues, err
}

// kgChanged reports a relative change above 1e-9 (D6).
func kgChanged(before, after float64) bool {
	d := math.Abs(after - before)
	if d == 0 {
		return false
	}
	return d > 1e-9*math.Max(math.Abs(before), math.Abs(after))
}

// complete runs the final transaction: recalc_done_seq = seq0 (when seq0 is
// set), the follow-up rule, the result, JobCompleteTx and the aggregate of
// the year as a child.
func (w *EmissionRecalcWorker) complete(ctx context.Context, job *river.Job[EmissionRecalcArgs], res pipeline.Result, seq0 *int64) error {
	year := int32(job.Args.Year)
	return postgres.WithTx(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		followUp := false
		if seq0 != nil {
			if err := q.LockModuleYear(ctx, report.ModuleYearLockKey(job.Args.Module, year)); err != nil {
				return fmt.Errorf("error locking %s/%d: %w", job.Args.Module, year, err)
			}
			st, err := q.ModuleYearStateFinish(ctx, dbsqlc.ModuleYearStateFinishParams{Seq: *seq0, Year: year, Module: job.Args.Module})
			switch {
			case err == nil:
				followUp = st.RecalcRequestedSeq > *seq0
			case !errors.Is(err, pgx.ErrNoRows): // no state row: nothing was requested
				return fmt.Errorf("error recording recalculation: %w", err)
			}
		}
		if err := pipeline.FinishTx(ctx, tx, job.ID, res); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("error completing job: %w", err)
		}
		if followUp {
			if err := insertFollowUpTx(ctx, tx, job.JobRow, EmissionRecalcArgs{Year: job.Args.Year, Module: job.Args.Module}); err != nil {
				return err
			}
		}
		if seq0 != nil {
			if err := insertChildTx(ctx, tx, job.JobRow, AggregateArgs{Year: job.Args.Year}); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnqueueRecalc is the calc.RecalcEnqueuer of the API: it inserts the
// coalesced emission_recalc{year, module} linked to the pipeline (a job
// already waiting or running for the module-year is linked instead).
func EnqueueRecalc(client pipeline.Inserter) calc.RecalcEnqueuer {
	return func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, year int32, module emission.ModuleKey) error {
		_, err := pipeline.InsertTx(ctx, client, tx, pipelineID, EmissionRecalcArgs{Year: int(year), Module: string(module)}, nil)
		return err
	}
}
