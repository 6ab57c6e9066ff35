package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const testAPIKey = "test-key"

// shipBundle is a shipper over a test transaction and a fake Elasticsearch.
type shipBundle struct {
	ctx     context.Context
	db      postgres.DB
	es      *fakes.Elastic
	url     string
	clock   *testClock
	writer  *audit.Writer
	shipper *audit.Shipper
}

func newShipBundle(t *testing.T, db postgres.DB) *shipBundle {
	t.Helper()
	ctx := t.Context()
	es := fakes.NewElastic(testAPIKey)
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	clock := &testClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	zurich, err := time.LoadLocation("Europe/Zurich")
	require.NoError(t, err)
	return &shipBundle{ctx: ctx, db: db, es: es, url: srv.URL, clock: clock, writer: &audit.Writer{Now: clock.Now},
		shipper: &audit.Shipper{DB: db, Now: clock.Now, ShipConfig: audit.ShipConfig{
			Client:   &audit.ElasticClient{URLs: []string{srv.URL}, APIKey: testAPIKey, HTTP: srv.Client()},
			Location: zurich, Env: "test", Batch: 50,
		}}}
}

func setupShip(t *testing.T) *shipBundle {
	t.Helper()
	return newShipBundle(t, testdb.TestTx(t.Context(), t))
}

// write records one event of entity data_entry/<entity>.
func (b *shipBundle) write(t *testing.T, entity string) audit.Written {
	t.Helper()
	ip := netip.MustParseAddr("192.0.2.10")
	w, err := b.writer.Write(b.ctx, b.db, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update",
		EntityType: "data_entry", EntityID: entity, IP: &ip, HandledIDs: []string{"123456"},
		Snapshot: map[string]any{"at": b.clock.Now().String()}})
	require.NoError(t, err)
	return w
}

func (b *shipBundle) run(t *testing.T) audit.ShipReport {
	t.Helper()
	rep, err := b.shipper.Run(b.ctx)
	require.NoError(t, err)
	return rep
}

func (b *shipBundle) count(t *testing.T, status string) int {
	t.Helper()
	var n int
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT count(*) FROM audit_events WHERE ship_status = $1`, status).Scan(&n))
	return n
}

type shipRow struct {
	Status     string
	Attempts   int32
	Error      *string
	NextShipAt *time.Time
	ShippedAt  *time.Time
}

func (b *shipBundle) row(t *testing.T, id int64) shipRow {
	t.Helper()
	var r shipRow
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT ship_status, ship_attempts, ship_error, next_ship_at, shipped_at
		FROM audit_events WHERE id = $1`, id).Scan(&r.Status, &r.Attempts, &r.Error, &r.NextShipAt, &r.ShippedAt))
	return r
}

// shippedDoc is what the tests read of a stored document.
type shippedDoc struct {
	Seq     int64  `json:"seq"`
	EventID int64  `json:"event_id"`
	Payload string `json:"payload"`
}

