package years_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/fakes"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
	"github.com/co2-calculator/co2-calculator/pkg/units"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

const accredFixtures = "../../../shared/data/external/accred"

// setupRecorder runs the unit sync and records what it reported.
type setupRecorder struct {
	phases  []string
	results []years.SetupResult
}

func (r *setupRecorder) run(ctx context.Context, b *serviceBundle, year *int32) error {
	b.svc.Progress = func(_ context.Context, phase string, _, _ int64, _ string) {
		if len(r.phases) == 0 || r.phases[len(r.phases)-1] != phase {
			r.phases = append(r.phases, phase)
		}
	}
	return b.svc.RunUnitSync(ctx, years.SetupRun{Year: year}, func(_ context.Context, _ pgx.Tx, res years.SetupResult) error {
		r.results = append(r.results, res)
		return nil
	})
}

func countReports(ctx context.Context, t *testing.T, b *serviceBundle, y int32) (reports, modules int) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM carbon_reports WHERE year = $1`, y).Scan(&reports))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM report_modules WHERE year = $1`, y).Scan(&modules))
	return reports, modules
}

func TestRunUnitSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AccredDownOrGarbageThenRetry", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		dir := t.TempDir()
		fixture, err := os.ReadFile(filepath.Join(accredFixtures, "units.json"))
		require.NoError(t, err)
		fake := fakes.NewAccred(dir, "u", "p")
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		b.svc.Units = &units.Accred{BaseURL: srv.URL, Username: "u", Password: "p", Client: srv.Client()}
		created, err := b.svc.Create(ctx, 2026, b.admin)
		require.NoError(t, err)
		y := &created.Year.Year

		// Down: a transient failure, retried by River; nothing changed.
		fake.FailNext(100)
		var rec setupRecorder
		err = rec.run(ctx, b, y)
		require.True(t, units.IsUnavailable(err), "%v", err)
		require.Equal(t, "setting_up", b.year(ctx, t, 2026).Status)
		var status, msg string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT last_status, last_message FROM integration_state WHERE name = 'accred'`).Scan(&status, &msg))
		require.Equal(t, "FAILED", status)
		require.Contains(t, msg, "HTTP 503")
		fake.FailNext(0)

		// Garbage: a permanent failure.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "units.json"), []byte(`{"count": 1, "units": [{"id": "LAB", "name": "?"}]}`), 0o600))
		err = rec.run(ctx, b, y)
		requireReason(t, err, apperr.CodeConflict, units.ReasonUpstreamSchema)

		// The job fails for good: the middleware's hook.
		require.NoError(t, withTx(ctx, b, func(tx pgx.Tx) error { return years.FailSetupTx(ctx, tx, 2026) }))
		require.Equal(t, "setup_failed", b.year(ctx, t, 2026).Status)

		// POST /setup retries it, and Accred answers again.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "units.json"), fixture, 0o600))
		_, err = b.svc.Setup(ctx, 2026, b.admin)
		require.NoError(t, err)
		require.Equal(t, "setting_up", b.year(ctx, t, 2026).Status)
		require.NoError(t, rec.run(ctx, b, y))
		require.Equal(t, "ready", b.year(ctx, t, 2026).Status)
		reports, _ := countReports(ctx, t, b, 2026)
		require.Equal(t, 29, reports, "one report per active unit of the directory")
	})

	t.Run("FailSetupLeavesOtherStatusesAlone", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("open")})
		require.NoError(t, withTx(ctx, b, func(tx pgx.Tx) error { return years.FailSetupTx(ctx, tx, 2026) }))
		require.Equal(t, "open", b.year(ctx, t, 2026).Status, "a failed resync does not touch an open year")
	})

	t.Run("SetupCompletes", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		b.svc.Units = units.Dev{}
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2025)), Status: new("open")})
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2020)), Status: new("closed")})
		created, err := b.svc.Create(ctx, 2026, b.admin)
		require.NoError(t, err)
		principal := testfactory.User(ctx, t, b.pool, &testfactory.UserOpts{Roles: []any{
			map[string]any{"role": "calco2.user.principal", "scope": map[string]any{"kind": "unit", "cf": "7918"}}}})

		var rec setupRecorder
		require.NoError(t, rec.run(ctx, b, &created.Year.Year))
		require.Equal(t, []string{years.PhaseFetch, years.PhaseUpsert, years.PhaseReports}, rec.phases)
		require.Len(t, rec.results, 1)
		require.Equal(t, map[string]any{"units_synced": 7, "reports_created": int64(14)}, rec.results[0].Counters)

		y := b.year(ctx, t, 2026)
		require.Equal(t, "ready", y.Status)
		require.NotNil(t, y.SetupCompletedAt)
		for year, want := range map[int32]int{2026: 7, 2025: 7, 2020: 0} {
			reports, modules := countReports(ctx, t, b, year)
			require.Equal(t, want, reports, "reports of %d", year)
			require.Equal(t, 8*want, modules, "eight modules per report of %d", year)
		}
		links, err := dbsqlc.New(b.pool).UnitUsersByUser(ctx, principal.ID)
		require.NoError(t, err)
		require.Len(t, links, 1)
		require.Equal(t, "LAB-DEMO", links[0].Name)
		require.Equal(t, "principal", links[0].Role)
		var status string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT last_status FROM integration_state WHERE name = 'accred'`).Scan(&status))
		require.Equal(t, "SUCCESS", status)

		// The nightly run: nothing new.
		require.NoError(t, rec.run(ctx, b, nil))
		require.Equal(t, int64(0), rec.results[1].ReportsCreated)
	})

	t.Run("UnknownYear", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		b.svc.Units = units.Dev{}
		var rec setupRecorder
		requireReason(t, rec.run(ctx, b, new(int32(2099))), apperr.CodeNotFound, "")
	})
}

