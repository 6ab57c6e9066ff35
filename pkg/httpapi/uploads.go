package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Uploads (api.md §5 P/uploads, §9). The file part is streamed straight
// into the blob store (never buffered whole): the form fields must come
// before the `file` part, as browsers send them when the file is appended
// last to the FormData.

// DefaultUploadMaxBytes is UPLOAD_MAX_BYTES' default (100 MiB).
const DefaultUploadMaxBytes = 100 << 20

const (
	sniffBytes     = 64 << 10 // bytes peeked for the NUL sniff and the header check
	maxFieldBytes  = 1 << 10  // a non-file form field
	multipartSlack = 64 << 10 // multipart framing and fields beyond the file limit
)

var uploadContentTypes = []string{"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain", "application/octet-stream", ""}

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

// uploadTarget is what the form fields resolve to before the file streams.
type uploadTarget struct {
	kind, scope, module, submodule, dataset string
	year                                    int32
	unitID, reportModuleID                  *int64
	opts                                    imports.Options
	table                                   *ingest.Table
}

// postUpload is POST /uploads (bo(configuration, edit)).
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request) {
	resp, err := s.receiveUpload(w, r, s.backOfficeTarget)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// postModuleUpload is POST P/uploads (module_sync).
func (s *Server) postModuleUpload(w http.ResponseWriter, r *http.Request) {
	resp, err := s.receiveUpload(w, r, s.moduleTarget)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, resp)
}

func fieldError(field, code, msg string) error {
	return apperr.Validation(msg, apperr.FieldError{Field: field, Code: code, Message: msg})
}

func boolField(fields map[string]string, name string) (bool, error) {
	v := strings.TrimSpace(fields[name])
	if v == "" {
		return false, nil
	}
	b, err := ingest.ParseBool(v)
	if err != nil {
		return false, fieldError(name, "invalid_format", name+" must be a boolean")
	}
	return b, nil
}

// uploadYearValid bounds the year of an upload (POST /uploads and
// /uploads/copy).
func uploadYearValid(y int64) bool { return y >= 2000 && y <= 2100 }

// fieldYear names the year in field errors.
const fieldYear = "year"

func errUploadYear() error {
	return fieldError(fieldYear, "required", "year must be a year between 2000 and 2100")
}

// backOfficeTarget validates the fields of POST /uploads.
func (s *Server) backOfficeTarget(ctx context.Context, _ *http.Request, f map[string]string) (uploadTarget, error) {
	t := uploadTarget{kind: f["kind"], module: f["module"], submodule: f["submodule"], dataset: f["dataset"]}
	switch t.kind {
	case imports.KindData:
		t.scope, t.dataset = imports.ScopeYear, ""
	case imports.KindFactors:
		t.scope, t.dataset = imports.ScopeGlobal, ""
	case imports.KindReference:
		t.scope, t.module, t.submodule = imports.ScopeGlobal, "", ""
	default:
		return t, fieldError("kind", "invalid_enum", "kind must be one of data, factors, reference")
	}
	y, err := strconv.ParseInt(strings.TrimSpace(f["year"]), 10, 32)
	if err != nil || !uploadYearValid(y) {
		return t, errUploadYear()
	}
	t.year = int32(y)
	if t.opts.DeleteStale, err = boolField(f, "delete_stale"); err != nil {
		return t, err
	}
	if t.table, err = imports.Table(t.kind, t.scope, t.module, t.submodule, t.dataset); err != nil {
		field := "submodule"
		if t.kind == imports.KindReference {
			field = "dataset"
		}
		return t, fieldError(field, "invalid_enum", err.Error())
	}
	return t, s.checkUploadYear(ctx, t.year, false)
}

