package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// auditEnv is a schema with five audit events and the router as admin.
type auditEnv struct {
	router  http.Handler
	schema  testdb.Schema
	t0      time.Time
	entryID int64
	ev      []audit.Written // seq 1..5
}

const longReason = "fixed the FTE of a member whose contract changed in the middle of the year"

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	e := &auditEnv{schema: schema, t0: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		router: httpapi.AsAdmin(httpapi.NewRouter(httpapi.Deps{Pool: schema.Pool, Logger: testdb.QuietLogger(), Ready: ready}))}
	entry := testfactory.Entry(ctx, t, schema.Pool, nil) // a headcount member
	e.entryID = entry.ID
	ip := netip.MustParseAddr("192.0.2.10")
	id := strconv.FormatInt(entry.ID, 10)
	events := []audit.Event{
		{ActorSciper: "DEV-000002", Action: audit.ActionCreate, Event: "entry.create", EntityType: "data_entry", EntityID: id,
			IP: &ip, Snapshot: map[string]any{"fte": 1}},
		{ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update", EntityType: "data_entry", EntityID: id,
			IP: &ip, Reason: longReason, Snapshot: map[string]any{"fte": 0.8}, RequestPayload: map[string]any{"fte": 0.8}},
		{ActorSciper: "DEV-000003", Action: audit.ActionUpdate, Event: "report_module.status", EntityType: "report_module", EntityID: "9",
			Snapshot: map[string]any{"module": "purchases", "status": "validated"}},
		{ActorSciper: "DEV-000002", Action: audit.ActionRead, Event: "entry.list", EntityType: "report_module", EntityID: "10",
			Snapshot: map[string]any{"module": "professional_travel"}, HandledIDs: []string{"123456"}},
		{ActorType: audit.ActorSystem, ActorSciper: audit.SciperSystem, Action: audit.ActionCreate, Event: "factor.compute",
			EntityType: "factor", EntityID: "2025/plane"},
	}
	err := postgres.WithTx(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		for i, ev := range events {
			ev.OccurredAt = e.t0.Add(time.Duration(i) * time.Hour)
			w, err := (&audit.Writer{Now: time.Now}).Write(ctx, tx, ev)
			if err != nil {
				return err
			}
			e.ev = append(e.ev, w)
		}
		_, err := tx.Exec(ctx, `UPDATE audit_events SET ship_status = 'shipped', shipped_at = now() WHERE seq = 1`)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE audit_events SET ship_status = 'failed', ship_attempts = 20, ship_error = 'HTTP 400' WHERE seq = 5`)
		}
		return err
	})
	require.NoError(t, err)
	return e
}

// csrf are the headers every POST needs.
var csrf = http.Header{"X-Csrf-Token": {"t"}, "Cookie": {"csrf_token=t"}}

type auditPage struct {
	Items []struct {
		ID         int64  `json:"id"`
		Seq        int64  `json:"seq"`
		Summary    string `json:"summary"`
		ShipStatus string `json:"ship_status"`
		Actor      struct {
			Sciper string `json:"sciper"`
		} `json:"actor"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (e *auditEnv) list(t *testing.T, query string) auditPage {
	t.Helper()
	rec := serve(t, e.router, http.MethodGet, "/api/v1/audit/events?"+query, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var p auditPage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p
}

func seqs(p auditPage) []int64 {
	out := []int64{}
	for _, it := range p.Items {
		out = append(out, it.Seq)
	}
	return out
}

func TestAuditEventsAPI(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	at := func(h int) string {
		return url.QueryEscape(e.t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339))
	}

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		for query, want := range map[string][]int64{
			"":                                      {5, 4, 3, 2, 1},
			"actor_sciper=DEV-000003":               {3},
			"event=entry.create&event=entry.update": {2, 1},
			"action=u":                              {3, 2},
			"action=C&action=R":                     {5, 4, 1},
			"entity_type=data_entry&entity_id=" + strconv.FormatInt(e.entryID, 10): {2, 1},
			"entity_type=report_module":      {4, 3},
			"from=" + at(1) + "&to=" + at(3): {3, 2},
			"from=" + at(4):                  {5},
			"q=CONTRACT":                     {2},
			"q=dev-000003":                   {3},
			"q=%25":                          {5, 4, 3, 2, 1},
			"q=100%25":                       {},
			"module=headcount":               {2, 1},
			"module=purchases":               {3},
			"ship_status=failed":             {5},
			"ship_status=pending&ship_status=shipped": {4, 3, 2, 1},
		} {
			require.Equal(t, want, seqs(e.list(t, query)), query)
		}
	})

	t.Run("Cursor", func(t *testing.T) {
		t.Parallel()
		var got []int64
		query := "limit=2"
		for pages := 0; ; pages++ {
			require.Less(t, pages, 3)
			p := e.list(t, query)
			got = append(got, seqs(p)...)
			if p.NextCursor == nil {
				break
			}
			require.Len(t, p.Items, 2)
			query = "limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		require.Equal(t, []int64{5, 4, 3, 2, 1}, got)
		p := e.list(t, "limit=5")
		require.Nil(t, p.NextCursor, "an exact last page has no next cursor")
		// The cursor keeps the filters' order: the next page of a filtered list.
		p = e.list(t, "action=U&limit=1")
		require.Equal(t, []int64{3}, seqs(p))
		require.Equal(t, []int64{2}, seqs(e.list(t, "action=U&limit=1&cursor="+url.QueryEscape(*p.NextCursor))))
	})

	t.Run("Items", func(t *testing.T) {
		t.Parallel()
		p := e.list(t, "")
		require.Equal(t, "CREATE factor #2025/plane", p.Items[0].Summary)
		require.Equal(t, "system", p.Items[0].Actor.Sciper)
		require.Equal(t, "failed", p.Items[0].ShipStatus)
		require.Equal(t, "UPDATE report_module #9", p.Items[2].Summary)
		require.Equal(t, fmt.Sprintf("UPDATE data_entry #%d — %s…", e.entryID, longReason[:59]), p.Items[3].Summary)

		rec := serve(t, e.router, http.MethodGet, "/api/v1/audit/events?entity_type=data_entry&limit=1", nil)
		require.JSONEq(t, fmt.Sprintf(`{"items": [{"id": %d, "seq": 2, "occurred_at": "2025-03-01T11:00:00Z",
			"actor": {"user_id": null, "sciper": "DEV-000002", "name": null}, "action": "U", "event": "entry.update",
			"entity_type": "data_entry", "entity_id": "%d", "entity_version": 2, "reason": %q, "handled_ids": [],
			"ip": "192.0.2.10", "route": null, "summary": %q, "ship_status": "pending"}], "next_cursor": %q}`,
			e.ev[1].ID, e.entryID, longReason, p.Items[3].Summary, nextCursorOf(t, rec)), rec.Body.String())
	})

	t.Run("Detail", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, e.router, http.MethodGet, fmt.Sprintf("/api/v1/audit/events/%d", e.ev[1].ID), nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var d map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &d))
		require.Equal(t, e.ev[1].Hash, d["hash"])
		require.Equal(t, e.ev[0].Hash, d["prev_hash"])
		require.Equal(t, map[string]any{"fte": 0.8}, d["snapshot"])
		require.Equal(t, map[string]any{"fte": 0.8}, d["request_payload"])
		require.Equal(t, map[string]any{"added": map[string]any{}, "removed": map[string]any{},
			"changed": map[string]any{"fte": map[string]any{"old": 1.0, "new": 0.8}}}, d["diff"])
		for _, k := range []string{"ship_attempts", "ship_error", "shipped_at", "next_ship_at", "user_agent", "request_id", "actor_type", "summary"} {
			require.Contains(t, d, k)
		}
		rec = serve(t, e.router, http.MethodGet, fmt.Sprintf("/api/v1/audit/events/%d", e.ev[4].ID), nil)
		require.Contains(t, rec.Body.String(), `"ship_error":"HTTP 400"`)
		require.Contains(t, rec.Body.String(), `"snapshot":null`)
	})

	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		rec := serve(t, e.router, http.MethodGet, "/api/v1/audit/stats", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `{"total": 5, "by_action": {"C": 2, "R": 1, "U": 2, "D": 0},
			"by_ship_status": {"pending": 3, "shipped": 1, "skipped": 0, "failed": 1}}`, rec.Body.String())
		rec = serve(t, e.router, http.MethodGet, "/api/v1/audit/stats?from="+at(1)+"&to="+at(4), nil)
		require.JSONEq(t, `{"total": 3, "by_action": {"C": 0, "R": 1, "U": 2, "D": 0},
			"by_ship_status": {"pending": 3, "shipped": 0, "skipped": 0, "failed": 0}}`, rec.Body.String())
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			url         string
			status      int
			code, field string
		}{
			{url: "/audit/events?limit=101", status: http.StatusUnprocessableEntity, code: "validation_failed", field: "limit"},
			{url: "/audit/events?limit=0", status: http.StatusUnprocessableEntity, code: "validation_failed", field: "limit"},
			{url: "/audit/events?limit=ten", status: http.StatusBadRequest, code: "bad_request", field: "limit"},
			{url: "/audit/events?cursor=nope", status: http.StatusBadRequest, code: "bad_request", field: "cursor"},
			{url: "/audit/events?action=X", status: http.StatusBadRequest, code: "invalid_filter", field: "action"},
			{url: "/audit/events?ship_status=lost", status: http.StatusBadRequest, code: "invalid_filter", field: "ship_status"},
			{url: "/audit/events?from=yesterday", status: http.StatusBadRequest, code: "invalid_filter", field: "from"},
			{url: "/audit/events?q=" + strings.Repeat("x", 101), status: http.StatusBadRequest, code: "invalid_filter", field: "q"},
			{url: "/audit/stats?to=2025", status: http.StatusBadRequest, code: "invalid_filter", field: "to"},
			{url: "/audit/events/999999", status: http.StatusNotFound, code: "not_found"},
			{url: "/audit/events/abc", status: http.StatusNotFound, code: "not_found"},
			{url: "/audit/verify?from_seq=0", status: http.StatusUnprocessableEntity, code: "validation_failed", field: "from_seq"},
			{url: "/audit/verify?from_seq=5&to_seq=2", status: http.StatusUnprocessableEntity, code: "validation_failed", field: "to_seq"},
			{url: "/audit/verify?from_seq=1&to_seq=100001", status: http.StatusUnprocessableEntity, code: "validation_failed", field: "to_seq"},
			{url: "/audit/verify?to_seq=x", status: http.StatusBadRequest, code: "bad_request", field: "to_seq"},
		} {
			rec := serve(t, e.router, http.MethodGet, "/api/v1"+tt.url, nil)
			require.Equal(t, tt.status, rec.Code, "%s: %s", tt.url, rec.Body.String())
			env := requireErrorEnvelope(t, rec)
			require.Equal(t, tt.code, env.Error.Code, tt.url)
			if tt.field != "" {
				require.Equal(t, tt.field, env.Error.Details[0]["field"], tt.url)
			}
		}
	})
}

func nextCursorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var p auditPage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.NotNil(t, p.NextCursor)
	return *p.NextCursor
}

// GET /audit/verify walks the chain; a row changed behind the trigger's
// back (a superuser session replicating, so the guard does not fire) is
// reported as the first broken link.
func TestAuditVerifyAPI(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	ctx := t.Context()
	verify := func(t *testing.T, query string) audit.Report {
		t.Helper()
		rec := serve(t, e.router, http.MethodGet, "/api/v1/audit/verify"+query, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var rep audit.Report
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
		return rep
	}

	rep := verify(t, "")
	require.Equal(t, audit.Report{OK: true, Checked: 5, FirstSeq: 1, LastSeq: 5, HeadHash: e.ev[4].Hash}, rep)
	var event string
	var snapshot json.RawMessage
	require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT event, snapshot FROM audit_events WHERE seq = 6`).Scan(&event, &snapshot))
	require.Equal(t, audit.EventVerify, event, "the verification is audited")
	require.JSONEq(t, `{"from_seq": 1, "to_seq": 5, "ok": true, "checked": 5}`, string(snapshot))

	rep = verify(t, "?from_seq=2&to_seq=3")
	require.Equal(t, audit.Report{OK: true, Checked: 2, FirstSeq: 2, LastSeq: 3, HeadHash: e.ev[2].Hash}, rep)
	rep = verify(t, "?from_seq=4&to_seq=1000")
	require.Equal(t, int64(7), rep.LastSeq, "to_seq is clamped to the head (two verify events were added)")

	// Tamper with seq 3 through a privileged session: the append-only
	// trigger does not run for a replicating superuser.
	err := postgres.WithTx(ctx, e.schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 3`)
		return err
	})
	require.NoError(t, err)
	_, err = e.schema.Pool.Exec(ctx, `UPDATE audit_events SET reason = 'x' WHERE seq = 3`)
	require.ErrorContains(t, err, "append-only", "the trigger guards ordinary sessions")

	rep = verify(t, "")
	require.False(t, rep.OK)
	require.Equal(t, 2, rep.Checked)
	require.Equal(t, int64(3), rep.Broken.Seq)
	require.Equal(t, audit.ReasonHashMismatch, rep.Broken.Reason)
	require.Equal(t, e.ev[2].Hash, rep.Broken.StoredHash)
	require.NotEqual(t, rep.Broken.StoredHash, rep.Broken.ExpectedHash)
	require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT snapshot FROM audit_events WHERE event = 'audit.verify' ORDER BY seq DESC LIMIT 1`).Scan(&snapshot))
	require.JSONEq(t, `{"from_seq": 1, "to_seq": 8, "ok": false, "checked": 2, "broken_seq": 3, "broken_reason": "hash_mismatch"}`, string(snapshot))
	require.True(t, verify(t, "?from_seq=4").OK, "the links after the tampered row still hold")
}

func TestAuditRetryFailedAPI(t *testing.T) {
	t.Parallel()
	e := newAuditEnv(t)
	ctx := t.Context()
	rec := serve(t, e.router, http.MethodPost, "/api/v1/audit/shipping/retry-failed", csrf)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"reset_count": 1}`, rec.Body.String())
	var status string
	var attempts int
	var shipErr *string
	require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT ship_status, ship_attempts, ship_error FROM audit_events WHERE seq = 5`).
		Scan(&status, &attempts, &shipErr))
	require.Equal(t, "pending", status)
	require.Zero(t, attempts)
	require.Nil(t, shipErr)
	var event, route, actor string
	var snapshot json.RawMessage
	require.NoError(t, e.schema.Pool.QueryRow(ctx, `SELECT event, route, actor_sciper, snapshot FROM audit_events ORDER BY seq DESC LIMIT 1`).
		Scan(&event, &route, &actor, &snapshot))
	require.Equal(t, audit.EventRetryFailed, event)
	require.Equal(t, "POST /api/v1/audit/shipping/retry-failed", route)
	require.Equal(t, "DEV-000004", actor)
	require.JSONEq(t, `{"reset_count": 1}`, string(snapshot))

	rec = serve(t, e.router, http.MethodPost, "/api/v1/audit/shipping/retry-failed", csrf)
	require.JSONEq(t, `{"reset_count": 0}`, rec.Body.String())

	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/audit/shipping/retry-failed", strings.NewReader(`{"all": true}`))
	req.Header = csrf.Clone()
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, req)
	require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
}
