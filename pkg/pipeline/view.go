package pipeline

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// View is the JSON shape of a pipeline (docs/jobs.md §2.4).
type View struct {
	ID         uuid.UUID       `json:"id"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Cancelled  bool            `json:"cancelled"`
	Trigger    string          `json:"trigger"`
	Year       *int32          `json:"year"`
	Module     *string         `json:"module"`
	Submodule  *string         `json:"submodule"`
	UnitID     *int64          `json:"unit_id"`
	UploadID   *uuid.UUID      `json:"upload_id"`
	ExportID   *uuid.UUID      `json:"export_id"`
	CreatedBy  *UserRef        `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	Progress   ProgressView    `json:"progress"`
	Counters   json.RawMessage `json:"counters"`
	LastError  *string         `json:"last_error"`
	Jobs       []JobView       `json:"jobs"`
	Version    int64           `json:"version"`
}

// UserRef names the user who started a pipeline.
type UserRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ProgressView is the progress block of a pipeline.
type ProgressView struct {
	Phase       string `json:"phase"`
	PhaseIndex  int32  `json:"phase_index"`
	PhasesTotal int    `json:"phases_total"`
	PhaseLabel  string `json:"phase_label"`
	Done        int64  `json:"done"`
	Total       int64  `json:"total"`
	Percent     int32  `json:"percent"`
	Message     string `json:"message"`
	ETASeconds  *int32 `json:"eta_seconds"`
}

// JobView is one linked job.
type JobView struct {
	JobID          int64           `json:"job_id"`
	Kind           string          `json:"kind"`
	Role           string          `json:"role"`
	State          string          `json:"state"`
	Attempt        int32           `json:"attempt"`
	MaxAttempts    int32           `json:"max_attempts"`
	Queue          string          `json:"queue"`
	StartedAt      *time.Time      `json:"started_at"`
	FinishedAt     *time.Time      `json:"finished_at"`
	Message        *string         `json:"message"`
	Result         json.RawMessage `json:"result"`
	RowErrorsTotal int32           `json:"row_errors_total"`
	RowErrors      json.RawMessage `json:"row_errors"`
}

// ToView converts stored rows to the API shape.
func ToView(p dbsqlc.Pipeline, jobs []dbsqlc.PipelineJob) View {
	v := View{
		ID: p.ID, Kind: p.Kind, Status: p.Status, Cancelled: p.Cancelled, Trigger: p.Trigger,
		Year: p.Year, Module: p.Module, Submodule: p.Submodule, UnitID: p.UnitID,
		UploadID: p.UploadID, ExportID: p.ExportID,
		CreatedAt: p.CreatedAt, StartedAt: p.StartedAt, FinishedAt: p.FinishedAt,
		Counters: p.Counters, LastError: p.LastError, Version: p.Version,
		Jobs: make([]JobView, 0, len(jobs)),
	}
	if p.CreatedBy != nil {
		v.CreatedBy = &UserRef{ID: *p.CreatedBy}
	}
	v.Progress = ProgressView{
		PhaseIndex: p.PhaseIndex, PhasesTotal: len(p.Phases),
		Done: p.ProgressDone, Total: p.ProgressTotal, Percent: p.Percent, ETASeconds: p.EtaSeconds,
	}
	if p.Phase != nil {
		v.Progress.Phase = *p.Phase
		v.Progress.PhaseLabel = PhaseLabel(*p.Phase)
	}
	if p.Message != nil {
		v.Progress.Message = *p.Message
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, JobView{
			JobID: j.JobID, Kind: j.Kind, Role: j.Role, State: j.State, Attempt: j.Attempt,
			MaxAttempts: j.MaxAttempts, Queue: j.Queue, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
			Message: j.Message, Result: j.Result, RowErrorsTotal: j.RowErrorsTotal, RowErrors: j.RowErrors,
		})
	}
	return v
}
