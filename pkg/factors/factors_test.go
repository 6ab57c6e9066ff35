package factors_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/factors"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

type testBundle struct {
	tx   pgx.Tx
	svc  *factors.Service
	year int32
}

func setup(ctx context.Context, t *testing.T) *testBundle {
	t.Helper()
	tx := testdb.TestTx(ctx, t)
	client, err := jobs.NewInsertClient(nil)
	require.NoError(t, err)
	year := testfactory.Year(ctx, t, tx, nil).Year
	return &testBundle{tx: tx, year: year,
		svc: &factors.Service{DB: tx, Recalc: jobs.EnqueueRecalc(client), EnqueueCompute: jobs.EnqueueFactorCompute(client)}}
}

// gasInput is a valid process-gas factor of year.
func gasInput(year int32) factors.Input {
	return factors.Input{Year: year, Submodule: "process_gas",
		Classification: map[string]any{"category": "refrigerants", "subcategory": "R134a"},
		Values:         map[string]any{"ef_kg_co2eq_per_unit": 1430.0, "unit": "kg"}}
}

// requireFields checks that err is a 422 whose details are want (field →
// code).
func requireFields(t *testing.T, err error, want map[string]string) {
	t.Helper()
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, apperr.CodeValidation, ae.Code, ae.Error())
	got := map[string]string{}
	for _, f := range ae.Fields {
		got[f.Field] = f.Code
		require.NotEmpty(t, f.Message, f.Field)
	}
	require.Equal(t, want, got)
}

func requireReason(t *testing.T, err error, code apperr.Code, reason apperr.Reason) {
	t.Helper()
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.Code, ae.Error())
	require.Equal(t, reason, ae.Reason, ae.Error())
}

// auditEvents returns the events of an entity, oldest first.
func auditEvents(ctx context.Context, t *testing.T, tx pgx.Tx, entityType, entityID string) []string {
	t.Helper()
	rows, err := tx.Query(ctx, `SELECT event FROM audit_events WHERE entity_type = $1 AND entity_id = $2 ORDER BY seq`, entityType, entityID)
	require.NoError(t, err)
	events, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return events
}

func recalcSeq(ctx context.Context, t *testing.T, tx pgx.Tx, year int32, module string) int64 {
	t.Helper()
	st, err := dbsqlc.New(tx).ModuleYearStateGet(ctx, dbsqlc.ModuleYearStateGetParams{Year: year, Module: module})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	require.NoError(t, err)
	return st.RecalcRequestedSeq
}

