package jobs_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

const tableauFixtures = "../../shared/data/external/tableau"

// The job adapter of the Tableau sync (docs/jobs.md §4.6): a sync completes
// in its load transaction with aggregate chained; its permanent failures
// cancel it with their code (and the counters of a run without valid
// trips); the nightly run dispatches one pipeline per open year.
func TestTableauTravelSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	auth := fakes.TableauAuth{ClientID: "app", SecretID: "kid", SecretValue: "secret", Username: "svc", DatasourceLUID: "ds"}

	type testBundle struct {
		tx     pgx.Tx
		fake   *fakes.Tableau
		client *tableau.Client
		worker *rivertest.Worker[jobs.TableauTravelSyncArgs, pgx.Tx]
		year   int32
		cfs    []string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		fake, err := fakes.NewTableau(tableauFixtures, auth)
		require.NoError(t, err)
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		client := &tableau.Client{ServerURL: srv.URL, ClientID: auth.ClientID, SecretID: auth.SecretID, SecretValue: auth.SecretValue,
			Username: auth.Username, DatasourceLUID: auth.DatasourceLUID, HTTP: srv.Client(), Backoff: func(int) time.Duration { return 0 }}
		tx := testdb.TestTx(ctx, t)
		b := &testBundle{tx: tx, fake: fake, client: client, year: testfactory.Year(ctx, t, tx, nil).Year}
		for range 2 {
			b.cfs = append(b.cfs, *testfactory.Unit(ctx, t, tx, nil).Cf)
		}
		fake.SetRows(40, int(b.year), b.cfs)
		w := &jobs.TableauTravelSyncWorker{Tableau: &tableau.Service{DB: tx, Client: client, SpoolDir: t.TempDir(), Logger: testdb.QuietLogger()}}
		b.worker = rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w)
		return b
	}

	t.Run("DispatchesTheOpenYears", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ready := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("ready")})
		res, err := b.worker.Work(ctx, t, b.tx, jobs.TableauTravelSyncArgs{}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		rows, err := b.tx.Query(ctx, `SELECT id, (args ->> 'year')::integer FROM river_job
			WHERE kind = 'tableau_travel_sync' AND args ->> 'year' IS NOT NULL ORDER BY id`)
		require.NoError(t, err)
		type dispatched struct {
			ID   int64
			Year int32
		}
		jobsOf, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dispatched])
		require.NoError(t, err)
		var years []int32
		for _, j := range jobsOf {
			years = append(years, j.Year)
		}
		require.Contains(t, years, b.year)
		require.NotContains(t, years, ready.Year, "the nightly run covers the open years only")
		var kind, trigger string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT p.kind, p.trigger FROM pipelines p JOIN pipeline_jobs j ON j.pipeline_id = p.id
			WHERE j.job_id = $1`, jobsOf[0].ID).Scan(&kind, &trigger))
		require.Equal(t, []string{"tableau_sync", "schedule"}, []string{kind, trigger})
	})

	t.Run("NoValidTripsCancelsWithItsCounters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetRows(5, int(b.year), []string{"no-such-unit"})
		p, err := pipeline.Create(ctx, b.tx, pipeline.CreateParams{Kind: pipeline.KindTableauSync, Trigger: pipeline.TriggerUser, Year: &b.year})
		require.NoError(t, err)
		insert, err := jobs.NewInsertClient(nil)
		require.NoError(t, err)
		row, err := pipeline.InsertTx(ctx, insert, b.tx, p.ID, jobs.TableauTravelSyncArgs{Year: &b.year}, nil)
		require.NoError(t, err)
		res, err := b.worker.WorkJob(ctx, t, b.tx, row)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.Contains(t, res.Job.Errors[0].Error, "no_valid_rows: no valid trip for")
		_, links, err := pipeline.Get(ctx, b.tx, p.ID)
		require.NoError(t, err)
		require.JSONEq(t, `{"rows_total": 5, "rows_other_year": 0, "rows_loaded": 0, "rows_skipped": 5, "row_warnings": 10, "row_errors_total": 15}`,
			string(links[0].Result))
		require.EqualValues(t, 15, links[0].RowErrorsTotal, "unknown units, and unknown airports (warnings)")
	})

	t.Run("RefusedCredentialsCancel", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.client.SecretValue = "wrong"
		res, err := b.worker.Work(ctx, t, b.tx, jobs.TableauTravelSyncArgs{Year: &b.year}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.Contains(t, res.Job.Errors[0].Error, "upstream_auth_failed: Tableau sign-in: credentials refused (HTTP 401)")
	})

	t.Run("SyncCompletesAndAggregates", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.worker.Work(ctx, t, b.tx, jobs.TableauTravelSyncArgs{Year: &b.year}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		agg := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, &jobs.AggregateArgs{}, nil)
		require.Equal(t, int(b.year), agg.Args.Year)
		n, err := dbsqlc.New(b.tx).ImportUnits(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, n)
		var trips int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM data_entries WHERE year = $1 AND source = 'tableau'`, b.year).Scan(&trips))
		require.Equal(t, 40, trips)
	})

	t.Run("TransientFailureRetries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.client.Retries = -1
		b.fake.FailPage(prefixOf(b.year, 2), 1, 503)
		_, err := b.worker.Work(ctx, t, b.tx, jobs.TableauTravelSyncArgs{Year: &b.year}, nil)
		require.Error(t, err, "returned: River retries")
		require.ErrorIs(t, err, tableau.ErrUnavailable)
		require.ErrorContains(t, err, "upstream_unavailable: Tableau query-datasource ("+prefixOf(b.year, 2)+"): HTTP 503")
	})

	t.Run("UniqueByYear", func(t *testing.T) {
		t.Parallel()
		opts := jobs.TableauTravelSyncArgs{}.InsertOpts()
		require.True(t, opts.UniqueOpts.ByArgs)
		require.Contains(t, opts.UniqueOpts.ByState, rivertype.JobStateRunning, "one run at a time per year")
		require.NotContains(t, opts.UniqueOpts.ByState, rivertype.JobStateCompleted)
		require.Equal(t, jobs.QueueImports, opts.Queue)
		require.Equal(t, 3, opts.MaxAttempts)
		y := int32(2025)
		raw, err := json.Marshal(jobs.TableauTravelSyncArgs{Year: &y})
		require.NoError(t, err)
		require.JSONEq(t, `{"year": 2025}`, string(raw))
		periodic, err := jobs.PeriodicJobs(jobs.Schedules{})
		require.NoError(t, err)
		withTableau, err := jobs.PeriodicJobs(jobs.Schedules{Tableau: "0 3 * * *"})
		require.NoError(t, err)
		require.Len(t, withTableau, len(periodic)+1, "registered only with a schedule (set when Tableau is configured)")
	})
}

// prefixOf is the MATCH prefix of a month's page.
func prefixOf(year int32, month int) string {
	return time.Date(int(year), time.Month(month), 1, 0, 0, 0, 0, time.UTC).Format("200601")
}
