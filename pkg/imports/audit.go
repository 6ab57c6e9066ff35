package imports

import (
	"context"
	"fmt"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The audit events of uploads (entity upload/<id>, docs/jobs.md §11.1),
// each written in the transaction of what it records.
const (
	EventCreate   = "upload.create"   // C: an accepted (or copied) upload
	EventDownload = "upload.download" // R: its file served to a user
	EventImport   = "upload.import"   // U: a successful import (counters, pipeline)

	entityUpload = "upload"
)

// fileSnapshot is what the audit events of an upload record of its file.
func fileSnapshot(filename string, size int64, sum string) map[string]any {
	return map[string]any{"filename": filename, "size_bytes": size, "sha256": sum}
}

func auditUpload(ctx context.Context, db postgres.DBTX, action, event string, id string, actor *int64, snapshot map[string]any) error {
	if err := audit.Record(ctx, db, actor, audit.Event{Action: action, Event: event, EntityType: entityUpload, EntityID: id, Snapshot: snapshot}); err != nil {
		return fmt.Errorf("error auditing %s of upload %s: %w", event, id, err)
	}
	return nil
}

// auditImported writes upload.import in the import's transaction; the
// actor is the uploader (the system when unknown).
func auditImported(ctx context.Context, db postgres.DBTX, up dbsqlc.Upload, snapshot map[string]any) error {
	return auditUpload(ctx, db, audit.ActionUpdate, EventImport, up.ID.String(), up.UploadedBy, snapshot)
}
