package audit_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

type hookRow struct {
	Event, Action, ActorType, Sciper, EntityType, EntityID string
	UserID                                                 *int64
	Name                                                   *string
	Version                                                int32
	Handled                                                []string
	IP                                                     *netip.Addr
	Route, UA, RequestID                                   *string
	Snapshot, Payload                                      json.RawMessage
}

func lastEvent(ctx context.Context, t *testing.T, tx pgx.Tx) hookRow {
	t.Helper()
	var r hookRow
	require.NoError(t, tx.QueryRow(ctx, `SELECT event, action, actor_type, actor_sciper, entity_type, entity_id, actor_user_id,
		actor_name, entity_version, handled_ids, ip, route, user_agent, request_id, snapshot, request_payload
		FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&r.Event, &r.Action, &r.ActorType, &r.Sciper, &r.EntityType,
		&r.EntityID, &r.UserID, &r.Name, &r.Version, &r.Handled, &r.IP, &r.Route, &r.UA, &r.RequestID, &r.Snapshot, &r.Payload))
	return r
}

func TestHooksRequestMetadata(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	hooks := audit.NewHooks(func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) })
	ip := netip.MustParseAddr("192.0.2.10")
	uid := int64(42)
	route, ua, rid, name := "POST /api/v1/x/{id}", "curl/8", "req-1", "Ada Admin"
	rctx := audit.WithRequest(ctx, audit.Request{UserID: &uid, Sciper: "DEV-000002", Name: &name, IP: &ip,
		UserAgent: &ua, RequestID: &rid, Route: &route})
	got, ok := audit.RequestFrom(rctx)
	require.True(t, ok)
	require.Equal(t, "DEV-000002", got.Sciper)
	_, ok = audit.RequestFrom(ctx)
	require.False(t, ok)

	after, err := json.Marshal(map[string]any{"id": 7, "owner_sciper": "654321",
		"data": map[string]any{"origin_iata": "GVA", "user_institutional_id": "654321"}})
	require.NoError(t, err)
	require.NoError(t, hooks.RecordEntry(rctx, tx, entry.AuditEvent{Action: entry.ActionCreate, EntryID: 7, After: after}))
	r := lastEvent(ctx, t, tx)
	require.Equal(t, hookRow{
		Event: "entry.create", Action: "C", ActorType: "user", Sciper: "DEV-000002", EntityType: "data_entry", EntityID: "7",
		UserID: &uid, Name: &name, Version: 1, Handled: []string{"654321"}, IP: &ip, Route: &route, UA: &ua, RequestID: &rid,
		Snapshot: r.Snapshot, Payload: r.Payload,
	}, r)
	require.JSONEq(t, `{"origin_iata": "GVA", "user_institutional_id": "654321"}`, string(r.Snapshot))

	require.Error(t, hooks.RecordEntry(rctx, tx, entry.AuditEvent{Action: "entry.nope"}))
}

func TestHooksWithoutRequest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	hooks := audit.NewHooks(nil)
	user := testfactory.User(ctx, t, tx, &testfactory.UserOpts{DisplayName: new("Pat")})
	rep := testfactory.Report(ctx, t, tx, nil)
	rm := rep.Module(emission.ModuleHeadcount)

	// The actor is read from the user row.
	require.NoError(t, hooks.ModuleStatusChanged(ctx, tx, report.StatusChange{ReportModuleID: rm.ID, UnitID: rm.UnitID,
		Year: rm.Year, Module: "headcount", From: "in_progress", To: "validated", ActorID: &user.ID}))
	r := lastEvent(ctx, t, tx)
	require.Equal(t, "report_module.status", r.Event)
	require.Equal(t, "U", r.Action)
	require.Equal(t, user.Sciper, r.Sciper)
	require.Equal(t, new("Pat"), r.Name)
	require.Nil(t, r.Route)

	// No user: a system event. entry.list names the report module.
	require.NoError(t, hooks.RecordEntry(ctx, tx, entry.AuditEvent{Action: entry.ActionList, HandledIDs: []string{"1", "2"},
		Scope: entry.Scope{UnitID: rm.UnitID, Year: rm.Year, Module: emission.ModuleHeadcount, Submodule: emission.SubMember}}))
	r = lastEvent(ctx, t, tx)
	require.Equal(t, "entry.list", r.Event)
	require.Equal(t, "R", r.Action)
	require.Equal(t, "system", r.ActorType)
	require.Equal(t, "system", r.Sciper)
	require.Equal(t, "report_module", r.EntityType)
	require.Equal(t, []string{"1", "2"}, r.Handled)
	require.Equal(t, int32(2), r.Version, "second report_module event of that module")
}

// An entry.list read is audited from a pool (no caller transaction): the
// hook opens its own.
func TestHooksOwnTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	rep := testfactory.Report(ctx, t, schema.Pool, nil)
	rm := rep.Module(emission.ModuleProfessionalTravel)
	hooks := audit.NewHooks(nil)
	for range 3 {
		require.NoError(t, hooks.RecordEntry(ctx, schema.Pool, entry.AuditEvent{Action: entry.ActionList,
			Scope: entry.Scope{UnitID: rm.UnitID, Year: rm.Year, Module: emission.ModuleProfessionalTravel, Submodule: emission.SubPlane}}))
	}
	rep2, err := audit.Verify(ctx, schema.Pool, 1, 3)
	require.NoError(t, err)
	require.True(t, rep2.OK)
	require.Equal(t, 3, rep2.Checked)
}