// requireRecalcPipeline checks a factor_edit pipeline whose root job is
// the emission_recalc of (year, module).
func requireRecalcPipeline(t *testing.T, p pipeline.View, kind pipeline.Kind, year int32, module string) {
	t.Helper()
	require.Equal(t, string(kind), p.Kind)
	require.Equal(t, "NOT_STARTED", p.Status)
	require.Equal(t, &year, p.Year)
	var recalcs []pipeline.JobView
	for _, j := range p.Jobs {
		if j.Kind == "emission_recalc" {
			recalcs = append(recalcs, j)
		}
	}
	require.NotEmpty(t, recalcs, "the pipeline links the recalculation")
	require.Equal(t, "root", recalcs[0].Role)
	_ = module
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ClosedYear", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		closed := testfactory.Year(ctx, t, b.tx, &testfactory.YearOpts{Status: new("closed")}).Year
		_, err := b.svc.Create(ctx, nil, gasInput(closed))
		requireReason(t, err, apperr.CodeConflict, "year_closed")
	})

	t.Run("Exists", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		_, err := b.svc.Create(ctx, nil, gasInput(b.year))
		require.NoError(t, err)
		in := gasInput(b.year)
		in.Classification = map[string]any{"category": "Refrigerants", "subcategory": " r134a "} // same identity, folded
		_, err = b.svc.Create(ctx, nil, in)
		requireReason(t, err, apperr.CodeConflict, factors.ReasonFactorExists)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		cases := []struct {
			name string
			in   factors.Input
			want map[string]string
		}{
			{"ClassificationNotInTree", factors.Input{Submodule: "process_gas",
				Classification: map[string]any{"category": "unobtainium"}, Values: map[string]any{"ef_kg_co2eq_per_unit": 1.0}},
				map[string]string{"classification": "classification_not_in_tree"}},
			{"HeadcountClassNotInTree", factors.Input{Submodule: "member",
				Classification: map[string]any{"headcount_category": "food", "headcount_class": "caviar"},
				Values:         map[string]any{"number_of_unit_per_fte": 1.0, "ef_kg_co2eq_per_unit": 1.0, "unit": "kg"}},
				map[string]string{"classification": "classification_not_in_tree"}},
			{"UnknownUnit", factors.Input{Submodule: "member",
				Classification: map[string]any{"headcount_category": "commuting", "headcount_class": "car"},
				Values:         map[string]any{"number_of_unit_per_fte": 2000.0, "ef_kg_co2eq_per_unit": 0.15, "unit": "litres"}},
				map[string]string{"values.unit": "invalid_enum"}},
			{"UnknownCurrency", factors.Input{Submodule: "services",
				Classification: map[string]any{"purchase_institutional_code": "P1"},
				Values:         map[string]any{"ef_kg_co2eq_per_currency": 0.5, "currency": "EURO"}},
				map[string]string{"values.currency": "invalid_enum"}},
			{"NegativeAndNotANumber", factors.Input{Submodule: "plane",
				Classification: map[string]any{"category": "short_haul", "cabin_class": "economy"},
				Values:         map[string]any{"ef_kg_co2eq_per_km": -1.0, "min_distance": "abc", "max_distance": 500.0}},
				map[string]string{"values.ef_kg_co2eq_per_km": "out_of_range", "values.min_distance": "invalid_format"}},
			{"ShareAboveOne", factors.Input{Submodule: "animal_facility",
				Classification: map[string]any{"researchfacility_id": "4201", "researchfacility_name": "AF", "researchfacility_type": "mice"},
				Values:         map[string]any{"use_unit": "cage_days", "total_use": 10.0, "equipment_share": 1.5}},
				map[string]string{"values.equipment_share": "out_of_range"}},
			{"RequiredMissing", factors.Input{Submodule: "process_gas",
				Classification: map[string]any{"category": "co2"}, Values: map[string]any{}},
				map[string]string{"values.ef_kg_co2eq_per_unit": "required"}},
			{"UnknownKeysAndTypes", factors.Input{Submodule: "process_gas",
				Classification: map[string]any{"category": 12.0, "colour": "red", "unit": "kg"},
				Values:         map[string]any{"ef_kg_co2eq_per_unit": true, "year": 2025.0}},
				map[string]string{"classification.category": "invalid_format", "classification.colour": "unknown_field",
					"classification.unit": "unknown_field", "values.ef_kg_co2eq_per_unit": "invalid_format", "values.year": "unknown_field"}},
			{"UnknownSubmodule", factors.Input{Submodule: "rockets"}, map[string]string{"submodule": "invalid_enum"}},
			{"NoFactors", factors.Input{Submodule: ""}, map[string]string{"submodule": "invalid_enum"}},
		}
		for _, tt := range cases {
			in := tt.in
			if in.Year == 0 {
				in.Year = b.year
			}
			_, err := b.svc.Create(ctx, nil, in)
			t.Run(tt.name, func(t *testing.T) { requireFields(t, err, tt.want) })
		}
		in := gasInput(1999)
		_, err := b.svc.Create(ctx, nil, in)
		requireFields(t, err, map[string]string{"year": "out_of_range"})
		n, err := dbsqlc.New(b.tx).FactorsCount(ctx, dbsqlc.FactorsCountParams{Year: &b.year})
		require.NoError(t, err)
		require.Zero(t, n, "nothing stored")
		require.Zero(t, recalcSeq(ctx, t, b.tx, b.year, "process_emissions"), "nothing requested")
	})

	t.Run("MissingYear", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		_, err := b.svc.Create(ctx, nil, gasInput(2100))
		if err == nil {
			t.Skip("year 2100 exists in this run")
		}
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		in := gasInput(b.year)
		in.Values["unit"] = "kg"
		w, err := b.svc.Create(ctx, nil, in)
		require.NoError(t, err)
		f := w.Factor
		require.Equal(t, factors.SourceAPI, f.Source)
		require.Equal(t, int64(1), f.Version)
		require.Equal(t, emission.EmissionType("process_emissions.refrigerants"), f.EmissionType)
		require.Equal(t, map[string]string{"category": "refrigerants", "subcategory": "R134a"}, f.Classification)
		require.Equal(t, map[string]any{"ef_kg_co2eq_per_unit": 1430.0, "unit": "kg"}, f.Values)
		require.False(t, f.Stale)
		requireRecalcPipeline(t, w.Pipeline, pipeline.KindFactorEdit, b.year, "process_emissions")

		job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, b.tx, &jobs.EmissionRecalcArgs{}, nil)
		require.Equal(t, jobs.EmissionRecalcArgs{Year: int(b.year), Module: "process_emissions"}, *job.Args)
		require.Equal(t, int64(1), recalcSeq(ctx, t, b.tx, b.year, "process_emissions"))
		require.Equal(t, []string{factors.EventCreate}, auditEvents(ctx, t, b.tx, "factor", itoa(f.ID)))

		got, err := b.svc.Get(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, f.ID, got.ID)
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	created := func(t *testing.T, b *testBundle) factors.Factor {
		t.Helper()
		w, err := b.svc.Create(ctx, nil, gasInput(b.year))
		require.NoError(t, err)
		return w.Factor
	}

	t.Run("IdentityTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		f := created(t, b)
		other := gasInput(b.year)
		other.Classification = map[string]any{"category": "co2"}
		_, err := b.svc.Create(ctx, nil, other)
		require.NoError(t, err)
		_, err = b.svc.Update(ctx, nil, f.ID, factors.Patch{Classification: map[string]any{"category": "co2", "subcategory": nil}}, nil)
		requireReason(t, err, apperr.CodeConflict, factors.ReasonFactorExists)
	})

	t.Run("InvalidKeepsFactor", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		f := created(t, b)
		_, err := b.svc.Update(ctx, nil, f.ID, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": -3.0},
			Classification: map[string]any{"category": "gold"}}, nil)
		requireFields(t, err, map[string]string{"values.ef_kg_co2eq_per_unit": "out_of_range"})
		got, err := b.svc.Get(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, f.Values, got.Values)
		require.Equal(t, int64(1), got.Version)
	})

	t.Run("MergedAndVersioned", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		f := created(t, b)
		w, err := b.svc.Update(ctx, nil, f.ID, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": 2000.0}}, new(int64(1)))
		require.NoError(t, err)
		require.Equal(t, map[string]any{"ef_kg_co2eq_per_unit": 2000.0, "unit": "kg"}, w.Factor.Values, "merged")
		require.Equal(t, int64(2), w.Factor.Version)
		requireRecalcPipeline(t, w.Pipeline, pipeline.KindFactorEdit, b.year, "process_emissions")
		require.Equal(t, int64(2), recalcSeq(ctx, t, b.tx, b.year, "process_emissions"))

		// null removes an optional key: the identity follows.
		w, err = b.svc.Update(ctx, nil, f.ID, factors.Patch{Classification: map[string]any{"subcategory": nil}}, nil)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"category": "refrigerants"}, w.Factor.Classification)
		require.Equal(t, int64(3), w.Factor.Version)
		require.Equal(t, []string{factors.EventCreate, factors.EventUpdate, factors.EventUpdate}, auditEvents(ctx, t, b.tx, "factor", itoa(f.ID)))
		var diff json.RawMessage
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT diff FROM audit_events WHERE entity_type = 'factor' AND entity_id = $1 AND entity_version = 2`,
			itoa(f.ID)).Scan(&diff))
		require.Contains(t, string(diff), "2000", "the update is diffed")

		// A stale version loses.
		_, err = b.svc.Update(ctx, nil, f.ID, factors.Patch{Values: map[string]any{"unit": "kg"}}, new(int64(1)))
		require.Equal(t, apperr.CodePrecondition, apperr.CodeOf(err))
	})

	t.Run("ImportedFactorFirstEditDiffed", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		// Loaded as a factor import does: no audited version before the edit.
		f := testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year,
			Classification: map[string]string{"category": "refrigerants", "subcategory": "R32"},
			Values:         map[string]any{"ef_kg_co2eq_per_unit": 675.0, "unit": "kg"}})
		_, err := b.svc.Update(ctx, nil, f.ID, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": 700.0}}, nil)
		require.NoError(t, err)
		require.Equal(t, []string{factors.EventUpdate}, auditEvents(ctx, t, b.tx, "factor", itoa(f.ID)))
		var diff map[string]map[string]any
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT diff FROM audit_events WHERE entity_type = 'factor' AND entity_id = $1`,
			itoa(f.ID)).Scan(&diff))
		require.Equal(t, map[string]any{"values": map[string]any{"old": map[string]any{"ef_kg_co2eq_per_unit": 675.0, "unit": "kg"},
			"new": map[string]any{"ef_kg_co2eq_per_unit": 700.0, "unit": "kg"}}, "source": map[string]any{"old": "csv", "new": "api"}},
			diff["changed"], "the first audited edit is diffed against the factor as it was")
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		_, err := b.svc.Update(ctx, nil, 1<<62, factors.Patch{}, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		_, err = b.svc.Delete(ctx, nil, 1<<62, nil)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("StoredAliasNames", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t)
		w, err := b.svc.Create(ctx, nil, factors.Input{Year: b.year, Submodule: "services",
			Classification: map[string]any{"purchase_institutional_code": "P9"},
			Values:         map[string]any{"ef_kg_co2eq_per_currency": 0.5, "currency": "chf", "purchase_institutional_description": "Cleaning"}})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"ef_kg_co2eq_per_currency": 0.5, "currency": "CHF", "description": "Cleaning"}, w.Factor.Values)
		// The values read back (stored names) are accepted as they are.
		w, err = b.svc.Update(ctx, nil, w.Factor.ID, factors.Patch{Values: map[string]any{"description": "Facility cleaning"}}, nil)
		require.NoError(t, err)
		require.Equal(t, "Facility cleaning", w.Factor.Values["description"])
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(ctx, t)
	rep := testfactory.Report(ctx, t, b.tx, &testfactory.ReportOpts{Year: &b.year})
	pe := rep.Module(emission.ModuleProcessEmissions)
	w, err := b.svc.Create(ctx, nil, gasInput(b.year))
	require.NoError(t, err)
	f := w.Factor
	e := testfactory.Entry(ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas"),
		KgCO2eq: new(2860.0), PrimaryFactorID: &f.ID})

	_, err = b.svc.Delete(ctx, nil, f.ID, new(int64(7)))
	require.Equal(t, apperr.CodePrecondition, apperr.CodeOf(err), "a stale If-Match")

	p, err := b.svc.Delete(ctx, nil, f.ID, new(int64(1)))
	require.NoError(t, err)
	requireRecalcPipeline(t, p, pipeline.KindFactorEdit, b.year, "process_emissions")
	_, err = b.svc.Get(ctx, f.ID)
	require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	got, err := dbsqlc.New(b.tx).EntryGet(ctx, dbsqlc.EntryGetParams{ID: e.ID, ReportModuleID: pe.ID, Submodule: "process_gas"})
	require.NoError(t, err)
	require.Nil(t, got.PrimaryFactorID, "no entry points at a deleted factor")
	require.Equal(t, int64(2), recalcSeq(ctx, t, b.tx, b.year, "process_emissions"))
	require.Equal(t, []string{factors.EventCreate, factors.EventDelete}, auditEvents(ctx, t, b.tx, "factor", itoa(f.ID)))
}

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(ctx, t)
	for _, c := range []string{"co2", "ch4", "n2o"} {
		in := gasInput(b.year)
		in.Classification = map[string]any{"category": c}
		_, err := b.svc.Create(ctx, nil, in)
		require.NoError(t, err)
	}
	testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("member")})

	ids := func(fs []factors.Factor) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.ClassKey)
		}
		return out
	}
	items, total, err := b.svc.List(ctx, factors.ListParams{Year: &b.year, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, int64(4), total)
	require.Equal(t, "member", string(items[0].Submodule), "default sort: submodule, class key")
	require.Equal(t, []string{"category=ch4", "category=co2", "category=n2o"}, ids(items[1:]))

	sort, err := factors.ParseSort("-class_key")
	require.NoError(t, err)
	items, total, err = b.svc.List(ctx, factors.ListParams{Year: &b.year, Submodule: "process_gas", Q: "=C", Sort: sort, Limit: 1, Offset: 1})
	require.NoError(t, err)
	require.Equal(t, int64(2), total, "q is a case-insensitive substring of the class key (co2, ch4)")
	require.Equal(t, []string{"category=ch4"}, ids(items))

	items, _, err = b.svc.List(ctx, factors.ListParams{Year: &b.year, Module: "headcount", Stale: new(false), Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 1)

	_, err = factors.ParseSort("colour")
	requireReason(t, err, apperr.CodeInvalid, "invalid_sort")
	_, err = factors.ParseSort("id,submodule,class_key")
	requireReason(t, err, apperr.CodeInvalid, "invalid_sort")
	_, _, err = b.svc.List(ctx, factors.ListParams{Module: "rockets", Limit: 10})
	requireReason(t, err, apperr.CodeInvalid, "invalid_filter")
}

// uploaded records a factor upload of (module, submodule) whose import
// ended in state ("succeeded" or "failed").
func uploaded(ctx context.Context, t *testing.T, tx pgx.Tx, year int32, module, submodule, state string) uuid.UUID {
	t.Helper()
	opts := &testfactory.UploadOpts{Year: &year, Module: &module, Import: &state}
	if submodule != "" {
		opts.Submodule = &submodule
	}
	return testfactory.Upload(ctx, t, tx, opts).ID
}

func TestStaleAndPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(ctx, t)
	gas := func(category string, upload *uuid.UUID) dbsqlc.Factor {
		return testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("process_gas"),
			Classification: map[string]string{"category": category}, Values: map[string]any{"ef_kg_co2eq_per_unit": 1, "unit": "kg"},
			LastUploadID: upload})
	}
	staleKeys := func(year *int32, sub string) []string {
		fs, err := b.svc.Stale(ctx, year, sub)
		require.NoError(t, err)
		out := []string{}
		for _, f := range fs {
			out = append(out, string(f.Submodule)+":"+f.ClassKey)
		}
		return out
	}
	// A group never uploaded has no stale factor, even when created by hand.
	gas("co2", nil)
	require.Empty(t, staleKeys(&b.year, ""))

	u1 := uploaded(ctx, t, b.tx, b.year, "process_emissions", "process_gas", "succeeded")
	gas("ch4", &u1)
	gas("n2o", &u1)
	u2 := uploaded(ctx, t, b.tx, b.year, "process_emissions", "process_gas", "succeeded")
	gas("refrigerants", &u2)
	gas("ch4", &u2)                                                              // re-asserted by u2
	uploaded(ctx, t, b.tx, b.year, "process_emissions", "process_gas", "failed") // a failed import counts for nothing
	// A purchases module file covers the seven categories, not additional.
	u3 := uploaded(ctx, t, b.tx, b.year, "purchases", "", "succeeded")
	testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("services"), LastUploadID: &u3})
	testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("it_equipment")})
	testfactory.Factor(ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new("additional")})

	require.Equal(t, []string{"it_equipment:purchase_institutional_code=p1000", "process_gas:category=co2", "process_gas:category=n2o"},
		staleKeys(&b.year, ""))
	require.Equal(t, []string{"process_gas:category=co2", "process_gas:category=n2o"}, staleKeys(&b.year, "process_gas"))
	items, _, err := b.svc.List(ctx, factors.ListParams{Year: &b.year, Stale: new(true), Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 3)

	res, err := b.svc.PurgeStale(ctx, nil, b.year, "process_gas")
	require.NoError(t, err)
	require.Equal(t, 2, res.Deleted)
	requireRecalcPipeline(t, res.Pipeline, pipeline.KindFactorEdit, b.year, "process_emissions")
	require.Equal(t, []string{factors.EventPurge}, auditEvents(ctx, t, b.tx, "factor", itoa(int64(b.year))+"/process_gas"))
	require.Equal(t, []string{"it_equipment:purchase_institutional_code=p1000"}, staleKeys(&b.year, ""))

	_, err = b.svc.PurgeStale(ctx, nil, b.year, "process_gas")
	requireReason(t, err, apperr.CodeInvalid, factors.ReasonNothingToPurge)

	res, err = b.svc.PurgeStale(ctx, nil, b.year, "")
	require.NoError(t, err)
	require.Equal(t, 1, res.Deleted)
	require.Equal(t, int64(1), recalcSeq(ctx, t, b.tx, b.year, "purchases"))
	require.Empty(t, staleKeys(&b.year, ""))

	_, err = b.svc.PurgeStale(ctx, nil, b.year, "rockets")
	requireFields(t, err, map[string]string{"submodule": "invalid_enum"})
}

