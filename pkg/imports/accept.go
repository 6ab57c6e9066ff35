package imports

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
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Accepting an upload (docs/api.md §5 P/uploads, §9): the target is
// resolved from the form fields before the file streams, the file is
// checked (extension, content type, NUL bytes, header line) and streamed
// into the blob store with its SHA-256, then one transaction records the
// pipeline, the upload row, the upload.create audit event and the import
// job. The file is deleted again when that transaction fails.

const sniffBytes = 64 << 10 // bytes peeked for the NUL sniff and the header check

// ContentTypes are the accepted content types of an uploaded CSV part.
var ContentTypes = []string{"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain", "application/octet-stream", ""}

// Target is where an upload goes, resolved before its file is read.
type Target struct {
	Kind, Scope, Module, Submodule, Dataset string
	Year                                    int32
	UnitID, ReportModuleID                  *int64
	Options                                 Options
	// AllowDuplicate (form field allow_duplicate) accepts a file already
	// imported into this target (ReasonDuplicateUpload otherwise).
	AllowDuplicate bool
	table          *ingest.Table
}

// ReasonDuplicateUpload refuses (409) a file whose content equals an
// earlier upload into the same target that was imported (docs/api.md §9).
const ReasonDuplicateUpload apperr.Reason = "duplicate_upload"

// Accepted is an upload recorded with its pipeline.
type Accepted struct {
	Upload   dbsqlc.Upload
	Pipeline pipeline.View
}

// File is an uploaded file as it streams in.
type File struct {
	Name        string
	ContentType string // media type of the part, parameters removed
	Body        io.Reader
}

// fieldError is a 422 on one form field.
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

func errYearField() error {
	return fieldError("year", "required", fmt.Sprintf("year must be a year between %d and %d", years.Min, years.Max))
}

// BackOfficeTarget validates the form fields of POST /uploads: kind, year,
// module, submodule, dataset, delete_stale, allow_duplicate. The year must
// accept imports.
func (s *Service) BackOfficeTarget(ctx context.Context, f map[string]string) (Target, error) {
	t := Target{Kind: f["kind"], Module: f["module"], Submodule: f["submodule"], Dataset: f["dataset"]}
	switch t.Kind {
	case KindData:
		t.Scope, t.Dataset = ScopeYear, ""
	case KindFactors:
		t.Scope, t.Dataset = ScopeGlobal, ""
	case KindReference:
		t.Scope, t.Module, t.Submodule = ScopeGlobal, "", ""
	default:
		return t, fieldError("kind", "invalid_enum", "kind must be one of data, factors, reference")
	}
	y, err := parseYear(f["year"])
	if err != nil {
		return t, err
	}
	t.Year = y
	if t.Options.DeleteStale, err = boolField(f, "delete_stale"); err != nil {
		return t, err
	}
	if t.AllowDuplicate, err = boolField(f, "allow_duplicate"); err != nil {
		return t, err
	}
	if t.table, err = Table(t.Kind, t.Scope, t.Module, t.Submodule, t.Dataset); err != nil {
		field := "submodule"
		if t.Kind == KindReference {
			field = "dataset"
		}
		return t, fieldError(field, "invalid_enum", err.Error())
	}
	_, err = years.Load(ctx, dbsqlc.New(s.DB), t.Year, YearOp(t.Scope))
	return t, err
}

func parseYear(v string) (int32, error) {
	var y int64
	if _, err := fmt.Sscan(strings.TrimSpace(v), &y); err != nil || !years.Valid(y) {
		return 0, errYearField()
	}
	return int32(y), nil
}

// ModuleTarget validates a module-page upload (POST P/uploads) of unit and
// module in year: the submodule field (omitted for the module files of
// equipment and purchases, whose rows are routed by their category
// column), replace_existing and allow_duplicate. The year must be open and
// the unit must have a report for it.
func (s *Service) ModuleTarget(ctx context.Context, unitID int64, year int32, module string, f map[string]string) (Target, error) {
	t := Target{Kind: KindData, Scope: ScopeUnit, Module: module, Submodule: f["submodule"], Year: year, UnitID: &unitID}
	var err error
	if t.Options.ReplaceExisting, err = boolField(f, "replace_existing"); err != nil {
		return t, err
	}
	if t.AllowDuplicate, err = boolField(f, "allow_duplicate"); err != nil {
		return t, err
	}
	if _, ok := emission.LookupModule(emission.ModuleKey(module)); !ok {
		return t, apperr.NotFound("module %s not found", module)
	}
	if t.table, err = Table(t.Kind, t.Scope, t.Module, t.Submodule, ""); err != nil {
		return t, fieldError("submodule", "invalid_enum", err.Error())
	}
	q := dbsqlc.New(s.DB)
	if _, err := years.Load(ctx, q, year, YearOp(t.Scope)); err != nil {
		return t, err
	}
	rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: unitID, Year: year, Module: module})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, apperr.NotFound("no report for unit %d in %d", unitID, year)
	}
	if err != nil {
		return t, fmt.Errorf("error reading the report module: %w", err)
	}
	t.ReportModuleID = &rm.ID
	return t, nil
}

