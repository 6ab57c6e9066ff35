package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Pipelines list and cancel (api.md §10), upload row errors as CSV (§9).

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

type pipelinesPage struct {
	Items   []pipelineListItem `json:"items"`
	Page    int                `json:"page"`
	Limit   int                `json:"limit"`
	Total   int64              `json:"total"`
	HasMore bool               `json:"has_more"`
}

var pipelineStatuses = []pipeline.Status{pipeline.StatusNotStarted, pipeline.StatusRunning,
	pipeline.StatusSuccess, pipeline.StatusPartial, pipeline.StatusFailed}

func invalidFilter(format string, args ...any) error {
	return apperr.WithReason(apperr.CodeInvalid, "invalid_filter", format, args...)
}

// syncKeys lists "<cf>/<module>" for every module_sync grant of the caller
// (unit or own scope: domain.md §2.3).
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
func pipelineFilter(r *http.Request) (dbsqlc.PipelinesFilteredParams, int, int, error) {
	qs := r.URL.Query()
	var f dbsqlc.PipelinesFilteredParams
	page, limit, err := pageParams(qs.Get("page"), qs.Get("limit"))
	if err != nil {
		return f, 0, 0, err
	}
	f.Statuses = []string{}
	for _, v := range qs["status"] {
		st := pipeline.Status(strings.ToUpper(strings.TrimSpace(v)))
		valid := false
		for _, s := range pipelineStatuses {
			valid = valid || s == st
		}
		if !valid {
			return f, 0, 0, apperr.Validation("invalid status filter",
				apperr.FieldError{Field: "status", Code: "invalid_enum", Message: fmt.Sprintf("%q is not a pipeline status", v)})
		}
		f.Statuses = append(f.Statuses, string(st))
	}
	f.Kinds = nonEmptyValues(qs["kind"])
	f.Modules = nonEmptyValues(qs["module"])
	f.Years = []int32{}
	for _, v := range nonEmptyValues(qs["year"]) {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return f, 0, 0, invalidFilter("year must be an integer")
		}
		f.Years = append(f.Years, int32(n))
	}
	f.UnitIds = []int64{}
	for _, v := range nonEmptyValues(qs["unit_id"]) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, 0, 0, invalidFilter("unit_id must be an integer")
		}
		f.UnitIds = append(f.UnitIds, n)
	}
	for name, dst := range map[string]**bool{"has_errors": &f.HasErrors, "active": &f.Active} {
		if v := qs.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, 0, 0, invalidFilter("%s must be true or false", name)
			}
			*dst = &b
		}
	}
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if v := qs.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, 0, 0, invalidFilter("%s must be an RFC 3339 time", name)
			}
			*dst = &t
		}
	}
	if q := strings.TrimSpace(qs.Get("q")); q != "" && q != "*" && q != "%" {
		if len([]rune(q)) > 100 {
			q = string([]rune(q)[:100])
		}
		q = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
		f.Q = &q
	}
	f.Lim, f.Off = int32(limit), int32((page-1)*limit)
	return f, page, limit, nil
}

func nonEmptyValues(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// pageParams parses page (≥ 1, default 1) and limit (1–1000, default 50).
func pageParams(pageS, limitS string) (page, limit int, err error) {
	page, limit = 1, 50
	if pageS != "" {
		if page, err = strconv.Atoi(pageS); err != nil || page < 1 {
			return 0, 0, invalidFilter("page must be >= 1")
		}
	}
	if limitS != "" {
		if limit, err = strconv.Atoi(limitS); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, invalidFilter("limit must be in [1, 1000]")
		}
	}
	return page, limit, nil
}

