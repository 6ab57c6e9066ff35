package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Reading uploads: one upload, the back-office list, the uploads of a
// report module, an upload's file and its row errors.

// Get reads upload id (404 when unknown).
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbsqlc.Upload, error) {
	up, err := dbsqlc.New(s.DB).UploadGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return up, apperr.NotFound("upload %s not found", id)
	}
	if err != nil {
		return up, fmt.Errorf("error reading upload %s: %w", id, err)
	}
	return up, nil
}

// Filter selects uploads of the back-office list; nil fields match all.
type Filter struct {
	Year                                    *int32
	Kind, Module, Submodule, Dataset, Scope *string
}

// List returns a page of the uploads matching f, newest first, and the
// number of matches.
func (s *Service) List(ctx context.Context, f Filter, offset, limit int32) ([]dbsqlc.Upload, int64, error) {
	q := dbsqlc.New(s.DB)
	rows, err := q.UploadsFiltered(ctx, dbsqlc.UploadsFilteredParams{Year: f.Year, Kind: f.Kind, Module: f.Module,
		Submodule: f.Submodule, Dataset: f.Dataset, Scope: f.Scope, Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, fmt.Errorf("error listing uploads: %w", err)
	}
	total, err := q.UploadsFilteredCount(ctx, dbsqlc.UploadsFilteredCountParams{Year: f.Year, Kind: f.Kind, Module: f.Module,
		Submodule: f.Submodule, Dataset: f.Dataset, Scope: f.Scope})
	if err != nil {
		return nil, 0, fmt.Errorf("error counting uploads: %w", err)
	}
	return rows, total, nil
}

// moduleUploadsLimit is how many uploads of a report module are listed.
const moduleUploadsLimit = 50

// ModuleUploads lists the latest uploads of a unit's report module, newest
// first (404 when the unit has no report for year).
func (s *Service) ModuleUploads(ctx context.Context, unitID int64, year int32, module string) ([]dbsqlc.Upload, error) {
	q := dbsqlc.New(s.DB)
	rm, err := q.ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{UnitID: unitID, Year: year, Module: module})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("no report module")
	}
	if err != nil {
		return nil, fmt.Errorf("error reading the report module: %w", err)
	}
	rows, err := q.UploadsByReportModule(ctx, dbsqlc.UploadsByReportModuleParams{ReportModuleID: &rm.ID, Limit: moduleUploadsLimit})
	if err != nil {
		return nil, fmt.Errorf("error listing uploads: %w", err)
	}
	return rows, nil
}

// StoredFile is an upload's stored file, opened for reading.
type StoredFile struct {
	io.ReadCloser
	Name string
	Size int64
}

// OpenFile opens the file of up for user by and records upload.download
// before the first byte is read: a download that cannot be audited is
// refused. The caller closes the file.
func (s *Service) OpenFile(ctx context.Context, up dbsqlc.Upload, by *int64) (StoredFile, error) {
	if s.Blob == nil {
		return StoredFile{}, apperr.New(apperr.CodeUnavailable, "no blob store configured")
	}
	rc, info, err := s.Blob.Get(ctx, up.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return StoredFile{}, apperr.NotFound("the file of upload %s is missing", up.ID)
	}
	if err != nil {
		return StoredFile{}, fmt.Errorf("error opening upload %s: %w", up.ID, err)
	}
	name := "upload.csv"
	if up.Filename != nil {
		name = *up.Filename
	}
	if err := auditUpload(ctx, s.DB, audit.ActionRead, EventDownload, up.ID.String(), by, fileSnapshot(name, info.Size, up.Sha256)); err != nil {
		_ = rc.Close()
		return StoredFile{}, err
	}
	return StoredFile{ReadCloser: rc, Name: name, Size: info.Size}, nil
}

// RowErrorsOf returns the kept row errors of every job of upload id.
func (s *Service) RowErrorsOf(ctx context.Context, id uuid.UUID) ([]ingest.RowError, error) {
	rows, err := dbsqlc.New(s.DB).UploadRowErrors(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("error reading row errors of upload %s: %w", id, err)
	}
	var all []ingest.RowError
	for _, row := range rows {
		var errs []ingest.RowError
		if err := json.Unmarshal(row.RowErrors, &errs); err != nil {
			return nil, fmt.Errorf("error decoding row errors of job %d: %w", row.JobID, err)
		}
		all = append(all, errs...)
	}
	return all, nil
}
