package imports

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Service is the one home of uploads and imports: the API accepts, copies,
// lists and serves uploads through it (accept.go, copy.go, query.go) and
// the import jobs load them through it (load.go, data.go, factor.go,
// reference.go). Adapters (package httpapi, the jobs in package jobs) only
// decode their input, call it and map its errors.
type Service struct {
	DB   postgres.DB
	Blob blob.Store
	// Enqueue inserts the import job of an accepted upload in the upload's
	// transaction. The API sets it (jobs.EnqueueImport); without it Accept
	// and Copy answer 503.
	Enqueue Enqueuer
	// MaxBytes is UPLOAD_MAX_BYTES; 0 means DefaultMaxBytes.
	MaxBytes int64
	// BatchSize is the number of entries per COPY of a data import; 0
	// means ImportBatch.
	BatchSize int
	// Now stamps computed_at of the imported emissions; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Progress, when set, receives every progress report of the imports
	// instead of the job's pipeline reporter (pipeline.ReporterFrom): tests
	// observe the phases through it.
	Progress func(ctx context.Context, phase string, done, total int64, message string)
}

// Enqueuer inserts the import job of upload up (its kind decides which) in
// tx, linked to pipeline pipelineID.
type Enqueuer func(ctx context.Context, tx pgx.Tx, pipelineID uuid.UUID, up dbsqlc.Upload) error

// DefaultMaxBytes is UPLOAD_MAX_BYTES' default (100 MiB).
const DefaultMaxBytes = 100 << 20

func (s *Service) maxBytes() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return ImportBatch
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// reportFunc reports the current phase of an import, its done/total and a
// message (docs/jobs.md §2.4).
type reportFunc func(phase string, done, total int64, message string)

// reporter is where the import running in ctx reports its progress.
func (s *Service) reporter(ctx context.Context) reportFunc {
	if s.Progress != nil {
		return func(phase string, done, total int64, message string) { s.Progress(ctx, phase, done, total, message) }
	}
	rep := pipeline.ReporterFrom(ctx)
	return func(phase string, done, total int64, message string) { rep.Progress(ctx, phase, done, total, message) }
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