// Two operators edit the same factor from the version they both read: the
// first to commit wins, the other gets 412 — also when it was already
// waiting for the first one's lock.
func TestConcurrentEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := testdb.TestSchema(ctx, t)
	client, err := jobs.NewInsertClient(nil)
	require.NoError(t, err)
	svc := &factors.Service{DB: schema.Pool, Recalc: jobs.EnqueueRecalc(client)}
	year := testfactory.Year(ctx, t, schema.Pool, nil).Year
	w, err := svc.Create(ctx, nil, gasInput(year))
	require.NoError(t, err)
	id, read := w.Factor.ID, w.Factor.Version

	// The winner's transaction is open (its edit made, not committed).
	winnerTx, err := schema.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = winnerTx.Rollback(ctx) }()
	winner := &factors.Service{DB: winnerTx, Recalc: jobs.EnqueueRecalc(client)}
	_, err = winner.Update(ctx, nil, id, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": 1500.0}}, &read)
	require.NoError(t, err)

	// The loser starts from the same version and waits for the lock.
	loserErr := make(chan error, 1)
	go func() {
		_, err := svc.Update(ctx, nil, id, factors.Patch{Values: map[string]any{"ef_kg_co2eq_per_unit": 1600.0}}, &read)
		loserErr <- err
	}()
	var winnerPID int32
	require.NoError(t, winnerTx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&winnerPID))
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, schema.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`,
			winnerPID).Scan(&waiting))
		return waiting > 0
	}, 10*time.Second, 5*time.Millisecond, "the second edit waits for the first")
	require.NoError(t, winnerTx.Commit(ctx))

	select {
	case err := <-loserErr:
		require.Equal(t, apperr.CodePrecondition, apperr.CodeOf(err), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the second edit did not finish")
	}
	f, err := svc.Get(ctx, id)
	require.NoError(t, err)
	require.InDelta(t, 1500.0, f.Values["ef_kg_co2eq_per_unit"], 0, "the winner's value")
	require.Equal(t, read+1, f.Version)
}
