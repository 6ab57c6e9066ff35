package jobs_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// newShipper is a shipper over db to a fake Elasticsearch.
func newShipper(t *testing.T, db postgres.DB) (*audit.Shipper, *fakes.Elastic) {
	t.Helper()
	es := fakes.NewElastic("k")
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	return &audit.Shipper{DB: db, ShipConfig: audit.ShipConfig{
		Client: &audit.ElasticClient{URLs: []string{srv.URL}, APIKey: "k", HTTP: srv.Client()}, Env: "test",
	}}, es
}

func writeEvents(ctx context.Context, t *testing.T, tx pgx.Tx, n int) {
	t.Helper()
	for range n {
		_, err := (&audit.Writer{Now: time.Now}).Write(ctx, tx, audit.Event{ActorSciper: "DEV-000002", Action: audit.ActionUpdate,
			Event: "entry.update", EntityType: "data_entry", EntityID: "1"})
		require.NoError(t, err)
	}
}

func TestAuditShip(t *testing.T) {
	t.Parallel()

	work := func(ctx context.Context, t *testing.T, tx pgx.Tx, w *jobs.AuditShipWorker) (*rivertest.WorkResult, error) {
		t.Helper()
		return rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).Work(ctx, t, tx, jobs.AuditShipArgs{}, nil)
	}

	t.Run("InsertOpts", func(t *testing.T) {
		t.Parallel()
		opts := jobs.AuditShipArgs{}.InsertOpts()
		require.Equal(t, jobs.QueueAudit, opts.Queue)
		require.Equal(t, 1, opts.MaxAttempts)
		require.Equal(t, time.Minute, opts.UniqueOpts.ByPeriod)
		require.Equal(t, 55*time.Second, (&jobs.AuditShipWorker{}).Timeout(nil))

		ctx := t.Context()
		tx := testdb.TestTx(ctx, t)
		client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Workers: jobs.Workers(jobs.Deps{})})
		require.NoError(t, err)
		first, err := client.InsertTx(ctx, tx, jobs.AuditShipArgs{}, nil)
		require.NoError(t, err)
		second, err := client.InsertTx(ctx, tx, jobs.AuditShipArgs{}, nil)
		require.NoError(t, err)
		require.True(t, second.UniqueSkippedAsDuplicate, "one run per minute")
		require.Equal(t, first.Job.ID, second.Job.ID)
	})

	t.Run("NotConfigured", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		res, err := work(ctx, t, testdb.TestTx(ctx, t), &jobs.AuditShipWorker{})
		require.NoError(t, err) // a cancellation is an outcome, not a work error
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.Contains(t, res.Job.Errors[0].Error, "integration_not_configured: Elasticsearch is not configured")
	})

	t.Run("Periodic", func(t *testing.T) {
		t.Parallel()
		p, err := jobs.PeriodicJobs(jobs.Schedules{AuditShip: "* * * * *"})
		require.NoError(t, err)
		require.Len(t, p, 1)
		_, err = jobs.PeriodicJobs(jobs.Schedules{AuditShip: "each minute"})
		require.ErrorContains(t, err, "SCHEDULE_AUDIT_SHIP")
	})

	t.Run("Ships", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		tx := testdb.TestTx(ctx, t)
		writeEvents(ctx, t, tx, 3)
		shipper, es := newShipper(t, tx)
		res, err := work(ctx, t, tx, &jobs.AuditShipWorker{Shipper: shipper})
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.Equal(t, 3, es.Count())
	})

	t.Run("ElasticsearchDown", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		tx := testdb.TestTx(ctx, t)
		writeEvents(ctx, t, tx, 2)
		shipper, es := newShipper(t, tx)
		es.SetDown(true)
		res, err := work(ctx, t, tx, &jobs.AuditShipWorker{Shipper: shipper})
		require.ErrorContains(t, err, "Elasticsearch did not accept")
		var cancel *river.JobCancelError
		require.NotErrorAs(t, err, &cancel, "transient: the next run sends again")
		require.Equal(t, river.EventKindJobFailed, res.EventKind)
		var pending int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE ship_status = 'pending' AND ship_attempts = 1`).Scan(&pending))
		require.Equal(t, 1, pending, "the first event of the entity was tried; the second waits behind it")
	})
}

// A worker fleet's River client runs audit_ship on the audit queue.
func TestAuditShipRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testdb.TestSchema(ctx, t)
	require.NoError(t, postgres.WithTx(ctx, schema.Pool, func(ctx context.Context, tx pgx.Tx) error {
		writeEvents(ctx, t, tx, 5)
		return nil
	}))
	shipper, es := newShipper(t, schema.Pool)
	client, err := river.NewClient(riverpgxv5.New(schema.Pool), &river.Config{
		Queues:        map[string]river.QueueConfig{jobs.QueueAudit: {MaxWorkers: 1}},
		Workers:       jobs.Workers(jobs.Deps{Pool: schema.Pool, AuditShipper: shipper}),
		FetchCooldown: 10 * time.Millisecond, Logger: testdb.QuietLogger(),
	})
	require.NoError(t, err)
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { require.NoError(t, client.Stop(context.WithoutCancel(ctx))) })

	_, err = client.Insert(ctx, jobs.AuditShipArgs{}, nil)
	require.NoError(t, err)
	select {
	case ev := <-events:
		require.Equal(t, river.EventKindJobCompleted, ev.Kind, "%+v", ev.Job.Errors)
		require.Equal(t, "audit_ship", ev.Job.Kind)
	case <-time.After(10 * time.Second):
		t.Fatal("audit_ship did not finish")
	}
	require.Equal(t, 5, es.Count())
}