// moduleTarget validates the fields of POST P/uploads.
func (s *Server) moduleTarget(ctx context.Context, r *http.Request, f map[string]string) (uploadTarget, error) {
	unitID, err1 := strconv.ParseInt(chi.URLParam(r, "unit_id"), 10, 64)
	year, err2 := strconv.ParseInt(chi.URLParam(r, "year"), 10, 32)
	if err1 != nil || err2 != nil {
		return uploadTarget{}, apperr.NotFound("no such unit or year")
	}
	sc := struct {
		UnitID int64
		Year   int32
		Module emission.ModuleKey
	}{unitID, int32(year), emission.ModuleKey(chi.URLParam(r, "module"))}
	var err error
	t := uploadTarget{kind: imports.KindData, scope: imports.ScopeUnit, module: string(sc.Module), submodule: f["submodule"],
		year: sc.Year, unitID: &sc.UnitID}
	if t.opts.ReplaceExisting, err = boolField(f, "replace_existing"); err != nil {
		return t, err
	}
	if _, ok := emission.LookupModule(sc.Module); !ok {
		return t, apperr.NotFound("module %s not found", sc.Module)
	}
	if t.table, err = imports.Table(t.kind, t.scope, t.module, t.submodule, ""); err != nil {
		return t, fieldError("submodule", "invalid_enum", err.Error())
	}
	if err := s.checkUploadYear(ctx, t.year, true); err != nil {
		return t, err
	}
	q := dbsqlc.New(s.Pool)
	rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: sc.UnitID, Year: sc.Year, Module: string(sc.Module)})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, apperr.NotFound("no report for unit %d in %d", sc.UnitID, sc.Year)
	}
	if err != nil {
		return t, err
	}
	t.reportModuleID = &rm.ID
	return t, nil
}

// checkUploadYear: back office ready or open (409 year_not_ready /
// year_closed); module pages open (409 year_not_open / year_closed).
func (s *Server) checkUploadYear(ctx context.Context, year int32, openOnly bool) error {
	op := years.OpImport
	if openOnly {
		op = years.OpDataEntry
	}
	_, err := years.Load(ctx, dbsqlc.New(s.Pool), year, op)
	return err
}

// receiveUpload reads the multipart body: fields, then the file part,
// which is checked (extension, content type, NUL bytes, header line) and
// streamed into the blob store with its SHA-256; then, in one transaction,
// the pipeline, the upload row and the import job (InsertTx).
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request,
	target func(context.Context, *http.Request, map[string]string) (uploadTarget, error),
) (uploadResponse, error) {
	var resp uploadResponse
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return resp, apperr.New(apperr.CodeUnsupportedMedia, "the body must be multipart/form-data")
	}
	if s.Blob == nil || s.River == nil {
		return resp, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	limit := s.uploadMaxBytes()
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return resp, apperr.Invalid("malformed multipart body")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return resp, fieldError("file", "required", "the file part is missing")
		}
		if err != nil {
			return resp, bodyError(err, limit)
		}
		if part.FormName() != "file" {
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			_ = part.Close()
			if err != nil {
				return resp, bodyError(err, limit)
			}
			if len(b) > maxFieldBytes {
				return resp, fieldError(part.FormName(), "too_long", "form field too long")
			}
			fields[part.FormName()] = string(b)
			continue
		}
		t, err := target(r.Context(), r, fields)
		if err != nil {
			return resp, err
		}
		resp, err = s.storeUpload(r, part, t, limit)
		_ = part.Close()
		return resp, err
	}
}

func (s *Server) uploadMaxBytes() int64 {
	if s.UploadMaxBytes > 0 {
		return s.UploadMaxBytes
	}
	return DefaultUploadMaxBytes
}

// bodyError maps a body read failure: the MaxBytesReader limit is 413.
func bodyError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || errors.Is(err, errFileTooLarge) {
		return apperr.New(apperr.CodeTooLarge, "the file exceeds %d bytes", limit)
	}
	return apperr.Invalid("error reading the upload: %v", err)
}

var errFileTooLarge = errors.New("file too large")

// sizedHasher counts and hashes what it reads and fails past max bytes.
type sizedHasher struct {
	r        io.Reader
	h        hash.Hash
	n, max   int64
	tooLarge bool
}

func (u *sizedHasher) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	if u.n > u.max {
		u.tooLarge = true
		return 0, errFileTooLarge
	}
	u.h.Write(p[:n])
	return n, err
}

