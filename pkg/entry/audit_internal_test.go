package entry

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// recordAudit names the entity, snapshot and SCIPERs of each entry event
// (the actor fields are package audit's, tested there).
func TestRecordAudit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	rep := testfactory.Report(ctx, t, tx, nil)
	rm := rep.Module(emission.ModuleProfessionalTravel)

	type row struct {
		Event, Action, EntityType, EntityID string
		Handled                             []string
		Snapshot                            json.RawMessage
	}
	last := func() row {
		t.Helper()
		var r row
		require.NoError(t, tx.QueryRow(ctx, `SELECT event, action, entity_type, entity_id, handled_ids, snapshot
			FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&r.Event, &r.Action, &r.EntityType, &r.EntityID, &r.Handled, &r.Snapshot))
		return r
	}

	after, err := json.Marshal(map[string]any{"id": 7, "owner_sciper": "111111",
		"data": map[string]any{"origin_iata": "GVA", "user_institutional_id": "654321"}})
	require.NoError(t, err)
	require.NoError(t, recordAudit(ctx, tx, auditEvent{Action: ActionCreate, EntryID: 7, After: after}))
	r := last()
	require.Equal(t, row{Event: "entry.create", Action: "C", EntityType: "data_entry", EntityID: "7",
		Handled: []string{"654321", "111111"}, Snapshot: r.Snapshot}, r)
	require.JSONEq(t, `{"origin_iata": "GVA", "user_institutional_id": "654321"}`, string(r.Snapshot))

	// A delete records the row before it.
	require.NoError(t, recordAudit(ctx, tx, auditEvent{Action: ActionDelete, EntryID: 7, Before: after}))
	r = last()
	require.Equal(t, "entry.delete", r.Event)
	require.Equal(t, "D", r.Action)
	require.JSONEq(t, `{"origin_iata": "GVA", "user_institutional_id": "654321"}`, string(r.Snapshot))

	// entry.list names the report module and the listed SCIPERs.
	sc := Scope{UnitID: rm.UnitID, Year: rm.Year, Module: emission.ModuleProfessionalTravel, Submodule: emission.SubPlane}
	require.NoError(t, recordAudit(ctx, tx, auditEvent{Action: ActionList, Scope: sc, HandledIDs: []string{"1", "2"}}))
	r = last()
	require.Equal(t, "entry.list", r.Event)
	require.Equal(t, "R", r.Action)
	require.Equal(t, "report_module", r.EntityType)
	require.Equal(t, []string{"1", "2"}, r.Handled)
	require.JSONEq(t, `{"unit_id": `+jsonInt(rm.UnitID)+`, "year": `+jsonInt(int64(rm.Year))+`,
		"module": "professional_travel", "submodule": "plane", "query": {}}`, string(r.Snapshot))

	require.ErrorContains(t, recordAudit(ctx, tx, auditEvent{Action: "entry.nope"}), "unknown entry audit action")
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