// listPipelines is GET /pipelines: the caller's visible pipelines (api.md
// §10 first paragraph), filtered, newest first.
func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	resp, err := s.pipelinesPage(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) pipelinesPage(r *http.Request) (pipelinesPage, error) {
	f, page, limit, err := pipelineFilter(r)
	if err != nil {
		return pipelinesPage{}, err
	}
	p := principalFrom(r.Context())
	f.AllVisible = p.Perms.BO(perm.BOPipelineOperations, perm.ActionView) || p.Perms.BO(perm.BOConfiguration, perm.ActionView)
	f.UserID = &p.User.ID
	f.SyncKeys = syncKeys(p.Perms)
	ctx := r.Context()
	q := dbsqlc.New(s.Pool)
	rows, err := q.PipelinesFiltered(ctx, f)
	if err != nil {
		return pipelinesPage{}, fmt.Errorf("error listing pipelines: %w", err)
	}
	total, err := q.PipelinesFilteredCount(ctx, dbsqlc.PipelinesFilteredCountParams{
		AllVisible: f.AllVisible, UserID: f.UserID, SyncKeys: f.SyncKeys, Statuses: f.Statuses, Kinds: f.Kinds,
		Years: f.Years, Modules: f.Modules, UnitIds: f.UnitIds, HasErrors: f.HasErrors, Active: f.Active,
		Since: f.Since, Until: f.Until, Q: f.Q,
	})
	if err != nil {
		return pipelinesPage{}, fmt.Errorf("error counting pipelines: %w", err)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, p := range rows {
		ids[i] = p.ID
	}
	jobRows, err := q.PipelineJobsSummary(ctx, ids)
	if err != nil {
		return pipelinesPage{}, fmt.Errorf("error listing pipeline jobs: %w", err)
	}
	byPipeline := make(map[uuid.UUID][]pipelineListJob, len(rows))
	for _, j := range jobRows {
		byPipeline[j.PipelineID] = append(byPipeline[j.PipelineID], pipelineListJob{JobView: pipeline.JobView{
			JobID: j.JobID, Kind: j.Kind, Role: j.Role, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
			Queue: j.Queue, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Message: j.Message, Result: j.Result,
			RowErrorsTotal: j.RowErrorsTotal,
		}})
	}
	out := pipelinesPage{Items: make([]pipelineListItem, len(rows)), Page: page, Limit: limit, Total: total,
		HasMore: int64(page*limit) < total}
	for i, p := range rows {
		jobs := byPipeline[p.ID]
		if jobs == nil {
			jobs = []pipelineListJob{}
		}
		out.Items[i] = pipelineListItem{View: pipeline.ToView(p, nil), Jobs: jobs}
	}
	return out, nil
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
		id, err := uuid.Parse(chi.URLParam(r, "id"))
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		pl, err := dbsqlc.New(s.Pool).PipelineGet(r.Context(), id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
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

// jobCanceller is the part of the River client cancel needs.
type jobCanceller interface {
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// cancelPipeline is POST /pipelines/{id}/cancel (jobs.md §2.5).
func (s *Server) cancelPipeline(w http.ResponseWriter, r *http.Request) {
	id, err := parsePipelineID(r)
	if err == nil && s.River == nil {
		err = apperr.New(apperr.CodeUnavailable, "no job queue configured")
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	userID := principalFrom(r.Context()).User.ID
	view, err := CancelPipeline(r.Context(), s.Pool, s.River, s.PipelineAudit, id, &userID)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, view)
}

// pipelineCancelSnapshot is the snapshot of a pipeline.cancel event: the
// pipeline before the cancel, the jobs cancelled at once and the running
// jobs asked to stop.
type pipelineCancelSnapshot struct {
	Kind            string  `json:"kind"`
	Status          string  `json:"status"`
	Year            *int32  `json:"year"`
	Module          *string `json:"module"`
	UnitID          *int64  `json:"unit_id"`
	CancelledJobIDs []int64 `json:"cancelled_job_ids"`
	StoppingJobIDs  []int64 `json:"stopping_job_ids"`
}

// pipelineAuditor records pipeline.cancel (package audit).
type pipelineAuditor interface {
	PipelineCancelled(ctx context.Context, db postgres.DBTX, c audit.PipelineCancel) error
}

// CancelPipeline marks a pipeline cancelled and cancels, with River in the
// same transaction, every non-terminal job linked only to it: queued and
// retrying jobs end at once, running jobs see their context cancelled and
// their bookkeeping records the cancellation. The audit event
// pipeline.cancel is written in that transaction too (nil auditor: not
// audited), so a failed audit write cancels nothing. A terminal pipeline is
// 409 pipeline_terminal.
func CancelPipeline(ctx context.Context, db postgres.TxBeginner, river jobCanceller, auditor pipelineAuditor, id uuid.UUID, by *int64) (pipeline.View, error) {
	return postgres.WithTxV(ctx, db, func(ctx context.Context, tx pgx.Tx) (pipeline.View, error) {
		q := dbsqlc.New(tx)
		p, err := q.PipelineGetForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return pipeline.View{}, apperr.NotFound("pipeline %s not found", id)
		}
		if err != nil {
			return pipeline.View{}, fmt.Errorf("error locking pipeline %s: %w", id, err)
		}
		if pipeline.Status(p.Status).Terminal() {
			return pipeline.View{}, apperr.WithReason(apperr.CodeConflict, "pipeline_terminal", "pipeline %s is already %s", id, p.Status)
		}
		if err := q.PipelineMarkCancelled(ctx, dbsqlc.PipelineMarkCancelledParams{ID: id, UserID: by}); err != nil {
			return pipeline.View{}, fmt.Errorf("error cancelling pipeline %s: %w", id, err)
		}
		jobIDs, err := q.PipelineJobsCancellable(ctx, id)
		if err != nil {
			return pipeline.View{}, fmt.Errorf("error reading jobs of pipeline %s: %w", id, err)
		}
		msg := "Cancelled by user"
		cancelled, stopping := []int64{}, []int64{}
		for _, jobID := range jobIDs {
			job, err := river.JobCancelTx(ctx, tx, jobID)
			if errors.Is(err, rivertype.ErrNotFound) {
				job = &rivertype.JobRow{State: rivertype.JobStateCancelled} // cleaned: nothing can run
			} else if err != nil {
				return pipeline.View{}, fmt.Errorf("error cancelling job %d: %w", jobID, err)
			}
			if job.State != rivertype.JobStateCancelled {
				if job.State == rivertype.JobStateRunning {
					stopping = append(stopping, jobID)
				}
				continue // running: the worker middleware records the end; finished: its bookkeeping follows
			}
			cancelled = append(cancelled, jobID)
			if _, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{
				State: string(pipeline.JobCancelled), Message: &msg, JobID: jobID}); err != nil {
				return pipeline.View{}, fmt.Errorf("error recording cancel of job %d: %w", jobID, err)
			}
		}
		if auditor != nil {
			if err := auditor.PipelineCancelled(ctx, tx, audit.PipelineCancel{ID: id.String(), RequestedBy: by,
				Snapshot: pipelineCancelSnapshot{Kind: p.Kind, Status: p.Status, Year: p.Year, Module: p.Module, UnitID: p.UnitID,
					CancelledJobIDs: cancelled, StoppingJobIDs: stopping},
			}); err != nil {
				return pipeline.View{}, fmt.Errorf("error auditing cancel of pipeline %s: %w", id, err)
			}
		}
		if _, err := pipeline.Refresh(ctx, tx, id, time.Now()); err != nil {
			return pipeline.View{}, err
		}
		p, jobs, err := pipeline.Get(ctx, tx, id)
		if err != nil {
			return pipeline.View{}, err
		}
		return pipeline.ToView(p, jobs), nil
	})
}

// csvSafe applies the formula-injection guard of jobs.md §7.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// newCSVResponse starts a UTF-8 CSV attachment with a BOM and CRLF lines.
func newCSVResponse(w http.ResponseWriter, filename string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

// getUploadErrors is GET /uploads/{id}/errors.csv: the kept row errors of
// the upload's jobs (bo(configuration, view) or the uploader).
func (s *Server) getUploadErrors(w http.ResponseWriter, r *http.Request) {
	up, err := s.visibleUpload(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	rows, err := dbsqlc.New(s.Pool).UploadRowErrors(r.Context(), up.ID)
	if err != nil {
		writeError(w, r, s.Logger, fmt.Errorf("error reading row errors of upload %s: %w", up.ID, err))
		return
	}
	var all []ingest.RowError
	for _, row := range rows {
		var errs []ingest.RowError
		if err := json.Unmarshal(row.RowErrors, &errs); err != nil {
			writeError(w, r, s.Logger, fmt.Errorf("error decoding row errors of job %d: %w", row.JobID, err))
			return
		}
		all = append(all, errs...)
	}
	cw := newCSVResponse(w, "upload_"+up.ID.String()+"_errors.csv")
	_ = cw.Write([]string{"row", "line", "column", "code", "message", "value", "severity"})
	for _, e := range all {
		col := ""
		if e.Column != nil {
			col = *e.Column
		}
		_ = cw.Write([]string{strconv.Itoa(e.Row), strconv.Itoa(e.Line), csvSafe(col), csvSafe(e.Code),
			csvSafe(e.Message), csvSafe(e.Value), csvSafe(string(e.Severity))})
	}
	cw.Flush()
}
