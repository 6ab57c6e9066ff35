package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// DefaultTTL is how long a ready export can be downloaded (EXPORT_TTL,
// docs/jobs.md §4.9: 7 days).
const DefaultTTL = 7 * 24 * time.Hour

// PresignTTL is the lifetime of a presigned S3 download URL: long enough to
// follow the redirect, short enough not to outlive the caller's session.
const PresignTTL = 5 * time.Minute

// Audit events of the exports (docs/jobs.md §11.1).
const (
	EventCreate   = "export.create"
	EventDownload = "export.download"
	entityExport  = "export"
)

// Enqueuer inserts the export job of an export, linked to its pipeline, in
// the transaction that records the export (the API passes
// jobs.EnqueueExport: package export cannot import the jobs).
type Enqueuer func(ctx context.Context, tx pgx.Tx, pipelineID, exportID uuid.UUID) error

// Service is the home of the exports: requests (the API), the job's run,
// downloads and the expiry sweep.
type Service struct {
	DB   postgres.DB
	Blob blob.Store
	// Enqueue inserts the export job (API only).
	Enqueue Enqueuer
	// TTL is EXPORT_TTL (0: DefaultTTL), counted from when the file is
	// stored.
	TTL time.Duration
	// TempDir holds the file being rendered ("" : os.TempDir()).
	TempDir string
	// MaxRows is the largest export (0: MaxRows).
	MaxRows int64

	// onProgress is called at every progress report of the render phase
	// (tests: a worker killed mid-export).
	onProgress func(done int64)
	Logger     *slog.Logger
	Now        func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) maxRows() int64 {
	if s.MaxRows > 0 {
		return s.MaxRows
	}
	return MaxRows
}

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

// Key is the blob key of an export's file (docs/jobs.md §6): one key per
// export, so a retried attempt replaces what an earlier one stored.
func Key(id uuid.UUID, f Format) string { return fmt.Sprintf("exports/%s.%s", id, f.Ext()) }

// Request is an export asked for (POST /exports).
type Request struct {
	Kind   string          `json:"kind"`
	Format string          `json:"format"`
	Params json.RawMessage `json:"params"`
}

// Created is the answer to a request: the export and its pipeline.
type Created struct {
	Export   dbsqlc.Export
	Pipeline pipeline.View
}

// Create checks a request — the kind, its format and params (422), the
// caller's permission for the kind (403) — then records, in one
// transaction, the export (pending), its pipeline, the export.create audit
// event and the export job.
func (s *Service) Create(ctx context.Context, c Caller, req Request) (Created, error) {
	k, f, err := parseKindFormat(req.Kind, req.Format)
	if err != nil {
		return Created{}, err
	}
	p, params, err := newPlan(k, req.Params)
	if err != nil {
		return Created{}, err
	}
	if err := p.authorize(ctx, s.DB, c); err != nil {
		return Created{}, err
	}
	if s.Enqueue == nil {
		return Created{}, apperr.New(apperr.CodeUnavailable, "exports are not configured")
	}
	id := uuid.New()
	now := s.now().UTC()
	filename := fmt.Sprintf("%s_%s.%s", k, now.Format("20060102-150405"), f.Ext())
	key := Key(id, f)
	return postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (Created, error) {
		sc := p.scope()
		pl, err := pipeline.Create(ctx, tx, pipeline.CreateParams{Kind: pipeline.KindExport, Trigger: pipeline.TriggerUser,
			Year: sc.Year, Module: sc.Module, UnitID: sc.UnitID, CreatedBy: &c.UserID})
		if err != nil {
			return Created{}, err
		}
		q := dbsqlc.New(tx)
		if err := q.PipelineSetExport(ctx, dbsqlc.PipelineSetExportParams{ExportID: &id, ID: pl.ID}); err != nil {
			return Created{}, fmt.Errorf("error scoping the pipeline: %w", err)
		}
		contentType := f.ContentType()
		row, err := q.ExportInsert(ctx, dbsqlc.ExportInsertParams{ID: id, Kind: string(k), Format: string(f), Params: params,
			BlobKey: &key, Filename: &filename, ContentType: &contentType, CreatedBy: c.UserID, PipelineID: &pl.ID})
		if err != nil {
			return Created{}, fmt.Errorf("error recording the export: %w", err)
		}
		err = audit.Record(ctx, tx, &c.UserID, audit.Event{Action: audit.ActionCreate, Event: EventCreate, EntityType: entityExport,
			EntityID: id.String(), Snapshot: map[string]any{"kind": k, "format": f, "params": params, "pipeline_id": pl.ID.String()}})
		if err != nil {
			return Created{}, fmt.Errorf("error auditing export %s: %w", id, err)
		}
		if err := s.Enqueue(ctx, tx, pl.ID, id); err != nil {
			return Created{}, err
		}
		prow, jobs, err := pipeline.Get(ctx, tx, pl.ID)
		if err != nil {
			return Created{}, err
		}
		return Created{Export: row, Pipeline: pipeline.ToView(prow, jobs)}, nil
	})
}

