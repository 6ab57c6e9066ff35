package calc_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestRecalculate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type enqueued struct {
		year   int32
		module emission.ModuleKey
	}
	type testBundle struct {
		tx      pgx.Tx
		year    int32
		got     []enqueued
		enqueue calc.RecalcEnqueuer
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{tx: testdb.TestTx(ctx, t)}
		b.year = testfactory.Year(ctx, t, b.tx, nil).Year
		b.enqueue = func(_ context.Context, _ pgx.Tx, _ uuid.UUID, year int32, module emission.ModuleKey) error {
			b.got = append(b.got, enqueued{year, module})
			return nil
		}
		return b
	}
	seq := func(t *testing.T, b *testBundle, module string) int64 {
		t.Helper()
		st, err := dbsqlc.New(b.tx).ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: b.year, Module: module})
		require.NoError(t, err)
		return st.RecalcRequestedSeq
	}

	t.Run("Forced", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, err := calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, OnlyNeeded: false,
			Modules: []emission.ModuleKey{emission.ModulePurchases, emission.ModuleHeadcount, emission.ModulePurchases}})
		require.NoError(t, err)
		require.Equal(t, "recalculation", p.Kind)
		require.Equal(t, []enqueued{{b.year, emission.ModuleHeadcount}, {b.year, emission.ModulePurchases}}, b.got, "catalogue order, once each")
		require.Equal(t, int64(1), seq(t, b, "headcount"), "a forced module is requested again")

		b.got = nil
		_, err = calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, OnlyNeeded: false})
		require.NoError(t, err)
		require.Len(t, b.got, 8, "every module")
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event = $1 AND entity_id = $2`,
			calc.EventRecalculationRequest, p.ID.String()).Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("OnlyNeeded", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, OnlyNeeded: true})
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, apperr.CodeInvalid, ae.Code)
		require.Equal(t, calc.ReasonNothingToRecalculate, ae.Reason)

		_, err = dbsqlc.New(b.tx).ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: b.year, Module: "purchases", Reason: calc.ReasonFX})
		require.NoError(t, err)
		_, err = calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, OnlyNeeded: true,
			Modules: []emission.ModuleKey{emission.ModuleHeadcount}})
		require.ErrorAs(t, err, &ae, "headcount needs nothing")
		p, err := calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, OnlyNeeded: true})
		require.NoError(t, err)
		require.Equal(t, []enqueued{{b.year, emission.ModulePurchases}}, b.got)
		require.Equal(t, new("purchases"), p.Module)
		require.Equal(t, int64(1), seq(t, b, "purchases"), "already requested: not bumped again")
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		closed := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("closed")}).Year
		_, err := calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: closed})
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, apperr.Reason("year_closed"), ae.Reason)

		_, err = calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: b.year, Modules: []emission.ModuleKey{"rockets"}})
		require.ErrorAs(t, err, &ae)
		require.Equal(t, apperr.CodeValidation, ae.Code)
		require.Equal(t, "modules[0]", ae.Fields[0].Field)

		_, err = calc.Recalculate(ctx, b.tx, b.enqueue, calc.RecalcRequest{Year: 1990})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		_, err = calc.Recalculate(ctx, b.tx, nil, calc.RecalcRequest{Year: b.year})
		require.Equal(t, apperr.CodeUnavailable, apperr.CodeOf(err))
		require.Empty(t, b.got)
	})
}
