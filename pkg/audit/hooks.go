package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Request is the request metadata of the audited call (actor, client,
// route), carried in the context by the HTTP adapter (httpapi sets it
// after authentication) and read by the hooks. It keeps the hooks free of
// net/http.
type Request struct {
	UserID    *int64
	Sciper    string
	Name      *string
	IP        *netip.Addr
	UserAgent *string
	RequestID *string
	// Route is "METHOD /api/v1/route/{pattern}".
	Route *string
	// Query are the query parameters (entry.list snapshots).
	Query map[string][]string
}

type requestKey struct{}

// WithRequest returns ctx carrying the request metadata.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request metadata of ctx.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// Entity types and events of the hooks (jobs.md §11.1).
const (
	EntityDataEntry    = "data_entry"
	EntityReportModule = "report_module"
	EventModuleStatus  = "report_module.status"
	EntityUpload       = "upload"
	EventUploadCreate  = "upload.create"
)

// Hooks implements entry.Auditor and report.StatusAuditor over a Writer:
// every event is written in the caller's transaction, so a failing write
// aborts the change (jobs.md §11.1).
type Hooks struct {
	Writer *Writer
}

// NewHooks returns hooks writing with the clock now (nil: time.Now).
func NewHooks(now func() time.Time) *Hooks {
	if now == nil {
		now = time.Now
	}
	return &Hooks{Writer: &Writer{Now: now}}
}

var (
	_ entry.Auditor        = (*Hooks)(nil)
	_ report.StatusAuditor = (*Hooks)(nil)
)

var entryActions = map[string]string{
	entry.ActionCreate: ActionCreate,
	entry.ActionUpdate: ActionUpdate,
	entry.ActionDelete: ActionDelete,
	entry.ActionList:   ActionRead,
}

// RecordEntry writes entry.create|update|delete (entity data_entry/<id>,
// snapshot = entry data after the change, before it for a delete, handled
// ids = the SCIPERs of the entry) and entry.list (entity
// report_module/<id>, snapshot = submodule and query parameters, handled
// ids = the SCIPERs of the page).
func (h *Hooks) RecordEntry(ctx context.Context, db postgres.DBTX, ev entry.AuditEvent) error {
	action, ok := entryActions[ev.Action]
	if !ok {
		return fmt.Errorf("unknown entry audit action %q", ev.Action)
	}
	return inTx(ctx, db, func(ctx context.Context, tx postgres.DBTX) error {
		e, err := h.base(ctx, tx, ev.Actor.UserID)
		if err != nil {
			return err
		}
		e.Action, e.Event = action, ev.Action
		if ev.Action == entry.ActionList {
			rm, err := dbsqlc.New(tx).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
				UnitID: ev.Scope.UnitID, Year: ev.Scope.Year, Module: string(ev.Scope.Module),
			})
			if err != nil {
				return fmt.Errorf("error reading the listed report module: %w", err)
			}
			query := map[string][]string{}
			if req, ok := RequestFrom(ctx); ok && req.Query != nil {
				query = req.Query
			}
			e.EntityType, e.EntityID = EntityReportModule, strconv.FormatInt(rm.ID, 10)
			e.HandledIDs = ev.HandledIDs
			e.Snapshot = map[string]any{
				"unit_id": ev.Scope.UnitID, "year": ev.Scope.Year, "module": ev.Scope.Module,
				"submodule": ev.Scope.Submodule, "query": query,
			}
			e.RequestPayload = query
			_, err = h.Writer.Write(ctx, tx, e)
			return err
		}
		row := ev.After
		if ev.Action == entry.ActionDelete {
			row = ev.Before
		}
		var stored struct {
			Data        json.RawMessage `json:"data"`
			OwnerSciper *string         `json:"owner_sciper"`
		}
		if len(row) > 0 {
			if err := json.Unmarshal(row, &stored); err != nil {
				return fmt.Errorf("error decoding the audited entry: %w", err)
			}
		}
		e.EntityType, e.EntityID = EntityDataEntry, strconv.FormatInt(ev.EntryID, 10)
		e.HandledIDs = entrySCIPERs(stored.Data, stored.OwnerSciper)
		if len(stored.Data) > 0 {
			e.Snapshot = stored.Data
		}
		if ev.Action != entry.ActionDelete && len(stored.Data) > 0 {
			e.RequestPayload = stored.Data
		}
		_, err = h.Writer.Write(ctx, tx, e)
		return err
	})
}

// entrySCIPERs are the SCIPERs an entry names: the member's or traveler's
// user_institutional_id and the trip owner.
func entrySCIPERs(data json.RawMessage, owner *string) []string {
	var ids []string
	var fields map[string]any
	if len(data) > 0 && json.Unmarshal(data, &fields) == nil {
		if s, ok := fields["user_institutional_id"].(string); ok && s != "" {
			ids = append(ids, s)
		}
	}
	if owner != nil && *owner != "" && !slices.Contains(ids, *owner) {
		ids = append(ids, *owner)
	}
	return ids
}

// ModuleStatusChanged writes report_module.status (U) for an explicit
// status change (entity report_module/<id>).
func (h *Hooks) ModuleStatusChanged(ctx context.Context, db postgres.DBTX, ev report.StatusChange) error {
	return inTx(ctx, db, func(ctx context.Context, tx postgres.DBTX) error {
		e, err := h.base(ctx, tx, ev.ActorID)
		if err != nil {
			return err
		}
		e.Action, e.Event = ActionUpdate, EventModuleStatus
		e.EntityType, e.EntityID = EntityReportModule, strconv.FormatInt(ev.ReportModuleID, 10)
		e.Snapshot = map[string]any{
			"unit_id": ev.UnitID, "year": ev.Year, "module": ev.Module,
			"status": ev.To, "previous_status": ev.From,
		}
		e.RequestPayload = map[string]any{"status": ev.To}
		_, err = h.Writer.Write(ctx, tx, e)
		return err
	})
}

