package entry_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	member := func(over map[string]any) map[string]any {
		m := map[string]any{"name": "Ada", "sius_code": "53", "user_institutional_id": "100001", "fte": 1}
		for k, v := range over {
			if v == nil {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		sub   emission.SubmoduleKey
		data  map[string]any
		field string
		code  string
	}{
		{name: "EnumInvalid", sub: emission.SubMember, data: member(map[string]any{"sius_code": "99"}), field: "data.sius_code", code: "invalid_enum"},
		{name: "EquipmentHoursExceedWeek", sub: emission.SubScientific, data: map[string]any{"equipment_id": "E1", "name": "x", "equipment_class": "c",
			"active_usage_hours_per_week": 100, "standby_usage_hours_per_week": 100}, field: "data.active_usage_hours_per_week", code: "hours_exceed_week"},
		{name: "HoursNotInteger", sub: emission.SubScientific, data: map[string]any{"equipment_id": "E1", "name": "x", "equipment_class": "c",
			"active_usage_hours_per_week": 1.5}, field: "data.active_usage_hours_per_week", code: "invalid_format"},
		{name: "NulInString", sub: emission.SubMember, data: member(map[string]any{"name": "Ada\x00"}), field: "data.name", code: "invalid_format"},
		{name: "NumberAsNumericString", sub: emission.SubMember, data: member(map[string]any{"fte": "1"}), field: "data.fte", code: "invalid_format"},
		{name: "NumberAsString", sub: emission.SubMember, data: member(map[string]any{"fte": "abc"}), field: "data.fte", code: "invalid_format"},
		{name: "PlaneTripsAsString", sub: emission.SubPlane, data: map[string]any{"origin_iata": "GVA", "destination_iata": "ZRH",
			"user_institutional_id": "1", "cabin_class": "economy", "number_of_trips": "2"}, field: "data.number_of_trips", code: "invalid_format"},
		{name: "OutOfRange", sub: emission.SubMember, data: member(map[string]any{"fte": 1.5}), field: "data.fte", code: "out_of_range"},
		{name: "PlaneDateOutsideYear", sub: emission.SubPlane, data: map[string]any{"origin_iata": "GVA", "destination_iata": "GVA",
			"user_institutional_id": "1", "cabin_class": "economy", "departure_date": "1999-01-01"}, field: "data.departure_date", code: "date_outside_year"},
		{name: "PlaneSystemField", sub: emission.SubPlane, data: map[string]any{"origin_iata": "AAA", "destination_iata": "BBB",
			"user_institutional_id": "1", "cabin_class": "economy", "provider_distance_km": 10}, field: "data.provider_distance_km", code: "unknown_field"},
		{name: "PlaneUnknownLocation", sub: emission.SubPlane, data: map[string]any{"origin_iata": "QQ1", "destination_iata": "QQ2",
			"user_institutional_id": "1", "cabin_class": "economy"}, field: "data.origin_iata", code: "unknown_location"},
		{name: "PurchaseCurrency", sub: emission.SubServices, data: map[string]any{"name": "x", "total_spent_amount": 1,
			"purchase_institutional_code": "P", "currency": "XYZ"}, field: "data.currency", code: "invalid_enum"},
		{name: "Required", sub: emission.SubMember, data: member(map[string]any{"name": nil}), field: "data.name", code: "required"},
		{name: "RequiredBlank", sub: emission.SubMember, data: member(map[string]any{"name": "   "}), field: "data.name", code: "required"},
		{name: "RoomRatioZero", sub: emission.SubRoom, data: map[string]any{"building_name": "B", "room_name": "R", "room_type": "office",
			"surface_m2": 10, "room_allocation_ratio": 0}, field: "data.room_allocation_ratio", code: "out_of_range"},
		{name: "RoomUnknownNeedsSurface", sub: emission.SubRoom, data: map[string]any{"building_name": "NOPE", "room_name": "R", "room_type": "office"},
			field: "data.surface_m2", code: "required"},
		{name: "SciperFormat", sub: emission.SubMember, data: member(map[string]any{"user_institutional_id": "12 34"}), field: "data.user_institutional_id", code: "invalid_format"},
		{name: "StudentNeedsFTE", sub: emission.SubStudent, data: map[string]any{"students": 3}, field: "data.fte", code: "required"},
		{name: "TooLong", sub: emission.SubMember, data: member(map[string]any{"note": strings.Repeat("x", 1001)}), field: "data.note", code: "too_long"},
		{name: "TrainUnknownStation", sub: emission.SubTrain, data: map[string]any{"origin_key": "train:CH:nowhere", "destination_key": "train:CH:nowhere2",
			"user_institutional_id": "1", "cabin_class": "second"}, field: "data.origin_key", code: "unknown_location"},
		{name: "UnknownField", sub: emission.SubMember, data: member(map[string]any{"colour": "red"}), field: "data.colour", code: "unknown_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.svc.Create(b.ctx, b.actor(), b.scope(tt.sub), mustJSON(t, tt.data))
			requireFieldError(t, err, tt.field, tt.code)
		})
	}

	t.Run("InvalidUTF8", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubMember),
			[]byte("{\"name\": \"Ad\xffa\", \"sius_code\": \"53\", \"user_institutional_id\": \"100001\", \"fte\": 1}"))
		requireFieldError(t, err, "data.name", "invalid_format")
	})

	t.Run("NotAnObject", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubMember), []byte(`[1]`))
		requireFieldError(t, err, "data", "invalid_format")
	})
}

