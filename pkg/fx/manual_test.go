package fx_test

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fx"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

func TestManualRates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx   pgx.Tx
		svc  *fx.Service
		year int32
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.TestTx(ctx, t)
		client, err := jobs.NewInsertClient(nil)
		require.NoError(t, err)
		year := testfactory.Year(ctx, t, tx, nil).Year
		return &testBundle{tx: tx, year: year, svc: &fx.Service{DB: tx, Recalc: jobs.EnqueueRecalc(client), Sync: jobs.EnqueueECBSync(client),
			Now: func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }}}
	}
	seq := func(t *testing.T, b *testBundle, module string) int64 {
		t.Helper()
		st, err := dbsqlc.New(b.tx).ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: b.year, Module: module})
		require.NoError(t, err)
		return st.RecalcRequestedSeq
	}
	events := func(t *testing.T, b *testBundle, id string) []string {
		t.Helper()
		rows, err := b.tx.Query(ctx, `SELECT event FROM audit_events WHERE entity_type = 'fx_rate' AND entity_id = $1 ORDER BY seq`, id)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}

	t.Run("DeleteRefusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.DeleteManual(ctx, nil, b.year, "USD")
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err), "no rate")
		_, err = dbsqlc.New(b.tx).FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: b.year, Currency: "USD", PerEur: 1.08, Source: fx.SourceAnnual})
		require.NoError(t, err)
		_, err = b.svc.DeleteManual(ctx, nil, b.year, "USD")
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, fx.ReasonNotManual, ae.Reason, "an ECB rate is refilled by the ECB, not deleted")
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, v := range []float64{0, -1, math.Inf(1), math.NaN()} {
			_, err := b.svc.SetManual(ctx, nil, b.year, "USD", v)
			require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err), "%v", v)
		}
		_, err := b.svc.SetManual(ctx, nil, b.year, "EUR", 1)
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err), "EUR has no rate")
		_, err = b.svc.SetManual(ctx, nil, b.year, "usd", 1)
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		closed := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("closed")}).Year
		_, err = b.svc.SetManual(ctx, nil, closed, "USD", 1.1)
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, apperr.Reason("year_closed"), ae.Reason)
		_, err = b.svc.DeleteManual(ctx, nil, closed, "USD")
		require.Equal(t, apperr.CodeConflict, apperr.CodeOf(err))
		_, err = b.svc.SetManual(ctx, nil, 2100, "USD", 1.1)
		if err != nil { // unless a test of this run created 2100
			require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		}
	})

	t.Run("SetWinsOverECBUntilDeleted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		q := dbsqlc.New(b.tx)
		_, err := q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: b.year, Currency: "CHF", PerEur: 0.94, Source: fx.SourceAnnual})
		require.NoError(t, err)

		res, err := b.svc.SetManual(ctx, nil, b.year, "CHF", 0.95)
		require.NoError(t, err)
		require.Equal(t, fx.SourceManual, res.Rate.Source)
		require.InDelta(t, 0.95, res.Rate.PerEur, 0)
		require.Nil(t, res.Rate.MonthsCovered)
		require.Equal(t, "fx_manual", res.Pipeline.Kind)
		require.Len(t, res.Pipeline.Jobs, 2, "purchases and external_cloud_ai")
		inserted := rivertest.RequireManyInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, []rivertest.ExpectedJob{
			{Args: &jobs.EmissionRecalcArgs{}}, {Args: &jobs.EmissionRecalcArgs{}},
		})
		for i, m := range []string{"purchases", "external_cloud_ai"} {
			require.Equal(t, int64(1), seq(t, b, m), m)
			require.JSONEq(t, `{"year": `+itoa(b.year)+`, "module": "`+m+`"}`, string(inserted[i].EncodedArgs))
		}

		// The ECB job's upsert never overwrites it.
		n, err := q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: b.year, Currency: "CHF", PerEur: 0.93, Source: fx.SourceAnnual})
		require.NoError(t, err)
		require.Zero(t, n)
		r, err := q.FXRateGet(ctx, dbsqlc.FXRateGetParams{Year: b.year, Currency: "CHF"})
		require.NoError(t, err)
		require.InDelta(t, 0.95, r.PerEur, 0)

		// Deleted, it is gone until the ECB refills it.
		res, err = b.svc.DeleteManual(ctx, nil, b.year, "CHF")
		require.NoError(t, err)
		require.Equal(t, "fx_manual", res.Pipeline.Kind)
		require.Equal(t, int64(2), seq(t, b, "purchases"))
		n, err = q.FXRateUpsert(ctx, dbsqlc.FXRateUpsertParams{Year: b.year, Currency: "CHF", PerEur: 0.93, Source: fx.SourceAnnual})
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
		require.Equal(t, []string{fx.EventRateSet, fx.EventRateDelete}, events(t, b, itoa(b.year)+"/CHF"))
	})

	t.Run("Sync", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, err := b.svc.RequestSync(ctx, nil, []int{2024, 2023, 2024})
		require.NoError(t, err)
		require.Equal(t, "ecb_sync", p.Kind)
		require.Equal(t, "user", p.Trigger)
		job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, &jobs.ECBFXSyncArgs{}, nil)
		require.Equal(t, []int{2023, 2024}, job.Args.Years, "sorted, once each")

		_, err = b.svc.RequestSync(ctx, nil, []int{2026, 1999})
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae)
		require.Len(t, ae.Fields, 2)
		require.Equal(t, "years[0]", ae.Fields[0].Field)
	})
}

func itoa(y int32) string { return strconv.Itoa(int(y)) }
