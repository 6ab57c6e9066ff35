package httpapi

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Uploads (docs/api.md §5 P/uploads, §9): adapters over package imports,
// which checks, stores and records the files. The multipart body is read
// here: the form fields must come before the `file` part (as browsers send
// them when the file is appended last to the FormData), so that the target
// is known — and refused early — before the file streams straight into the
// blob store.

// DefaultUploadMaxBytes is UPLOAD_MAX_BYTES' default (100 MiB).
const DefaultUploadMaxBytes = imports.DefaultMaxBytes

const (
	maxFieldBytes  = 1 << 10  // a non-file form field
	multipartSlack = 64 << 10 // multipart framing and fields beyond the file limit
)

// uploadView is the Upload object of the API.
type uploadView struct {
	ID                 uuid.UUID       `json:"id"`
	Kind               string          `json:"kind"`
	Scope              string          `json:"scope"`
	Year               int32           `json:"year"`
	Module             *string         `json:"module"`
	Submodule          *string         `json:"submodule"`
	Dataset            *string         `json:"dataset"`
	UnitID             *int64          `json:"unit_id"`
	Filename           *string         `json:"filename"`
	ContentType        *string         `json:"content_type"`
	SizeBytes          int64           `json:"size_bytes"`
	SHA256             string          `json:"sha256"`
	Options            imports.Options `json:"options"`
	CopiedFromUploadID *uuid.UUID      `json:"copied_from_upload_id"`
	UploadedBy         *int64          `json:"uploaded_by"`
	UploadedAt         time.Time       `json:"uploaded_at"`
	PipelineID         *uuid.UUID      `json:"pipeline_id"`
}

func fromDBUpload(u dbsqlc.Upload) uploadView {
	return uploadView{ID: u.ID, Kind: u.Kind, Scope: u.Scope, Year: u.Year, Module: u.Module, Submodule: u.Submodule,
		Dataset: u.Dataset, UnitID: u.UnitID, Filename: u.Filename, ContentType: u.ContentType, SizeBytes: u.SizeBytes,
		SHA256: u.Sha256, Options: imports.OptionsOf(u), CopiedFromUploadID: u.CopiedFromUploadID, UploadedBy: u.UploadedBy,
		UploadedAt: u.UploadedAt, PipelineID: u.PipelineID}
}

// uploadResponse is the 202 answer of an upload.
type uploadResponse struct {
	Upload   uploadView    `json:"upload"`
	Pipeline pipeline.View `json:"pipeline"`
}

func fromAccepted(a imports.Accepted) uploadResponse {
	return uploadResponse{Upload: fromDBUpload(a.Upload), Pipeline: a.Pipeline}
}

// postUpload is POST /uploads (bo(configuration, edit)).
func (s *Server) postUpload(r *http.Request) (response, error) {
	return s.receiveUpload(r, s.imports.BackOfficeTarget)
}

// postModuleUpload is POST P/uploads (module_sync).
func (s *Server) postModuleUpload(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	return s.receiveUpload(r, func(ctx context.Context, fields map[string]string) (imports.Target, error) {
		return s.imports.ModuleTarget(ctx, unitID, year, chi.URLParam(r, "module"), fields)
	})
}

// receiveUpload reads the multipart body: the fields, resolved to a target
// by target, then the file part, handed to imports.Service.Accept as it
// streams. 202 {upload, pipeline}.
func (s *Server) receiveUpload(r *http.Request, target func(context.Context, map[string]string) (imports.Target, error)) (response, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return response{}, apperr.New(apperr.CodeUnsupportedMedia, "the body must be multipart/form-data")
	}
	if s.Blob == nil || s.River == nil {
		return response{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	limit := s.uploadMaxBytes()
	r.Body = http.MaxBytesReader(nil, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return response{}, apperr.Invalid("malformed multipart body")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return response{}, apperr.Validation("the file part is missing",
				apperr.FieldError{Field: "file", Code: "required", Message: "the file part is missing"})
		}
		if err != nil {
			return response{}, readError(err, limit)
		}
		if part.FormName() != "file" {
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			_ = part.Close()
			if err != nil {
				return response{}, readError(err, limit)
			}
			if len(b) > maxFieldBytes {
				return response{}, apperr.Validation("form field too long",
					apperr.FieldError{Field: part.FormName(), Code: "too_long", Message: "form field too long"})
			}
			fields[part.FormName()] = string(b)
			continue
		}
		t, err := target(r.Context(), fields)
		if err != nil {
			return response{}, err
		}
		partType := ""
		if h := part.Header.Get("Content-Type"); h != "" {
			partType, _, _ = mime.ParseMediaType(h)
		}
		acc, err := s.imports.Accept(r.Context(), t, imports.File{Name: part.FileName(), ContentType: partType, Body: part},
			callerUserID(r.Context()))
		_ = part.Close()
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return response{}, errBodyTooLarge(limit)
		}
		if err != nil {
			return response{}, err
		}
		return accepted(fromAccepted(acc)), nil
	}
}