func TestWriteRules(t *testing.T) {
	t.Parallel()

	t.Run("CrossScopeIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubProcessGas), mustJSON(t, map[string]any{"category": "co2", "quantity": 1}))
		require.NoError(t, err)
		other := testfactory.Report(b.ctx, t, b.tx, &testfactory.ReportOpts{Year: &b.year})
		otherScope := entry.Scope{UnitID: other.Report.UnitID, Year: b.year, Module: emission.ModuleProcessEmissions, Submodule: emission.SubProcessGas}
		_, err = b.svc.Get(b.ctx, b.actor(), otherScope, e.Row.ID)
		requireAppErr(t, err, apperr.CodeNotFound, "")
		_, err = b.svc.Update(b.ctx, b.actor(), otherScope, e.Row.ID, []byte(`{"quantity": 2}`), nil)
		requireAppErr(t, err, apperr.CodeNotFound, "")
		requireAppErr(t, b.svc.Delete(b.ctx, b.actor(), otherScope, e.Row.ID, nil), apperr.CodeNotFound, "")
		// Same unit, other module/submodule.
		_, err = b.svc.Get(b.ctx, b.actor(), b.scope(emission.SubCloud), e.Row.ID)
		requireAppErr(t, err, apperr.CodeNotFound, "")
		_, err = b.svc.Get(b.ctx, b.actor(), entry.Scope{UnitID: b.rep.Report.UnitID, Year: b.year, Module: emission.ModuleHeadcount, Submodule: emission.SubProcessGas}, e.Row.ID)
		requireAppErr(t, err, apperr.CodeNotFound, "")
	})

	t.Run("DuplicateSciper", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		data := map[string]any{"name": "Ada", "sius_code": "53", "user_institutional_id": "123456", "fte": 1}
		first, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubMember), mustJSON(t, data))
		require.NoError(t, err)
		_, err = b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubMember), mustJSON(t, data))
		ae := requireAppErr(t, err, apperr.CodeConflict, "duplicate_institutional_id")
		require.Equal(t, first.Row.ID, ae.Fields[0].Context["conflicting_entry_id"])

		// Updating the entry itself keeps its SCIPER.
		_, err = b.svc.Update(b.ctx, b.actor(), b.scope(emission.SubMember), first.Row.ID, []byte(`{"fte": 0.5}`), nil)
		require.NoError(t, err)

		u, err := b.svc.CheckUnique(b.ctx, b.scope(emission.SubMember), "user_institutional_id", "123456", nil)
		require.NoError(t, err)
		require.False(t, u.Unique)
		require.Equal(t, first.Row.ID, *u.ConflictingEntryID)
		u, err = b.svc.CheckUnique(b.ctx, b.scope(emission.SubMember), "user_institutional_id", "123456", &first.Row.ID)
		require.NoError(t, err)
		require.True(t, u.Unique)
		_, err = b.svc.CheckUnique(b.ctx, b.scope(emission.SubMember), "name", "x", nil)
		requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
	})

	t.Run("EquipmentHoursDefaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.factor(t, emission.SubOther, map[string]string{"equipment_class": "Fridge"}, map[string]any{"active_power_w": 100, "standby_power_w": 0,
			"active_usage_hours_per_week": 168, "standby_usage_hours_per_week": 0, "ef_kg_co2eq_per_kwh": 0.1})
		b.factor(t, emission.SubOther, map[string]string{"equipment_class": "Freezer"}, map[string]any{"active_power_w": 200, "standby_power_w": 0,
			"active_usage_hours_per_week": 100, "standby_usage_hours_per_week": 68, "ef_kg_co2eq_per_kwh": 0.1})
		sc := b.scope(emission.SubOther)
		e, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, map[string]any{"equipment_id": "E1", "name": "f", "equipment_class": "fridge"}))
		require.NoError(t, err)
		require.Equal(t, true, e.Data["hours_defaulted"])
		require.InDelta(t, 168, mustNumber(t, e.Data["active_usage_hours_per_week"]), 0)

		// A class change re-fills defaulted hours from the new factor.
		e, err = b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, []byte(`{"equipment_class": "Freezer"}`), nil)
		require.NoError(t, err)
		require.InDelta(t, 100, mustNumber(t, e.Data["active_usage_hours_per_week"]), 0)
		require.Equal(t, true, e.Data["hours_defaulted"])

		// Explicit hours are kept and clear the flag; hours_defaulted
		// sent by the client is ignored.
		e, err = b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, []byte(`{"active_usage_hours_per_week": 10, "hours_defaulted": true}`), nil)
		require.NoError(t, err)
		require.Equal(t, false, e.Data["hours_defaulted"])
		e, err = b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, []byte(`{"equipment_class": "Fridge"}`), nil)
		require.NoError(t, err)
		require.InDelta(t, 10, mustNumber(t, e.Data["active_usage_hours_per_week"]), 0)
	})

	t.Run("IfMatchStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubProcessGas), mustJSON(t, map[string]any{"category": "co2", "quantity": 1}))
		require.NoError(t, err)
		stale := int32(7)
		_, err = b.svc.Update(b.ctx, b.actor(), b.scope(emission.SubProcessGas), e.Row.ID, []byte(`{"quantity": 2}`), &stale)
		requireAppErr(t, err, apperr.CodePrecondition, "")
		requireAppErr(t, b.svc.Delete(b.ctx, b.actor(), b.scope(emission.SubProcessGas), e.Row.ID, &stale), apperr.CodePrecondition, "")
	})

	t.Run("MergePatchNullClears", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sc := b.scope(emission.SubProcessGas)
		e, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, map[string]any{"category": "co2", "subcategory": "x", "quantity": 1, "note": "n"}))
		require.NoError(t, err)
		e, err = b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, []byte(`{"note": null, "subcategory": null}`), nil)
		require.NoError(t, err)
		require.Nil(t, e.Data["note"])
		require.Nil(t, e.Data["subcategory"])
		_, err = b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, []byte(`{"quantity": null}`), nil)
		requireFieldError(t, err, "data.quantity", "required")
	})

	t.Run("NoFactor", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubProcessGas), mustJSON(t, map[string]any{"category": "ch4", "quantity": 3}))
		require.NoError(t, err)
		require.Equal(t, "no_factor", e.Row.CalcStatus)
		require.NotNil(t, e.Row.CalcMessage)
		require.NotEmpty(t, *e.Row.CalcMessage)
		require.Zero(t, e.Row.KgCo2eq)
		require.Empty(t, e.Emissions)
	})

	t.Run("OwnScope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		o := testfactory.Location(b.ctx, t, b.tx, nil)
		d := testfactory.Location(b.ctx, t, b.tx, nil)
		trip := func(sciper string) map[string]any {
			return map[string]any{"origin_iata": *o.IataCode, "destination_iata": *d.IataCode, "user_institutional_id": sciper, "cabin_class": "economy"}
		}
		sc := b.scope(emission.SubPlane)
		other, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, trip("300002")))
		require.NoError(t, err)
		own := entry.Actor{OwnSciper: "300001"}
		_, err = b.svc.Create(b.ctx, own, sc, mustJSON(t, trip("300002")))
		requireFieldError(t, err, "data.user_institutional_id", "traveler_must_be_self")
		_, err = b.svc.Create(b.ctx, own, sc, mustJSON(t, trip("300001")))
		require.NoError(t, err)
		_, err = b.svc.Get(b.ctx, own, sc, other.Row.ID)
		requireAppErr(t, err, apperr.CodeNotFound, "")
		res, err := b.svc.List(b.ctx, own, sc, entry.ListParams{})
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Total)
	})

	t.Run("StudentOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubStudent), mustJSON(t, map[string]any{"students": 10, "months": 6, "average_fte": 0.5}))
		require.NoError(t, err)
		require.InDelta(t, 2.5, mustNumber(t, e.Data["fte"]), 1e-9, "fte = students × months × average_fte / 12")
		_, err = b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubStudent), mustJSON(t, map[string]any{"fte": 1}))
		requireAppErr(t, err, apperr.CodeConflict, "student_entry_exists")
	})

	t.Run("TableauReadOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleProfessionalTravel)
		e := testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("plane"), Source: new("tableau")})
		_, err := b.svc.Update(b.ctx, b.actor(), b.scope(emission.SubPlane), e.ID, []byte(`{"number_of_trips": 2}`), nil)
		requireAppErr(t, err, apperr.CodeConflict, "entry_read_only")
		requireAppErr(t, b.svc.Delete(b.ctx, b.actor(), b.scope(emission.SubPlane), e.ID, nil), apperr.CodeConflict, "entry_read_only")
		got, err := b.svc.Get(b.ctx, b.actor(), b.scope(emission.SubPlane), e.ID)
		require.NoError(t, err)
		require.True(t, got.ReadOnly)
	})

	t.Run("TrainImportedRowEditable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.factor(t, emission.SubTrain, nil, nil) // CH 0.004
		for _, name := range []string{"Genève Cornavin", "Zürich HB"} {
			testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{TransportMode: new("train"), Name: new(name),
				Latitude:  new(map[string]float64{"Genève Cornavin": 46.210208, "Zürich HB": 47.378186}[name]),
				Longitude: new(map[string]float64{"Genève Cornavin": 6.142428, "Zürich HB": 8.539203}[name])})
		}
		sc := b.scope(emission.SubTrain)
		rm := b.rep.Module(emission.ModuleProfessionalTravel)
		// A CSV row: station names and countries, no natural keys; the
		// second one names a station absent from the reference data.
		row := func(origin string) map[string]any {
			return map[string]any{"origin_name": origin, "origin_country_code": "CH", "destination_name": "Zürich HB",
				"destination_country_code": "CH", "user_institutional_id": "300009", "cabin_class": "second", "departure_date": dateIn(b.year)}
		}
		imported := testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("train"), Source: new("csv_unit"),
			Data: row("Genève Cornavin")})
		unknown := testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("train"), Source: new("csv_unit"),
			Data: row("Nowhere Central")})

		got, err := b.svc.Get(b.ctx, b.actor(), sc, imported.ID)
		require.NoError(t, err)
		require.Nil(t, got.Data["origin_key"])
		require.Equal(t, "Genève Cornavin", got.Details.OriginName, "computed names of an imported row")
		require.Equal(t, "Zürich HB", got.Details.DestinationName)
		require.InDelta(t, 269, got.Details.DistanceKm, 0) // T1 reversed

		// Saving the row unchanged, as a form sends it back (keys null),
		// resolves and stores the natural keys.
		e, err := b.svc.Update(b.ctx, b.actor(), sc, imported.ID, mustJSON(t, got.Data), nil)
		require.NoError(t, err)
		require.Equal(t, "train:CH:genève cornavin", e.Data["origin_key"])
		require.Equal(t, "train:CH:zürich hb", e.Data["destination_key"])
		require.Equal(t, "csv_unit", e.Row.Source, "edits keep the source")
		require.InDelta(t, 269*0.004, e.Row.KgCo2eq, 1e-9)

		// A new name without a key moves the end; a key wins over a name.
		e, err = b.svc.Update(b.ctx, b.actor(), sc, imported.ID, []byte(`{"destination_name": "genève cornavin"}`), nil)
		require.NoError(t, err)
		require.Equal(t, "train:CH:genève cornavin", e.Data["destination_key"])
		require.Equal(t, "Genève Cornavin", e.Data["destination_name"], "the reference spelling")
		e, err = b.svc.Update(b.ctx, b.actor(), sc, imported.ID,
			[]byte(`{"destination_key": "train:CH:zürich hb", "destination_name": "Somewhere"}`), nil)
		require.NoError(t, err)
		require.Equal(t, "Zürich HB", e.Data["destination_name"])

		// An unknown station shows its CSV name and is reported on the
		// name when the row is saved.
		got, err = b.svc.Get(b.ctx, b.actor(), sc, unknown.ID)
		require.NoError(t, err)
		require.Equal(t, "Nowhere Central", got.Details.OriginName)
		_, err = b.svc.Update(b.ctx, b.actor(), sc, unknown.ID, []byte(`{"number_of_trips": 2}`), nil)
		requireFieldError(t, err, "data.origin_name", "unknown_location")
	})

	t.Run("ValidatedModuleBackToInProgress", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rm := b.rep.Module(emission.ModuleProcessEmissions)
		_, err := b.q.ReportModuleSetStatus(b.ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: "validated"})
		require.NoError(t, err)
		e, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubProcessGas), mustJSON(t, map[string]any{"category": "co2", "quantity": 1}))
		require.NoError(t, err)
		require.True(t, e.ModuleReopened, "the write says it reopened the module")
		got, err := b.q.ReportModuleGet(b.ctx, rm.ID)
		require.NoError(t, err)
		require.Equal(t, "in_progress", got.Status)
		rep, err := b.q.ReportGet(b.ctx, rm.ReportID)
		require.NoError(t, err)
		require.Equal(t, "in_progress", rep.OverallStatus)

		e, err = b.svc.Update(b.ctx, b.actor(), b.scope(emission.SubProcessGas), e.Row.ID, []byte(`{"quantity": 2}`), nil)
		require.NoError(t, err)
		require.False(t, e.ModuleReopened, "already in progress")
		_, err = b.q.ReportModuleSetStatus(b.ctx, dbsqlc.ReportModuleSetStatusParams{ID: rm.ID, Status: "validated"})
		require.NoError(t, err)
		e, err = b.svc.Update(b.ctx, b.actor(), b.scope(emission.SubProcessGas), e.Row.ID, []byte(`{"quantity": 3}`), nil)
		require.NoError(t, err)
		require.True(t, e.ModuleReopened)
	})

	t.Run("YearNotOpen", func(t *testing.T) {
		t.Parallel()
		for status, reason := range map[string]string{"closed": "year_closed", "ready": "year_not_open"} {
			b := setup(t)
			y := testfactory.Year(b.ctx, t, b.tx, &testfactory.YearOpts{Status: &status})
			rep := testfactory.Report(b.ctx, t, b.tx, &testfactory.ReportOpts{Year: &y.Year})
			sc := entry.Scope{UnitID: rep.Report.UnitID, Year: y.Year, Module: emission.ModuleProcessEmissions, Submodule: emission.SubProcessGas}
			_, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, map[string]any{"category": "co2", "quantity": 1}))
			requireAppErr(t, err, apperr.CodeConflict, reason)
			res, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{})
			require.NoError(t, err, "reads stay allowed")
			require.Zero(t, res.Total)
		}
	})
}