// requireOnceInOrder checks that Elasticsearch holds every event of ids
// exactly once, and that it accepted the events of each entity in seq order.
func (b *shipBundle) requireOnceInOrder(t *testing.T, ids []int64) {
	t.Helper()
	docs := b.es.Docs()
	seen := map[int64]bool{}
	lastSeq := map[string]int64{}
	for _, d := range docs {
		var doc shippedDoc
		require.NoError(t, json.Unmarshal(d.Source, &doc))
		require.False(t, seen[doc.EventID], "event %d stored twice", doc.EventID)
		seen[doc.EventID] = true
		require.Equal(t, strconv.FormatInt(doc.EventID, 10), d.ID)
		var p struct {
			EntityType string `json:"entity_type"`
			EntityID   string `json:"entity_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(doc.Payload), &p))
		entity := p.EntityType + "/" + p.EntityID
		require.Greater(t, doc.Seq, lastSeq[entity], "entity %s: seq %d accepted after seq %d", entity, doc.Seq, lastSeq[entity])
		lastSeq[entity] = doc.Seq
	}
	for _, id := range ids {
		require.True(t, seen[id], "event %d not shipped", id)
	}
	require.Len(t, docs, len(ids))
}

func TestShipDocument(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	ctx := b.ctx
	ip := netip.MustParseAddr("192.0.2.10")
	route := "PATCH /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}"
	user, err := b.writer.Write(ctx, b.db, audit.Event{OccurredAt: time.Date(2024, 10, 10, 9, 34, 5, 123456000, time.UTC),
		ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update", EntityType: "data_entry", EntityID: "42",
		HandledIDs: []string{"123456", "654321"}, IP: &ip, Route: &route, Reason: "typo",
		RequestPayload: map[string]any{"fte": 0.8, "token": "secret"}})
	require.NoError(t, err)
	system, err := b.writer.Write(ctx, b.db, audit.Event{OccurredAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		ActorType: audit.ActorSystem, ActorSciper: audit.SciperSystem, Action: audit.ActionCreate, Event: "factor.compute",
		EntityType: "factor", EntityID: "2024/plane", IP: &ip})
	require.NoError(t, err)

	rep := b.run(t)
	require.NoError(t, rep.Err)
	require.Equal(t, 2, rep.Shipped)

	doc, ok := b.es.Doc("co2-calculator-audit-2024.10", strconv.FormatInt(user.ID, 10))
	require.True(t, ok)
	require.JSONEq(t, fmt.Sprintf(`{"@timestamp":"2024-10-10T11:34:05.123456+02:00","handler_id":"DEV-000002",
		"handled_id":"123456,654321","crudt":"U","source":"192.0.2.10",
		"payload":"{\"entity_id\":\"42\",\"entity_type\":\"data_entry\",\"event\":\"entry.update\",\"reason\":\"typo\",\"request_payload\":{\"fte\":0.8,\"token\":\"[redacted]\"},\"route\":\"%s\"}",
		"event":"entry.update","event_id":%d,"seq":%d,"hash":%q,"app":"co2-calculator","env":"test"}`,
		route, user.ID, user.Seq, user.Hash), string(doc))

	doc, ok = b.es.Doc("co2-calculator-audit-2024.01", strconv.FormatInt(system.ID, 10))
	require.True(t, ok, "the index comes from occurred_at in UTC")
	var d map[string]any
	require.NoError(t, json.Unmarshal(doc, &d))
	require.Equal(t, "2024-01-01T01:00:00.000000+01:00", d["@timestamp"])
	require.Equal(t, "system", d["handled_id"], "no handled ids: the handler id")
	require.Equal(t, "0.0.0.0", d["source"], "system events have no client")
	require.Equal(t, "C", d["crudt"])

	got := b.row(t, user.ID)
	require.Equal(t, audit.ShipShipped, got.Status)
	require.Equal(t, b.clock.Now(), got.ShippedAt.UTC())
	require.Nil(t, got.Error)
}

func TestShipPartialFailure(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	var ids []int64
	for i := range 10 {
		ids = append(ids, b.write(t, strconv.Itoa(i)).ID)
	}
	b.es.FailNextItems(3, http.StatusTooManyRequests)

	rep := b.run(t)
	require.NoError(t, rep.Err, "Elasticsearch answered: item failures are not a request failure")
	require.Equal(t, 7, rep.Shipped)
	require.Equal(t, 3, rep.Refused)
	require.Equal(t, 3, b.count(t, audit.ShipPending))
	for _, id := range ids[:3] {
		r := b.row(t, id)
		require.Equal(t, int32(1), r.Attempts)
		require.Contains(t, *r.Error, "429 es_rejected_execution_exception")
		require.Equal(t, b.clock.Now().Add(2*time.Minute), r.NextShipAt.UTC(), "backoff 2^1 minutes")
	}
	var state struct {
		Status, Message string
		Details         json.RawMessage
	}
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT last_status, last_message, details FROM integration_state WHERE name = 'elasticsearch'`).
		Scan(&state.Status, &state.Message, &state.Details))
	require.Equal(t, "PARTIAL", state.Status)
	require.JSONEq(t, `{"pending": 3, "failed": 0, "last_run": {"shipped": 7, "skipped": 0, "refused": 3, "requests": 1}}`, string(state.Details))

	// Not due yet: nothing is sent.
	b.clock.Advance(time.Minute)
	requests := b.es.Requests()
	rep = b.run(t)
	require.Zero(t, rep.Shipped)
	require.Equal(t, requests, b.es.Requests())

	// Due: the refused documents are really sent again; the accepted ones
	// are not.
	b.clock.Advance(time.Minute)
	rep = b.run(t)
	require.Equal(t, 3, rep.Shipped)
	require.Zero(t, b.count(t, audit.ShipPending))
	require.Equal(t, 13, b.es.Items(), "10 items, then the 3 refused ones again")
	b.requireOnceInOrder(t, ids)
}

