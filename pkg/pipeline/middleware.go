package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Middleware is the River worker middleware that keeps pipelines up to date
// (docs/jobs.md §2.2). It records the start of every attempt, puts a progress
// Reporter in the context, and records the outcome: success, retry, failure
// or cancellation. Bookkeeping problems are logged and never fail the job.
//
// The outcome of an attempt that failed because the database went away
// cannot be recorded at once: the middleware retries for about
// FinishRetryBudget before it gives up (River cannot record the attempt
// either while the database is down, so nothing waits for it). An attempt
// that follows a failed one shows why the previous one failed, from the
// errors River recorded: "retrying after attempt 1 of 3 failed: …" until
// the job reports progress, then after each progress message.
type Middleware struct {
	river.MiddlewareDefaults

	pool   postgres.TxBeginner
	logger *slog.Logger
	// autoCreate maps job kinds that get a pipeline of their own when they
	// start with no link (a periodic run) to that pipeline's kind.
	autoCreate map[string]Kind
	now        func() time.Time
	// retryDelays are the waits between the tries of the end bookkeeping
	// while the database does not answer; wait waits (tests record).
	retryDelays []time.Duration
	wait        func(time.Duration)
	// onFailure are the hooks of OnFinalFailure, by job kind.
	onFailure map[string]FailureHook
}

// FailureHook is a domain consequence of a job's final failure, run in the
// transaction that records it (docs/jobs.md §2.2): River discarded the job
// after its last attempt, or cancelled it (JobCancel, a remote cancel).
// message is the failure recorded on the job's pipelines. A year whose
// setup job failed goes to setup_failed this way (docs/jobs.md §4.8).
type FailureHook func(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, message string) error

// OnFinalFailure registers hooks by job kind and returns m.
func (m *Middleware) OnFinalFailure(hooks map[string]FailureHook) *Middleware {
	m.onFailure = hooks
	return m
}

// FinishRetryBudget is about how long the middleware keeps trying to record
// the outcome of an attempt while the database does not answer: the
// attempt's worker slot stays taken meanwhile (River could not record the
// attempt either). Keep it well below WORKER_DEAD_AFTER.
const FinishRetryBudget = 12 * time.Second

// finishRetryDelays: 250 ms doubling to 4 s, about FinishRetryBudget in all.
var finishRetryDelays = []time.Duration{
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second,
}

// NewMiddleware builds the middleware. autoCreate lists the job kinds whose
// unlinked (scheduled) runs create their own pipeline.
func NewMiddleware(pool *pgxpool.Pool, logger *slog.Logger, autoCreate map[string]Kind) *Middleware {
	return newMiddleware(pool, logger, autoCreate)
}

func newMiddleware(db postgres.TxBeginner, logger *slog.Logger, autoCreate map[string]Kind) *Middleware {
	return &Middleware{pool: db, logger: logger, autoCreate: autoCreate, now: time.Now,
		retryDelays: finishRetryDelays, wait: backoff}
}

// backoff waits d between two tries of the end bookkeeping. There is no
// signal to await: the outcome of a cancelled attempt (job context done) is
// recorded too.
func backoff(d time.Duration) { <-time.After(d) }

var _ rivertype.WorkerMiddleware = (*Middleware)(nil)

// Work wraps one job attempt.
func (m *Middleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	note := retryNote(job)
	// Like the end, the start is recorded whatever happens to the job's
	// context meanwhile (a cancel arriving during the commit would leave a
	// committed start reported as failed).
	if err := m.start(context.WithoutCancel(ctx), job, note); err != nil {
		m.logger.ErrorContext(ctx, "pipeline bookkeeping failed at job start",
			slog.Int64("job_id", job.ID), slog.String("kind", job.Kind), slog.String("error", err.Error()))
	}
	rep := newReporter(m.pool, m.logger, job.ID, m.now)
	rep.note = note
	defer func() {
		// River turns a panic into a failed attempt; record it the same way
		// (or the link stays `running` forever), then let River see it.
		if r := recover(); r != nil {
			m.end(ctx, job, rep, fmt.Errorf("panic: %v", r))
			panic(r)
		}
	}()
	err := doInner(withReporter(ctx, rep))
	m.end(ctx, job, rep, err)
	return err
}