func (s *Server) storeUpload(r *http.Request, part *multipart.Part, t uploadTarget, limit int64) (uploadResponse, error) {
	var resp uploadResponse
	ctx := r.Context()
	filename, partType := part.FileName(), ""
	if h := part.Header.Get("Content-Type"); h != "" {
		partType, _, _ = mime.ParseMediaType(h)
	}
	if !strings.EqualFold(path.Ext(filename), ".csv") {
		return resp, apperr.New(apperr.CodeUnsupportedMedia, "only .csv files are accepted (got %q)", filename)
	}
	if !slices.Contains(uploadContentTypes, strings.ToLower(partType)) {
		return resp, apperr.New(apperr.CodeUnsupportedMedia, "content type %q is not accepted for a CSV file", partType)
	}
	hs := &sizedHasher{r: part, h: sha256.New(), max: limit}
	br := bufio.NewReaderSize(hs, sniffBytes)
	head, err := br.Peek(sniffBytes)
	complete := errors.Is(err, io.EOF)
	if err != nil && !complete && !errors.Is(err, bufio.ErrBufferFull) {
		return resp, bodyError(err, limit)
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return resp, apperr.New(apperr.CodeUnsupportedMedia, "the file is binary, not a CSV text file")
	}
	if err := checkHeader(head, complete, t.table); err != nil {
		return resp, err
	}

	id := uuid.New()
	key := uploadKey(t.year, id)
	if _, err := s.Blob.Put(ctx, key, br, -1, "text/csv"); err != nil {
		if hs.tooLarge {
			return resp, bodyError(errFileTooLarge, limit)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return resp, bodyError(err, limit)
		}
		return resp, fmt.Errorf("error storing the upload: %w", err)
	}
	nu := newUpload{id: id, key: key, filename: filename, contentType: partType, size: hs.n, sha256: hex.EncodeToString(hs.h.Sum(nil))}
	return s.recordOrDiscard(ctx, key, func(ctx context.Context, tx pgx.Tx) (uploadResponse, error) {
		return s.recordUpload(ctx, tx, callerUserID(ctx), nu, t)
	})
}

// uploadKey is the blob key of an upload's file (jobs.md §12).
func uploadKey(year int32, id uuid.UUID) string {
	return fmt.Sprintf("uploads/%d/%s.csv", year, id)
}

// callerUserID is the user id of the caller (nil without a session user).
func callerUserID(ctx context.Context) *int64 {
	if p := principalFrom(ctx); p != nil {
		return &p.User.ID
	}
	return nil
}

// recordOrDiscard runs record in one transaction; when it fails, the blob
// just stored under key is removed (best effort: nothing refers to it).
func (s *Server) recordOrDiscard(ctx context.Context, key string,
	record func(context.Context, pgx.Tx) (uploadResponse, error),
) (uploadResponse, error) {
	resp, err := postgres.WithTxV(ctx, s.Pool, record)
	if err != nil {
		_ = s.Blob.Delete(context.WithoutCancel(ctx), key)
	}
	return resp, err
}

// checkHeader validates the header line of the sniffed prefix (422
// csv_header_invalid with missing_columns, or csv_encoding_invalid). A
// header longer than the prefix is left to the job.
func checkHeader(head []byte, complete bool, tbl *ingest.Table) error {
	if !complete {
		i := bytes.LastIndexByte(head, '\n')
		if i < 0 {
			return nil
		}
		head = head[:i+1]
	}
	_, err := ingest.NewReader(bytes.NewReader(head), tbl, nil)
	fe, ok := errors.AsType[*ingest.FileError](err)
	if !ok {
		return nil
	}
	reason := apperr.Reason("csv_header_invalid")
	if fe.Code == ingest.CodeEncodingInvalid {
		reason = "csv_encoding_invalid"
	}
	detail := apperr.FieldError{Field: "file", Code: fe.Code, Message: fe.Message}
	if len(fe.Columns) > 0 {
		detail.Context = map[string]any{"columns": fe.Columns}
		if fe.Code == ingest.CodeMissingColumns {
			detail.Context = map[string]any{"missing_columns": fe.Columns}
		}
	}
	return &apperr.Error{Code: apperr.CodeValidation, Reason: reason, Message: fe.Message, Fields: []apperr.FieldError{detail}}
}

// newUpload is a stored file about to get its uploads row.
type newUpload struct {
	id                         uuid.UUID
	key, filename, contentType string
	size                       int64
	sha256                     string
	copiedFrom                 *uuid.UUID // POST /uploads/copy: the source upload
}

