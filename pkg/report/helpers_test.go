package report_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// yearSeq hands out pairs of consecutive years no other test of this
// package uses (every test here names its years explicitly), so that a
// "previous year" never collides with a parallel test's uncommitted year.
var yearSeq atomic.Int32

func yearPair() (prev, cur int32) {
	n := yearSeq.Add(1)
	return 2000 + 2*n, 2001 + 2*n
}

// fixture is a unit with a report in an open year: one process-gas entry
// (R134a 2 kg → 2 860 kg, scope 1) and two members (FTE 1 and 0.5 →
// 200 + 100 kg food, scope 3), computed by the engine.
type fixture struct {
	unit     dbsqlc.Unit
	prevYear int32
	year     int32
	rep      testfactory.ReportBundle
}

func newFixture(ctx context.Context, t *testing.T, tx pgx.Tx, yearOpts *testfactory.YearOpts) fixture {
	t.Helper()
	prev, cur := yearPair()
	if yearOpts == nil {
		yearOpts = &testfactory.YearOpts{}
	}
	yearOpts.Year = &cur
	testfactory.Year(ctx, t, tx, yearOpts)
	unit := testfactory.Unit(ctx, t, tx, nil)
	rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &unit.ID, Year: &cur})

	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &cur, Submodule: new("process_gas")})
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &cur, Submodule: new("member")})
	pe := rep.Module(emission.ModuleProcessEmissions)
	hc := rep.Module(emission.ModuleHeadcount)
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas")})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
		Data: map[string]any{"name": "A", "sius_code": "53", "user_institutional_id": "100001", "fte": 1}})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
		Data: map[string]any{"name": "B", "sius_code": "53", "user_institutional_id": "100002", "fte": 0.5}})
	computeModule(ctx, t, tx, cur, emission.ModuleProcessEmissions)
	computeModule(ctx, t, tx, cur, emission.ModuleHeadcount)
	return fixture{unit: unit, prevYear: prev, year: cur, rep: rep}
}

func computeModule(ctx context.Context, t *testing.T, tx pgx.Tx, year int32, module emission.ModuleKey) {
	t.Helper()
	lk, err := calc.LoadLookup(ctx, tx, int(year), module)
	require.NoError(t, err)
	entries, err := dbsqlc.New(tx).EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{
		Year: year, Module: string(module), Limit: 10000,
	})
	require.NoError(t, err)
	_, err = calc.ComputeAndStore(ctx, tx, lk, entries, time.Now())
	require.NoError(t, err)
}

// refreshAll recomputes every module of the fixture's report.
func (f fixture) refreshAll(ctx context.Context, t *testing.T, tx pgx.Tx) {
	t.Helper()
	ids := make([]int64, len(f.rep.Modules))
	for i, m := range f.rep.Modules {
		ids[i] = m.ID
	}
	require.NoError(t, report.RefreshModuleIDs(ctx, tx, ids, time.Now()))
}

func setStatus(ctx context.Context, t *testing.T, tx pgx.Tx, rm dbsqlc.ReportModule, status string) {
	t.Helper()
	_, err := dbsqlc.New(tx).ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: status})
	require.NoError(t, err)
}

func moduleStats(ctx context.Context, t *testing.T, tx pgx.Tx, id int64) *report.ModuleStats {
	t.Helper()
	rm, err := dbsqlc.New(tx).ReportModuleGet(ctx, id)
	require.NoError(t, err)
	s, err := report.DecodeModuleStats(rm.Stats)
	require.NoError(t, err)
	return s
}

func reportStats(ctx context.Context, t *testing.T, tx pgx.Tx, id int64) report.ReportStats {
	t.Helper()
	r, err := dbsqlc.New(tx).ReportGet(ctx, id)
	require.NoError(t, err)
	var s report.ReportStats
	require.NoError(t, json.Unmarshal(r.Stats, &s))
	return s
}

// storeStats writes hand-made module stats (results tests read only stats).
func storeStats(ctx context.Context, t *testing.T, tx pgx.Tx, rm dbsqlc.ReportModule, s *report.ModuleStats) {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	_, err = dbsqlc.New(tx).ReportModuleSetStats(ctx, dbsqlc.ReportModuleSetStatsParams{ID: rm.ID, Stats: b})
	require.NoError(t, err)
}
