package audit_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// benchEntities is how many entities the benchmark events spread over
// (five events each for 100 000 events): the one-event-per-entity batches
// of the shipper see realistic neighbours.
const benchEntities = 20_000

// insertBenchEvents appends n events (seq after the head) with the size of
// real ones: an entry update with a snapshot, a payload and a route. The
// hashes have the right form but are not a chain: shipping never checks it.
func insertBenchEvents(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, n int, at time.Time) {
	tb.Helper()
	_, err := pool.Exec(ctx, `
		INSERT INTO audit_events (seq, occurred_at, actor_type, actor_user_id, actor_sciper, actor_name, action, event,
			entity_type, entity_id, entity_version, reason, handled_ids, ip, user_agent, request_id, route,
			request_payload, snapshot, prev_hash, hash)
		SELECT h.seq + i, $2::timestamptz + make_interval(secs => i * 0.001), 'user', 2, 'DEV-000002', 'Dev Principal', 'U',
			'entry.update', 'data_entry', ((h.seq + i) % $3)::text, ((h.seq + i - 1) / $3) + 1, '', ARRAY['123456'],
			'192.0.2.10', 'Mozilla/5.0', md5(i::text), 'PATCH /api/v1/units/{unit_id}/years/{year}/modules/{module}/{submodule}/entries/{entry_id}',
			jsonb_build_object('fte', 0.8, 'function', 'Doctoral assistant', 'name', 'Ada Lovelace', 'user_institutional_id', '123456'),
			jsonb_build_object('fte', 0.8, 'function', 'Doctoral assistant', 'name', 'Ada Lovelace', 'user_institutional_id', '123456'),
			md5((h.seq + i - 1)::text) || md5((h.seq + i)::text), md5((h.seq + i)::text) || md5((h.seq + i + 1)::text)
		FROM generate_series(1, $1::integer) AS i,
		     (SELECT coalesce(max(seq), 0) AS seq FROM audit_events) AS h`, n, at, benchEntities)
	require.NoError(tb, err)
}

func pendingCount(ctx context.Context, tb testing.TB, pool *pgxpool.Pool) int {
	tb.Helper()
	var n int
	require.NoError(tb, pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE ship_status = 'pending'`).Scan(&n))
	return n
}

// BenchmarkShip ships 100 000 pending events to the fake Elasticsearch
// (batches of 500, one run after the other as the minute ticks) and
// reports events/s.
func BenchmarkShip(b *testing.B) {
	const n = 100_000
	ctx := b.Context()
	for range b.N {
		b.StopTimer()
		schema := testdb.TestSchema(ctx, b)
		insertBenchEvents(ctx, b, schema.Pool, n, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
		es := fakes.NewElastic("k")
		srv := httptest.NewServer(es)
		shipper := &audit.Shipper{DB: schema.Pool, ShipConfig: audit.ShipConfig{
			Client: &audit.ElasticClient{URLs: []string{srv.URL}, APIKey: "k", HTTP: srv.Client()}, Env: "bench"}}
		b.StartTimer()

		start, runs := time.Now(), 0
		for pendingCount(ctx, b, schema.Pool) > 0 {
			rep, err := shipper.Run(ctx)
			require.NoError(b, err)
			require.NoError(b, rep.Err)
			runs++
		}
		elapsed := time.Since(start)

		b.StopTimer()
		require.Equal(b, n, es.Count())
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(runs), "runs")
		b.ReportMetric(float64(es.Requests()), "requests")
		srv.Close()
		b.StartTimer()
	}
}

// BenchmarkShipOutageDrain: Elasticsearch is down for 10 minutes while 10
// 000 events arrive every minute (runs every minute on an injected clock,
// all failing), then comes back. It reports the wall time and the runs the
// first runs after the outage need to ship the 100 000-event backlog.
func BenchmarkShipOutageDrain(b *testing.B) {
	const perMinute, minutes = 10_000, 10
	ctx := b.Context()
	for range b.N {
		b.StopTimer()
		schema := testdb.TestSchema(ctx, b)
		es := fakes.NewElastic("k")
		srv := httptest.NewServer(es)
		clock := &testClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
		shipper := &audit.Shipper{DB: schema.Pool, Now: clock.Now, ShipConfig: audit.ShipConfig{
			Client: &audit.ElasticClient{URLs: []string{srv.URL}, APIKey: "k", HTTP: srv.Client()}, Env: "bench"}}
		es.SetDown(true)
		for range minutes {
			insertBenchEvents(ctx, b, schema.Pool, perMinute, clock.Now())
			rep, err := shipper.Run(ctx)
			require.NoError(b, err)
			require.Error(b, rep.Err)
			clock.Advance(time.Minute)
		}
		require.Equal(b, perMinute*minutes, pendingCount(ctx, b, schema.Pool), "nothing lost, nothing failed for good")
		es.SetDown(false)
		b.StartTimer()

		start, runs := time.Now(), 0
		for pendingCount(ctx, b, schema.Pool) > 0 {
			rep, err := shipper.Run(ctx)
			require.NoError(b, err)
			require.NoError(b, rep.Err)
			runs++
			clock.Advance(time.Minute)
		}
		elapsed := time.Since(start)

		b.StopTimer()
		require.Equal(b, perMinute*minutes, es.Count())
		b.ReportMetric(elapsed.Seconds(), "drain_s")
		b.ReportMetric(float64(runs), "drain_runs")
		b.ReportMetric(float64(perMinute*minutes)/elapsed.Seconds(), "events/s")
		srv.Close()
		b.StartTimer()
	}
}