// end flushes the last progress and records the outcome of an attempt.
func (m *Middleware) end(ctx context.Context, job *rivertype.JobRow, rep *Reporter, workErr error) {
	// Why the job's context ended (remote cancel, client shutdown) is only
	// known here: it is lost with WithoutCancel.
	cause := context.Cause(ctx)
	ctx = context.WithoutCancel(ctx)
	rep.flush(ctx)
	for try := 0; ; try++ {
		err := m.finish(ctx, job, workErr, cause)
		switch {
		case err == nil:
			if try > 0 {
				m.logger.InfoContext(ctx, "pipeline bookkeeping recorded at job end after the database came back",
					slog.Int64("job_id", job.ID), slog.String("kind", job.Kind), slog.Int("tries", try+1))
			}
			return
		case try < len(m.retryDelays) && databaseUnreachable(err):
			if try == 0 {
				m.logger.WarnContext(ctx, "pipeline bookkeeping failed at job end, retrying",
					slog.Int64("job_id", job.ID), slog.String("kind", job.Kind), slog.String("error", err.Error()))
			}
			m.wait(m.retryDelays[try])
		default:
			m.logger.ErrorContext(ctx, "pipeline bookkeeping failed at job end",
				slog.Int64("job_id", job.ID), slog.String("kind", job.Kind), slog.Int("tries", try+1),
				slog.String("error", err.Error()))
			return
		}
	}
}

// databaseUnreachable tells a failure to reach the database (refused or
// broken connection, timeout), worth retrying, from an error the database
// answered with.
func databaseUnreachable(err error) bool {
	var pgErr *pgconn.PgError
	return !errors.As(err, &pgErr)
}

// maxNoteReason bounds the previous attempt's error quoted in messages.
const maxNoteReason = 300

// retryNote says why the previous attempt of job failed ("retrying after
// attempt 1 of 3 failed: …"), from the last error River recorded; empty on
// a first attempt or when the previous attempt recorded no error (snoozed,
// interrupted by a shutdown).
func retryNote(job *rivertype.JobRow) string {
	if job.Attempt < 2 || len(job.Errors) == 0 {
		return ""
	}
	last := job.Errors[len(job.Errors)-1]
	if last.Attempt >= job.Attempt || last.Error == "" {
		return ""
	}
	reason := last.Error
	if r := []rune(reason); len(r) > maxNoteReason {
		reason = string(r[:maxNoteReason-1]) + "…"
	}
	return fmt.Sprintf("retrying after attempt %d of %d failed: %s", last.Attempt, job.MaxAttempts, reason)
}

// start records the start of an attempt; note (retryNote) becomes the
// message of the job's links.
func (m *Middleware) start(ctx context.Context, job *rivertype.JobRow, note string) error {
	return postgres.WithTx(ctx, m.pool, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		params := dbsqlc.PipelineJobStartParams{Attempt: int32(job.Attempt), JobID: job.ID}
		if note != "" {
			params.Message = &note
		}
		ids, err := q.PipelineJobStart(ctx, params)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			kind, ok := m.autoCreate[job.Kind]
			if !ok {
				return nil
			}
			p, err := Create(ctx, tx, CreateParams{Kind: kind, Trigger: TriggerSchedule})
			if err != nil {
				return err
			}
			if err := q.PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{
				PipelineID: p.ID, JobID: job.ID, Kind: job.Kind, Queue: job.Queue, Role: RoleRoot,
				MaxAttempts: int32(job.MaxAttempts),
			}); err != nil {
				return err
			}
			if ids, err = q.PipelineJobStart(ctx, params); err != nil {
				return err
			}
		}
		return refreshAll(ctx, tx, ids, m.now())
	})
}

