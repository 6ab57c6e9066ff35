package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Pipelines list and cancel (docs/api.md §10).

// pipelineListJob is a job of a list item: row_errors are omitted (the
// shallower field shadows the embedded one and is never set).
type pipelineListJob struct {
	pipeline.JobView
	RowErrors json.RawMessage `json:"row_errors,omitempty"`
}

// pipelineListItem is a Pipeline without jobs[].row_errors.
type pipelineListItem struct {
	pipeline.View
	Jobs []pipelineListJob `json:"jobs"`
}

var pipelineStatuses = []pipeline.Status{pipeline.StatusNotStarted, pipeline.StatusRunning,
	pipeline.StatusSuccess, pipeline.StatusPartial, pipeline.StatusFailed}

// syncKeys lists "<cf>/<module>" for every module_sync grant of the caller
// (unit or own scope: docs/domain.md §2.3).
func syncKeys(s *perm.Set) []string {
	out := []string{}
	for _, g := range s.Grants() {
		module, ok := strings.CutPrefix(g.Resource, "modules.")
		if !ok || g.Scope.CF == "" || (g.Scope.Kind != perm.ScopeUnit && g.Scope.Kind != perm.ScopeOwn) {
			continue
		}
		for _, a := range g.Actions {
			if a == perm.ActionSync {
				out = append(out, g.Scope.CF+"/"+module)
			}
		}
	}
	return out
}

// pipelineFilter parses the query of GET /pipelines.
func pipelineFilter(r *http.Request) (dbsqlc.PipelinesFilteredParams, pageParams, error) {
	var f dbsqlc.PipelinesFilteredParams
	pp, err := queryPage(r)
	if err != nil {
		return f, pp, err
	}
	f.Statuses = []string{}
	for _, v := range r.URL.Query()["status"] {
		st := pipeline.Status(strings.ToUpper(strings.TrimSpace(v)))
		if !slices.Contains(pipelineStatuses, st) {
			return f, pp, apperr.Validation("invalid status filter",
				apperr.FieldError{Field: "status", Code: "invalid_enum", Message: fmt.Sprintf("%q is not a pipeline status", v)})
		}
		f.Statuses = append(f.Statuses, string(st))
	}
	f.Kinds = queryValues(r, "kind")
	f.Modules = queryValues(r, "module")
	if f.Years, err = queryYears(r, "year"); err != nil {
		return f, pp, err
	}
	if f.UnitIds, err = queryIDs(r, "unit_id"); err != nil {
		return f, pp, err
	}
	if f.HasErrors, err = queryBool(r, "has_errors"); err != nil {
		return f, pp, err
	}
	if f.Active, err = queryBool(r, "active"); err != nil {
		return f, pp, err
	}
	if f.Since, err = queryTime(r, "since"); err != nil {
		return f, pp, err
	}
	if f.Until, err = queryTime(r, "until"); err != nil {
		return f, pp, err
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" && q != "*" && q != "%" {
		if len([]rune(q)) > 100 {
			q = string([]rune(q)[:100])
		}
		q = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
		f.Q = &q
	}
	f.Lim, f.Off = int32(pp.Limit), pp.offset()
	return f, pp, nil
}

// listPipelines is GET /pipelines: the caller's visible pipelines
// (docs/api.md §10 first paragraph), filtered, newest first.
func (s *Server) listPipelines(r *http.Request) (response, error) {
	f, pp, err := pipelineFilter(r)
	if err != nil {
		return response{}, err
	}
	p := principalFrom(r.Context())
	f.AllVisible = p.Perms.BO(perm.BOPipelineOperations, perm.ActionView) || p.Perms.BO(perm.BOConfiguration, perm.ActionView)
	f.UserID = &p.User.ID
	f.SyncKeys = syncKeys(p.Perms)
	ctx := r.Context()
	q := dbsqlc.New(s.Pool)
	rows, err := q.PipelinesFiltered(ctx, f)
	if err != nil {
		return response{}, fmt.Errorf("error listing pipelines: %w", err)
	}
	total, err := q.PipelinesFilteredCount(ctx, dbsqlc.PipelinesFilteredCountParams{
		AllVisible: f.AllVisible, UserID: f.UserID, SyncKeys: f.SyncKeys, Statuses: f.Statuses, Kinds: f.Kinds,
		Years: f.Years, Modules: f.Modules, UnitIds: f.UnitIds, HasErrors: f.HasErrors, Active: f.Active,
		Since: f.Since, Until: f.Until, Q: f.Q,
	})
	if err != nil {
		return response{}, fmt.Errorf("error counting pipelines: %w", err)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, p := range rows {
		ids[i] = p.ID
	}
	jobRows, err := q.PipelineJobsSummary(ctx, ids)
	if err != nil {
		return response{}, fmt.Errorf("error listing pipeline jobs: %w", err)
	}
	byPipeline := make(map[uuid.UUID][]pipelineListJob, len(rows))
	for _, j := range jobRows {
		byPipeline[j.PipelineID] = append(byPipeline[j.PipelineID], pipelineListJob{JobView: pipeline.JobView{
			JobID: j.JobID, Kind: j.Kind, Role: j.Role, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
			Queue: j.Queue, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Message: j.Message, Result: j.Result,
			RowErrorsTotal: j.RowErrorsTotal,
		}})
	}
	items := mapItems(rows, func(p dbsqlc.Pipeline) pipelineListItem {
		jobs := byPipeline[p.ID]
		if jobs == nil {
			jobs = []pipelineListJob{}
		}
		return pipelineListItem{View: pipeline.ToView(p, nil), Jobs: jobs}
	})
	return ok(newPage(items, pp, total)), nil
}

// requirePipelineCancel lets through the creator of {id} and callers with
// bo(pipeline_operations, edit). Others who may see the pipeline get 403,
// the rest 404; an unknown pipeline is left to the handler (404).
func (s *Server) requirePipelineCancel(next http.Handler) http.Handler {
	return s.requirePipelineVisible(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if p.Perms.BO(perm.BOPipelineOperations, perm.ActionEdit) {
			next.ServeHTTP(w, r)
			return
		}
		pl, found, err := s.pathPipeline(r)
		switch {
		case !found:
			next.ServeHTTP(w, r)
		case err != nil:
			writeError(w, r, s.Logger, err)
		case pl.CreatedBy != nil && *pl.CreatedBy == p.User.ID:
			next.ServeHTTP(w, r)
		default:
			writeError(w, r, s.Logger, errForbidden("backoffice."+perm.BOPipelineOperations+":"+perm.ActionEdit))
		}
	}))
}

// cancelPipeline is POST /pipelines/{id}/cancel (docs/jobs.md §2.5):
// 202 with the pipeline.
func (s *Server) cancelPipeline(r *http.Request) (response, error) {
	id, err := pathPipelineID(r)
	if err != nil {
		return response{}, err
	}
	if s.River == nil {
		return response{}, apperr.New(apperr.CodeUnavailable, "no job queue configured")
	}
	userID := principalFrom(r.Context()).User.ID
	v, err := pipeline.Cancel(r.Context(), s.Pool, s.River, id, &userID)
	if err != nil {
		return response{}, err
	}
	return accepted(v), nil
}
