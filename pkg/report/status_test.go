package report_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// statusEvent is a report_module.status audit row.
type statusEvent struct {
	EntityID, Sciper string
	Snapshot         map[string]any
}

func statusEvents(ctx context.Context, t *testing.T, db postgres.DBTX) []statusEvent {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT entity_id, actor_sciper, snapshot FROM audit_events
		WHERE event = 'report_module.status' ORDER BY seq`)
	require.NoError(t, err)
	var out []statusEvent
	for rows.Next() {
		var e statusEvent
		require.NoError(t, rows.Scan(&e.EntityID, &e.Sciper, &e.Snapshot))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestSetModuleStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Workflow", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := newFixture(ctx, t, tx, nil)
		user := testfactory.User(ctx, t, tx, &testfactory.UserOpts{DisplayName: new("Dev Principal")})
		rm := f.rep.Module(emission.ModuleProcessEmissions)
		require.Equal(t, report.StatusNotStarted, rm.Status)

		// A recomputed flag is cleared by validation.
		_, err := dbsqlc.New(tx).ReportModulesMarkRecomputed(ctx, []int64{rm.ID})
		require.NoError(t, err)

		for i, step := range []struct{ to, overall string }{
			{report.StatusInProgress, "in_progress"},
			{report.StatusValidated, "in_progress"}, // 1 of 8 enabled validated
			{report.StatusInProgress, "in_progress"},
		} {
			v, err := report.SetModuleStatus(ctx, tx, report.SetStatusInput{
				UnitID: f.unit.ID, Year: f.year, Module: "process_emissions", Status: step.to, ActorID: &user.ID,
			})
			require.NoError(t, err, "step %d", i)
			require.Equal(t, step.to, v.Status)
			require.True(t, v.Enabled)
			require.False(t, v.RecomputedAfterValidation)
			require.Equal(t, user.ID, v.StatusChangedBy.ID)
			require.Equal(t, "Dev Principal", *v.StatusChangedBy.Name)
			require.NotNil(t, v.StatusChangedAt)
			r, err := dbsqlc.New(tx).ReportGet(ctx, f.rep.Report.ID)
			require.NoError(t, err)
			require.Equal(t, step.overall, r.OverallStatus)
		}
		events := statusEvents(ctx, t, tx)
		require.Len(t, events, 3, "every change is audited in its transaction")
		require.Equal(t, statusEvent{EntityID: strconv.FormatInt(rm.ID, 10), Sciper: user.Sciper, Snapshot: map[string]any{
			"unit_id": float64(f.unit.ID), "year": float64(f.year), "module": "process_emissions",
			"status": "in_progress", "previous_status": "not_started",
		}}, events[0])
		require.Equal(t, "validated", events[1].Snapshot["status"])
	})

	t.Run("AllValidated", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		cfg := testfactory.DefaultYearConfig()
		mods := cfg["modules"].(map[string]any) //nolint:forcetypeassert // test config
		for _, m := range report.ModuleKeys() {
			if m != "headcount" {
				mods[m].(map[string]any)["enabled"] = false //nolint:forcetypeassert // test config
			}
		}
		f := newFixture(ctx, t, tx, &testfactory.YearOpts{Config: cfg})
		_, err := report.SetModuleStatus(ctx, tx, report.SetStatusInput{UnitID: f.unit.ID, Year: f.year, Module: "headcount", Status: "validated"})
		require.NoError(t, err)
		r, err := dbsqlc.New(tx).ReportGet(ctx, f.rep.Report.ID)
		require.NoError(t, err)
		require.Equal(t, "validated", r.OverallStatus)
		require.Equal(t, int16(1), r.EnabledModules)
		require.Equal(t, int16(1), r.ValidatedModules)
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		disabled := testfactory.DefaultYearConfig()
		disabled["modules"].(map[string]any)["equipment"].(map[string]any)["enabled"] = false //nolint:forcetypeassert // test config
		for _, tt := range []struct {
			name     string
			year     *testfactory.YearOpts
			module   string
			status   string
			code     apperr.Code
			reason   string
			wrongYr  bool
			wrongUni bool
		}{
			{name: "BadValue", module: "equipment", status: "not_started", code: apperr.CodeValidation},
			{name: "ClosedYear", year: &testfactory.YearOpts{Status: new("closed")}, module: "equipment", status: "validated", code: apperr.CodeConflict, reason: "year_closed"},
			{name: "DisabledModule", year: &testfactory.YearOpts{Config: disabled}, module: "equipment", status: "validated", code: apperr.CodeConflict, reason: "invalid_transition"},
			{name: "ReadyYear", year: &testfactory.YearOpts{Status: new("ready")}, module: "equipment", status: "in_progress", code: apperr.CodeConflict, reason: "year_not_open"},
			{name: "UnknownModule", module: "nope", status: "validated", code: apperr.CodeNotFound},
			{name: "UnknownReport", module: "equipment", status: "validated", code: apperr.CodeNotFound, wrongYr: true},
			{name: "UnknownUnit", module: "equipment", status: "validated", code: apperr.CodeNotFound, wrongUni: true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tx := testdb.TestTx(ctx, t)
				f := newFixture(ctx, t, tx, tt.year)
				in := report.SetStatusInput{UnitID: f.unit.ID, Year: f.year, Module: tt.module, Status: tt.status}
				if tt.wrongYr {
					in.Year = f.prevYear
				}
				if tt.wrongUni {
					in.UnitID = -1
				}
				_, err := report.SetModuleStatus(ctx, tx, in)
				require.Error(t, err)
				require.Equal(t, tt.code, apperr.CodeOf(err), err.Error())
				if tt.reason != "" {
					ae, ok := err.(*apperr.Error) //nolint:errorlint // direct
					require.True(t, ok)
					require.Equal(t, tt.reason, string(ae.Reason))
				}
			})
		}
	})
}

func TestEnsureAndGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CreatesOnceWithEightModules", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		_, cur := yearPair()
		testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: &cur})
		unit := testfactory.Unit(ctx, t, tx, nil)

		_, err := report.Get(ctx, tx, unit.ID, cur)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))

		v, created, err := report.Ensure(ctx, tx, unit.ID, cur)
		require.NoError(t, err)
		require.True(t, created)
		require.Len(t, v.Modules, 8)
		require.Equal(t, "headcount", v.Modules[0].Module)
		require.Equal(t, "open", v.YearStatus)
		require.Equal(t, "not_started", v.OverallStatus)

		v2, created, err := report.Ensure(ctx, tx, unit.ID, cur)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, v.ID, v2.ID)

		list, err := report.List(ctx, tx, unit.ID, nil)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Empty(t, list[0].Modules)
	})

	t.Run("ClosedYear", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		_, cur := yearPair()
		testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Year: &cur, Status: new("closed")})
		unit := testfactory.Unit(ctx, t, tx, nil)
		_, _, err := report.Ensure(ctx, tx, unit.ID, cur)
		require.Equal(t, apperr.CodeConflict, apperr.CodeOf(err))
	})

	t.Run("UnitAffiliations", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		l1 := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(1)), Name: new("EPFL")})
		l2 := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(2)), Name: new("ENAC"), Parent: &l1})
		l3 := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(3)), Name: new("IIC"), Parent: &l2})
		l4 := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Name: new("LAB"), Parent: &l3, PrincipalSciper: new("123456")})
		u, err := report.GetUnit(ctx, tx, l4.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"ENAC", "IIC"}, u.Affiliations)
		require.Equal(t, "123456", u.Principal.Sciper)
		_, err = report.GetUnit(ctx, tx, -5)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
}
