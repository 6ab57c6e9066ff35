package postgres_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

// The aggregate queries of the aggregate job (docs/domain.md §12.1) on a small
// fixture: a headcount module (worked example H1 twice plus a student with
// a calc issue), a travel module (P1, P2) and another report's module that
// must not leak in.
func TestAggregates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	q := dbsqlc.New(tx)

	rep := testfactory.Report(ctx, t, tx, nil)
	hc := rep.Module(emission.ModuleHeadcount)
	pt := rep.Module(emission.ModuleProfessionalTravel)
	other := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{Year: &rep.Report.Year}).Module(emission.ModuleHeadcount)

	withQty := func(r dbsqlc.EmissionsCopyFromParams, qty float64, unit string) dbsqlc.EmissionsCopyFromParams {
		r.Quantity, r.QuantityUnit = &qty, &unit
		return r
	}
	var rows []dbsqlc.EmissionsCopyFromParams

	// H1: member fte 0.8 → 160 kg food.vegetarian (80 kg) + 240 kg commuting.car (800 km).
	for _, m := range []struct {
		sciper, sius string
		fte          float64
	}{{"100001", "53", 0.8}, {"100002", "51", 0.8}} {
		e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{
			ReportModule: &hc,
			Data:         map[string]any{"name": "M " + m.sciper, "sius_code": m.sius, "user_institutional_id": m.sciper, "fte": m.fte},
			KgCO2eq:      new(400.0), KgCO2eqAdditional: new(400.0),
		})
		rows = append(rows,
			withQty(emissionRow(e, "food.vegetarian", 160), 80, "kg"),
			withQty(emissionRow(e, "commuting.car", 240), 800, "km"))
	}
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("student"),
		Data: map[string]any{"fte": 2.5}, CalcStatus: new("no_factor")})

	// P1 (313.87 kg, 1 006 km) and P2 (167.70 kg, 325 km), economy.
	for _, p := range []struct{ kg, km float64 }{{313.87, 1006}, {167.70, 325}} {
		e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pt, Submodule: new("plane"), KgCO2eq: &p.kg})
		rows = append(rows, withQty(emissionRow(e, "professional_travel.plane.economy", p.kg), p.km, "km"))
	}
	// An override row has a quantity; a row without one must not break the
	// quantity sums.
	e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pt, Submodule: new("train"), KgCO2eq: new(5.0), CalcStatus: new("override")})
	rows = append(rows, emissionRow(e, "professional_travel.train.second", 5))

	// Noise in another report.
	noise := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &other})
	rows = append(rows, emissionRow(noise, "food.vegetarian", 1000))

	// Two rows of one emission type in different units (noise's report):
	// quantity_units tells the group has several.
	mixed := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &other})
	rows = append(rows, withQty(emissionRow(mixed, "commuting.car", 10), 30, "km"), withQty(emissionRow(mixed, "commuting.car", 5), 2, "l"))

	_, err := q.EmissionsCopyFrom(ctx, rows)
	require.NoError(t, err)
	ids := []int64{hc.ID, pt.ID}

	several, err := q.AggEmissions(ctx, []int64{other.ID})
	require.NoError(t, err)
	require.Len(t, several, 2)
	require.Equal(t, dbsqlc.AggEmissionsRow{ReportModuleID: other.ID, EmissionType: "commuting.car", Category: "commuting", Scope: 3,
		KgCo2eq: 15, Rows: 2, Quantity: 32, QuantityUnit: "km", QuantityUnits: 2}, several[0])
	require.Equal(t, int64(0), several[1].QuantityUnits, "the noise row has no quantity")

	groups, err := q.AggEmissions(ctx, ids)
	require.NoError(t, err)
	require.Len(t, groups, 4)
	require.Equal(t, dbsqlc.AggEmissionsRow{ReportModuleID: hc.ID, EmissionType: "commuting.car", Category: "commuting", Scope: 3,
		KgCo2eq: 480, Rows: 2, Quantity: 1600, QuantityUnit: "km", QuantityUnits: 1}, groups[0])
	require.Equal(t, dbsqlc.AggEmissionsRow{ReportModuleID: hc.ID, EmissionType: "food.vegetarian", Category: "food", Scope: 3,
		KgCo2eq: 320, Rows: 2, Quantity: 160, QuantityUnit: "kg", QuantityUnits: 1}, groups[1])
	require.Equal(t, pt.ID, groups[2].ReportModuleID)
	require.Equal(t, "professional_travel.plane.economy", groups[2].EmissionType)
	require.Equal(t, "professional_travel", groups[2].Category)
	require.InDelta(t, 481.57, groups[2].KgCo2eq, 1e-9)
	require.InDelta(t, 1331, groups[2].Quantity, 0)
	require.Equal(t, int64(2), groups[2].Rows)
	require.Equal(t, dbsqlc.AggEmissionsRow{ReportModuleID: pt.ID, EmissionType: "professional_travel.train.second", Category: "professional_travel",
		Scope: 3, KgCo2eq: 5, Rows: 1, Quantity: 0, QuantityUnit: "", QuantityUnits: 0}, groups[3])

	bySub, err := q.AggEntriesBySubmodule(ctx, ids)
	require.NoError(t, err)
	rounded := slices.Clone(bySub)
	for i := range rounded {
		rounded[i].KgCo2eq = math.Round(rounded[i].KgCo2eq*1e6) / 1e6
	}
	require.Equal(t, []dbsqlc.AggEntriesBySubmoduleRow{
		{ReportModuleID: hc.ID, Submodule: "member", Entries: 2, CalcIssues: 0, KgCo2eq: 800, KgCo2eqAdditional: 800},
		{ReportModuleID: hc.ID, Submodule: "student", Entries: 1, CalcIssues: 1, KgCo2eq: 0, KgCo2eqAdditional: 0},
		{ReportModuleID: pt.ID, Submodule: "plane", Entries: 2, CalcIssues: 0, KgCo2eq: 481.57, KgCo2eqAdditional: 0},
		{ReportModuleID: pt.ID, Submodule: "train", Entries: 1, CalcIssues: 0, KgCo2eq: 5, KgCo2eqAdditional: 0},
	}, rounded)

	fte, err := q.AggHeadcountFTE(ctx, ids)
	require.NoError(t, err)
	require.Equal(t, []dbsqlc.AggHeadcountFTERow{
		{ReportModuleID: hc.ID, Submodule: "member", SiusCode: "51", Fte: 0.8},
		{ReportModuleID: hc.ID, Submodule: "member", SiusCode: "53", Fte: 0.8},
		{ReportModuleID: hc.ID, Submodule: "student", SiusCode: "", Fte: 2.5},
	}, fte)

	// Consistency: Σ of the emission groups = Σ of the entries' cached totals.
	var groupSum, entrySum float64
	for _, r := range groups {
		groupSum += r.KgCo2eq
	}
	for _, r := range bySub {
		entrySum += r.KgCo2eq
	}
	require.InDelta(t, 1286.57, groupSum, 1e-9)
	require.InDelta(t, groupSum, entrySum, 1e-9)
}