func mustNumber(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		require.NoError(t, err)
		return f
	}
	require.Failf(t, "not a number", "%T %v", v, v)
	return 0
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	threshold := 100.0
	cfg := testfactory.DefaultYearConfig()
	cfg["modules"].(map[string]any)["process_emissions"].(map[string]any)["submodules"].(map[string]any)["process_gas"] = //nolint:forcetypeassert // test
		map[string]any{"enabled": true, "threshold_kg": threshold, "inputs_disabled": false}
	y := testfactory.Year(b.ctx, t, b.tx, &testfactory.YearOpts{Config: cfg})
	rep := testfactory.Report(b.ctx, t, b.tx, &testfactory.ReportOpts{Year: &y.Year})
	testfactory.Factor(b.ctx, t, b.tx, &testfactory.FactorOpts{Year: &y.Year, Submodule: new("process_gas"),
		Classification: map[string]string{"category": "co2"}, Values: map[string]any{"ef_kg_co2eq_per_unit": 1}})
	sc := entry.Scope{UnitID: rep.Report.UnitID, Year: y.Year, Module: emission.ModuleProcessEmissions, Submodule: emission.SubProcessGas}
	for i, q := range []float64{50, 300, 200, 10} {
		cat := "co2"
		if i == 3 {
			cat = "n2o" // no factor
		}
		_, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, map[string]any{"category": cat, "quantity": q, "subcategory": []string{"alpha", "beta", "gamma", "delta"}[i]}))
		require.NoError(t, err)
	}
	kgs := func(res *entry.ListResult) []float64 {
		out := []float64{}
		for _, e := range res.Items {
			out = append(out, e.Row.KgCo2eq)
		}
		return out
	}
	sortKeys, err := entry.ParseSort(emission.SubProcessGas, "-kg_co2eq")
	require.NoError(t, err)
	res, err := b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: sortKeys, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []float64{300, 200}, kgs(res))
	require.EqualValues(t, 4, res.Total)
	require.True(t, res.HasMore)
	require.Equal(t, entry.Summary{Count: 4, KgCO2eq: 550, CalcIssues: 1}, res.Summary)
	require.True(t, res.Items[0].AboveThreshold)

	res, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: sortKeys, Limit: 2, Page: 2})
	require.NoError(t, err)
	require.Equal(t, []float64{50, 0}, kgs(res))
	require.False(t, res.HasMore)

	res, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{AboveThreshold: true})
	require.NoError(t, err)
	require.EqualValues(t, 2, res.Total)

	res, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{CalcStatus: "no_factor"})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Total)

	res, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Q: "ALP"})
	require.NoError(t, err)
	require.Equal(t, []float64{50}, kgs(res))

	sortKeys, err = entry.ParseSort(emission.SubProcessGas, "subcategory")
	require.NoError(t, err)
	res, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Sort: sortKeys})
	require.NoError(t, err)
	require.Equal(t, []float64{50, 300, 0, 200}, kgs(res), "alpha, beta, delta, gamma")

	_, err = entry.ParseSort(emission.SubProcessGas, "password")
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_sort")
	_, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Source: "fax"})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
	_, err = b.svc.List(b.ctx, b.actor(), sc, entry.ListParams{Limit: 1001})
	requireAppErr(t, err, apperr.CodeInvalid, "invalid_filter")
}
