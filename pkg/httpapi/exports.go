package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Exports (docs/api.md §12): adapters over package export, which checks
// the kind, its format, params and permission, records the export with its
// pipeline and job, and serves downloads to the creator or an
// administrator.

// exportView is the Export object of the API (docs/api.md §2).
type exportView struct {
	ID          uuid.UUID       `json:"id"`
	Kind        string          `json:"kind"`
	Format      string          `json:"format"`
	Params      json.RawMessage `json:"params"`
	Status      string          `json:"status"`
	Filename    *string         `json:"filename"`
	SizeBytes   *int64          `json:"size_bytes"`
	RowCount    *int64          `json:"row_count"`
	Error       *string         `json:"error"`
	CreatedBy   int64           `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	ReadyAt     *time.Time      `json:"ready_at"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	PipelineID  *uuid.UUID      `json:"pipeline_id"`
	DownloadURL *string         `json:"download_url"`
}

func fromDBExport(e dbsqlc.Export) exportView {
	v := exportView{ID: e.ID, Kind: e.Kind, Format: e.Format, Params: e.Params, Status: e.Status, Filename: e.Filename,
		SizeBytes: e.SizeBytes, RowCount: e.RowCount, Error: e.Error, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt,
		ReadyAt: e.ReadyAt, ExpiresAt: e.ExpiresAt, PipelineID: e.PipelineID}
	if e.Status == export.StatusReady && !export.Expired(e, time.Now()) {
		v.DownloadURL = new("/api/v1/exports/" + e.ID.String() + "/download")
	}
	return v
}

// exportResponse is the 202 answer of POST /exports.
type exportResponse struct {
	Export   exportView    `json:"export"`
	Pipeline pipeline.View `json:"pipeline"`
}

func (s *Server) exportService() *export.Service {
	svc := &export.Service{Blob: s.Blob, Logger: s.Logger}
	if s.Pool != nil {
		svc.DB = s.Pool
	}
	if s.River != nil {
		svc.Enqueue = jobs.EnqueueExport(s.River)
	}
	return svc
}

// exportCaller is the caller of an export route.
func exportCaller(r *http.Request) export.Caller {
	p := principalFrom(r.Context())
	return export.Caller{UserID: p.User.ID, Sciper: p.User.Sciper, Perms: p.Perms}
}

// postExport is POST /exports: 202 {export, pipeline}.
func (s *Server) postExport(r *http.Request) (response, error) {
	var req export.Request
	if err := decodeJSON(r, &req); err != nil {
		return response{}, err
	}
	c, err := s.exportService().Create(r.Context(), exportCaller(r), req)
	if err != nil {
		return response{}, err
	}
	return accepted(exportResponse{Export: fromDBExport(c.Export), Pipeline: c.Pipeline}), nil
}

// listExports is GET /exports: the caller's exports (mine=false: every
// export, administrators only), newest first, paginated.
func (s *Server) listExports(r *http.Request) (response, error) {
	pp, err := queryPage(r)
	if err != nil {
		return response{}, err
	}
	mine, err := queryBool(r, "mine")
	if err != nil {
		return response{}, err
	}
	rows, total, err := s.exportService().List(r.Context(), exportCaller(r), mine == nil || *mine, pp.offset(), int32(pp.Limit))
	if err != nil {
		return response{}, err
	}
	return ok(newPage(mapItems(rows, fromDBExport), pp, total)), nil
}

// getExport is GET /exports/{id} (creator or admin; 404 otherwise).
func (s *Server) getExport(r *http.Request) (response, error) {
	id, err := pathUUID(r, "export")
	if err != nil {
		return response{}, err
	}
	e, err := s.exportService().Get(r.Context(), exportCaller(r), id)
	if err != nil {
		return response{}, err
	}
	return ok(fromDBExport(e)), nil
}

// downloadExport is GET /exports/{id}/download: a redirect to a presigned
// URL (S3) or the file streamed from the local store.
func (s *Server) downloadExport(r *http.Request) (response, error) {
	id, err := pathUUID(r, "export")
	if err != nil {
		return response{}, err
	}
	d, err := s.exportService().Download(r.Context(), exportCaller(r), id)
	if err != nil {
		return response{}, err
	}
	if d.URL != "" {
		return response{status: http.StatusFound}.with("Location", d.URL).with("Cache-Control", "no-store"), nil
	}
	name := ""
	if d.Export.Filename != nil {
		name = *d.Export.Filename
	}
	contentType := "application/octet-stream"
	if d.Export.ContentType != nil {
		contentType = *d.Export.ContentType
	}
	return stream(func(w http.ResponseWriter, r *http.Request) {
		defer func() { _ = d.Body.Close() }()
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, d.Body); err != nil {
			s.Logger.DebugContext(r.Context(), "export download interrupted", slog.String("export_id", id.String()), slog.String("error", err.Error()))
		}
	}), nil
}