// Elasticsearch is down for 10 minutes while events keep coming: nothing
// is lost or failed for good, the backlog drains in the first run after it
// returns, each event is stored once, and each entity's events are
// accepted in seq order.
func TestShipOutage(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	b.shipper.Batch = 7
	var ids []int64
	b.es.SetDown(true)
	for minute := range 10 {
		for i := range 12 {
			ids = append(ids, b.write(t, strconv.Itoa(i%5)).ID) // 5 entities
		}
		rep := b.run(t)
		require.Error(t, rep.Err, "minute %d", minute)
		require.Zero(t, rep.Shipped)
		b.clock.Advance(time.Minute)
	}
	require.Zero(t, b.es.Count())
	require.Zero(t, b.count(t, audit.ShipFailed), "10 minutes of outage fail nothing for good")
	require.Equal(t, len(ids), b.count(t, audit.ShipPending))
	var state string
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT last_status FROM integration_state WHERE name = 'elasticsearch'`).Scan(&state))
	require.Equal(t, "FAILED", state)

	b.es.SetDown(false)
	ids = append(ids, b.write(t, "0").ID)
	rep := b.run(t)
	require.NoError(t, rep.Err)
	require.Equal(t, len(ids), rep.Shipped, "the whole backlog drains in the first run")
	require.Zero(t, b.count(t, audit.ShipPending))
	b.requireOnceInOrder(t, ids)
}

// The answer of an accepted request is lost: the events are sent again and
// answered 409, which counts as shipped; nothing is stored twice.
func TestShipLostAnswer(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	var ids []int64
	for i := range 6 {
		ids = append(ids, b.write(t, strconv.Itoa(i%2)).ID)
	}
	b.es.LoseNextAnswers(1)
	rep := b.run(t)
	require.ErrorContains(t, rep.Err, "HTTP 502")
	require.Equal(t, 2, b.es.Count(), "the first event of each entity was stored")

	b.clock.Advance(time.Minute) // not due: the probe finds Elasticsearch back
	rep = b.run(t)
	require.NoError(t, rep.Err)
	require.Equal(t, 6, rep.Shipped)
	require.Zero(t, b.count(t, audit.ShipPending))
	b.requireOnceInOrder(t, ids)
}

// An event refused item by item waits with backoff and holds back the later
// events of its entity only; after MaxAttempts it is failed, the entity's
// later events go, and retry-failed puts it back.
func TestShipRefusedItem(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	b.shipper.MaxAttempts = 3
	x1 := b.write(t, "x")
	y1 := b.write(t, "y")
	x2 := b.write(t, "x")
	b.es.FailID(strconv.FormatInt(x1.ID, 10), 100, http.StatusBadRequest)

	rep := b.run(t)
	require.Equal(t, 1, rep.Shipped, "y1; x2 waits behind x1")
	require.Equal(t, audit.ShipShipped, b.row(t, y1.ID).Status)
	require.Equal(t, audit.ShipPending, b.row(t, x2.ID).Status)
	require.Zero(t, b.row(t, x2.ID).Attempts, "x2 was not sent")
	require.Contains(t, *b.row(t, x1.ID).Error, "400 mapper_parsing_exception")

	for attempt := 2; attempt <= 3; attempt++ {
		b.clock.Advance(time.Duration(1<<(attempt-1)) * time.Minute)
		b.run(t)
		require.Equal(t, int32(attempt), b.row(t, x1.ID).Attempts)
	}
	require.Equal(t, audit.ShipFailed, b.row(t, x1.ID).Status)
	require.Nil(t, b.row(t, x1.ID).NextShipAt)
	b.run(t)
	require.Equal(t, audit.ShipShipped, b.row(t, x2.ID).Status, "a failed event no longer holds its entity back")

	n, err := audit.RetryFailed(b.ctx, b.db, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	r := b.row(t, x1.ID)
	require.Equal(t, audit.ShipPending, r.Status)
	require.Zero(t, r.Attempts)
	require.Nil(t, r.NextShipAt)
	var event string
	var snapshot json.RawMessage
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT event, snapshot FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&event, &snapshot))
	require.Equal(t, audit.EventRetryFailed, event)
	require.JSONEq(t, `{"reset_count": 1}`, string(snapshot))

	b.es.FailID(strconv.FormatInt(x1.ID, 10), 0, 0)
	b.run(t)
	require.Equal(t, audit.ShipShipped, b.row(t, x1.ID).Status)
}

func TestShipRequestFailures(t *testing.T) {
	t.Parallel()

	t.Run("NextURL", func(t *testing.T) {
		t.Parallel()
		b := setupShip(t)
		down := fakes.NewElastic("")
		down.SetDown(true)
		srv := httptest.NewServer(down)
		t.Cleanup(srv.Close)
		b.shipper.Client.URLs = []string{srv.URL, b.url}
		id := b.write(t, "1").ID
		rep := b.run(t)
		require.NoError(t, rep.Err)
		require.Equal(t, audit.ShipShipped, b.row(t, id).Status)
	})

	t.Run("NotElasticsearch", func(t *testing.T) {
		t.Parallel()
		b := setupShip(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"errors": false, "items": [{"create": {"status": 201}}]}`))
		}))
		t.Cleanup(srv.Close)
		b.shipper.Client.URLs = []string{srv.URL}
		id := b.write(t, "1").ID
		rep := b.run(t)
		require.ErrorContains(t, rep.Err, "not from Elasticsearch")
		r := b.row(t, id)
		require.Equal(t, audit.ShipPending, r.Status)
		require.Equal(t, int32(1), r.Attempts)
	})

	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		b := setupShip(t)
		b.shipper.Client.APIKey = "wrong"
		id := b.write(t, "1").ID
		rep := b.run(t)
		require.ErrorContains(t, rep.Err, "HTTP 401")
		require.Contains(t, *b.row(t, id).Error, "security_exception")
		var status, msg string
		require.NoError(t, b.db.QueryRow(b.ctx, `SELECT last_status, last_message FROM integration_state WHERE name = 'elasticsearch'`).Scan(&status, &msg))
		require.Equal(t, "FAILED", status)
		require.Contains(t, msg, "HTTP 401")
	})

	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		b := setupShip(t)
		id := b.write(t, "1").ID
		b.es.FailNextRequests(1, http.StatusServiceUnavailable)
		rep := b.run(t)
		require.ErrorContains(t, rep.Err, "HTTP 503")
		require.Equal(t, int32(1), b.row(t, id).Attempts)
		b.clock.Advance(time.Second)
		rep = b.run(t)
		require.NoError(t, rep.Err)
		require.Equal(t, audit.ShipShipped, b.row(t, id).Status, "the probe found Elasticsearch back")
	})
}

