package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
)

// Factor curation (docs/api.md §8): adapters over package factors, which
// validates a factor like a factor CSV row and requests the recalculation
// of what a change affects.

// factorService is the factor curation the handlers call.
func (s *Server) factorService() *factors.Service {
	svc := &factors.Service{}
	if s.Pool != nil {
		svc.DB = s.Pool
	}
	if s.River != nil {
		svc.Recalc, svc.EnqueueCompute = jobs.EnqueueRecalc(s.River), jobs.EnqueueFactorCompute(s.River)
	}
	return svc
}

// factorView is the Factor object (docs/api.md §2).
type factorView struct {
	ID             int64             `json:"id"`
	Year           int32             `json:"year"`
	Module         string            `json:"module"`
	Submodule      string            `json:"submodule"`
	EmissionType   string            `json:"emission_type"`
	Classification map[string]string `json:"classification"`
	ClassKey       string            `json:"class_key"`
	Values         map[string]any    `json:"values"`
	Source         string            `json:"source"`
	Stale          bool              `json:"stale"`
	LastUploadID   *uuid.UUID        `json:"last_upload_id"`
	UpdatedAt      time.Time         `json:"updated_at"`
	Version        int64             `json:"version"`
}

func fromFactor(f factors.Factor) factorView {
	return factorView{ID: f.ID, Year: f.Year, Module: string(f.Module), Submodule: string(f.Submodule),
		EmissionType: string(f.EmissionType), Classification: f.Classification, ClassKey: f.ClassKey, Values: f.Values, Source: f.Source,
		Stale: f.Stale, LastUploadID: f.LastUploadID, UpdatedAt: f.UpdatedAt, Version: f.Version}
}

// factorWritten is the answer of POST and PATCH /factors.
type factorWritten struct {
	Factor   factorView    `json:"factor"`
	Pipeline pipeline.View `json:"pipeline"`
}

// pipelineAnswer is {pipeline} (DELETE /factors/{id}, the FX rates,
// POST /recalculations).
type pipelineAnswer struct {
	Pipeline pipeline.View `json:"pipeline"`
}

// factorETag is the ETag of a factor: W/"f<id>-v<version>".
func factorETag(f factors.Factor) string { return fmt.Sprintf(`W/"f%d-v%d"`, f.ID, f.Version) }

// pathFactorID parses {id} of a factor.
func pathFactorID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("factor %q not found", raw)
	}
	return id, nil
}

// factorWriteTarget parses {id} and the optional If-Match of PATCH and
// DELETE: nil version when absent or "*" (last write wins); a tag of
// another factor or a malformed one is 412.
func factorWriteTarget(r *http.Request) (int64, *int64, error) {
	id, err := pathFactorID(r)
	if err != nil {
		return 0, nil, err
	}
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return id, nil, nil
	}
	tag := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	var gotID, version int64
	if n, err := fmt.Sscanf(tag, "f%d-v%d", &gotID, &version); err != nil || n != 2 || gotID != id {
		return id, nil, apperr.New(apperr.CodePrecondition, "If-Match does not match factor %d", id)
	}
	return id, &version, nil
}

// listFactors is GET /factors (bo(configuration, view)).
func (s *Server) listFactors(r *http.Request) (response, error) {
	p, err := queryPage(r)
	if err != nil {
		return response{}, err
	}
	lp := factors.ListParams{Module: r.URL.Query().Get("module"), Submodule: r.URL.Query().Get("submodule"),
		Q: r.URL.Query().Get("q"), Limit: int32(p.Limit), Offset: p.offset()}
	if lp.Year, err = queryYear(r); err != nil {
		return response{}, err
	}
	if lp.Stale, err = queryBool(r, "stale"); err != nil {
		return response{}, err
	}
	if lp.Sort, err = factors.ParseSort(r.URL.Query().Get("sort")); err != nil {
		return response{}, err
	}
	items, total, err := s.factorService().List(r.Context(), lp)
	if err != nil {
		return response{}, err
	}
	return ok(newPage(mapItems(items, fromFactor), p, total)), nil
}

// getFactor is GET /factors/{id} (bo(configuration, view)), with its ETag.
func (s *Server) getFactor(r *http.Request) (response, error) {
	id, err := pathFactorID(r)
	if err != nil {
		return response{}, err
	}
	f, err := s.factorService().Get(r.Context(), id)
	if err != nil {
		return response{}, err
	}
	tag := factorETag(f)
	if noneMatch(r, tag) {
		return notModified().with("ETag", tag), nil
	}
	return ok(fromFactor(f)).with("ETag", tag), nil
}

