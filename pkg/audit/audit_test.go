package audit_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// The two test vectors of docs/jobs.md §11.3.
func TestHashVectors(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr("192.0.2.10")
	createRoute := "POST /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries"
	updateRoute := "PATCH /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}"
	r1 := audit.ChainRecord{
		Seq: 1, OccurredAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), ActorSciper: "DEV-000002", Action: "C",
		Event: "entry.create", EntityType: "data_entry", EntityID: "42", EntityVersion: 1, Reason: "",
		HandledIDs: []string{"123456"}, IP: &ip, Route: &createRoute,
		Snapshot: json.RawMessage(`{"name":"Ada","fte":1}`), PrevHash: audit.ZeroHash,
	}
	h1, err := r1.Hash()
	require.NoError(t, err)
	require.Equal(t, "9f34d11bdee90d0fd10a349eda692d1e5db9e370c1224a39f239643484c7a4fe", h1)

	r2 := r1
	r2.Seq, r2.OccurredAt, r2.Action, r2.Event, r2.EntityVersion, r2.Route = 2, time.Date(2025, 3, 1, 10, 5, 0, 0, time.UTC), "U", "entry.update", 2, &updateRoute
	r2.Snapshot = json.RawMessage(`{"name":"Ada","fte":0.8}`)
	r2.Diff = json.RawMessage(`{"added":{},"removed":{},"changed":{"fte":{"old":1,"new":0.8}}}`)
	r2.PrevHash = h1
	h2, err := r2.Hash()
	require.NoError(t, err)
	require.Equal(t, "b7984e6972cc0974132bb141532c6a1ac9b78dfaa04438c937594ceb463f3813", h2)

	// The diff the writer computes is the one of the vector.
	d, err := audit.Diff(r1.Snapshot, r2.Snapshot)
	require.NoError(t, err)
	require.JSONEq(t, string(r2.Diff), string(d))
}

func TestScrub(t *testing.T) {
	t.Parallel()
	in := map[string]any{"code": "abc", "State": "s", "nested": map[string]any{"password": "p", "keep": 1.0, "list": []any{map[string]any{"token": "t"}}}, "name": "Ada"}
	require.Equal(t, map[string]any{"code": "[redacted]", "State": "[redacted]", "name": "Ada",
		"nested": map[string]any{"password": "[redacted]", "keep": 1.0, "list": []any{map[string]any{"token": "[redacted]"}}}}, audit.Scrub(in))
}

func fixedClock() func() time.Time {
	return func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC) }
}

func TestWriteAndVerify(t *testing.T) { //nolint:tparallel // the Tampered subtests share one transaction (savepoints)
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	w := &audit.Writer{Now: fixedClock()}
	ip := netip.MustParseAddr("192.0.2.10")

	first, err := w.Write(ctx, tx, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionCreate, Event: "entry.create",
		EntityType: "data_entry", EntityID: "42", HandledIDs: []string{"123456"}, IP: &ip,
		Snapshot: map[string]any{"name": "Ada", "fte": 1}, RequestPayload: map[string]any{"code": "secret-code", "data": strings.Repeat("x", 20000)}})
	require.NoError(t, err)
	require.Equal(t, int64(1), first.Seq)
	require.Equal(t, int32(1), first.EntityVersion)

	second, err := w.Write(ctx, tx, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update",
		EntityType: "data_entry", EntityID: "42", Snapshot: map[string]any{"name": "Ada", "fte": 0.8},
		RequestPayload: map[string]any{"refresh_token": "r", "fte": 0.8}})
	require.NoError(t, err)
	require.Equal(t, int64(2), second.Seq)
	require.Equal(t, int32(2), second.EntityVersion)

	_, err = w.Write(ctx, tx, audit.Event{ActorType: audit.ActorSystem, ActorSciper: audit.SciperSystem, Action: audit.ActionRead,
		Event: "audit.verify", EntityType: "audit", EntityID: "chain"})
	require.NoError(t, err)

	rows, err := dbsqlc.New(tx).AuditRange(ctx, dbsqlc.AuditRangeParams{FromSeq: 1, ToSeq: 3})
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.JSONEq(t, `{"added":{},"removed":{},"changed":{"fte":{"old":1,"new":0.8}}}`, string(rows[1].Diff))
	require.Nil(t, rows[0].Diff)
	require.Equal(t, rows[0].Hash, rows[1].PrevHash)
	require.Equal(t, 123456000, rows[0].OccurredAt.Nanosecond(), "microsecond precision")

	evs, err := dbsqlc.New(tx).AuditByEvent(ctx, dbsqlc.AuditByEventParams{Event: "entry.update", MaxRows: 1})
	require.NoError(t, err)
	require.JSONEq(t, `{"refresh_token":"[redacted]","fte":0.8}`, string(evs[0].RequestPayload))
	evs, err = dbsqlc.New(tx).AuditByEvent(ctx, dbsqlc.AuditByEventParams{Event: "entry.create", MaxRows: 1})
	require.NoError(t, err)
	require.LessOrEqual(t, len(evs[0].RequestPayload), audit.MaxPayload+100)
	require.NotContains(t, string(evs[0].RequestPayload), "secret-code")

	rep, err := audit.Verify(ctx, tx, 1, 3)
	require.NoError(t, err)
	require.True(t, rep.OK, "%+v", rep.Broken)
	require.Equal(t, 3, rep.Checked)
	require.Equal(t, rows[2].Hash, rep.HeadHash)

	rep, err = audit.Verify(ctx, tx, 2, 3)
	require.NoError(t, err)
	require.True(t, rep.OK)
	require.Equal(t, 2, rep.Checked)

	t.Run("Tampered", func(t *testing.T) {
		tests := []struct {
			name, sql string
			from      int64
			reason    string
			seq       int64
		}{
			{name: "HashMismatch", sql: `UPDATE audit_events SET reason = 'edited' WHERE seq = 2`, from: 1, reason: audit.ReasonHashMismatch, seq: 2},
			{name: "PrevLinkMismatch", sql: `UPDATE audit_events SET prev_hash = repeat('a', 64) WHERE seq = 3`, from: 1, reason: audit.ReasonPrevLinkMismatch, seq: 3},
			{name: "SequenceGap", sql: `UPDATE audit_events SET seq = 5 WHERE seq = 3`, from: 1, reason: audit.ReasonSequenceGap, seq: 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				sp, err := tx.Begin(ctx)
				require.NoError(t, err)
				defer func() { require.NoError(t, sp.Rollback(ctx)) }()
				_, err = sp.Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard_row`)
				require.NoError(t, err)
				_, err = sp.Exec(ctx, tt.sql)
				require.NoError(t, err)
				rep, err := audit.Verify(ctx, sp, tt.from, 5)
				require.NoError(t, err)
				require.False(t, rep.OK)
				require.Equal(t, tt.reason, rep.Broken.Reason)
				require.Equal(t, tt.seq, rep.Broken.Seq)
			})
		}
	})
}
