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
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

type eventRow struct {
	Event, Action, ActorType, Sciper, EntityType, EntityID string
	UserID                                                 *int64
	Name                                                   *string
	Version                                                int32
	Handled                                                []string
	IP                                                     *netip.Addr
	Route, UA, RequestID                                   *string
	OccurredAt                                             time.Time
	Snapshot, Payload                                      json.RawMessage
}

func lastEvent(ctx context.Context, t *testing.T, db postgres.DBTX) eventRow {
	t.Helper()
	var r eventRow
	require.NoError(t, db.QueryRow(ctx, `SELECT event, action, actor_type, actor_sciper, entity_type, entity_id, actor_user_id,
		actor_name, entity_version, handled_ids, ip, route, user_agent, request_id, occurred_at, snapshot, request_payload
		FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&r.Event, &r.Action, &r.ActorType, &r.Sciper, &r.EntityType,
		&r.EntityID, &r.UserID, &r.Name, &r.Version, &r.Handled, &r.IP, &r.Route, &r.UA, &r.RequestID, &r.OccurredAt,
		&r.Snapshot, &r.Payload))
	return r
}

func TestRecord(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx context.Context
		tx  pgx.Tx
	}
	setup := func(t *testing.T) testBundle {
		t.Helper()
		ctx := t.Context()
		return testBundle{ctx: ctx, tx: testdb.TestTx(ctx, t)}
	}
	event := audit.Event{Action: audit.ActionUpdate, Event: "thing.change", EntityType: "thing", EntityID: "7",
		HandledIDs: []string{"654321"}, Snapshot: map[string]any{"a": 1}, RequestPayload: map[string]any{"password": "x", "a": 1}}

	// The actor and client come from the request metadata of the context.
	t.Run("RequestMetadata", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ip := netip.MustParseAddr("192.0.2.10")
		uid := int64(42)
		route, ua, rid, name := "POST /api/v1/x/{id}", "curl/8", "req-1", "Ada Admin"
		rctx := audit.WithRequest(b.ctx, audit.Request{UserID: &uid, Sciper: "DEV-000002", Name: &name, IP: &ip,
			UserAgent: &ua, RequestID: &rid, Route: &route})
		got, ok := audit.RequestFrom(rctx)
		require.True(t, ok)
		require.Equal(t, "DEV-000002", got.Sciper)
		_, ok = audit.RequestFrom(b.ctx)
		require.False(t, ok)

		w := &audit.Writer{Now: func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) }}
		require.NoError(t, w.Record(rctx, b.tx, nil, event))
		r := lastEvent(b.ctx, t, b.tx)
		require.True(t, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC).Equal(r.OccurredAt), "the writer's clock: %s", r.OccurredAt)
		r.OccurredAt = time.Time{}
		require.Equal(t, eventRow{
			Event: "thing.change", Action: "U", ActorType: "user", Sciper: "DEV-000002", EntityType: "thing", EntityID: "7",
			UserID: &uid, Name: &name, Version: 1, Handled: []string{"654321"}, IP: &ip, Route: &route, UA: &ua, RequestID: &rid,
			Snapshot: r.Snapshot, Payload: r.Payload,
		}, r)
		require.JSONEq(t, `{"a": 1}`, string(r.Snapshot))
		require.JSONEq(t, `{"a": 1, "password": "[redacted]"}`, string(r.Payload))
	})

	// Without request metadata the actor is read from the user row.
	t.Run("UserActor", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		user := testfactory.User(b.ctx, t, b.tx, &testfactory.UserOpts{DisplayName: new("Pat")})
		require.NoError(t, audit.Record(b.ctx, b.tx, &user.ID, event))
		r := lastEvent(b.ctx, t, b.tx)
		require.Equal(t, "user", r.ActorType)
		require.Equal(t, user.Sciper, r.Sciper)
		require.Equal(t, &user.ID, r.UserID)
		require.Equal(t, new("Pat"), r.Name)
		require.Nil(t, r.Route)
	})

	// No user: a system event; a second event on the entity is version 2.
	t.Run("System", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, audit.Record(b.ctx, b.tx, nil, event))
		require.NoError(t, audit.Record(b.ctx, b.tx, new(int64(0)), event))
		r := lastEvent(b.ctx, t, b.tx)
		require.Equal(t, "system", r.ActorType)
		require.Equal(t, "system", r.Sciper)
		require.Nil(t, r.UserID)
		require.Equal(t, int32(2), r.Version)
	})

	// A user id that names no row is recorded with an unknown SCIPER.
	t.Run("UnknownUser", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, audit.Record(b.ctx, b.tx, new(int64(987654321)), event))
		r := lastEvent(b.ctx, t, b.tx)
		require.Equal(t, "unknown", r.Sciper)
		require.Equal(t, new(int64(987654321)), r.UserID)
	})
}

// From a pool (no caller transaction) Record opens a transaction of its
// own for each event; the chain stays whole.
func TestRecordOwnTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	for i := range 3 {
		require.NoError(t, audit.Record(ctx, schema.Pool, nil, audit.Event{Action: audit.ActionRead, Event: "thing.read",
			EntityType: "thing", EntityID: "1", Snapshot: map[string]any{"i": i}}))
	}
	rep, err := audit.Verify(ctx, schema.Pool, 1, 3)
	require.NoError(t, err)
	require.True(t, rep.OK)
	require.Equal(t, 3, rep.Checked)
	require.Equal(t, int32(3), lastEvent(ctx, t, schema.Pool).Version)
}
