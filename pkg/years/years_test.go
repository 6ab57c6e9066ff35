package years_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// TestAllow is the table of docs/domain.md §11.1: every status against
// every operation, with the refusal code ("" = allowed).
func TestAllow(t *testing.T) {
	t.Parallel()

	want := map[years.Op]map[years.Status]apperr.Reason{
		years.OpDataEntry: {
			years.StatusSettingUp: years.ReasonNotOpen, years.StatusSetupFailed: years.ReasonNotOpen,
			years.StatusReady: years.ReasonNotOpen, years.StatusOpen: "", years.StatusClosed: years.ReasonClosed,
		},
		years.OpImport: {
			years.StatusSettingUp: years.ReasonNotReady, years.StatusSetupFailed: years.ReasonNotReady,
			years.StatusReady: "", years.StatusOpen: "", years.StatusClosed: years.ReasonClosed,
		},
		years.OpRecalc: {
			years.StatusSettingUp: "", years.StatusSetupFailed: "",
			years.StatusReady: "", years.StatusOpen: "", years.StatusClosed: years.ReasonClosed,
		},
	}
	for op, byStatus := range want {
		require.Len(t, byStatus, len(years.Statuses()), "every status is in the table of %s", op)
		for _, st := range years.Statuses() {
			err := years.Allow(2030, st, op)
			reason := byStatus[st]
			if reason == "" {
				require.NoError(t, err, "%s in a %s year", op, st)
				continue
			}
			ae, ok := errors.AsType[*apperr.Error](err)
			require.True(t, ok, "%s in a %s year: %v", op, st, err)
			require.Equal(t, apperr.CodeConflict, ae.Code)
			require.Equal(t, reason, ae.Reason, "%s in a %s year", op, st)
			require.Contains(t, ae.Message, "2030")
		}
	}
	require.Error(t, years.Allow(2030, years.StatusOpen, years.Op(99)))
}

func TestAccepting(t *testing.T) {
	t.Parallel()

	require.Equal(t, []string{"open"}, years.Accepting(years.OpDataEntry))
	require.Equal(t, []string{"ready", "open"}, years.Accepting(years.OpImport))
	require.Equal(t, []string{"setting_up", "setup_failed", "ready", "open"}, years.Accepting(years.OpRecalc))
}

func TestValid(t *testing.T) {
	t.Parallel()

	for y, ok := range map[int64]bool{1999: false, 2000: true, 2025: true, 2100: true, 2101: false, -1: false} {
		require.Equal(t, ok, years.Valid(y), "%d", y)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx context.Context
		tx  pgx.Tx
		q   *dbsqlc.Queries
	}
	setup := func(t *testing.T) testBundle {
		t.Helper()
		ctx := t.Context()
		tx := testdb.TestTx(ctx, t)
		return testBundle{ctx: ctx, tx: tx, q: dbsqlc.New(tx)}
	}

	t.Run("Allowed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		y := testfactory.Year(b.ctx, t, b.tx, &testfactory.YearOpts{Status: new("ready")})
		got, err := years.Load(b.ctx, b.q, y.Year, years.OpImport)
		require.NoError(t, err)
		require.Equal(t, y.Year, got.Year)
		require.Equal(t, "ready", got.Status)
	})
	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := years.Load(b.ctx, b.q, 1999, years.OpRecalc)
		require.ErrorIs(t, err, years.ErrNotFound)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		y := testfactory.Year(b.ctx, t, b.tx, &testfactory.YearOpts{Status: new("ready")})
		got, err := years.Load(b.ctx, b.q, y.Year, years.OpDataEntry)
		require.Equal(t, y.Year, got.Year, "the row is returned with the refusal")
		ae, ok := errors.AsType[*apperr.Error](err)
		require.True(t, ok)
		require.Equal(t, years.ReasonNotOpen, ae.Reason)
	})
}