// factorCreateRequest is the body of POST /factors.
type factorCreateRequest struct {
	Year           int32          `json:"year"`
	Submodule      string         `json:"submodule"`
	Classification map[string]any `json:"classification"`
	Values         map[string]any `json:"values"`
}

// createFactor is POST /factors (bo(configuration, edit)): 201 {factor,
// pipeline}.
func (s *Server) createFactor(r *http.Request) (response, error) {
	var body factorCreateRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	w, err := s.factorService().Create(r.Context(), callerUserID(r.Context()), factors.Input{Year: body.Year, Submodule: body.Submodule,
		Classification: body.Classification, Values: body.Values})
	if err != nil {
		return response{}, err
	}
	return created(factorWritten{Factor: fromFactor(w.Factor), Pipeline: w.Pipeline}).with("ETag", factorETag(w.Factor)), nil
}

// factorPatchRequest is the body of PATCH /factors/{id}.
type factorPatchRequest struct {
	Classification map[string]any `json:"classification"`
	Values         map[string]any `json:"values"`
}

// patchFactor is PATCH /factors/{id} (bo(configuration, edit)): {factor,
// pipeline}; If-Match → 412 when the factor changed since.
func (s *Server) patchFactor(r *http.Request) (response, error) {
	id, version, err := factorWriteTarget(r)
	if err != nil {
		return response{}, err
	}
	var body factorPatchRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	w, err := s.factorService().Update(r.Context(), callerUserID(r.Context()), id,
		factors.Patch{Classification: body.Classification, Values: body.Values}, version)
	if err != nil {
		return response{}, err
	}
	return ok(factorWritten{Factor: fromFactor(w.Factor), Pipeline: w.Pipeline}).with("ETag", factorETag(w.Factor)), nil
}

// deleteFactor is DELETE /factors/{id} (bo(configuration, edit)):
// {pipeline}; If-Match as for PATCH.
func (s *Server) deleteFactor(r *http.Request) (response, error) {
	id, version, err := factorWriteTarget(r)
	if err != nil {
		return response{}, err
	}
	p, err := s.factorService().Delete(r.Context(), callerUserID(r.Context()), id, version)
	if err != nil {
		return response{}, err
	}
	return ok(pipelineAnswer{Pipeline: p}), nil
}

// staleFactors is GET /factors/stale?year=&submodule= (bo(configuration,
// view)): an array, [] when nothing is stale.
func (s *Server) staleFactors(r *http.Request) (response, error) {
	year, err := queryYear(r)
	if err != nil {
		return response{}, err
	}
	items, err := s.factorService().Stale(r.Context(), year, r.URL.Query().Get("submodule"))
	if err != nil {
		return response{}, err
	}
	return ok(mapItems(items, fromFactor)), nil
}

// factorScopeRequest is the body of the purge and of the computed refresh.
type factorScopeRequest struct {
	Year      int32  `json:"year"`
	Submodule string `json:"submodule"`
}

// purgeResponse is the 202 answer of the purge.
type purgeResponse struct {
	DeletedCount int           `json:"deleted_count"`
	Pipeline     pipeline.View `json:"pipeline"`
}

// purgeStaleFactors is POST /factors/stale/purge (bo(configuration,
// edit)): 202 {deleted_count, pipeline}.
func (s *Server) purgeStaleFactors(r *http.Request) (response, error) {
	var body factorScopeRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	res, err := s.factorService().PurgeStale(r.Context(), callerUserID(r.Context()), body.Year, body.Submodule)
	if err != nil {
		return response{}, err
	}
	return accepted(purgeResponse{DeletedCount: res.Deleted, Pipeline: res.Pipeline}), nil
}

// computeFactors is POST /factors/compute (bo(configuration, edit)): 202
// with the pipeline (factor_compute).
func (s *Server) computeFactors(r *http.Request) (response, error) {
	var body factorScopeRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	p, err := s.factorService().RequestCompute(r.Context(), callerUserID(r.Context()), body.Year, body.Submodule)
	if err != nil {
		return response{}, err
	}
	return accepted(p), nil
}
