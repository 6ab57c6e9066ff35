package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Job is a River job of the ops page (docs/api.md §10). Args are shown
// with their secrets redacted by the audit trail's rule (audit.Scrub: keys
// such as password, token, secret or authorization, at any depth); Errors
// are the last three attempt errors, oldest first, without stack traces.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Queue       string          `json:"queue"`
	Attempt     int16           `json:"attempt"`
	MaxAttempts int16           `json:"max_attempts"`
	Errors      []AttemptError  `json:"errors"`
	Args        json.RawMessage `json:"args"`
	CreatedAt   time.Time       `json:"created_at"`
	AttemptedAt *time.Time      `json:"attempted_at"`
	FinalizedAt *time.Time      `json:"finalized_at"`
}

// AttemptError is an error River recorded for an attempt of a job.
type AttemptError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// JobStates are River's job states, the values of JobFilter.States.
var JobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// JobFilter selects River jobs: each list is a set of accepted values
// (empty: any).
type JobFilter struct {
	Kinds, States, Queues []string
	Limit, Offset         int32
}

// Jobs lists the River jobs of f, newest first, with their total count. A
// state that is not one of JobStates is 422 invalid_enum on the field
// `state`.
func Jobs(ctx context.Context, db postgres.DBTX, f JobFilter) ([]Job, int64, error) {
	for _, s := range f.States {
		if !slices.Contains(JobStates, rivertype.JobState(s)) {
			names := make([]string, len(JobStates))
			for i, st := range JobStates {
				names[i] = string(st)
			}
			return nil, 0, apperr.Validation("invalid state filter", apperr.FieldError{Field: "state", Code: "invalid_enum",
				Message: fmt.Sprintf("%q is not a job state (%s)", s, strings.Join(names, ", "))})
		}
	}
	q := dbsqlc.New(db)
	rows, err := q.OpsJobs(ctx, dbsqlc.OpsJobsParams{Kinds: f.Kinds, States: f.States, Queues: f.Queues,
		Lim: f.Limit, Off: f.Offset})
	if err != nil {
		return nil, 0, fmt.Errorf("error listing jobs: %w", err)
	}
	total, err := q.OpsJobsCount(ctx, dbsqlc.OpsJobsCountParams{Kinds: f.Kinds, States: f.States, Queues: f.Queues})
	if err != nil {
		return nil, 0, fmt.Errorf("error counting jobs: %w", err)
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		if out[i], err = toJob(dbsqlc.OpsJobRow(r)); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// GetJob reads one River job; an unknown id is 404.
func GetJob(ctx context.Context, db postgres.DBTX, id int64) (Job, error) {
	r, err := dbsqlc.New(db).OpsJob(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, apperr.NotFound("job %d not found", id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("error reading job %d: %w", id, err)
	}
	return toJob(r)
}

func toJob(r dbsqlc.OpsJobRow) (Job, error) {
	j := Job{ID: r.ID, Kind: r.Kind, State: r.State, Queue: r.Queue, Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		Errors: []AttemptError{}, Args: scrubArgs(r.Args), CreatedAt: r.CreatedAt, AttemptedAt: r.AttemptedAt,
		FinalizedAt: r.FinalizedAt}
	if err := json.Unmarshal(r.Errors, &j.Errors); err != nil {
		return Job{}, fmt.Errorf("error decoding the errors of job %d: %w", r.ID, err)
	}
	return j, nil
}

// scrubArgs redacts the secrets of encoded job args; args that are not
// JSON are not shown at all (null).
func scrubArgs(raw json.RawMessage) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(audit.Scrub(v))
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