func (s *Server) uploadMaxBytes() int64 {
	if s.UploadMaxBytes > 0 {
		return s.UploadMaxBytes
	}
	return DefaultUploadMaxBytes
}

// readError maps a failure to read the multipart body: past the request
// limit (MaxBytesReader) 413 like the file limit, else 400.
func readError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errBodyTooLarge(limit)
	}
	return apperr.Invalid("error reading the upload: %v", err)
}

func errBodyTooLarge(limit int64) error {
	return apperr.New(apperr.CodeTooLarge, "the file exceeds %d bytes", limit)
}

// callerUserID is the user id of the caller (nil without a session user).
func callerUserID(ctx context.Context) *int64 {
	if p := principalFrom(ctx); p != nil {
		return &p.User.ID
	}
	return nil
}

// listModuleUploads is GET P/uploads (module_sync): newest first.
func (s *Server) listModuleUploads(r *http.Request) (response, error) {
	unitID, year, err := pathUnitYear(r)
	if err != nil {
		return response{}, err
	}
	rows, err := s.imports.ModuleUploads(r.Context(), unitID, year, chi.URLParam(r, "module"))
	if err != nil {
		return response{}, err
	}
	return ok(map[string]any{"items": mapItems(rows, fromDBUpload)}), nil
}

// listUploads is GET /uploads (bo(configuration, view)): paginated, newest
// first, filtered by year, kind, module, submodule, dataset, scope.
func (s *Server) listUploads(r *http.Request) (response, error) {
	pp, err := queryPage(r)
	if err != nil {
		return response{}, err
	}
	year, err := queryYear(r)
	if err != nil {
		return response{}, err
	}
	f := imports.Filter{Year: year, Kind: queryString(r, "kind"), Module: queryString(r, "module"),
		Submodule: queryString(r, "submodule"), Dataset: queryString(r, "dataset"), Scope: queryString(r, "scope")}
	rows, total, err := s.imports.List(r.Context(), f, pp.offset(), int32(pp.Limit))
	if err != nil {
		return response{}, err
	}
	return ok(newPage(mapItems(rows, fromDBUpload), pp, total)), nil
}

// visibleUpload reads {id} for its uploader or bo(configuration, view);
// others get 404.
func (s *Server) visibleUpload(r *http.Request) (dbsqlc.Upload, error) {
	id, err := pathUUID(r, "upload")
	if err != nil {
		return dbsqlc.Upload{}, err
	}
	up, err := s.imports.Get(r.Context(), id)
	if err != nil {
		return up, err
	}
	p := principalFrom(r.Context())
	if p.Perms.BO("configuration", "view") || (up.UploadedBy != nil && *up.UploadedBy == p.User.ID) {
		return up, nil
	}
	return dbsqlc.Upload{}, apperr.NotFound("upload %s not found", id)
}

// getUpload is GET /uploads/{id}.
func (s *Server) getUpload(r *http.Request) (response, error) {
	up, err := s.visibleUpload(r)
	if err != nil {
		return response{}, err
	}
	return ok(fromDBUpload(up)), nil
}

// getUploadFile is GET /uploads/{id}/file: the original bytes (streamed),
// audited (upload.download) before the first byte.
func (s *Server) getUploadFile(r *http.Request) (response, error) {
	up, err := s.visibleUpload(r)
	if err != nil {
		return response{}, err
	}
	f, err := s.imports.OpenFile(r.Context(), up, callerUserID(r.Context()))
	if err != nil {
		return response{}, err
	}
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		defer f.Close()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
		_, _ = io.Copy(w, f)
	}), nil
}

// getUploadErrors is GET /uploads/{id}/errors.csv: the kept row errors of
// the upload's jobs (bo(configuration, view) or the uploader).
func (s *Server) getUploadErrors(r *http.Request) (response, error) {
	up, err := s.visibleUpload(r)
	if err != nil {
		return response{}, err
	}
	all, err := s.imports.RowErrorsOf(r.Context(), up.ID)
	if err != nil {
		return response{}, err
	}
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		cw := newCSVResponse(w, "upload_"+up.ID.String()+"_errors.csv")
		_ = cw.Write([]string{"row", "line", "column", "code", "message", "value", "severity"})
		for _, e := range all {
			col := ""
			if e.Column != nil {
				col = *e.Column
			}
			_ = cw.Write([]string{strconv.Itoa(e.Row), strconv.Itoa(e.Line), export.SafeCell(col), export.SafeCell(e.Code),
				export.SafeCell(e.Message), export.SafeCell(e.Value), export.SafeCell(string(e.Severity))})
		}
		cw.Flush()
	}), nil
}

// newCSVResponse starts a UTF-8 CSV attachment with a BOM and CRLF lines.
func newCSVResponse(w http.ResponseWriter, filename string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	cw, _ := export.NewCSVWriter(w) // a failed write of the BOM fails the first row too
	return cw
}