func withTx(ctx context.Context, b *serviceBundle, fn func(pgx.Tx) error) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

func TestDataStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newServiceBundle(ctx, t)
	q := dbsqlc.New(b.pool)
	y := int32(2026)
	cfg := years.DefaultConfig()
	years.MergeConfig(cfg, map[string]any{"modules": map[string]any{"research_facilities": map[string]any{"enabled": false}}})
	testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: &y, Config: cfg})
	testfactory.Factor(ctx, t, b.pool, &testfactory.FactorOpts{Year: &y, Submodule: new("member")})
	testfactory.Factor(ctx, t, b.pool, &testfactory.FactorOpts{Year: &y, Submodule: new("it")})
	testfactory.Location(ctx, t, b.pool, nil) // an airport: plane has its reference data

	upload := func(module, sub string, counters string) uuid.UUID {
		p, err := pipeline.Create(ctx, b.pool, pipeline.CreateParams{Kind: pipeline.KindDataUpload, Trigger: pipeline.TriggerUser, Year: &y, Module: &module})
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, `UPDATE pipelines SET status = 'SUCCESS', counters = $2, finished_at = now() WHERE id = $1`, p.ID, counters)
		require.NoError(t, err)
		id := uuid.New()
		var subp *string
		if sub != "" {
			subp = &sub
		}
		_, err = q.UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: "data", Scope: "year", Year: y, Module: &module, Submodule: subp,
			BlobKey: "uploads/2026/" + id.String() + ".csv", SizeBytes: 1, Sha256: "0000000000000000000000000000000000000000000000000000000000000000",
			Options: []byte(`{}`), PipelineID: &p.ID})
		require.NoError(t, err)
		return id
	}
	member := upload("headcount", "member", `{"rows_loaded": 5, "rows_skipped": 1}`)
	equipment := upload("equipment", "", `{"rows_loaded": 40}`)
	rep := testfactory.Report(ctx, t, b.pool, &testfactory.ReportOpts{Year: &y})
	_, err := b.pool.Exec(ctx, `UPDATE report_modules SET stats = '{"entries_by_submodule": {"member": 3, "student": 1}}' WHERE id = $1`,
		rep.Module("headcount").ID)
	require.NoError(t, err)
	_, err = q.ModuleYearStateBump(ctx, dbsqlc.ModuleYearStateBumpParams{Year: y, Module: "purchases", Reason: "fx"})
	require.NoError(t, err)
	running, err := pipeline.Create(ctx, b.pool, pipeline.CreateParams{Kind: pipeline.KindRecalculation, Trigger: pipeline.TriggerUser, Year: &y, Module: new("purchases")})
	require.NoError(t, err)

	mods, err := b.svc.DataStatus(ctx, y)
	require.NoError(t, err)
	require.Len(t, mods, 8)
	by := map[string]years.DataStatusModule{}
	subs := map[string]years.DataStatusSubmodule{}
	for _, m := range mods {
		by[m.Module] = m
		for _, s := range m.Submodules {
			subs[s.Submodule] = s
		}
	}
	require.Equal(t, "headcount", mods[0].Module, "display order")

	require.Empty(t, subs["member"].IncompleteReasons)
	require.Equal(t, []string{years.MissingFactors}, subs["student"].IncompleteReasons)
	require.True(t, by["headcount"].Incomplete)
	require.Equal(t, &member, subs["member"].Latest.Data.UploadID)
	require.Equal(t, "SUCCESS", *subs["member"].Latest.Data.Status)
	require.EqualValues(t, 5, subs["member"].Latest.Data.RowsLoaded)
	require.EqualValues(t, 1, subs["member"].Latest.Data.RowsSkipped)
	require.EqualValues(t, 3, subs["member"].EntryCount)
	require.Nil(t, subs["student"].Latest.Data)

	require.Equal(t, []string{years.MissingFactors}, subs["plane"].IncompleteReasons)
	require.Equal(t, []string{years.MissingFactors, years.MissingReference}, subs["train"].IncompleteReasons)
	require.Empty(t, subs["it"].IncompleteReasons)
	require.Empty(t, subs["scientific"].IncompleteReasons, "the equipment factor group covers its three submodules")
	require.Equal(t, &equipment, subs["scientific"].Latest.Data.UploadID, "a module file counts for each submodule")

	require.False(t, by["research_facilities"].Enabled)
	require.False(t, by["research_facilities"].Incomplete, "disabled modules are never incomplete")
	require.Empty(t, subs["facility"].IncompleteReasons)

	require.True(t, by["purchases"].NeedsRecalculation)
	require.Equal(t, []string{"fx"}, by["purchases"].RecalcReasons)
	require.Equal(t, &running.ID, by["purchases"].ActivePipelineID)
	require.False(t, by["headcount"].NeedsRecalculation)
	require.Nil(t, by["headcount"].ActivePipelineID)

	_, err = b.svc.DataStatus(ctx, 2099)
	requireReason(t, err, apperr.CodeNotFound, "")
}
