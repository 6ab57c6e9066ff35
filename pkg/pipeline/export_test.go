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

// NewMiddlewareForTest returns the middleware writing through db, whose
// waits between the tries of the end bookkeeping are handed to wait instead
// of slept.
func NewMiddlewareForTest(db postgres.TxBeginner, logger *slog.Logger, autoCreate map[string]Kind, wait func(time.Duration)) *Middleware {
	m := newMiddleware(db, logger, autoCreate)
	m.wait = wait
	return m
}

// FinishRetryDelays are the waits between the tries of the end bookkeeping.
var FinishRetryDelays = finishRetryDelays
