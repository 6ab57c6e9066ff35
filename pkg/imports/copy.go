package imports

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// Copying an upload to another year (POST /uploads/copy, docs/api.md §9):
// the new upload keeps the source's kind, scope, module, submodule,
// dataset, unit and options; its file is the source's blob copied to a key
// of the target year, and it is recorded exactly like a fresh upload
// (pipeline, row, upload.create, import job of the same kind) with
// copied_from_upload_id set.

// fieldSourceUploadID names the source in field errors.
const fieldSourceUploadID = "source_upload_id"

// CopySource reads the source of a copy with the status of its pipeline
// (404 when unknown).
func (s *Service) CopySource(ctx context.Context, id uuid.UUID) (dbsqlc.UploadCopySourceRow, error) {
	src, err := dbsqlc.New(s.DB).UploadCopySource(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return src, apperr.NotFound("upload %s not found", id)
	}
	if err != nil {
		return src, fmt.Errorf("error reading upload %s: %w", id, err)
	}
	return src, nil
}

// Copy re-imports src for year (the caller authorized it). The source must
// have been imported (pipeline SUCCESS or PARTIAL) and year must differ
// from its year (422); the year must accept the upload (409, as the
// source's kind of upload would); a unit-scope copy creates the unit's
// report for year when missing.
func (s *Service) Copy(ctx context.Context, src dbsqlc.UploadCopySourceRow, year int32, uploader *int64) (Accepted, error) {
	if s.Blob == nil || s.Enqueue == nil {
		return Accepted{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	if !years.Valid(int64(year)) {
		return Accepted{}, errYearField()
	}
	t, err := s.copyTarget(ctx, src, year)
	if err != nil {
		return Accepted{}, err
	}
	id := uuid.New()
	key := Key(t.Year, id)
	if err := s.Blob.Copy(ctx, src.Upload.BlobKey, key); err != nil {
		return Accepted{}, fmt.Errorf("error copying the file of upload %s: %w", src.Upload.ID, err)
	}
	nu := newUpload{id: id, key: key, filename: deref(src.Upload.Filename), contentType: deref(src.Upload.ContentType),
		size: src.Upload.SizeBytes, sha256: src.Upload.Sha256, copiedFrom: &src.Upload.ID}
	return s.recordOrDiscard(ctx, key, func(ctx context.Context, tx pgx.Tx) (Accepted, error) {
		if t.Scope == ScopeUnit {
			rmID, err := ensureReportModule(ctx, tx, *t.UnitID, t.Year, t.Module)
			if err != nil {
				return Accepted{}, err
			}
			t.ReportModuleID = &rmID
		}
		return s.record(ctx, tx, uploader, nu, t)
	})
}

// copyTarget is where the copy of src goes in year: the source's upload
// target, checked like a fresh upload of it.
func (s *Service) copyTarget(ctx context.Context, src dbsqlc.UploadCopySourceRow, year int32) (Target, error) {
	up := src.Upload
	switch up.Kind {
	case KindData, KindFactors, KindReference:
	default:
		return Target{}, fieldError(fieldSourceUploadID, "not_copyable", "only data, factor and reference uploads can be copied")
	}
	if st := src.PipelineStatus; st == nil || (*st != string(pipeline.StatusSuccess) && *st != string(pipeline.StatusPartial)) {
		status := "none"
		if st != nil {
			status = *st
		}
		return Target{}, apperr.Validation("the source upload was not imported",
			apperr.FieldError{Field: fieldSourceUploadID, Code: "source_not_imported",
				Message: "only an upload whose pipeline ended SUCCESS or PARTIAL can be copied (it is " + status + ")",
				Context: map[string]any{"pipeline_status": src.PipelineStatus}})
	}
	if year == up.Year {
		return Target{}, fieldError("year", "same_year", fmt.Sprintf("the source upload is already for %d: copy it to another year", year))
	}
	t := Target{Kind: up.Kind, Scope: up.Scope, Module: deref(up.Module), Submodule: deref(up.Submodule),
		Dataset: deref(up.Dataset), Year: year, UnitID: up.UnitID, Options: OptionsOf(up)}
	if t.Scope == ScopeUnit && t.UnitID == nil {
		return Target{}, fmt.Errorf("unit-scope upload %s has no unit", up.ID)
	}
	var err error
	if t.table, err = Table(t.Kind, t.Scope, t.Module, t.Submodule, t.Dataset); err != nil {
		return Target{}, fieldError(fieldSourceUploadID, "not_copyable", err.Error())
	}
	_, err = years.Load(ctx, dbsqlc.New(s.DB), year, YearOp(t.Scope))
	return t, err
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
