package audit

import (
	"context"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// EventUploadImport is written by a successful import of an upload.
const EventUploadImport = "upload.import"

// UploadImported writes `upload.import` (U) in the import's transaction
// (jobs.md §4.1 step 6): up.Snapshot carries the counters and the pipeline;
// the actor is the uploader (the system when unknown).
func (h *Hooks) UploadImported(ctx context.Context, db postgres.DBTX, up Upload) error {
	return h.uploadEvent(ctx, db, ActionUpdate, EventUploadImport, up.ID, up.UploadedBy, up.Snapshot)
}
