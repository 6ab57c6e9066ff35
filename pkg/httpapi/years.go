package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Years and their setup (docs/api.md §7) and the Accred sync trigger
// (§14): adapters over package years, which holds the lifecycle, the
// configuration rules and the setup.

// Names of the multipart file part and of the "required" detail code.
const (
	formFile       = "file"
	detailRequired = "required"
	fieldYear      = "year"
)

// yearsService is the years service of the API: setups enqueued with the
// insert-only River client, reduction-objective files in the blob store,
// the year's reports refreshed by package report when modules are enabled
// or disabled.
func (s *Server) yearsService() *years.Service {
	svc := &years.Service{DB: s.Pool, Blob: s.Blob, MaxBytes: s.uploadMaxBytes(), ReportsChanged: report.RefreshYear, Logger: s.Logger}
	if s.River != nil {
		svc.Enqueue = jobs.EnqueueUnitSync(s.River)
	}
	return svc
}

// listYears is GET /years (auth): newest first; non-administrators see
// open and closed years only.
func (s *Server) listYears(r *http.Request) (response, error) {
	return reply(s.yearsService().List(r.Context(), principalFrom(r.Context()).Perms.IsAdmin()))
}

// getYear is GET /years/{year} (auth; a year a non-administrator may not
// see is 404), with its ETag; If-None-Match → 304.
func (s *Server) getYear(r *http.Request) (response, error) {
	y, err := pathYear(r)
	if err != nil {
		return response{}, err
	}
	v, err := s.yearsService().GetVisible(r.Context(), y, principalFrom(r.Context()).Perms.IsAdmin())
	if err != nil {
		return response{}, err
	}
	if noneMatch(r, v.ETag) {
		return notModified().with("ETag", v.ETag), nil
	}
	return ok(v).with("ETag", v.ETag), nil
}

type createYearRequest struct {
	Year *int64 `json:"year"`
}

// postYear is POST /years (bo(configuration, edit)): 202 {year, pipeline}.
func (s *Server) postYear(r *http.Request) (response, error) {
	var in createYearRequest
	if err := decodeJSON(r, &in); err != nil {
		return response{}, err
	}
	if in.Year == nil {
		return response{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: fieldYear, Code: detailRequired, Message: "year is required"})
	}
	if !years.Valid(*in.Year) {
		return response{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: fieldYear, Code: "out_of_range",
			Message: fmt.Sprintf("must be a year between %d and %d", years.Min, years.Max)})
	}
	created, err := s.yearsService().Create(r.Context(), int32(*in.Year), callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return accepted(created).with("ETag", created.Year.ETag), nil
}

type patchYearRequest struct {
	Status *string         `json:"status"`
	Config json.RawMessage `json:"config"`
}

// patchYear is PATCH /years/{year} (bo(configuration, edit)): status
// transition and configuration deep-merge; If-Match optional (412 when
// stale).
func (s *Server) patchYear(r *http.Request) (response, error) {
	y, err := pathYear(r)
	if err != nil {
		return response{}, err
	}
	var in patchYearRequest
	if err := decodeJSON(r, &in); err != nil {
		return response{}, err
	}
	p := years.Patch{Status: in.Status, Config: in.Config}
	if string(in.Config) == "null" {
		return response{}, apperr.Validation("1 field is invalid", apperr.FieldError{Field: "config", Code: "invalid_format", Message: "must be an object"})
	}
	if h := strings.TrimSpace(r.Header.Get("If-Match")); h != "" {
		p.IfMatch = &h
	}
	v, err := s.yearsService().Update(r.Context(), y, p, callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return ok(v).with("ETag", v.ETag), nil
}

// postYearSetup is POST /years/{year}/setup (bo(configuration, edit)): 202
// with the new setup pipeline.
func (s *Server) postYearSetup(r *http.Request) (response, error) {
	y, err := pathYear(r)
	if err != nil {
		return response{}, err
	}
	p, err := s.yearsService().Setup(r.Context(), y, callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return accepted(p), nil
}

// getYearDataStatus is GET /years/{year}/data-status (bo(configuration,
// view)).
func (s *Server) getYearDataStatus(r *http.Request) (response, error) {
	y, err := pathYear(r)
	if err != nil {
		return response{}, err
	}
	return reply(s.yearsService().DataStatus(r.Context(), y))
}

// postReductionObjectives is POST /years/{year}/reduction-objectives/{dataset}
// (bo(configuration, edit)): multipart with a `file` part → the Year.
func (s *Server) postReductionObjectives(r *http.Request) (response, error) {
	y, err := pathYear(r)
	if err != nil {
		return response{}, err
	}
	dataset := chi.URLParam(r, "dataset")
	if _, ok := years.ObjectiveDatasets[dataset]; !ok {
		return response{}, apperr.NotFound("unknown reduction-objective dataset %q", dataset)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return response{}, apperr.New(apperr.CodeUnsupportedMedia, "the body must be multipart/form-data")
	}
	limit := s.uploadMaxBytes()
	r.Body = http.MaxBytesReader(nil, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return response{}, apperr.Invalid("malformed multipart body")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return response{}, apperr.Validation("the file part is missing",
				apperr.FieldError{Field: formFile, Code: detailRequired, Message: "the file part is missing"})
		}
		if err != nil {
			return response{}, readError(err, limit)
		}
		if part.FormName() != formFile {
			_ = part.Close()
			continue
		}
		v, err := s.yearsService().ReductionObjectives(r.Context(), y, dataset,
			years.File{Name: part.FileName(), ContentType: part.Header.Get("Content-Type"), Body: part}, callerUserID(r.Context()))
		_ = part.Close()
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return response{}, errBodyTooLarge(limit)
		}
		if err != nil {
			return response{}, err
		}
		return ok(v).with("ETag", v.ETag), nil
	}
}

// postAccredSync is POST /integrations/accred/sync (bo(configuration,
// edit)): `{}` (or no body) → 202 with the accred_sync pipeline.
func (s *Server) postAccredSync(r *http.Request) (response, error) {
	if r.ContentLength != 0 {
		var in struct{}
		if err := decodeJSON(r, &in); err != nil {
			return response{}, err
		}
	}
	p, err := s.yearsService().SyncUnits(r.Context(), callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return accepted(p), nil
}
