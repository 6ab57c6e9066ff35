package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// NoopArgs is a trivial job used by benchmarks (worker throughput, enqueue
// latency) and by the graceful-shutdown tests. It sleeps SleepMS, honouring
// cancellation.
type NoopArgs struct {
	SleepMS int `json:"sleep_ms,omitempty"`
}

// Kind implements river.JobArgs.
func (NoopArgs) Kind() string { return "noop" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (NoopArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueDefault} }

// NoopWorker works NoopArgs.
type NoopWorker struct {
	river.WorkerDefaults[NoopArgs]
}

// Work sleeps for the requested time or until the job is cancelled.
func (w *NoopWorker) Work(ctx context.Context, job *river.Job[NoopArgs]) error {
	if job.Args.SleepMS <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(job.Args.SleepMS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