// visible reads an export for its creator or an administrator; others get
// 404 (docs/api.md §12).
func (s *Service) visible(ctx context.Context, c Caller, id uuid.UUID) (dbsqlc.Export, error) {
	row, err := dbsqlc.New(s.DB).ExportGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, apperr.NotFound("export %s not found", id)
	}
	if err != nil {
		return row, fmt.Errorf("error reading export %s: %w", id, err)
	}
	if row.CreatedBy != c.UserID && !c.Perms.IsAdmin() {
		return dbsqlc.Export{}, apperr.NotFound("export %s not found", id)
	}
	return row, nil
}

// Get is one export (its creator or an administrator).
func (s *Service) Get(ctx context.Context, c Caller, id uuid.UUID) (dbsqlc.Export, error) {
	return s.visible(ctx, c, id)
}

// List is a page of exports, newest first: the caller's, or (mine false,
// administrators only: 403 otherwise) everybody's.
func (s *Service) List(ctx context.Context, c Caller, mine bool, offset, limit int32) ([]dbsqlc.Export, int64, error) {
	var by *int64
	if mine {
		by = &c.UserID
	} else if !c.Perms.IsAdmin() {
		return nil, 0, forbidden("admin (mine=false)")
	}
	q := dbsqlc.New(s.DB)
	rows, err := q.ExportsList(ctx, dbsqlc.ExportsListParams{CreatedBy: by, Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, fmt.Errorf("error listing exports: %w", err)
	}
	total, err := q.ExportsCount(ctx, by)
	if err != nil {
		return nil, 0, fmt.Errorf("error counting exports: %w", err)
	}
	return rows, total, nil
}

// Expired reports whether a ready export's download period is over.
func Expired(e dbsqlc.Export, now time.Time) bool {
	return e.Status == StatusExpired || (e.ExpiresAt != nil && !now.Before(*e.ExpiresAt))
}

// Export statuses.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusReady   = "ready"
	StatusFailed  = "failed"
	StatusExpired = "expired"
)

// Download is an export's file: a presigned URL (S3) or its bytes (local
// store).
type Download struct {
	Export dbsqlc.Export
	// URL, when set, downloads the file directly (redirect to it).
	URL string
	// Body streams the file when URL is empty; the caller closes it.
	Body io.ReadCloser
	Size int64
}

// Download opens a ready export's file for its creator or an administrator
// (404 for others): 409 export_not_ready before it is ready (or when it
// failed), 410 gone after expires_at. Audited export.download before the
// first byte.
func (s *Service) Download(ctx context.Context, c Caller, id uuid.UUID) (Download, error) {
	row, err := s.visible(ctx, c, id)
	if err != nil {
		return Download{}, err
	}
	switch {
	case Expired(row, s.now()):
		return Download{}, apperr.WithReason(apperr.CodeGone, ReasonGone, "export %s expired", id)
	case row.Status == StatusFailed:
		msg := "the export failed"
		if row.Error != nil {
			msg += ": " + *row.Error
		}
		return Download{}, apperr.WithReason(apperr.CodeConflict, ReasonNotReady, "%s", msg)
	case row.Status != StatusReady || row.BlobKey == nil:
		return Download{}, apperr.WithReason(apperr.CodeConflict, ReasonNotReady, "export %s is %s", id, row.Status)
	}
	if s.Blob == nil {
		return Download{}, apperr.New(apperr.CodeUnavailable, "the blob store is not configured")
	}
	name := ""
	if row.Filename != nil {
		name = *row.Filename
	}
	d := Download{Export: row}
	url, presigned, err := s.Blob.PresignGet(ctx, *row.BlobKey, PresignTTL, name)
	if err != nil {
		return Download{}, fmt.Errorf("error presigning export %s: %w", id, err)
	}
	if presigned {
		d.URL = url
	} else {
		body, info, err := s.Blob.Get(ctx, *row.BlobKey)
		if errors.Is(err, blob.ErrNotFound) {
			return Download{}, apperr.WithReason(apperr.CodeGone, ReasonGone, "export %s is no longer stored", id)
		}
		if err != nil {
			return Download{}, fmt.Errorf("error opening export %s: %w", id, err)
		}
		d.Body, d.Size = body, info.Size
	}
	err = audit.Record(ctx, s.DB, &c.UserID, audit.Event{Action: audit.ActionRead, Event: EventDownload, EntityType: entityExport,
		EntityID: id.String(), Snapshot: map[string]any{"kind": row.Kind, "format": row.Format, "filename": name, "presigned": presigned}})
	if err != nil {
		if d.Body != nil {
			_ = d.Body.Close()
		}
		return Download{}, fmt.Errorf("error auditing the download of export %s: %w", id, err)
	}
	return d, nil
}
