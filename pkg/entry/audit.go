package entry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The audit events of module data (docs/api.md §16, docs/jobs.md §11.1).
const (
	ActionCreate = "entry.create"
	ActionUpdate = "entry.update"
	ActionDelete = "entry.delete"
	ActionList   = "entry.list"

	entityDataEntry    = "data_entry"
	entityReportModule = "report_module"
)

var auditActions = map[string]string{
	ActionCreate: audit.ActionCreate,
	ActionUpdate: audit.ActionUpdate,
	ActionDelete: audit.ActionDelete,
	ActionList:   audit.ActionRead,
}

// auditEvent is one auditable entry action. Before/After are the entry
// rows (dbsqlc.DataEntry JSON) around the change; HandledIDs are the
// SCIPERs of a listed page (entry.list of member, plane, train; max 20).
type auditEvent struct {
	Action     string
	Actor      Actor
	Scope      Scope
	EntryID    int64
	Before     json.RawMessage
	After      json.RawMessage
	HandledIDs []string
}

// recordAudit writes entry.create|update|delete (entity data_entry/<id>,
// snapshot = entry data after the change, before it for a delete, handled
// ids = the SCIPERs of the entry) and entry.list (entity
// report_module/<id>, snapshot = submodule and query parameters, handled
// ids = the SCIPERs of the page), in db's transaction.
func recordAudit(ctx context.Context, db postgres.DBTX, ev auditEvent) error {
	action, ok := auditActions[ev.Action]
	if !ok {
		return fmt.Errorf("unknown entry audit action %q", ev.Action)
	}
	e := audit.Event{Action: action, Event: ev.Action}
	if ev.Action == ActionList {
		rm, err := dbsqlc.New(db).ReportModuleByUnitYearModule(ctx, dbsqlc.ReportModuleByUnitYearModuleParams{
			UnitID: ev.Scope.UnitID, Year: ev.Scope.Year, Module: string(ev.Scope.Module),
		})
		if err != nil {
			return fmt.Errorf("error reading the listed report module: %w", err)
		}
		query := map[string][]string{}
		if req, ok := audit.RequestFrom(ctx); ok && req.Query != nil {
			query = req.Query
		}
		e.EntityType, e.EntityID = entityReportModule, strconv.FormatInt(rm.ID, 10)
		e.HandledIDs = ev.HandledIDs
		e.Snapshot = map[string]any{
			"unit_id": ev.Scope.UnitID, "year": ev.Scope.Year, "module": ev.Scope.Module,
			"submodule": ev.Scope.Submodule, "query": query,
		}
		e.RequestPayload = query
		return audit.Record(ctx, db, ev.Actor.UserID, e)
	}
	row := ev.After
	if ev.Action == ActionDelete {
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
	e.EntityType, e.EntityID = entityDataEntry, strconv.FormatInt(ev.EntryID, 10)
	e.HandledIDs = entrySCIPERs(stored.Data, stored.OwnerSciper)
	if len(stored.Data) > 0 {
		e.Snapshot = stored.Data
	}
	if ev.Action != ActionDelete && len(stored.Data) > 0 {
		e.RequestPayload = stored.Data
	}
	return audit.Record(ctx, db, ev.Actor.UserID, e)
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
