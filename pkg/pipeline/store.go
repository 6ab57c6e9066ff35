package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Trigger says what caused a pipeline.
type Trigger string

const (
	TriggerUser     Trigger = "user"
	TriggerSchedule Trigger = "schedule"
	TriggerSystem   Trigger = "system"
)

// NotifyChannel is the LISTEN/NOTIFY channel carrying '<id>:<version>'.
const NotifyChannel = "pipeline_updates"

// CreateParams describes a new pipeline.
type CreateParams struct {
	Kind      Kind
	Trigger   Trigger
	Year      *int32
	Module    *string
	Submodule *string
	UnitID    *int64
	CreatedBy *int64
}

// Create inserts a pipeline in NOT_STARTED state.
func Create(ctx context.Context, db postgres.DBTX, p CreateParams) (dbsqlc.Pipeline, error) {
	if !p.Kind.Valid() {
		return dbsqlc.Pipeline{}, fmt.Errorf("unknown pipeline kind %q", p.Kind)
	}
	msg := "Waiting for a worker"
	row, err := dbsqlc.New(db).PipelineCreate(ctx, dbsqlc.PipelineCreateParams{
		ID:        uuid.New(),
		Kind:      string(p.Kind),
		Trigger:   string(p.Trigger),
		Year:      p.Year,
		Module:    p.Module,
		Submodule: p.Submodule,
		UnitID:    p.UnitID,
		CreatedBy: p.CreatedBy,
		Phases:    p.Kind.Phases(),
		Message:   &msg,
	})
	if err != nil {
		return dbsqlc.Pipeline{}, fmt.Errorf("error creating pipeline: %w", err)
	}
	return row, nil
}

// Role of a job in a pipeline.
const (
	RoleRoot  = "root"
	RoleChild = "child"
)

// Link attaches a River job to a pipeline and refreshes the pipeline. When
// the job was already linked, attached_at is bumped (coalescing, §2.3).
func Link(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, job *rivertype.JobRow, role string) error {
	err := dbsqlc.New(tx).PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{
		PipelineID:  pipelineID,
		JobID:       job.ID,
		Kind:        job.Kind,
		Queue:       job.Queue,
		Role:        role,
		MaxAttempts: int32(job.MaxAttempts),
	})
	if err != nil {
		return fmt.Errorf("error linking job %d to pipeline %s: %w", job.ID, pipelineID, err)
	}
	if job.State != rivertype.JobStateAvailable && job.State != rivertype.JobStateScheduled &&
		job.State != rivertype.JobStatePending {
		// A duplicate insert answered with a job that already runs or ran:
		// mirror its state.
		if err := mirrorState(ctx, tx, job); err != nil {
			return err
		}
	}
	_, err = Refresh(ctx, tx, pipelineID, time.Now())
	return err
}

func mirrorState(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow) error {
	q := dbsqlc.New(tx)
	switch job.State {
	case rivertype.JobStateRunning:
		_, err := q.PipelineJobStart(ctx, dbsqlc.PipelineJobStartParams{Attempt: int32(job.Attempt), JobID: job.ID})
		return err
	case rivertype.JobStateCompleted:
		_, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: string(JobSucceeded), JobID: job.ID})
		return err
	case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		_, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{State: string(JobFailed), JobID: job.ID})
		return err
	default:
		return nil
	}
}

// Inserter is the part of river.Client the pipeline helpers need.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// InsertTx inserts a job with River in tx and links it to the pipeline as a
// root job. A unique-duplicate answer links the existing job instead.
func InsertTx(ctx context.Context, client Inserter, tx pgx.Tx, pipelineID uuid.UUID, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("error inserting %s job: %w", args.Kind(), err)
	}
	if err := Link(ctx, tx, pipelineID, res.Job, RoleRoot); err != nil {
		return nil, err
	}
	return res.Job, nil
}