// base fills the actor and request fields of an event: from the request
// metadata of ctx when present, else from the user userID (nil: system).
func (h *Hooks) base(ctx context.Context, db postgres.DBTX, userID *int64) (Event, error) {
	if req, ok := RequestFrom(ctx); ok {
		e := Event{
			ActorType: ActorUser, ActorUserID: req.UserID, ActorSciper: req.Sciper, ActorName: req.Name,
			IP: req.IP, UserAgent: req.UserAgent, RequestID: req.RequestID, Route: req.Route,
		}
		if e.ActorSciper == "" {
			e.ActorSciper = SciperUnknown
		}
		if e.ActorUserID == nil {
			e.ActorUserID = userID
		}
		return e, nil
	}
	if userID == nil || *userID == 0 {
		return Event{ActorType: ActorSystem, ActorSciper: SciperSystem}, nil
	}
	u, err := dbsqlc.New(db).UserGet(ctx, *userID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Event{ActorType: ActorUser, ActorUserID: userID, ActorSciper: SciperUnknown}, nil
	case err != nil:
		return Event{}, fmt.Errorf("error reading the audited actor: %w", err)
	}
	return Event{ActorType: ActorUser, ActorUserID: userID, ActorSciper: u.Sciper, ActorName: u.DisplayName}, nil
}

// inTx runs fn in db when it is a transaction, else in a transaction of
// its own (the writer's advisory lock must be held until commit).
func inTx(ctx context.Context, db postgres.DBTX, fn func(context.Context, postgres.DBTX) error) error {
	if tx, ok := db.(pgx.Tx); ok {
		return fn(ctx, tx)
	}
	if b, ok := db.(postgres.TxBeginner); ok {
		return postgres.WithTx(ctx, b, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
	return fn(ctx, db)
}

// Upload is what UploadCreated records of an accepted upload.
type Upload struct {
	ID         string
	UploadedBy *int64
	Snapshot   map[string]any // kind, scope, year, module, submodule, dataset, unit, file name, size, sha256
}

// UploadCreated writes `upload.create` (C) for an accepted upload, in the
// transaction that records it.
func (h *Hooks) UploadCreated(ctx context.Context, db postgres.DBTX, up Upload) error {
	return h.uploadEvent(ctx, db, ActionCreate, EventUploadCreate, up.ID, up.UploadedBy, up.Snapshot)
}

// EventUploadDownload is written when an upload's file is served.
const EventUploadDownload = "upload.download"

// UploadDownloaded writes `upload.download` (R) when the file of upload up
// is served to the user by (api.md §16); up.Snapshot names the bytes served
// (file name, size, sha256) and up.UploadedBy is ignored.
func (h *Hooks) UploadDownloaded(ctx context.Context, db postgres.DBTX, up Upload, by *int64) error {
	return h.uploadEvent(ctx, db, ActionRead, EventUploadDownload, up.ID, by, up.Snapshot)
}

// EventUploadImport is written by a successful import of an upload.
const EventUploadImport = "upload.import"

// UploadImported writes `upload.import` (U) in the import's transaction
// (jobs.md §4.1 step 6): up.Snapshot carries the counters and the pipeline;
// the actor is the uploader (the system when unknown).
func (h *Hooks) UploadImported(ctx context.Context, db postgres.DBTX, up Upload) error {
	return h.uploadEvent(ctx, db, ActionUpdate, EventUploadImport, up.ID, up.UploadedBy, up.Snapshot)
}

// uploadEvent writes one event on entity upload/<id>, actor from the
// request metadata of ctx (else the user actor).
func (h *Hooks) uploadEvent(ctx context.Context, db postgres.DBTX, action, event, id string, actor *int64, snapshot map[string]any) error {
	return inTx(ctx, db, func(ctx context.Context, tx postgres.DBTX) error {
		e, err := h.base(ctx, tx, actor)
		if err != nil {
			return err
		}
		e.Action, e.Event = action, event
		e.EntityType, e.EntityID = EntityUpload, id
		e.Snapshot = snapshot
		_, err = h.Writer.Write(ctx, tx, e)
		return err
	})
}

// Pipeline events (jobs.md §11.1).
const (
	EntityPipeline      = "pipeline"
	EventPipelineCancel = "pipeline.cancel"
)

// PipelineCancel is what PipelineCancelled records of a cancel request.
type PipelineCancel struct {
	ID          string
	RequestedBy *int64
	Snapshot    any // JSON-encodable: kind, scope, status before the cancel, jobs cancelled and jobs asked to stop
}

// PipelineCancelled writes `pipeline.cancel` (U) on entity pipeline/<id>,
// in the transaction that cancels the pipeline and its jobs.
func (h *Hooks) PipelineCancelled(ctx context.Context, db postgres.DBTX, c PipelineCancel) error {
	return inTx(ctx, db, func(ctx context.Context, tx postgres.DBTX) error {
		e, err := h.base(ctx, tx, c.RequestedBy)
		if err != nil {
			return err
		}
		e.Action, e.Event = ActionUpdate, EventPipelineCancel
		e.EntityType, e.EntityID = EntityPipeline, c.ID
		e.Snapshot = c.Snapshot
		_, err = h.Writer.Write(ctx, tx, e)
		return err
	})
}
