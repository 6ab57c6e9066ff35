package httpapi

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// POST /uploads/copy (docs/api.md §9): re-import a previous upload's file
// for another year (imports.Service.Copy).
//
// Permission: bo(configuration, edit) only (spec api.md; requireBO in the
// route table), whatever the source's scope. A copy creates an upload owned
// by its caller, which that caller may then download (GET /uploads/{id}/file:
// back office or uploader); a copy open to a unit's principals would let one
// principal read another's file through it. Unit principals re-upload on the
// module page instead (POST …/modules/{module}/uploads).

// copyUploadRequest is the body of POST /uploads/copy.
type copyUploadRequest struct {
	SourceUploadID *string `json:"source_upload_id"`
	Year           *int64  `json:"year"`
}

// fieldSourceUploadID names the source in field errors.
const fieldSourceUploadID = "source_upload_id"

func (req copyUploadRequest) validate() (uuid.UUID, int32, error) {
	field := func(name, code, msg string) error {
		return apperr.Validation(msg, apperr.FieldError{Field: name, Code: code, Message: msg})
	}
	if req.SourceUploadID == nil {
		return uuid.Nil, 0, field(fieldSourceUploadID, "required", "source_upload_id is required")
	}
	id, err := uuid.Parse(*req.SourceUploadID)
	if err != nil {
		return uuid.Nil, 0, field(fieldSourceUploadID, "invalid_format", "source_upload_id must be a UUID")
	}
	if req.Year == nil || !years.Valid(*req.Year) {
		return uuid.Nil, 0, field("year", "required", fmt.Sprintf("year must be a year between %d and %d", years.Min, years.Max))
	}
	return id, int32(*req.Year), nil
}

// postUploadCopy is POST /uploads/copy → 202 {upload, pipeline}.
func (s *Server) postUploadCopy(r *http.Request) (response, error) {
	if s.Blob == nil || s.River == nil {
		return response{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	var req copyUploadRequest
	if err := decodeJSON(r, &req); err != nil {
		return response{}, err
	}
	id, year, err := req.validate()
	if err != nil {
		return response{}, err
	}
	ctx := r.Context()
	src, err := s.imports.CopySource(ctx, id)
	if err != nil {
		return response{}, err
	}
	acc, err := s.imports.Copy(ctx, src, year, callerUserID(ctx))
	if err != nil {
		return response{}, err
	}
	return accepted(fromAccepted(acc)), nil
}