func TestShipSkipsEvents(t *testing.T) {
	t.Parallel()
	b := setupShip(t)
	b.shipper.SkipEvents = []string{"entry.list"}
	listed, err := b.writer.Write(b.ctx, b.db, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionRead, Event: "entry.list",
		EntityType: "report_module", EntityID: "3"})
	require.NoError(t, err)
	kept := b.write(t, "3")
	rep := b.run(t)
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, 1, rep.Shipped)
	require.Equal(t, audit.ShipSkipped, b.row(t, listed.ID).Status)
	b.requireOnceInOrder(t, []int64{kept.ID})
}

// Two runs at once (two workers) share the work: each event is sent once
// and each entity's events are accepted in order.
func TestShipConcurrentRuns(t *testing.T) {
	t.Parallel()
	schema := testdb.TestSchema(t.Context(), t)
	b := newShipBundle(t, schema.Pool)
	var ids []int64
	err := postgres.WithTx(b.ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		for i := range 600 {
			ip := netip.MustParseAddr("192.0.2.10")
			w, err := b.writer.Write(ctx, tx, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionUpdate, Event: "entry.update",
				EntityType: "data_entry", EntityID: strconv.Itoa(i % 40), IP: &ip})
			if err != nil {
				return err
			}
			ids = append(ids, w.ID)
		}
		return nil
	})
	require.NoError(t, err)
	b.shipper.Batch = 25
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			for { // a run also ends when the other one holds what is due
				var pending int
				if errs[i] = schema.Pool.QueryRow(b.ctx, `SELECT count(*) FROM audit_events WHERE ship_status = 'pending'`).Scan(&pending); errs[i] != nil || pending == 0 {
					return
				}
				rep, err := b.shipper.Run(b.ctx)
				if err == nil {
					err = rep.Err
				}
				if errs[i] = err; err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	b.requireOnceInOrder(t, ids)
	require.Equal(t, len(ids), b.es.Items(), "no document was sent twice")
	require.True(t, slices.IsSorted(ids))
}