// ErrFileTooLarge is the cause of the 413 of a file over the limit.
var ErrFileTooLarge = errors.New("file too large")

func errTooLarge(limit int64) error {
	return &apperr.Error{Code: apperr.CodeTooLarge, Message: fmt.Sprintf("the file exceeds %d bytes", limit), Cause: ErrFileTooLarge}
}

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
		return 0, ErrFileTooLarge
	}
	u.h.Write(p[:n])
	return n, err
}

// Accept checks f, streams it into the blob store and records it for t
// (uploader: the caller's user id). Errors: 415 for a file that is not a
// CSV text file, 422 for a bad header line, 413 past MaxBytes (a read
// error of f is returned wrapped, for the adapter to map its own limits),
// 409 duplicate_upload for a file already imported into t (unless
// t.AllowDuplicate; the file is only hashed as it streams, so the check
// follows the stream and the stored file is deleted again), 503 without a
// blob store or an enqueuer.
func (s *Service) Accept(ctx context.Context, t Target, f File, uploader *int64) (Accepted, error) {
	if s.Blob == nil || s.Enqueue == nil {
		return Accepted{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	if !strings.EqualFold(path.Ext(f.Name), ".csv") {
		return Accepted{}, apperr.New(apperr.CodeUnsupportedMedia, "only .csv files are accepted (got %q)", f.Name)
	}
	if !slices.Contains(ContentTypes, strings.ToLower(f.ContentType)) {
		return Accepted{}, apperr.New(apperr.CodeUnsupportedMedia, "content type %q is not accepted for a CSV file", f.ContentType)
	}
	limit := s.maxBytes()
	hs := &sizedHasher{r: f.Body, h: sha256.New(), max: limit}
	br := bufio.NewReaderSize(hs, sniffBytes)
	head, err := br.Peek(sniffBytes)
	complete := errors.Is(err, io.EOF)
	switch {
	case hs.tooLarge:
		return Accepted{}, errTooLarge(limit)
	case err != nil && !complete && !errors.Is(err, bufio.ErrBufferFull):
		return Accepted{}, &apperr.Error{Code: apperr.CodeInvalid, Message: fmt.Sprintf("error reading the upload: %v", err), Cause: err}
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return Accepted{}, apperr.New(apperr.CodeUnsupportedMedia, "the file is binary, not a CSV text file")
	}
	if err := checkHeader(head, complete, t.table); err != nil {
		return Accepted{}, err
	}

	id := uuid.New()
	key := Key(t.Year, id)
	if _, err := s.Blob.Put(ctx, key, br, -1, "text/csv"); err != nil {
		if hs.tooLarge {
			return Accepted{}, errTooLarge(limit)
		}
		return Accepted{}, fmt.Errorf("error storing the upload: %w", err)
	}
	nu := newUpload{id: id, key: key, filename: f.Name, contentType: f.ContentType, size: hs.n, sha256: hex.EncodeToString(hs.h.Sum(nil))}
	if !t.AllowDuplicate {
		if err := s.checkDuplicate(ctx, t, nu.sha256); err != nil {
			_ = s.Blob.Delete(context.WithoutCancel(ctx), key)
			return Accepted{}, err
		}
	}
	return s.recordOrDiscard(ctx, key, func(ctx context.Context, tx pgx.Tx) (Accepted, error) {
		return s.record(ctx, tx, uploader, nu, t)
	})
}

// checkDuplicate refuses a file whose SHA-256 equals an earlier upload into
// the same target (kind, scope, year, module, submodule, dataset, unit)
// whose pipeline ended SUCCESS or PARTIAL: 409 duplicate_upload with one
// detail on field file naming that upload (upload_id, uploaded_at).
func (s *Service) checkDuplicate(ctx context.Context, t Target, sha256 string) error {
	prev, err := dbsqlc.New(s.DB).UploadDuplicateOf(ctx, dbsqlc.UploadDuplicateOfParams{
		Sha256: sha256, Kind: t.Kind, Scope: t.Scope, Year: t.Year, Module: nonEmptyPtr(t.Module),
		Submodule: nonEmptyPtr(t.Submodule), Dataset: nonEmptyPtr(t.Dataset), UnitID: t.UnitID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("error looking for an identical upload: %w", err)
	}
	at := prev.UploadedAt.UTC().Format(time.RFC3339)
	msg := "this file was already imported here on " + at + "; send allow_duplicate=true to import it again"
	return &apperr.Error{Code: apperr.CodeConflict, Reason: ReasonDuplicateUpload, Message: msg, Fields: []apperr.FieldError{{
		Field: "file", Code: string(ReasonDuplicateUpload), Message: msg,
		Context: map[string]any{"upload_id": prev.ID.String(), "uploaded_at": at},
	}}}
}

// Key is the blob key of an upload's file (docs/jobs.md §6).
func Key(year int32, id uuid.UUID) string {
	return fmt.Sprintf("uploads/%d/%s.csv", year, id)
}

// recordOrDiscard runs record in one transaction; when it fails, the blob
// just stored under key is removed (best effort: nothing refers to it).
func (s *Service) recordOrDiscard(ctx context.Context, key string, record func(context.Context, pgx.Tx) (Accepted, error)) (Accepted, error) {
	resp, err := postgres.WithTxV(ctx, s.DB, record)
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
	copiedFrom                 *uuid.UUID // a copy: the source upload
}

// pipelineKinds is the pipeline kind of each upload kind.
var pipelineKinds = map[string]pipeline.Kind{
	KindData: pipeline.KindDataUpload, KindFactors: pipeline.KindFactorUpload, KindReference: pipeline.KindReferenceUpload,
}

// record writes, in tx, the pipeline, the upload row, the upload.create
// audit event and the import job of the upload's kind. Accept and Copy
// both record through it.
func (s *Service) record(ctx context.Context, tx pgx.Tx, uploader *int64, nu newUpload, t Target) (Accepted, error) {
	opts, err := json.Marshal(t.Options)
	if err != nil {
		return Accepted{}, fmt.Errorf("error encoding upload options: %w", err)
	}
	q := dbsqlc.New(tx)
	p, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipelineKinds[t.Kind], Trigger: pipeline.TriggerUser, Year: &t.Year,
		Module: nonEmptyPtr(t.Module), Submodule: nonEmptyPtr(t.Submodule), UnitID: t.UnitID, CreatedBy: uploader})
	if err != nil {
		return Accepted{}, err
	}
	if err := q.PipelineSetUpload(ctx, dbsqlc.PipelineSetUploadParams{UploadID: &nu.id, ReportModuleID: t.ReportModuleID, ID: p.ID}); err != nil {
		return Accepted{}, fmt.Errorf("error scoping the pipeline: %w", err)
	}
	up, err := q.UploadInsert(ctx, dbsqlc.UploadInsertParams{
		ID: nu.id, Kind: t.Kind, Scope: t.Scope, Year: t.Year, Module: nonEmptyPtr(t.Module), Submodule: nonEmptyPtr(t.Submodule),
		Dataset: nonEmptyPtr(t.Dataset), UnitID: t.UnitID, ReportModuleID: t.ReportModuleID, BlobKey: nu.key,
		Filename: nonEmptyPtr(nu.filename), ContentType: nonEmptyPtr(nu.contentType), SizeBytes: nu.size,
		Sha256: nu.sha256, Options: opts, CopiedFromUploadID: nu.copiedFrom, UploadedBy: uploader, PipelineID: &p.ID,
	})
	if err != nil {
		return Accepted{}, fmt.Errorf("error recording the upload: %w", err)
	}
	snapshot := fileSnapshot(nu.filename, nu.size, nu.sha256)
	maps.Copy(snapshot, map[string]any{
		"kind": t.Kind, "scope": t.Scope, "year": t.Year, "module": t.Module, "submodule": t.Submodule,
		"dataset": t.Dataset, "unit_id": t.UnitID, "pipeline_id": p.ID.String(),
	})
	if nu.copiedFrom != nil {
		snapshot["copied_from"] = nu.copiedFrom.String()
	}
	if t.AllowDuplicate {
		snapshot["allow_duplicate"] = true
	}
	if err := auditUpload(ctx, tx, audit.ActionCreate, EventCreate, nu.id.String(), uploader, snapshot); err != nil {
		return Accepted{}, err
	}
	if err := s.Enqueue(ctx, tx, p.ID, up); err != nil {
		return Accepted{}, err
	}
	pl, jobRows, err := pipeline.Get(ctx, tx, p.ID)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Upload: up, Pipeline: pipeline.ToView(pl, jobRows)}, nil
}

func nonEmptyPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
