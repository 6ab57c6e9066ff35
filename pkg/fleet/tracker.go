package fleet

import (
	"context"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Tracker is a River worker middleware that records which job attempts
// this process works, so that its Reaper can tell its own orphans (jobs
// river_job says this worker runs although it never started them) from the
// jobs it works or whose completion River's completer is still writing.
//
// An attempt is tracked from the moment it enters the middleware until the
// reaper has seen, in river_job, that River recorded its outcome (the job is
// no longer `running` at that attempt). An attempt that returned while the
// database was down stays tracked as long as the outage lasts: River's
// completer keeps its outcome in memory and writes it when the database
// answers again, so the job must not be handed back meanwhile (it would run
// twice: River's late write applies to whatever attempt is `running` then).
// Put the tracker first in river.Config.Middleware so that it covers the
// other middlewares' bookkeeping.
type Tracker struct {
	river.MiddlewareDefaults

	now func() time.Time

	mu   sync.Mutex
	jobs map[int64]trackedAttempt
}

type trackedAttempt struct {
	attempt int
	ended   time.Time // zero while the attempt runs
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{now: time.Now, jobs: map[int64]trackedAttempt{}}
}

var _ rivertype.WorkerMiddleware = (*Tracker)(nil)

// Work implements rivertype.WorkerMiddleware.
func (t *Tracker) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	t.started(job.ID, job.Attempt)
	defer t.ended(job.ID, job.Attempt) // also when the job panics
	return doInner(ctx)
}

func (t *Tracker) started(id int64, attempt int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.jobs[id] = trackedAttempt{attempt: attempt}
}

func (t *Tracker) ended(id int64, attempt int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.jobs[id]; ok && a.attempt == attempt {
		a.ended = t.now()
		t.jobs[id] = a
	}
}

// Len is the number of tracked attempts (running, or returned and not yet
// seen recorded).
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.jobs)
}

// RunningJob is a job river_job says this worker runs.
type RunningJob struct {
	ID      int64
	Attempt int
	// FetchedAgo is the time since the worker fetched the attempt
	// (database clock).
	FetchedAgo time.Duration
}

// forget drops the attempts that returned before `since` and that River has
// recorded since: running lists every job river_job said, at `since` or
// later, this worker runs, and the attempt is not among them. Attempts still
// running are always kept.
func (t *Tracker) forget(running []RunningJob, since time.Time) {
	still := make(map[int64]int, len(running))
	for _, j := range running {
		still[j.ID] = j.Attempt
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, a := range t.jobs {
		if a.ended.IsZero() || !a.ended.Before(since) {
			continue
		}
		if attempt, ok := still[id]; ok && attempt == a.attempt {
			continue // River's completer has not written the outcome yet
		}
		delete(t.jobs, id)
	}
}

// orphans returns the jobs of running that this process knows nothing
// about (it never started them, and no outcome of theirs may still be on
// its way) and that were fetched at least grace ago: a fetched job starts
// within milliseconds, so such a job has been lost between River's fetch
// and its executor.
func (t *Tracker) orphans(running []RunningJob, grace time.Duration) []RunningJob {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []RunningJob
	for _, j := range running {
		if _, known := t.jobs[j.ID]; known || j.FetchedAgo < grace {
			continue
		}
		out = append(out, j)
	}
	return out
}
