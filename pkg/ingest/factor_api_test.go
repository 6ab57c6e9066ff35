package ingest_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// A factor given by name (the API) is validated exactly like the same row
// of a factor file: same row, same errors.
func TestParseFactorLikeCSV(t *testing.T) {
	t.Parallel()
	type rowErr struct{ column, code string }
	summary := func(errs []ingest.RowError) []rowErr {
		out := []rowErr{}
		for _, e := range errs {
			c := ""
			if e.Column != nil {
				c = *e.Column
			}
			out = append(out, rowErr{c, e.Code})
		}
		return out
	}
	cases := []struct {
		name  string
		group string // factor file group
		sub   emission.SubmoduleKey
		cells map[string]string
		codes []string // expected error codes (empty: valid)
	}{
		{"Valid", "process_gas", "process_gas", map[string]string{"category": "refrigerants", "subcategory": "R134a", "ef_kg_co2eq_per_unit": "1430", "unit": "kg"}, nil},
		{"NotInTree", "process_gas", "process_gas", map[string]string{"category": "gold", "ef_kg_co2eq_per_unit": "1"}, []string{"classification_not_in_tree"}},
		{"Negative", "train", "train", map[string]string{"country_code": "CH", "ef_kg_co2eq_per_km": "-1"}, []string{"out_of_range"}},
		{"NotANumber", "train", "train", map[string]string{"country_code": "CH", "ef_kg_co2eq_per_km": "1,5"}, []string{"invalid_number"}},
		{"HeadcountUnit", "member", "member", map[string]string{"headcount_category": "food", "headcount_class": "vegetarian",
			"number_of_unit_per_fte": "30", "ef_kg_co2eq_per_unit": "1.8", "unit": "km"}, []string{"invalid_enum"}},
		{"Currency", "purchases", "services", map[string]string{"purchase_category": "services", "purchase_institutional_code": "P1",
			"ef_kg_co2eq_per_currency": "0.2", "currency": "E"}, []string{"invalid_enum"}},
		{"PlaneBand", "plane", "plane", map[string]string{"category": "short_haul", "cabin_class": "economy", "ef_kg_co2eq_per_km": "0.1",
			"min_distance": "500", "max_distance": "100"}, []string{"out_of_range"}},
		{"Required", "room", "room", map[string]string{"building_name": "BX", "energy_type": "electric"}, []string{"required", "required", "required", "required", "required"}},
		{"RoutedEquipment", "equipment", "it", map[string]string{"equipment_category": "it", "equipment_class": "Laptop", "active_power_w": "40",
			"standby_power_w": "2", "active_usage_hours_per_week": "200", "standby_usage_hours_per_week": "10", "ef_kg_co2eq_per_kwh": "0.1"}, []string{"out_of_range"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The file has every column of its table (missing columns
			// would reject it as a whole); the API names the non-empty ones.
			tbl, err := ingest.FactorTable(tt.group)
			require.NoError(t, err)
			var header, row []string
			for _, c := range tbl.Columns {
				header, row = append(header, c.Name), append(row, tt.cells[c.Name])
			}
			api := map[string]string{}
			for k, v := range tt.cells {
				if f, ok := ingest.FactorFieldByName(tt.sub, k); ok {
					api[f.Column] = v
				}
			}
			var b strings.Builder
			w := csv.NewWriter(&b)
			require.NoError(t, w.Write(header))
			require.NoError(t, w.Write(row))
			w.Flush()
			csvRows, csvErrs, err := parseFactors(t, tt.group, b.String())
			require.NoError(t, err)

			got, apiErrs, err := ingest.ParseFactor(tt.sub, api)
			require.NoError(t, err)
			require.Equal(t, summary(csvErrs), summary(apiErrs), "the same errors as the CSV row")
			codes := []string{}
			for _, e := range apiErrs {
				codes = append(codes, e.Code)
			}
			if tt.codes == nil {
				require.Empty(t, apiErrs)
				require.Len(t, csvRows, 1)
				require.Equal(t, csvRows[0].Classification, got.Classification)
				require.Equal(t, csvRows[0].Values, got.Values)
				require.Equal(t, csvRows[0].ClassKey, got.ClassKey)
				require.Equal(t, csvRows[0].EmissionType, got.EmissionType)
				require.Equal(t, tt.sub, got.Submodule)
				return
			}
			require.Equal(t, tt.codes, codes)
		})
	}
}

func TestFactorFields(t *testing.T) {
	t.Parallel()
	f, ok := ingest.FactorFieldByName(emission.SubServices, "purchase_institutional_description")
	require.True(t, ok)
	require.Equal(t, ingest.FactorField{Column: "purchase_institutional_description", Key: "description"}, f)
	g, ok := ingest.FactorFieldByName(emission.SubServices, "description")
	require.True(t, ok)
	require.Equal(t, f, g, "the stored name resolves to the same field")
	f, ok = ingest.FactorFieldByName(emission.SubAnimalFacility, "equipments_share")
	require.True(t, ok, "an alias of the file")
	require.Equal(t, "equipment_share", f.Column)
	f, ok = ingest.FactorFieldByName(emission.SubIT, "equipment_class")
	require.True(t, ok)
	require.True(t, f.Classification)
	require.True(t, f.Required)
	_, ok = ingest.FactorFieldByName(emission.SubIT, "equipment_category")
	require.False(t, ok, "the routing column is the submodule")
	_, ok = ingest.FactorFields(emission.SubmoduleKey("rockets"))
	require.False(t, ok)
	_, _, err := ingest.ParseFactor("rockets", nil)
	require.Error(t, err)
	_, _, err = ingest.ParseFactor(emission.SubTrain, map[string]string{"colour": "red"})
	require.Error(t, err)
}
