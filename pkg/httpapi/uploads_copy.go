package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// POST /uploads/copy (api.md §9): re-import a previous upload's file for
// another year. The new upload keeps the source's kind, scope, module,
// submodule, dataset, unit and options; its file is the source's blob
// copied to a key of the target year, and it is recorded exactly like a
// fresh upload (recordUpload: pipeline, row, upload.create, InsertTx of the
// same import job kind) with copied_from_upload_id set.
//
// Permission: bo(configuration, edit); for a unit-scope source also
// module_sync on the source's unit and module — whoever may upload that
// unit's module file today (POST P/uploads) may copy it.

// copyUploadRequest is the body of POST /uploads/copy.
type copyUploadRequest struct {
	SourceUploadID *string `json:"source_upload_id"`
	Year           *int64  `json:"year"`
}

// copyUploadInput is a validated copyUploadRequest.
type copyUploadInput struct {
	sourceID uuid.UUID
	year     int32
}

// fieldSourceUploadID names the source in field errors.
const fieldSourceUploadID = "source_upload_id"

func (req copyUploadRequest) validate() (copyUploadInput, error) {
	if req.SourceUploadID == nil {
		return copyUploadInput{}, fieldError(fieldSourceUploadID, "required", "source_upload_id is required")
	}
	id, err := uuid.Parse(*req.SourceUploadID)
	if err != nil {
		return copyUploadInput{}, fieldError(fieldSourceUploadID, "invalid_format", "source_upload_id must be a UUID")
	}
	if req.Year == nil || !uploadYearValid(*req.Year) {
		return copyUploadInput{}, errUploadYear()
	}
	return copyUploadInput{sourceID: id, year: int32(*req.Year)}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// requireUploadCopy lets through callers with bo(configuration, edit) and
// callers who may sync (upload) module files of some unit; the handler
// checks the latter against the source's unit. Others get 403 before the
// body is read.
func (s *Server) requireUploadCopy(next http.Handler) http.Handler {
	return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if !p.Perms.BO(perm.BOConfiguration, perm.ActionEdit) && !syncsSomeUnit(p.Perms) {
			writeError(w, r, s.Logger, errForbidden("backoffice."+perm.BOConfiguration+":"+perm.ActionEdit))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// syncsSomeUnit reports a modules.* sync grant on some unit.
func syncsSomeUnit(ps *perm.Set) bool {
	return slices.ContainsFunc(ps.Grants(), func(g perm.Grant) bool {
		return strings.HasPrefix(g.Resource, "modules.") && g.Scope.Kind == perm.ScopeUnit && slices.Contains(g.Actions, perm.ActionSync)
	})
}

// postUploadCopy is POST /uploads/copy → 202 {upload, pipeline}.
func (s *Server) postUploadCopy(w http.ResponseWriter, r *http.Request) {
	resp, err := s.copyUpload(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, resp)
}

func (s *Server) copyUpload(r *http.Request) (uploadResponse, error) {
	ctx := r.Context()
	if s.Blob == nil || s.River == nil {
		return uploadResponse{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	var req copyUploadRequest
	if err := decodeReportJSON(r, &req); err != nil {
		return uploadResponse{}, err
	}
	in, err := req.validate()
	if err != nil {
		return uploadResponse{}, err
	}
	src, err := dbsqlc.New(s.Pool).UploadCopySource(ctx, in.sourceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uploadResponse{}, apperr.NotFound("upload %s not found", in.sourceID)
	}
	if err != nil {
		return uploadResponse{}, fmt.Errorf("error reading upload %s: %w", in.sourceID, err)
	}
	if err := s.authorizeCopy(ctx, principalFrom(ctx), src.Upload); err != nil {
		return uploadResponse{}, err
	}
	t, err := s.copyTarget(ctx, src, in.year)
	if err != nil {
		return uploadResponse{}, err
	}

	id := uuid.New()
	key := uploadKey(t.year, id)
	if err := s.Blob.Copy(ctx, src.Upload.BlobKey, key); err != nil {
		return uploadResponse{}, fmt.Errorf("error copying the file of upload %s: %w", src.Upload.ID, err)
	}
	nu := newUpload{id: id, key: key, filename: deref(src.Upload.Filename), contentType: deref(src.Upload.ContentType),
		size: src.Upload.SizeBytes, sha256: src.Upload.Sha256, copiedFrom: &src.Upload.ID}
	return s.recordOrDiscard(ctx, key, func(ctx context.Context, tx pgx.Tx) (uploadResponse, error) {
		if t.scope == imports.ScopeUnit {
			rmID, err := ensureReportModule(ctx, tx, *t.unitID, t.year, t.module)
			if err != nil {
				return uploadResponse{}, err
			}
			t.reportModuleID = &rmID
		}
		return s.recordUpload(ctx, tx, callerUserID(ctx), nu, t)
	})
}

// authorizeCopy: bo(configuration, edit), or module_sync on the unit and
// module of a unit-scope source. A caller who may see the source
// (GET /uploads/{id}) but not copy it gets 403; others 404.
func (s *Server) authorizeCopy(ctx context.Context, p *auth.Principal, src dbsqlc.Upload) error {
	if p.Perms.BO(perm.BOConfiguration, perm.ActionEdit) {
		return nil
	}
	if src.Scope == imports.ScopeUnit && src.UnitID != nil && src.Module != nil {
		row, err := dbsqlc.New(s.Pool).UnitGet(ctx, *src.UnitID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("error reading unit %d: %w", *src.UnitID, err)
		}
		if err == nil {
			u := perm.Unit{PathCFs: row.PathCfs}
			if row.Cf != nil {
				u.CF = *row.Cf
			}
			if p.Perms.ModuleSync(u, *src.Module, true) {
				return nil
			}
		}
	}
	if p.Perms.BO(perm.BOConfiguration, perm.ActionView) || (src.UploadedBy != nil && *src.UploadedBy == p.User.ID) {
		return errForbidden("backoffice." + perm.BOConfiguration + ":" + perm.ActionEdit)
	}
	return apperr.NotFound("upload %s not found", src.ID)
}

// copyTarget is where the copy of src goes in year: the source's upload
// target, checked like a fresh upload of it. The source must have been
// imported (pipeline SUCCESS or PARTIAL) and year must differ from its
// year (422); the year must accept the upload (409, as POST /uploads, or
// as the module-page upload for a unit-scope source).
func (s *Server) copyTarget(ctx context.Context, src dbsqlc.UploadCopySourceRow, year int32) (uploadTarget, error) {
	up := src.Upload
	switch up.Kind {
	case imports.KindData, imports.KindFactors, imports.KindReference:
	default:
		return uploadTarget{}, fieldError(fieldSourceUploadID, "not_copyable", "only data, factor and reference uploads can be copied")
	}
	if st := src.PipelineStatus; st == nil || (*st != string(pipeline.StatusSuccess) && *st != string(pipeline.StatusPartial)) {
		status := "none"
		if st != nil {
			status = *st
		}
		return uploadTarget{}, apperr.Validation("the source upload was not imported",
			apperr.FieldError{Field: fieldSourceUploadID, Code: "source_not_imported",
				Message: "only an upload whose pipeline ended SUCCESS or PARTIAL can be copied (it is " + status + ")",
				Context: map[string]any{"pipeline_status": src.PipelineStatus}})
	}
	if year == up.Year {
		return uploadTarget{}, fieldError(fieldYear, "same_year", fmt.Sprintf("the source upload is already for %d: copy it to another year", year))
	}
	t := uploadTarget{kind: up.Kind, scope: up.Scope, module: deref(up.Module), submodule: deref(up.Submodule),
		dataset: deref(up.Dataset), year: year, unitID: up.UnitID, opts: imports.OptionsOf(up)}
	if t.scope == imports.ScopeUnit && t.unitID == nil {
		return uploadTarget{}, fmt.Errorf("unit-scope upload %s has no unit", up.ID)
	}
	var err error
	if t.table, err = imports.Table(t.kind, t.scope, t.module, t.submodule, t.dataset); err != nil {
		return uploadTarget{}, fieldError(fieldSourceUploadID, "not_copyable", err.Error())
	}
	return t, s.checkUploadYear(ctx, year, t.scope == imports.ScopeUnit)
}

// ensureReportModule returns the report module of (unit, year, module),
// creating the unit's report for year first when missing (as PUT
// /units/{unit_id}/years/{year}/report does; the year is open).
func ensureReportModule(ctx context.Context, tx pgx.Tx, unitID int64, year int32, module string) (int64, error) {
	if _, _, err := report.Ensure(ctx, tx, unitID, year); err != nil {
		return 0, err
	}
	rm, err := dbsqlc.New(tx).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: unitID, Year: year, Module: module})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.NotFound("no %s module in the %d report of unit %d", module, year, unitID)
	}
	if err != nil {
		return 0, fmt.Errorf("error reading the report module: %w", err)
	}
	return rm.ID, nil
}