// LinkChildrenTx links jobs inserted by a running job (follow-ups) to every
// pipeline of that job, in the job's completion transaction.
func LinkChildrenTx(ctx context.Context, tx pgx.Tx, parentJobID int64, children ...*rivertype.JobRow) error {
	ids, err := dbsqlc.New(tx).PipelineIDsByJob(ctx, parentJobID)
	if err != nil {
		return fmt.Errorf("error reading pipelines of job %d: %w", parentJobID, err)
	}
	for _, id := range ids {
		for _, c := range children {
			if err := Link(ctx, tx, id, c, RoleChild); err != nil {
				return err
			}
		}
	}
	return nil
}

// Refresh recomputes the derived fields of a pipeline from its jobs, bumps
// its version and notifies listeners. Call it inside a transaction.
func Refresh(ctx context.Context, tx pgx.Tx, id uuid.UUID, now time.Time) (int64, error) {
	q := dbsqlc.New(tx)
	p, err := q.PipelineGetForUpdate(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("error locking pipeline %s: %w", id, err)
	}
	rows, err := q.PipelineJobList(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("error reading jobs of pipeline %s: %w", id, err)
	}
	jobs := make([]Job, 0, len(rows))
	for _, r := range rows {
		jobs = append(jobs, toJob(r))
	}
	d := Derive(Kind(p.Kind), p.Cancelled, jobs, now)
	if p.StartedAt != nil {
		d.StartedAt = p.StartedAt
	}
	version, err := q.PipelineUpdateDerived(ctx, dbsqlc.PipelineUpdateDerivedParams{
		ID:             id,
		Status:         string(d.Status),
		Phase:          &d.Phase,
		PhaseIndex:     int32(d.PhaseIndex),
		ProgressDone:   d.Done,
		ProgressTotal:  d.Total,
		Percent:        int32(d.Percent),
		EtaSeconds:     toInt32Ptr(d.ETASeconds),
		Message:        &d.Message,
		Counters:       d.CountersJSON(),
		LastError:      nonEmpty(d.LastError),
		JobCount:       int32(d.JobCount),
		FailedJobCount: int32(d.FailedJobCount),
		StartedAt:      d.StartedAt,
		FinishedAt:     d.FinishedAt,
	})
	if err != nil {
		return 0, fmt.Errorf("error updating pipeline %s: %w", id, err)
	}
	if err := q.PipelineNotify(ctx, fmt.Sprintf("%s:%d", id, version)); err != nil {
		return 0, fmt.Errorf("error notifying pipeline %s: %w", id, err)
	}
	return version, nil
}

func toJob(r dbsqlc.PipelineJob) Job {
	j := Job{
		Kind:       r.Kind,
		Role:       r.Role,
		State:      JobState(r.State),
		StartedAt:  r.StartedAt,
		FinishedAt: r.FinishedAt,
	}
	if r.Message != nil {
		j.Message = *r.Message
	}
	_ = json.Unmarshal(r.Progress, &j.Progress)
	j.Result = counters(r.Result)
	return j
}

// counters keeps the numeric members of a job result.
func counters(raw json.RawMessage) map[string]float64 {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

func toInt32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(min(*p, 1<<30))
	return &v
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Get reads a pipeline with its jobs. A missing pipeline is apperr.NotFound.
func Get(ctx context.Context, db postgres.DBTX, id uuid.UUID) (dbsqlc.Pipeline, []dbsqlc.PipelineJob, error) {
	q := dbsqlc.New(db)
	p, err := q.PipelineGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, apperr.NotFound("pipeline %s not found", id)
	}
	if err != nil {
		return p, nil, fmt.Errorf("error reading pipeline %s: %w", id, err)
	}
	jobs, err := q.PipelineJobList(ctx, id)
	if err != nil {
		return p, nil, fmt.Errorf("error reading jobs of pipeline %s: %w", id, err)
	}
	return p, jobs, nil
}
