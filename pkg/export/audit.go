package export

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// auditParams are the params of audit_log: the filters of GET /audit/events
// (docs/api.md §13), lists as arrays, times in RFC 3339.
type auditParams struct {
	ActorSciper string   `json:"actor_sciper,omitempty"`
	Event       []string `json:"event,omitempty"`
	Action      []string `json:"action,omitempty"`
	EntityType  string   `json:"entity_type,omitempty"`
	EntityID    string   `json:"entity_id,omitempty"`
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Q           string   `json:"q,omitempty"`
	Module      string   `json:"module,omitempty"`
	ShipStatus  []string `json:"ship_status,omitempty"`
}

// auditPlan is audit_log: the events package audit lists, newest first.
type auditPlan struct {
	auditParams
	filter audit.Filter
}

// MarshalJSON stores the params.
func (p *auditPlan) MarshalJSON() ([]byte, error) { return json.Marshal(p.auditParams) }

func parseTime(field, raw string) (*time.Time, error) {
	if raw == "" {
		return nil, nil //nolint:nilnil // absent
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, invalidField("params."+field, "invalid_format", "params.%s must be an RFC 3339 time", field)
	}
	return &t, nil
}

func newAuditPlan(raw json.RawMessage) (plan, error) {
	p := &auditPlan{}
	if err := decodeParams(KindAuditLog, raw, &p.auditParams); err != nil {
		return nil, err
	}
	from, err := parseTime("from", p.From)
	if err != nil {
		return nil, err
	}
	to, err := parseTime("to", p.To)
	if err != nil {
		return nil, err
	}
	p.filter = audit.Filter{ActorSciper: p.ActorSciper, Events: p.Event, Actions: p.Action, EntityType: p.EntityType,
		EntityID: p.EntityID, From: from, To: to, Q: p.Q, Module: p.Module, ShipStatuses: p.ShipStatus}
	return p, nil
}

func (p *auditPlan) scope() scope { return scope{} }

// authorize is bo(logs, view), the permission of GET /audit/events; the
// filters are checked by the list itself (422 here).
func (p *auditPlan) authorize(ctx context.Context, db postgres.DBTX, c Caller) error {
	if !c.Perms.BO(perm.BOLogs, perm.ActionView) {
		return forbidden("backoffice." + perm.BOLogs + ":" + perm.ActionView)
	}
	if _, err := audit.List(ctx, db, p.filter, "", 1); err != nil {
		return filterError(err)
	}
	return nil
}

func (p *auditPlan) build(ctx context.Context, db postgres.DBTX, _ buildEnv) (content, error) {
	// The list has no count: the events of the period bound the rows (the
	// progress total); too_many_rows is checked while writing.
	st, err := audit.CountStats(ctx, db, p.filter.From, p.filter.To)
	if err != nil {
		return content{}, err
	}
	cols := []Column{{"seq", Integer}, {"occurred_at", Time}, {"actor_sciper", Text}, {"actor_name", Text},
		{"action", Text}, {"event", Text}, {"entity_type", Text}, {"entity_id", Text}, {"entity_version", Integer},
		{"reason", Text}, {"handled_ids", Text}, {"ip", Text}, {"route", Text}, {"ship_status", Text}, {"hash", Text}}
	q := dbsqlc.New(db)
	t := Table{Name: "audit_log", Columns: cols, Rows: func(ctx context.Context, emit Emit) error {
		cursor := ""
		for {
			page, err := audit.List(ctx, db, p.filter, cursor, audit.MaxListLimit)
			if err != nil {
				return err
			}
			ids := make([]int64, len(page.Items))
			for i, it := range page.Items {
				ids[i] = it.ID
			}
			hashes, err := q.ExportAuditHashes(ctx, ids)
			if err != nil {
				return fmt.Errorf("error reading audit hashes: %w", err)
			}
			byID := make(map[int64]string, len(hashes))
			for _, h := range hashes {
				byID[h.ID] = h.Hash
			}
			for _, it := range page.Items {
				err := emit([]any{it.Seq, it.OccurredAt, it.Actor.Sciper, optText(it.Actor.Name), it.Action, it.Event,
					it.EntityType, it.EntityID, int64(it.EntityVersion), it.Reason, strings.Join(it.HandledIDs, ";"),
					optText(it.IP), optText(it.Route), it.ShipStatus, byID[it.ID]})
				if err != nil {
					return err
				}
			}
			if page.NextCursor == nil {
				return nil
			}
			cursor = *page.NextCursor
		}
	}}
	return content{Total: st.Total, Estimate: true, Tables: []Table{t}}, nil
}
