package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
)

// AuditShipArgs ships the pending audit events to Elasticsearch
// (docs/jobs.md §11.4). It runs every minute (SCHEDULE_AUDIT_SHIP, when
// ES_URLS is set), unique by period; no pipeline follows it. One attempt:
// the next run is the retry.
type AuditShipArgs struct{}

// Kind implements river.JobArgs.
func (AuditShipArgs) Kind() string { return "audit_ship" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (AuditShipArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAudit, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// AuditShipWorker works AuditShipArgs.
type AuditShipWorker struct {
	river.WorkerDefaults[AuditShipArgs]

	// Shipper is nil when Elasticsearch is not configured: the job then
	// ends for good.
	Shipper *audit.Shipper
}

// Timeout implements river.Worker: a run spends at most its budget (50 s)
// sending.
func (w *AuditShipWorker) Timeout(*river.Job[AuditShipArgs]) time.Duration { return 55 * time.Second }

// Work runs the shipper. A request Elasticsearch did not accept is
// returned as a plain error (River records the failed attempt; the events
// keep their backoff and the next run sends them again).
func (w *AuditShipWorker) Work(ctx context.Context, _ *river.Job[AuditShipArgs]) error {
	if w.Shipper == nil {
		return failure(apperr.WithReason(apperr.CodeConflict, audit.ReasonNotConfigured, "Elasticsearch is not configured (ES_URLS)"))
	}
	rep, err := w.Shipper.Run(ctx)
	if err != nil {
		return fmt.Errorf("audit_ship: %w", err)
	}
	if rep.Err != nil {
		return fmt.Errorf("audit_ship: Elasticsearch did not accept the events (%d shipped first): %w", rep.Shipped, rep.Err)
	}
	return nil
}
