package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

const ecbFixtures = "../../shared/data/external/ecb"

func TestECBFXSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx     pgx.Tx
		fake   *fakes.ECB
		worker *rivertest.Worker[jobs.ECBFXSyncArgs, pgx.Tx]
	}
	setup := func(t *testing.T, dir string, now time.Time) *testBundle {
		t.Helper()
		fake := fakes.NewECB(dir)
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		tx := testdb.TestTx(ctx, t)
		w := &jobs.ECBFXSyncWorker{
			DB:     tx,
			Client: fx.NewClient(srv.URL, []string{"CHF", "USD", "GBP"}, srv.Client()),
			Logger: testdb.QuietLogger(),
			Now:    func() time.Time { return now },
		}
		return &testBundle{tx: tx, fake: fake, worker: rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w)}
	}
	rate := func(t *testing.T, tx pgx.Tx, year int32, cur string) dbsqlc.FxRate {
		t.Helper()
		r, err := dbsqlc.New(tx).FXRateGet(ctx, dbsqlc.FXRateGetParams{Year: year, Currency: cur})
		require.NoError(t, err)
		return r
	}
	march2026 := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

	t.Run("PastYearsAnnual", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ecbFixtures, march2026)
		res, err := b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2024, 2025}}, nil)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)

		rows, err := dbsqlc.New(b.tx).FXRatesByYear(ctx, 2025)
		require.NoError(t, err)
		require.Len(t, rows, 3)
		chf := rate(t, b.tx, 2025, "CHF")
		require.InDelta(t, 0.9360, chf.PerEur, 1e-12)
		require.Equal(t, fx.SourceAnnual, chf.Source)
		require.Nil(t, chf.MonthsCovered)
		require.InDelta(t, 1.1295, rate(t, b.tx, 2025, "USD").PerEur, 1e-12)
		require.Len(t, must(dbsqlc.New(b.tx).FXRatesByYear(ctx, 2024)), 3)
	})

	t.Run("CurrentYearMonthlyAverage", func(t *testing.T) {
		t.Parallel()
		// 2025-03-15: the current year's rate is the mean of Jan..Mar.
		b := setup(t, ecbFixtures, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC))
		_, err := b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2025}}, nil)
		require.NoError(t, err)
		chf := rate(t, b.tx, 2025, "CHF")
		require.Equal(t, fx.SourceMonthlyAvg, chf.Source)
		require.NotNil(t, chf.MonthsCovered)
		require.EqualValues(t, 3, *chf.MonthsCovered)
	})

	t.Run("DefaultYearsAreCurrentAndPrevious", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ecbFixtures, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
		_, err := b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{}, nil)
		require.NoError(t, err)
		require.Len(t, must(dbsqlc.New(b.tx).FXRatesByYear(ctx, 2024)), 3)
		require.Equal(t, fx.SourceMonthlyAvg, rate(t, b.tx, 2025, "USD").Source)
	})

	t.Run("IdempotentAndManualRatesKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ecbFixtures, march2026)
		q := dbsqlc.New(b.tx)
		_, err := q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: 2025, Currency: "CHF", PerEur: 0.95, Source: "manual"})
		require.NoError(t, err)

		_, err = b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2025}}, nil)
		require.NoError(t, err)
		chf := rate(t, b.tx, 2025, "CHF")
		require.Equal(t, "manual", chf.Source)
		require.InDelta(t, 0.95, chf.PerEur, 1e-12)
		first := rate(t, b.tx, 2025, "USD")

		_, err = b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2025}}, nil)
		require.NoError(t, err)
		require.InDelta(t, first.PerEur, rate(t, b.tx, 2025, "USD").PerEur, 0)

		var details string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT details->>'rates_changed' FROM integration_state WHERE name = 'ecb'`).Scan(&details))
		require.Equal(t, "0", details, "a second identical run changes nothing")
	})

	t.Run("NoDataCancelsWithClearMessage", func(t *testing.T) {
		t.Parallel()
		b := setup(t, t.TempDir(), march2026) // no fixture files: the fake answers 404 "No data"
		res, err := b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2019}}, nil)
		require.NoError(t, err) // a cancellation is an outcome, not a work error
		require.Equal(t, river.EventKindJobCancelled, res.EventKind)
		require.Len(t, res.Job.Errors, 1)
		require.Contains(t, res.Job.Errors[0].Error, "ECB rates for 2019")
		require.Contains(t, res.Job.Errors[0].Error, "no data")
		require.Empty(t, must(dbsqlc.New(b.tx).FXRatesByYear(ctx, 2019)))
	})

	t.Run("NetworkErrorRetries", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ecbFixtures, march2026)
		b.fake.FailNext(10, http.StatusServiceUnavailable)
		res, err := b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2025}}, nil)
		require.Error(t, err)
		require.True(t, fx.IsTransient(err))
		var cancelErr *rivertype.JobCancelError
		require.NotErrorAs(t, err, &cancelErr, "transient errors must be retried, not cancelled")
		require.Equal(t, river.EventKindJobFailed, res.EventKind)
		var lastErr string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT last_message FROM integration_state WHERE name = 'ecb'`).Scan(&lastErr))
		require.Contains(t, lastErr, "503")
	})

	t.Run("MissingAnnualFallsBackToMonthly", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		src, err := os.ReadFile(filepath.Join(ecbFixtures, "exr_M_2025.csv"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "exr_M_2025.csv"), src, 0o600))
		b := setup(t, dir, march2026)
		_, err = b.worker.Work(ctx, t, b.tx, jobs.ECBFXSyncArgs{Years: []int{2025}}, nil)
		require.NoError(t, err)
		chf := rate(t, b.tx, 2025, "CHF")
		require.Equal(t, fx.SourceMonthlyAvg, chf.Source)
		require.EqualValues(t, 12, *chf.MonthsCovered)
		require.InDelta(t, 0.9360, chf.PerEur, 1e-9)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