// recordUpload writes, in tx, the pipeline, the upload row, the
// upload.create audit event and the import job of the upload's kind
// (InsertTx), and returns the 202 answer. POST /uploads, the module-page
// upload and POST /uploads/copy all record through it.
func (s *Server) recordUpload(ctx context.Context, tx pgx.Tx, uploader *int64, nu newUpload, t uploadTarget) (uploadResponse, error) {
	opts, err := json.Marshal(t.opts)
	if err != nil {
		return uploadResponse{}, fmt.Errorf("error encoding upload options: %w", err)
	}
	kind, args := pipeline.KindDataUpload, river.JobArgs(jobs.UploadImportArgs{UploadID: nu.id})
	switch t.kind {
	case imports.KindFactors:
		kind, args = pipeline.KindFactorUpload, jobs.FactorImportArgs{UploadID: nu.id}
	case imports.KindReference:
		kind, args = pipeline.KindReferenceUpload, jobs.ReferenceImportArgs{UploadID: nu.id}
	}
	q := dbsqlc.New(tx)
	p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: kind, Trigger: pipeline.TriggerUser, Year: &t.year,
		Module: nonEmptyPtr(t.module), Submodule: nonEmptyPtr(t.submodule), UnitID: t.unitID, CreatedBy: uploader})
	if err != nil {
		return uploadResponse{}, err
	}
	if err := q.PipelineSetUpload(ctx, dbsqlc.PipelineSetUploadParams{UploadID: &nu.id, ReportModuleID: t.reportModuleID, ID: p.ID}); err != nil {
		return uploadResponse{}, fmt.Errorf("error scoping the pipeline: %w", err)
	}
	up, err := q.UploadInsert(ctx, dbsqlc.UploadInsertParams{
		ID: nu.id, Kind: t.kind, Scope: t.scope, Year: t.year, Module: nonEmptyPtr(t.module), Submodule: nonEmptyPtr(t.submodule),
		Dataset: nonEmptyPtr(t.dataset), UnitID: t.unitID, ReportModuleID: t.reportModuleID, BlobKey: nu.key,
		Filename: nonEmptyPtr(nu.filename), ContentType: nonEmptyPtr(nu.contentType), SizeBytes: nu.size,
		Sha256: nu.sha256, Options: opts, CopiedFromUploadID: nu.copiedFrom, UploadedBy: uploader, PipelineID: &p.ID,
	})
	if err != nil {
		return uploadResponse{}, fmt.Errorf("error recording the upload: %w", err)
	}
	if s.UploadAudit != nil {
		snapshot := fileSnapshot(nu.filename, nu.size, nu.sha256)
		maps.Copy(snapshot, map[string]any{
			"kind": t.kind, "scope": t.scope, fieldYear: t.year, "module": t.module, "submodule": t.submodule,
			"dataset": t.dataset, "unit_id": t.unitID, "pipeline_id": p.ID.String(),
		})
		if nu.copiedFrom != nil {
			snapshot["copied_from"] = nu.copiedFrom.String()
		}
		if err := s.UploadAudit.UploadCreated(ctx, tx, audit.Upload{ID: nu.id.String(), UploadedBy: uploader, Snapshot: snapshot}); err != nil {
			return uploadResponse{}, err
		}
	}
	if _, err := pipeline.InsertTx(ctx, s.River, tx, p.ID, args, nil); err != nil {
		return uploadResponse{}, err
	}
	pl, jobRows, err := pipeline.Get(ctx, tx, p.ID)
	if err != nil {
		return uploadResponse{}, err
	}
	return uploadResponse{Upload: fromDBUpload(up), Pipeline: pipeline.ToView(pl, jobRows)}, nil
}

// fileSnapshot is what the audit events of an upload record of its file.
func fileSnapshot(filename string, size int64, sum string) map[string]any {
	return map[string]any{"filename": filename, "size_bytes": size, "sha256": sum}
}

func nonEmptyPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// listModuleUploads is GET P/uploads (module_sync): newest first.
func (s *Server) listModuleUploads(w http.ResponseWriter, r *http.Request) {
	items, err := s.moduleUploads(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) moduleUploads(r *http.Request) ([]uploadView, error) {
	unitID, err1 := strconv.ParseInt(chi.URLParam(r, "unit_id"), 10, 64)
	year, err2 := strconv.ParseInt(chi.URLParam(r, "year"), 10, 32)
	if err1 != nil || err2 != nil {
		return nil, apperr.NotFound("no such unit or year")
	}
	q := dbsqlc.New(s.Pool)
	rm, err := q.ReportModuleByUnitYearModule(r.Context(), dbsqlc.ReportModuleByUnitYearModuleParams{
		UnitID: unitID, Year: int32(year), Module: chi.URLParam(r, "module")})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("no report module")
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.UploadsByReportModule(r.Context(), dbsqlc.UploadsByReportModuleParams{ReportModuleID: &rm.ID, Limit: 50})
	if err != nil {
		return nil, err
	}
	out := make([]uploadView, len(rows))
	for i, u := range rows {
		out[i] = fromDBUpload(u)
	}
	return out, nil
}

// listUploads is GET /uploads (bo(configuration, view)): paginated, newest
// first, filtered by year, kind, module, submodule, dataset, scope.
func (s *Server) listUploads(w http.ResponseWriter, r *http.Request) {
	resp, err := s.uploadsPage(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type uploadsPage struct {
	Items   []uploadView `json:"items"`
	Page    int          `json:"page"`
	Limit   int          `json:"limit"`
	Total   int64        `json:"total"`
	HasMore bool         `json:"has_more"`
}

func (s *Server) uploadsPage(r *http.Request) (uploadsPage, error) {
	qs := r.URL.Query()
	page, limit := 1, 50
	if v := qs.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return uploadsPage{}, apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "page must be >= 1")
		}
		page = n
	}
	if v := qs.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return uploadsPage{}, apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "limit must be in [1, 1000]")
		}
		limit = n
	}
	var year *int32
	if v := qs.Get("year"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return uploadsPage{}, apperr.WithReason(apperr.CodeInvalid, "invalid_filter", "year must be an integer")
		}
		year = new(int32(n))
	}
	str := func(k string) *string { return nonEmptyPtr(qs.Get(k)) }
	q := dbsqlc.New(s.Pool)
	rows, err := q.UploadsFiltered(r.Context(), dbsqlc.UploadsFilteredParams{Year: year, Kind: str("kind"), Module: str("module"),
		Submodule: str("submodule"), Dataset: str("dataset"), Scope: str("scope"), Limit: int32(limit), Offset: int32((page - 1) * limit)})
	if err != nil {
		return uploadsPage{}, err
	}
	total, err := q.UploadsFilteredCount(r.Context(), dbsqlc.UploadsFilteredCountParams{Year: year, Kind: str("kind"), Module: str("module"),
		Submodule: str("submodule"), Dataset: str("dataset"), Scope: str("scope")})
	if err != nil {
		return uploadsPage{}, err
	}
	out := uploadsPage{Items: make([]uploadView, len(rows)), Page: page, Limit: limit, Total: total,
		HasMore: int64(page*limit) < total}
	for i, u := range rows {
		out.Items[i] = fromDBUpload(u)
	}
	return out, nil
}

// visibleUpload reads {id} for its uploader or bo(configuration, view);
// others get 404.
func (s *Server) visibleUpload(r *http.Request) (dbsqlc.Upload, error) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return dbsqlc.Upload{}, apperr.NotFound("upload not found")
	}
	up, err := dbsqlc.New(s.Pool).UploadGet(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return up, apperr.NotFound("upload %s not found", id)
	}
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
func (s *Server) getUpload(w http.ResponseWriter, r *http.Request) {
	up, err := s.visibleUpload(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, fromDBUpload(up))
}

// getUploadFile is GET /uploads/{id}/file: the original bytes (streamed).
func (s *Server) getUploadFile(w http.ResponseWriter, r *http.Request) {
	up, err := s.visibleUpload(r)
	if err == nil && s.Blob == nil {
		err = apperr.New(apperr.CodeUnavailable, "no blob store configured")
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	rc, info, err := s.Blob.Get(r.Context(), up.BlobKey)
	if err != nil {
		writeError(w, r, s.Logger, fmt.Errorf("error opening upload %s: %w", up.ID, err))
		return
	}
	defer rc.Close()
	name := "upload.csv"
	if up.Filename != nil {
		name = *up.Filename
	}
	// Audited before the first byte goes out: a download that cannot be
	// recorded is refused (500).
	if s.UploadAudit != nil {
		err := s.UploadAudit.UploadDownloaded(r.Context(), s.Pool, audit.Upload{ID: up.ID.String(),
			Snapshot: fileSnapshot(name, info.Size, up.Sha256)}, callerUserID(r.Context()))
		if err != nil {
			writeError(w, r, s.Logger, fmt.Errorf("error auditing the download of upload %s: %w", up.ID, err))
			return
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
}
