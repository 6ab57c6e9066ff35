package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// NewReporterForTest returns the reporter the middleware gives the attempt
// of job jobID, with the clock now.
func NewReporterForTest(db postgres.TxBeginner, logger *slog.Logger, jobID int64, now func() time.Time) *Reporter {
	return newReporter(db, logger, jobID, now)
}

// Flush writes the pending report, as the middleware does when the job
// returns.
func (r *Reporter) Flush(ctx context.Context) { r.flush(ctx) }