// finish records the outcome of an attempt; ctxCause is the cause of the
// job context's end (nil while it was live), mirroring River's executor.
func (m *Middleware) finish(ctx context.Context, job *rivertype.JobRow, workErr, ctxCause error) error {
	return postgres.WithTx(ctx, m.pool, func(ctx context.Context, tx pgx.Tx) error {
		params := dbsqlc.PipelineJobFinishParams{JobID: job.ID}
		var cancelErr *rivertype.JobCancelError
		var snoozeErr *rivertype.JobSnoozeError
		switch {
		case workErr == nil:
			// Jobs that complete in their own transaction already recorded
			// their result with FinishTx; this is a no-op for them.
			params.State = string(JobSucceeded)
		case errors.Is(ctxCause, rivertype.ErrJobCancelledRemotely):
			// River cancels the job whatever it returned (usually
			// context.Canceled).
			params.State = string(JobCancelled)
		case errors.As(workErr, &snoozeErr):
			params.State = string(JobQueued)
		case errors.As(workErr, &cancelErr) && errors.Unwrap(cancelErr) == nil:
			params.State = string(JobCancelled) // JobCancel(nil): no error to show
		case errors.As(workErr, &cancelErr):
			params.State = string(JobFailed)
			if errors.Is(workErr, context.Canceled) {
				params.State = string(JobCancelled)
			}
			params.Message = new(errorMessage(workErr))
		case ctxCause != nil && errors.Is(workErr, context.Canceled):
			// The worker shut down mid-job: River makes the job available
			// again without counting the attempt.
			params.State = string(JobQueued)
		case job.Attempt < job.MaxAttempts:
			params.State = string(JobRetrying)
			params.Message = new(retryMessage(job.Attempt, job.MaxAttempts, errorMessage(workErr)))
		default:
			params.State = string(JobFailed)
			params.Message = new(errorMessage(workErr))
		}
		ids, err := dbsqlc.New(tx).PipelineJobFinish(ctx, params)
		if err != nil {
			return err
		}
		if hook := m.onFailure[job.Kind]; hook != nil && (params.State == string(JobFailed) || params.State == string(JobCancelled)) {
			msg := ""
			if params.Message != nil {
				msg = *params.Message
			}
			if err := hook(ctx, tx, job, msg); err != nil {
				return fmt.Errorf("final-failure hook of %s: %w", job.Kind, err)
			}
		}
		return refreshAll(ctx, tx, ids, m.now())
	})
}

// retryMessage is the message of a job whose attempt failed and that River
// will retry.
func retryMessage(attempt, maxAttempts int, reason string) string {
	return fmt.Sprintf("attempt %d of %d failed, will retry: %s", attempt, maxAttempts, reason)
}

// errorMessage unwraps River's cancel wrapper to the user-facing message.
func errorMessage(err error) string {
	var cancelErr *rivertype.JobCancelError
	if errors.As(err, &cancelErr) && errors.Unwrap(cancelErr) != nil {
		return errors.Unwrap(cancelErr).Error()
	}
	return err.Error()
}

