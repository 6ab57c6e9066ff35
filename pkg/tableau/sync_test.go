package tableau_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// trip is a stored Tableau entry.
type trip struct {
	ID, ReportModuleID int64
	Data               string
	KgOverride         *float64
	Kg                 float64
	CalcStatus         string
	Owner              *string
}

// TestSync covers the sync of a year (docs/jobs.md §4.6) against the fake
// Tableau: the recorded answers, idempotency, changed and emptied report
// modules, and the faults of issue 13 (an expired token mid-sync, a page
// that fails, rows with unknown units and airports, a renamed field,
// refused credentials). Each test has a schema of its own: they all sync
// year 2025 for the fixture's cost centres.
func TestSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		pool   *pgxpool.Pool
		fake   *fakes.Tableau
		client *tableau.Client
		svc    *tableau.Service
		units  map[string]int64 // by cf
		phases []string
	}
	setup := func(t *testing.T, status string) *testBundle {
		t.Helper()
		schema := testdb.TestSchema(ctx, t)
		fake, client := newFake(t)
		b := &testBundle{pool: schema.Pool, fake: fake, client: client, units: map[string]int64{}}
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2025)), Status: &status})
		for _, cf := range []string{"7918", "7919", "7931"} {
			b.units[cf] = testfactory.Unit(ctx, t, b.pool, &testfactory.UnitOpts{CF: new(cf)}).ID
		}
		// LAB 7918 has its report; the others get theirs from the sync.
		testfactory.Report(ctx, t, b.pool, &testfactory.ReportOpts{UnitID: new(b.units["7918"]), Year: new(int32(2025))})
		for _, iata := range []string{"GVA", "ZRH", "CDG", "JFK"} {
			testfactory.Location(ctx, t, b.pool, &testfactory.LocationOpts{IATA: new(iata)})
		}
		var mu sync.Mutex
		b.svc = &tableau.Service{DB: b.pool, Client: client, SpoolDir: t.TempDir(), BatchSize: 4, Logger: testdb.QuietLogger(),
			Progress: func(_ context.Context, phase string, _, _ int64, _ string) {
				mu.Lock()
				defer mu.Unlock()
				if n := len(b.phases); n == 0 || b.phases[n-1] != phase {
					b.phases = append(b.phases, phase)
				}
			}}
		return b
	}
	// run syncs 2025 and returns the outcome handed to the job's finish.
	run := func(t *testing.T, b *testBundle) (imports.Outcome, error) {
		t.Helper()
		var out imports.Outcome
		err := b.svc.Sync(ctx, tableau.Run{Year: 2025}, func(_ context.Context, _ pgx.Tx, o imports.Outcome) error {
			out = o
			return nil
		})
		return out, err
	}
	mustRun := func(t *testing.T, b *testBundle) imports.Outcome {
		t.Helper()
		out, err := run(t, b)
		require.NoError(t, err)
		return out
	}
	trips := func(t *testing.T, b *testBundle) []trip {
		t.Helper()
		rows, err := b.pool.Query(ctx, `SELECT id, report_module_id, data::text, kg_override, kg_co2eq, calc_status, owner_sciper
			FROM data_entries WHERE source = 'tableau' ORDER BY id`)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[trip])
		require.NoError(t, err)
		return out
	}
	byModule := func(ts []trip) map[int64][]int64 {
		out := map[int64][]int64{}
		for _, tr := range ts {
			out[tr.ReportModuleID] = append(out[tr.ReportModuleID], tr.ID)
		}
		return out
	}
	type reportModule struct {
		ID           int64
		Status       string
		StatsDirtyAt *time.Time
	}
	travelModule := func(t *testing.T, b *testBundle, cf string) reportModule {
		t.Helper()
		var rm reportModule
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id, status, stats_dirty_at FROM report_modules
			WHERE unit_id = $1 AND year = 2025 AND module = 'professional_travel'`, b.units[cf]).Scan(&rm.ID, &rm.Status, &rm.StatsDirtyAt))
		return rm
	}
	state := func(t *testing.T, b *testBundle) (status, message string, details map[string]any) {
		t.Helper()
		var raw []byte
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT last_status, last_message, details FROM integration_state WHERE name = 'tableau'`).
			Scan(&status, &message, &raw))
		require.NoError(t, json.Unmarshal(raw, &details))
		return status, message, details
	}
	requireReason := func(t *testing.T, err error, reason apperr.Reason) *apperr.Error {
		t.Helper()
		ae, ok := errors.AsType[*apperr.Error](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, reason, ae.Reason, ae.Message)
		return ae
	}

	t.Run("ChangedAndEmptiedModules", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		b.fake.SetRows(120, 2025, []string{"7918", "7919"})
		mustRun(t, b)
		before := byModule(trips(t, b))
		a, c := travelModule(t, b, "7918"), travelModule(t, b, "7919")
		require.Len(t, before[a.ID], 60)
		require.Len(t, before[c.ID], 60)
		// The synced trips carry the distance the engine derives, the sort
		// value entry lists sort by in the database (migration 000012).
		lk, err := calc.LoadLookup(ctx, b.pool, 2025, emission.ModuleProfessionalTravel)
		require.NoError(t, err)
		var withDistance int
		for _, rm := range []reportModule{a, c} {
			rows, err := dbsqlc.New(b.pool).EntriesByReportModule(ctx, rm.ID)
			require.NoError(t, err)
			cb, err := calc.Compute(lk, rows, time.Now())
			require.NoError(t, err)
			for i := range rows {
				want, _ := calc.SortValues(&cb.Out[i].Outcome)
				require.Equal(t, want, rows[i].DistanceKm, "entry %d", rows[i].ID)
				if want != nil {
					withDistance++
				}
			}
		}
		require.Positive(t, withDistance)

		// One more trip, for LAB 7918: only its module is replaced.
		b.fake.SetRows(121, 2025, []string{"7918", "7919"})
		out := mustRun(t, b)
		require.Equal(t, 1, out.Result.Counters["modules_changed"])
		require.Equal(t, 1, out.Result.Counters["modules_unchanged"])
		require.EqualValues(t, 60, out.Result.Counters["entries_deleted"])
		after := byModule(trips(t, b))
		require.Equal(t, before[c.ID], after[c.ID], "the unchanged module keeps its entries")
		require.Len(t, after[a.ID], 61)
		require.NotContains(t, after[a.ID], before[a.ID][0])

		// LAB 7919 has no trip anymore: its module is emptied.
		b.fake.SetRows(60, 2025, []string{"7918"})
		out = mustRun(t, b)
		require.Equal(t, 2, out.Result.Counters["modules_changed"])
		after = byModule(trips(t, b))
		require.Empty(t, after[c.ID])
		require.Len(t, after[a.ID], 60)
		require.Equal(t, "in_progress", travelModule(t, b, "7919").Status)
	})

	t.Run("ExpiredTokenMidSync", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		b.fake.ExpireTokensAfter(4) // metadata + 12 pages: the token dies three times
		out := mustRun(t, b)
		require.Equal(t, 19, out.Result.Counters[tableau.CounterRowsLoaded])
		require.Len(t, trips(t, b), 19)
		_, _, details := state(t, b)
		require.InDelta(t, 4, details["sign_ins"], 0)
		signIns, _, signOuts := b.fake.Counts()
		require.Equal(t, 4, signIns)
		require.Equal(t, 1, signOuts, "the last session is signed out")
	})

	t.Run("FailingPage", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		mustRun(t, b)
		first := trips(t, b)

		// A page that fails once is retried: the run completes.
		b.fake.FailPage("202506", 1, http.StatusInternalServerError)
		out := mustRun(t, b)
		require.Equal(t, 0, out.Result.Counters["modules_changed"])

		// New data upstream, but June keeps failing: the run fails
		// (transient: River retries) and nothing was replaced.
		b.fake.SetRows(500, 2025, []string{"7918", "7919", "7931"})
		b.fake.FailPage("202506", 100, http.StatusInternalServerError)
		_, err := run(t, b)
		require.ErrorIs(t, err, tableau.ErrUnavailable, "transient: River retries")
		_, isApp := errors.AsType[*apperr.Error](err)
		require.False(t, isApp)
		require.ErrorContains(t, err, "upstream_unavailable: Tableau query-datasource (202506): HTTP 500")
		require.Equal(t, first, trips(t, b), "no partial replacement")
		status, msg, details := state(t, b)
		require.Equal(t, "FAILED", status)
		require.Contains(t, msg, "2025: upstream_unavailable")
		require.InDelta(t, 19, details["rows_loaded"], 0, "the last success's details are kept")

		// A page cut short mid-answer, then June answers again.
		b.fake.FailPage("202506", 1, 0)
		out = mustRun(t, b)
		require.Equal(t, 500, out.Result.Counters[tableau.CounterRowsLoaded])
		require.Len(t, trips(t, b), 500)
	})

	t.Run("NoValidRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "ready")
		mustRun(t, b)
		first := trips(t, b)
		b.fake.SetRows(10, 2025, []string{"5555"})
		_, err := run(t, b)
		rej, ok := errors.AsType[*imports.RejectedError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, imports.ReasonNoValidRows, rej.Err.Reason)
		require.Equal(t, 10, rej.Counters[tableau.CounterRowsSkipped])
		require.Equal(t, 10, rej.RowErrors.Skipped)
		require.Equal(t, ingest.CodeUnknownUnit, rej.RowErrors.Items[0].Code)
		require.Equal(t, first, trips(t, b), "previous trips untouched")
	})

	t.Run("NotConfigured", func(t *testing.T) {
		t.Parallel()
		svc := &tableau.Service{DB: testdb.TestTx(ctx, t)}
		err := svc.Sync(ctx, tableau.Run{Year: 2025}, nil)
		requireReason(t, err, tableau.ReasonNotConfigured)
	})

	t.Run("RecordedAnswers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		b.svc.BatchSize = 3 // several COPY batches and deletes
		out := mustRun(t, b)
		require.Equal(t, []string{tableau.PhaseFetch, tableau.PhaseLoad}, b.phases)

		// 27 recorded rows, 2 of other years (outside the month pages);
		// 6 rejected: three without a cost centre, F9999, no SCIPER, no
		// destination.
		ctrs := out.Result.Counters
		require.Equal(t, 25, ctrs[tableau.CounterRowsTotal])
		require.Equal(t, 0, ctrs[tableau.CounterRowsOtherYear])
		require.Equal(t, 19, ctrs[tableau.CounterRowsLoaded])
		require.Equal(t, 6, ctrs[tableau.CounterRowsSkipped])
		require.Equal(t, 3, ctrs["modules_changed"])
		require.NotNil(t, out.Aggregate)
		errs := out.Result.RowErrors.([]ingest.RowError) //nolint:forcetypeassert // RowErrors.List
		counts := map[string]int{}
		for _, e := range errs {
			counts[*e.Column+":"+e.Code]++
			require.Positive(t, e.Row)
		}
		require.Equal(t, map[string]int{
			"Centre financier:required": 3, "Centre financier:unknown_unit": 1, "SCIPER:required": 1,
			"IN_Segment destination airport code:required": 1,
			// Unknown airports are loaded with a warning (their kg come from the provider).
			"IN_Segment destination airport code:unknown_location": 21, "IN_Segment origin airport code:unknown_location": 2,
		}, counts)

		ts := trips(t, b)
		require.Len(t, ts, 19)
		mods := byModule(ts)
		require.Len(t, mods[travelModule(t, b, "7918").ID], 17)
		require.Len(t, mods[travelModule(t, b, "7919").ID], 1)
		require.Len(t, mods[travelModule(t, b, "7931").ID], 1, "the missing reports were created")
		for _, tr := range ts {
			require.Equal(t, string(emission.StatusOverride), tr.CalcStatus)
			require.InDelta(t, *tr.KgOverride, tr.Kg, 1e-9, "the provider's CO2")
			require.NotNil(t, tr.Owner)
		}
		var ord trip
		for _, tr := range ts {
			if tr.KgOverride != nil && *tr.KgOverride == 5265.57 {
				ord = tr
			}
		}
		require.JSONEq(t, `{"origin_iata": "GVA", "destination_iata": "JFK", "user_institutional_id": "100001", "cabin_class": "business",
			"departure_date": "2025-03-10", "number_of_trips": 1, "provider_distance_km": 6759.4, "supplier": "SWISS",
			"ticket_number": "724-5550012037", "transport_type": "AIR", "passenger_type": "EMPLOYEE", "round_trip": true}`, ord.Data)
		for _, cf := range []string{"7918", "7919", "7931"} {
			rm := travelModule(t, b, cf)
			require.Equal(t, "in_progress", rm.Status)
			require.NotNil(t, rm.StatsDirtyAt)
		}
		status, msg, details := state(t, b)
		require.Equal(t, "PARTIAL", status)
		require.Contains(t, msg, "2025: 19 trips synced (3 report modules changed, 0 unchanged), 6 skipped")
		require.InDelta(t, 25, details["rows_fetched"], 0)
		var audited int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE event = 'tableau.sync' AND entity_id = 'tableau:2025'`).Scan(&audited))
		require.Equal(t, 1, audited)

		// Twice: nothing is deleted or inserted, no module changes (R2.9),
		// even a validated one stays validated.
		_, err := b.pool.Exec(ctx, `UPDATE report_modules SET status = 'validated' WHERE id = $1`, travelModule(t, b, "7919").ID)
		require.NoError(t, err)
		again := mustRun(t, b)
		require.Equal(t, ts, trips(t, b), "the same rows, the same ids")
		require.Equal(t, 0, again.Result.Counters["modules_changed"])
		require.Equal(t, 3, again.Result.Counters["modules_unchanged"])
		require.EqualValues(t, 0, again.Result.Counters["entries_deleted"])
		require.Nil(t, again.Aggregate, "nothing to aggregate")
		require.Equal(t, "validated", travelModule(t, b, "7919").Status)
		var staged int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM tableau_staging`).Scan(&staged))
		require.Zero(t, staged)
	})

	t.Run("RefusedCredentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		b.client.SecretValue = "rotated"
		_, err := run(t, b)
		requireReason(t, err, tableau.ReasonUpstreamAuth)
		b.client.SecretValue = fakeAuth.SecretValue
		b.fake.ForbidQueries(true)
		_, err = run(t, b)
		ae := requireReason(t, err, tableau.ReasonUpstreamAuth)
		require.Contains(t, ae.Message, "HTTP 403")
		require.Empty(t, trips(t, b))
	})

	t.Run("SchemaChanged", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "open")
		b.fake.RenameField(tableau.CaptionCF, "Centre financier (calc)")
		_, err := run(t, b)
		ae := requireReason(t, err, tableau.ReasonUpstreamSchema)
		require.Equal(t, apperr.CodeConflict, ae.Code, "permanent")
		require.Contains(t, ae.Message, `no field captioned "Centre financier"`)
		require.Empty(t, trips(t, b))
		_, queries, _ := b.fake.Counts()
		require.Zero(t, queries, "refused at the metadata")
	})

	t.Run("YearRefused", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		_, client := newFake(t)
		svc := &tableau.Service{DB: tx, Client: client}
		for status, reason := range map[string]apperr.Reason{"closed": "year_closed", "setting_up": "year_not_ready"} {
			y := testfactory.Year(ctx, t, tx, &testfactory.YearOpts{Status: &status})
			err := svc.Sync(ctx, tableau.Run{Year: y.Year}, nil)
			requireReason(t, err, reason)
		}
	})
}
