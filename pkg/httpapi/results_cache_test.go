package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

type cachedSummary struct {
	ValidatedModules []string `json:"validated_modules"`
	Modules          []struct {
		Module string  `json:"module"`
		Status string  `json:"status"`
		TCO2eq float64 `json:"t_co2eq"`
	} `json:"modules"`
}

func (s cachedSummary) module(t *testing.T, key string) (string, float64, bool) {
	t.Helper()
	for _, m := range s.Modules {
		if m.Module == key {
			return m.Status, m.TCO2eq, true
		}
	}
	return "", 0, false
}

// hidden runs sql with the triggers off (session_replication_role =
// replica): a change no notification announces, which only a cache
// serves stale.
func hidden(ctx context.Context, t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, sql, args...)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
}

// The results and unit caches (docs/architecture.md "Caches"): a summary
// is served from memory while the listener LISTENs, and whatever changes a
// report, a year's configuration or a unit — in another process (a
// worker, psql) or in this one — is seen by the next request.
func TestResultsSummaryCache(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// A database of its own: the steps below assert that nothing else
	// invalidated the caches, and every schema of a database shares its
	// notification channels (other tests' writes would notify this one).
	schema := testdb.TestDatabase(ctx, t)
	pool := schema.Pool
	year := testfactory.Year(ctx, t, pool, nil).Year
	unit := testfactory.Unit(ctx, t, pool, nil)
	rep := testfactory.Report(ctx, t, pool, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &year})
	purchases := rep.Module(emission.ModulePurchases)
	equipment := rep.Module(emission.ModuleEquipment)

	var hold sync.Mutex // held: the listener waits before the caches see a notification
	notified, states := make(chan string, 64), make(chan bool, 16)
	var router, member http.Handler
	appName := testdb.RandomName("listener_")
	startListenerWith(t, schema, appName, func(l *pipeline.Listener) {
		l.Handle(report.NotifyChannel, func(string) { hold.Lock(); hold.Unlock() }) //nolint:staticcheck // a gate
		inner := httpapi.NewRouter(httpapi.Deps{Pool: pool, Logger: testdb.QuietLogger(), Ready: ready, Listener: l})
		router = httpapi.AsUnitPrincipal(inner, *unit.Cf)
		// A principal of the unit only (no admin role): granted by the unit's cf.
		member = httpapi.AsPrincipal(inner, httpapi.NewTestPrincipal("DEV-000002", perm.New(perm.RolePrincipal, *unit.Cf)))
		// After the router's: once a payload arrives here the caches have
		// applied it.
		l.Handle(report.NotifyChannel, func(p string) { notified <- p })
		l.OnState(func(live bool) { states <- live })
	})
	require.True(t, <-states)
	waitNotified := func(t *testing.T, want string) {
		t.Helper()
		for {
			select {
			case got := <-notified:
				if got == want {
					return
				}
			case <-time.After(waitTimeout):
				t.Fatalf("no %s notification", want)
			}
		}
	}
	// settle waits until every notification sent before has been applied
	// (they arrive in commit order); it fails on an unexpected one.
	settle := func(t *testing.T, allowed ...string) {
		t.Helper()
		marker := "settle:" + uuid.NewString()
		_, err := pool.Exec(ctx, `SELECT pg_notify($1, $2)`, report.NotifyChannel, marker)
		require.NoError(t, err)
		for {
			select {
			case got := <-notified:
				if got == marker {
					return
				}
				require.Contains(t, allowed, got, "unexpected notification")
			case <-time.After(waitTimeout):
				t.Fatal("no settle notification")
			}
		}
	}
	url := "/api/v1/units/" + itoa(unit.ID) + "/years/" + itoa(year) + "/results/summary"
	summaryAs := func(t *testing.T, h http.Handler) cachedSummary {
		t.Helper()
		rec := serve(t, h, http.MethodGet, url, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var s cachedSummary
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s))
		return s
	}
	summary := func(t *testing.T) cachedSummary {
		t.Helper()
		return summaryAs(t, router)
	}
	unitTag := "unit:" + itoa(unit.ID)
	settle(t, unitTag, "units", "all")

	// Sequential steps on one report.
	require.Empty(t, summary(t).ValidatedModules)

	// A change no notification announces is not seen: the summary comes
	// from the cache.
	hidden(ctx, t, pool, `UPDATE report_modules SET status = 'validated' WHERE id = $1`, purchases.ID)
	require.Empty(t, summary(t).ValidatedModules, "served from the cache")

	// A worker's status change (another connection) is seen once its
	// notification arrives, with everything else of the unit re-read.
	_, err := pool.Exec(ctx, `UPDATE report_modules SET status = 'validated' WHERE id = $1`, equipment.ID)
	require.NoError(t, err)
	waitNotified(t, unitTag)
	got := summary(t).ValidatedModules
	slices.Sort(got)
	require.Equal(t, []string{"equipment", "purchases"}, got)

	// The aggregation's new stats.
	_, err = pool.Exec(ctx, `UPDATE report_modules SET stats = jsonb_set(stats, '{total_kg}', '2500') WHERE id = $1`, equipment.ID)
	require.NoError(t, err)
	waitNotified(t, unitTag)
	_, tco2, ok := summary(t).module(t, "equipment")
	require.True(t, ok)
	require.InDelta(t, 2.5, tco2, 1e-9)

	// An import marking modules dirty, or a no-op write, notifies nothing.
	_, err = pool.Exec(ctx, `UPDATE report_modules SET stats_dirty_at = now(), stats = stats, status = status WHERE report_id = $1`, rep.Report.ID)
	require.NoError(t, err)
	settle(t)

	// A year's configuration (back office): equipment disabled.
	_, err = pool.Exec(ctx, `UPDATE years SET config = jsonb_set(config, '{modules,equipment,enabled}', 'false') WHERE year = $1`, year)
	require.NoError(t, err)
	waitNotified(t, "all")
	_, _, ok = summary(t).module(t, "equipment")
	require.False(t, ok, "a disabled module is not listed")

	// This process's own write is seen by the next request even before
	// its notification arrives (the listener is held).
	hold.Lock()
	rec := serveJSON(t, router, http.MethodPatch, "/api/v1/units/"+itoa(unit.ID)+"/years/"+itoa(year)+"/modules/purchases/status",
		`{"status":"in_progress"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	status, _, ok := summary(t).module(t, "purchases")
	hold.Unlock()
	require.True(t, ok)
	require.Equal(t, "in_progress", status)
	settle(t, unitTag)

	// The unit checks: a unit moved away from the principal's cf is
	// refused once its notification arrives (a hidden change is not seen).
	summaryAs(t, member)
	hidden(ctx, t, pool, `UPDATE units SET cf = cf || '-moved', path_cfs = array_replace(path_cfs, cf, cf || '-moved') WHERE id = $1`, unit.ID)
	summaryAs(t, member) // the cached unit still grants
	_, err = pool.Exec(ctx, `UPDATE units SET name = name || ' (renamed)' WHERE id = $1`, unit.ID)
	require.NoError(t, err)
	waitNotified(t, "units")
	rec = serve(t, member, http.MethodGet, url, nil)
	require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	hidden(ctx, t, pool, `UPDATE units SET cf = $2, path_cfs = array_replace(path_cfs, cf, $2) WHERE id = $1`, unit.ID, *unit.Cf)
	_, err = pool.Exec(ctx, `UPDATE units SET name = name || '.' WHERE id = $1`, unit.ID)
	require.NoError(t, err)
	waitNotified(t, "units")
	summaryAs(t, member)

	// A lost listener connection turns the caches off: every request
	// reads the database until it is back.
	summary(t)
	_, err = pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, appName)
	require.NoError(t, err)
	require.False(t, <-states, "the listener lost its connection")
	hidden(ctx, t, pool, `UPDATE report_modules SET status = 'validated' WHERE id = $1`, purchases.ID)
	status, _, _ = summary(t).module(t, "purchases")
	require.Equal(t, "validated", status, "read from the database while the listener is down")
	require.True(t, <-states, "the listener is back")
	hidden(ctx, t, pool, `UPDATE report_modules SET status = 'in_progress' WHERE id = $1`, purchases.ID)
	status, _, _ = summary(t).module(t, "purchases")
	require.Equal(t, "in_progress", status, "the caches start empty")
}
