package entry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestTaxonomyFields(t *testing.T) {
	t.Parallel()

	type factor struct {
		cls  map[string]string
		vals map[string]any
	}
	equipment := func(class, sub string) map[string]any {
		d := map[string]any{"equipment_id": "E1", "name": "x", "equipment_class": class,
			"active_usage_hours_per_week": 10, "standby_usage_hours_per_week": 10}
		if sub != "" {
			d["sub_class"] = sub
		}
		return d
	}
	purchase := func(code, add string) map[string]any {
		d := map[string]any{"name": "x", "total_spent_amount": 10, "currency": "EUR", "purchase_institutional_code": code}
		if add != "" {
			d["purchase_additional_code"] = add
		}
		return d
	}
	withAdd := []factor{
		{}, // P1000
		{map[string]string{"purchase_institutional_code": "P2000", "purchase_additional_code": "IA23"},
			map[string]any{"ef_kg_co2eq_per_currency": 0.4, "currency": "EUR"}},
	}
	tests := []struct {
		name    string
		sub     emission.SubmoduleKey
		factors []factor // nil: the default factor of the submodule; an empty factor is the default too
		data    map[string]any
		// field and code of the expected 422, or the normalized values
		// and calc status of the created entry.
		field, code string
		want        map[string]any
		status      string
	}{
		{name: "AIProviderUnknown", sub: emission.SubAI, data: map[string]any{"provider": "Gemini", "usage_type": "text",
			"requests_per_user_per_day": "1_5", "fte_count": 1}, field: "data.provider", code: "invalid_enum"},
		{name: "AIUsageTypeUnknown", sub: emission.SubAI, data: map[string]any{"provider": "gemini (google)", "usage_type": "video",
			"requests_per_user_per_day": "1_5", "fte_count": 1}, field: "data.usage_type", code: "invalid_enum"},
		{name: "AdditionalNameUnknown", sub: emission.SubAdditional, data: map[string]any{"name": "Liquid nitrogen", "unit": "L",
			"annual_consumption": 1, "coef_to_kg": 0.8}, field: "data.name", code: "invalid_enum"},
		{name: "CloudEnumClassWithoutFactor", sub: emission.SubCloud, data: map[string]any{"service_type": "storage", "provider": "Anything",
			"spent_amount": 1}, want: map[string]any{"provider": "Anything"}, status: "no_factor"},
		{name: "CloudProviderNormalized", sub: emission.SubCloud, data: map[string]any{"service_type": "compute", "provider": " aws ",
			"spent_amount": 1}, want: map[string]any{"provider": "AWS"}, status: "ok"},
		{name: "CloudProviderUnknown", sub: emission.SubCloud, data: map[string]any{"service_type": "compute", "provider": "AWZ",
			"spent_amount": 1}, field: "data.provider", code: "invalid_enum"},
		{name: "EquipmentClassUnknown", sub: emission.SubScientific, data: equipment("centrifug", ""), field: "data.equipment_class", code: "invalid_enum"},
		{name: "EquipmentClassWithoutClassFactor", sub: emission.SubScientific, data: equipment("CENTRIFUGE", ""),
			want: map[string]any{"equipment_class": "Centrifuge"}, status: "no_factor"},
		{name: "EquipmentNormalized", sub: emission.SubScientific, data: equipment("centrifuge", "benchtop"),
			want: map[string]any{"equipment_class": "Centrifuge", "sub_class": "Benchtop"}, status: "ok"},
		{name: "EquipmentSubClassFree", sub: emission.SubIT, factors: []factor{{map[string]string{"equipment_class": "Laptop"},
			map[string]any{"active_power_w": 45, "standby_power_w": 2, "ef_kg_co2eq_per_kwh": 0.125}}}, data: equipment("laptop", "14 inch"),
			want: map[string]any{"equipment_class": "Laptop", "sub_class": "14 inch"}, status: "ok"},
		{name: "EquipmentSubClassUnknown", sub: emission.SubScientific, data: equipment("Centrifuge", "Floor"), field: "data.sub_class", code: "invalid_enum"},
		{name: "FacilityIDMismatch", sub: emission.SubFacility, data: map[string]any{"researchfacility_id": "4102", "researchfacility_name": "scitas",
			"use": 1, "use_unit": "core_hours"}, field: "data.researchfacility_id", code: "invalid_enum"},
		{name: "FacilityNameUnknown", sub: emission.SubFacility, data: map[string]any{"researchfacility_id": "4101", "researchfacility_name": "SCITAZ",
			"use": 1, "use_unit": "core_hours"}, field: "data.researchfacility_name", code: "invalid_enum"},
		{name: "FacilityNormalized", sub: emission.SubAnimalFacility, data: map[string]any{"researchfacility_id": "4201",
			"researchfacility_name": "af-demo mice", "researchfacility_type": "mice", "use": 1, "use_unit": "cage_days"},
			want: map[string]any{"researchfacility_name": "AF-DEMO Mice"}, status: "ok"},
		{name: "FuelNormalized", sub: emission.SubEnergyCombustion, data: map[string]any{"fuel": " NATURAL_GAS ", "quantity": 10},
			want: map[string]any{"fuel": "natural_gas"}, status: "ok"},
		{name: "FuelUnknown", sub: emission.SubEnergyCombustion, data: map[string]any{"fuel": "Natural gas", "quantity": 10},
			field: "data.fuel", code: "invalid_enum"},
		{name: "NoFactorsNoCheck", sub: emission.SubEnergyCombustion, factors: []factor{}, data: map[string]any{"fuel": "Natural gas", "quantity": 10},
			want: map[string]any{"fuel": "Natural gas"}, status: "no_factor"},
		{name: "ProcessEnumClassWithoutFactor", sub: emission.SubProcessGas, data: map[string]any{"category": "ch4", "subcategory": "fossil", "quantity": 1},
			want: map[string]any{"subcategory": "fossil"}, status: "no_factor"},
		{name: "ProcessSubcategoryUnknown", sub: emission.SubProcessGas, data: map[string]any{"category": "refrigerants", "subcategory": "R-134a", "quantity": 1},
			field: "data.subcategory", code: "invalid_enum"},
		{name: "PurchaseAdditionalCodeUnknown", sub: emission.SubServices, factors: withAdd, data: purchase("P2000", "IA99"),
			field: "data.purchase_additional_code", code: "invalid_enum"},
		{name: "PurchaseCodeUnknown", sub: emission.SubServices, factors: withAdd, data: purchase("P3000", ""),
			field: "data.purchase_institutional_code", code: "invalid_enum"},
		{name: "PurchaseCodeOnly", sub: emission.SubServices, factors: withAdd, data: purchase("p2000", ""),
			want: map[string]any{"purchase_institutional_code": "P2000"}, status: "ok"},
		{name: "PurchaseNormalized", sub: emission.SubServices, factors: withAdd, data: purchase("p2000", "ia23"),
			want: map[string]any{"purchase_institutional_code": "P2000", "purchase_additional_code": "IA23"}, status: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			factors := tt.factors
			if factors == nil {
				factors = []factor{{}}
			}
			for _, f := range factors {
				b.factor(t, tt.sub, f.cls, f.vals)
			}
			e, err := b.svc.Create(b.ctx, b.actor(), b.scope(tt.sub), mustJSON(t, tt.data))
			if tt.field != "" {
				requireFieldError(t, err, tt.field, tt.code)
				return
			}
			require.NoError(t, err)
			for k, v := range tt.want {
				require.Equal(t, v, e.Data[k], k)
			}
			require.Equal(t, tt.status, e.Row.CalcStatus, e.Row.CalcMessage)
		})
	}

	t.Run("MessageListsValues", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.factor(t, emission.SubEnergyCombustion, nil, nil)
		_, err := b.svc.Create(b.ctx, b.actor(), b.scope(emission.SubEnergyCombustion), mustJSON(t, map[string]any{"fuel": "gas", "quantity": 1}))
		requireFieldError(t, err, "data.fuel", "invalid_enum")
		ae := requireAppErr(t, err, apperr.CodeValidation, "")
		require.Contains(t, ae.Fields[0].Message, "natural_gas")
	})

	t.Run("UpdateChecksSentFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.factor(t, emission.SubScientific, nil, nil) // Centrifuge/Benchtop
		sc := b.scope(emission.SubScientific)
		// An imported entry with a class outside the taxonomy stays
		// editable as long as the request does not send that class.
		rm := b.rep.Module(emission.ModuleEquipment)
		imported := testfactory.Entry(b.ctx, t, b.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("scientific"),
			Source: new("csv_unit"), Data: equipment("Fridge", "")})
		e, err := b.svc.Update(b.ctx, b.actor(), sc, imported.ID, []byte(`{"name": "renamed"}`), nil)
		require.NoError(t, err)
		require.Equal(t, "Fridge", e.Data["equipment_class"])
		require.Equal(t, "no_factor", e.Row.CalcStatus)
		_, err = b.svc.Update(b.ctx, b.actor(), sc, imported.ID, []byte(`{"equipment_class": "fridge"}`), nil)
		requireFieldError(t, err, "data.equipment_class", "invalid_enum")

		// Fixing the class re-checks the stored sub-value against it.
		e, err = b.svc.Update(b.ctx, b.actor(), sc, imported.ID, []byte(`{"equipment_class": "centrifuge", "sub_class": "BENCHTOP"}`), nil)
		require.NoError(t, err)
		require.Equal(t, "Centrifuge", e.Data["equipment_class"])
		require.Equal(t, "Benchtop", e.Data["sub_class"])
		require.Equal(t, "ok", e.Row.CalcStatus, e.Row.CalcMessage)
		_, err = b.svc.Update(b.ctx, b.actor(), sc, imported.ID, []byte(`{"sub_class": "Floor"}`), nil)
		requireFieldError(t, err, "data.sub_class", "invalid_enum")
	})
}
