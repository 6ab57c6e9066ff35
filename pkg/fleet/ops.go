package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The fleet as the back office sees it (docs/api.md §10): the worker
// processes, the queues and the statistics waiting for an aggregation.
// River's jobs are in jobs.go.

// LiveWithin is how recent a worker's heartbeat must be for the worker to
// be shown live (4 default heartbeat intervals).
const LiveWithin = 60 * time.Second

// Worker is a worker process of the ops page: its heartbeat row, the age
// of the heartbeat in whole seconds, and whether it is live. Rows not live
// stay listed until the reapers delete them (DefaultForgetAfter).
type Worker struct {
	ID            string          `json:"id"`
	Hostname      string          `json:"hostname"`
	Version       string          `json:"version"`
	GitSHA        string          `json:"git_sha"`
	StartedAt     time.Time       `json:"started_at"`
	HeartbeatAt   time.Time       `json:"heartbeat_at"`
	HeartbeatAgeS int64           `json:"heartbeat_age_s"`
	RunningJobs   int32           `json:"running_jobs"`
	Queues        json.RawMessage `json:"queues"` // {queue: max workers}
	Live          bool            `json:"live"`
}

// Workers lists the worker processes heard from within DefaultForgetAfter,
// by host name; ages are measured on the database clock, like the reapers'.
func Workers(ctx context.Context, db postgres.DBTX) ([]Worker, error) {
	rows, err := dbsqlc.New(db).OpsWorkers(ctx, dbsqlc.OpsWorkersParams{
		LiveSecs: LiveWithin.Seconds(), ForgetAfterSecs: DefaultForgetAfter.Seconds()})
	if err != nil {
		return nil, fmt.Errorf("error listing workers: %w", err)
	}
	out := make([]Worker, len(rows))
	for i, r := range rows {
		out[i] = Worker{ID: r.ID, Hostname: r.Hostname, Version: r.Version, GitSHA: r.GitSha, StartedAt: r.StartedAt,
			HeartbeatAt: r.HeartbeatAt, HeartbeatAgeS: r.HeartbeatAgeS, RunningJobs: r.RunningJobs, Queues: r.Queues,
			Live: r.Live}
	}
	return out, nil
}

// Queue is a River queue with its job counts.
type Queue struct {
	Queue     string `json:"queue"`
	Available int64  `json:"available"`
	Scheduled int64  `json:"scheduled"`
	Running   int64  `json:"running"`
	Retryable int64  `json:"retryable"`
	Paused    bool   `json:"paused"`
}

// Queues counts the jobs waiting or running in every configured queue
// (configured: the queue names workers may serve, jobs.QueueNames) and in
// any other queue River knows (a river_queue row, or waiting or running
// jobs), by name. Finalized jobs are never read.
func Queues(ctx context.Context, db postgres.DBTX, configured []string) ([]Queue, error) {
	rows, err := dbsqlc.New(db).OpsQueues(ctx, configured)
	if err != nil {
		return nil, fmt.Errorf("error counting queue jobs: %w", err)
	}
	out := make([]Queue, len(rows))
	for i, r := range rows {
		out[i] = Queue{Queue: r.Queue, Available: r.Available, Scheduled: r.Scheduled, Running: r.Running,
			Retryable: r.Retryable, Paused: r.Paused}
	}
	return out, nil
}

// StaleModule is a report module whose statistics have been waiting for
// an aggregation, with the pending aggregation of its year if there is one
// (none: nothing will refresh it until the next change of the year).
type StaleModule struct {
	UnitID                int64     `json:"unit_id"`
	Year                  int32     `json:"year"`
	Module                string    `json:"module"`
	StatsDirtyAt          time.Time `json:"stats_dirty_at"`
	PendingAggregateJobID *int64    `json:"pending_aggregate_job_id"`
}

// StaleStats lists the report modules whose stats_dirty_at is older than
// olderThanMinutes, oldest first. aggregateKind is the kind of the
// aggregation job (jobs.AggregateArgs).
func StaleStats(ctx context.Context, db postgres.DBTX, olderThanMinutes int32, aggregateKind string) ([]StaleModule, error) {
	rows, err := dbsqlc.New(db).OpsStaleStats(ctx, dbsqlc.OpsStaleStatsParams{
		OlderThanMinutes: olderThanMinutes, AggregateKind: aggregateKind})
	if err != nil {
		return nil, fmt.Errorf("error listing stale statistics: %w", err)
	}
	out := make([]StaleModule, len(rows))
	for i, r := range rows {
		out[i] = StaleModule{UnitID: r.UnitID, Year: r.Year, Module: r.Module, StatsDirtyAt: r.StatsDirtyAt,
			PendingAggregateJobID: r.PendingAggregateJobID}
	}
	return out, nil
}
