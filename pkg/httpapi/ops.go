package httpapi

import (
	"errors"
	"net/http"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fleet"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// Job operations (docs/api.md §10): the retry of a pipeline's job, and the
// /ops views and actions of the worker fleet, the queues and River's jobs.

// noQueue is the 503 of a job operation without a River client.
func noQueue() error { return apperr.New(apperr.CodeUnavailable, "no job queue configured") }

// retryPipelineJob is POST /pipelines/{id}/jobs/{job_id}/retry
// (docs/jobs.md §2.5): 202 with the pipeline.
func (s *Server) retryPipelineJob(r *http.Request) (response, error) {
	id, err := pathPipelineID(r)
	if err != nil {
		return response{}, err
	}
	jobID, err := pathJobID(r, "job_id")
	if err != nil {
		return response{}, err
	}
	if s.River == nil {
		return response{}, noQueue()
	}
	userID := principalFrom(r.Context()).User.ID
	v, err := pipeline.Retry(r.Context(), s.Pool, s.River, id, jobID, &userID)
	if err != nil {
		return response{}, err
	}
	return accepted(v), nil
}

// opsWorkers is GET /ops/workers.
func (s *Server) opsWorkers(r *http.Request) (response, error) {
	return reply(fleet.Workers(r.Context(), s.Pool))
}

// opsQueues is GET /ops/queues: every queue of jobs.QueueNames and any
// other queue River knows.
func (s *Server) opsQueues(r *http.Request) (response, error) {
	return reply(fleet.Queues(r.Context(), s.Pool, jobs.QueueNames()))
}

// opsJobs is GET /ops/jobs?kind=&state=&queue= (each repeatable), paginated.
func (s *Server) opsJobs(r *http.Request) (response, error) {
	pp, err := queryPage(r)
	if err != nil {
		return response{}, err
	}
	items, total, err := fleet.Jobs(r.Context(), s.Pool, fleet.JobFilter{Kinds: queryValues(r, "kind"),
		States: queryValues(r, "state"), Queues: queryValues(r, "queue"), Limit: int32(pp.Limit), Offset: pp.offset()})
	if err != nil {
		return response{}, err
	}
	return ok(newPage(items, pp, total)), nil
}

// retryOpsJob is POST /ops/jobs/{id}/retry: 202 with the job.
func (s *Server) retryOpsJob(r *http.Request) (response, error) {
	id, err := pathJobID(r, "id")
	if err != nil {
		return response{}, err
	}
	if s.River == nil {
		return response{}, noQueue()
	}
	userID := principalFrom(r.Context()).User.ID
	if err := pipeline.RetryJob(r.Context(), s.Pool, s.River, id, &userID); err != nil {
		return response{}, err
	}
	j, err := fleet.GetJob(r.Context(), s.Pool, id)
	if err != nil {
		return response{}, err
	}
	return accepted(j), nil
}

// cancelOpsJob is POST /ops/jobs/{id}/cancel: 202 with the job (a running
// job is still `running` until its worker stops it).
func (s *Server) cancelOpsJob(r *http.Request) (response, error) {
	id, err := pathJobID(r, "id")
	if err != nil {
		return response{}, err
	}
	if s.River == nil {
		return response{}, noQueue()
	}
	userID := principalFrom(r.Context()).User.ID
	if err := pipeline.CancelJob(r.Context(), s.Pool, s.River, id, &userID); err != nil {
		return response{}, err
	}
	j, err := fleet.GetJob(r.Context(), s.Pool, id)
	if err != nil {
		return response{}, err
	}
	return accepted(j), nil
}

// maxStaleMinutes bounds older_than_minutes (a year).
const maxStaleMinutes = 365 * 24 * 60

// opsStaleStats is GET /ops/stale-stats?older_than_minutes=60: a value
// that is not an integer in [1, maxStaleMinutes] is 422 on the field (not
// the 400 of other query parameters, docs/api.md §10).
func (s *Server) opsStaleStats(r *http.Request) (response, error) {
	minutes, err := queryCount(r, "older_than_minutes", maxStaleMinutes)
	if ae, ok := errors.AsType[*apperr.Error](err); ok {
		return response{}, apperr.Validation(ae.Message, ae.Fields...)
	}
	if err != nil {
		return response{}, err
	}
	if minutes == 0 {
		minutes = 60
	}
	return reply(fleet.StaleStats(r.Context(), s.Pool, int32(minutes), jobs.AggregateArgs{}.Kind()))
}