func refreshAll(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, now time.Time) error {
	for _, id := range ids {
		if _, err := Refresh(ctx, tx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// Result is what a job reports when it completes: counters and row errors.
type Result struct {
	Counters       map[string]any
	RowErrors      any // a JSON-encodable list, at most 100 items
	RowErrorsTotal int
	Message        string
}

// FinishTx records a job's success and result inside the job's own
// completion transaction (the one that also calls river.JobCompleteTx), so
// that the pipeline turns SUCCESS exactly when the data is committed.
func FinishTx(ctx context.Context, tx pgx.Tx, jobID int64, res Result) error {
	params := dbsqlc.PipelineJobFinishParams{JobID: jobID, State: string(JobSucceeded)}
	if res.Counters != nil {
		b, err := json.Marshal(res.Counters)
		if err != nil {
			return fmt.Errorf("error encoding job result: %w", err)
		}
		params.Result = b
	}
	if res.RowErrors != nil {
		b, err := json.Marshal(res.RowErrors)
		if err != nil {
			return fmt.Errorf("error encoding row errors: %w", err)
		}
		params.RowErrors = b
		n := int32(res.RowErrorsTotal)
		params.RowErrorsTotal = &n
	}
	if res.Message != "" {
		params.Message = &res.Message
	}
	ids, err := dbsqlc.New(tx).PipelineJobFinish(ctx, params)
	if err != nil {
		return fmt.Errorf("error recording result of job %d: %w", jobID, err)
	}
	return refreshAll(ctx, tx, ids, time.Now())
}

// ProgressInterval is the least time between two progress writes of one
// job: a running job updates its pipeline (and sends one NOTIFY, one SSE
// frame per watching client) about four times per second, enough for a
// live progress bar of an import (rows read, valid, rejected) at a cost of
// a few small transactions per second. The first report, every phase
// change and the last report (when the job returns) are written at once.
const ProgressInterval = 250 * time.Millisecond

// Reporter lets a running job report its phase and progress. Updates are
// written on the pool (never in the job's data transaction) at most once per
// ProgressInterval, and at every phase change; a report that falls inside
// the interval is kept and written by the next due report or when the job
// returns.
type Reporter struct {
	pool   postgres.TxBeginner
	logger *slog.Logger
	jobID  int64
	now    func() time.Time
	minGap time.Duration

	// note, on a retry, says why the previous attempt failed: it follows
	// every progress message.
	note string

	mu        sync.Mutex
	last      time.Time
	lastPhase string
	pending   *JobProgress
	message   string
}

func newReporter(db postgres.TxBeginner, logger *slog.Logger, jobID int64, now func() time.Time) *Reporter {
	return &Reporter{pool: db, logger: logger, jobID: jobID, now: now, minGap: ProgressInterval}
}

type reporterKey struct{}

func withReporter(ctx context.Context, r *Reporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, r)
}

// ReporterFrom returns the job's reporter; a nil *Reporter is valid and
// ignores every call (jobs run outside the middleware, e.g. in unit tests).
func ReporterFrom(ctx context.Context) *Reporter {
	r, _ := ctx.Value(reporterKey{}).(*Reporter)
	return r
}

// Progress records the job's current phase, done/total and a message.
func (r *Reporter) Progress(ctx context.Context, phase string, done, total int64, message string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.pending = &JobProgress{Phase: phase, Done: done, Total: total}
	if message != "" && r.note != "" {
		message += " (" + r.note + ")"
	}
	r.message = message
	due := phase != r.lastPhase || r.now().Sub(r.last) >= r.minGap
	r.mu.Unlock()
	if due {
		r.flush(ctx)
	}
}

func (r *Reporter) flush(ctx context.Context) {
	if r == nil {
		return
	}
	r.mu.Lock()
	p, msg := r.pending, r.message
	r.pending = nil
	if p != nil {
		r.last, r.lastPhase = r.now(), p.Phase
	}
	r.mu.Unlock()
	if p == nil {
		return
	}
	err := postgres.WithTx(ctx, r.pool, func(ctx context.Context, tx pgx.Tx) error {
		b, _ := json.Marshal(p)
		ids, err := dbsqlc.New(tx).PipelineJobProgress(ctx, dbsqlc.PipelineJobProgressParams{
			Progress: b, Message: nonEmpty(msg), JobID: r.jobID,
		})
		if err != nil {
			return err
		}
		return refreshAll(ctx, tx, ids, r.now())
	})
	if err != nil {
		r.logger.WarnContext(ctx, "progress update failed", slog.Int64("job_id", r.jobID), slog.String("error", err.Error()))
	}
}
