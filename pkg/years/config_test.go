package years_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// config returns the default configuration with patch (JSON) merged the
// way PATCH merges it.
func configWith(t *testing.T, patch string) map[string]any {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(patch), &p))
	cfg := years.DefaultConfig()
	years.MergeConfig(cfg, p)
	return cfg
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()

	t.Run("DefaultIsValid", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, years.ValidateConfig(years.DefaultConfig(), 2026))
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		// Each patch breaks one rule of docs/domain.md §11.2; the detail
		// names the path and the code.
		tests := []struct{ patch, field, code string }{
			{`{"bogus": 1}`, "config.bogus", "unknown_field"},
			{`{"modules": []}`, "config.modules", "invalid_format"},
			{`{"modules": {"cars": {}}}`, "config.modules.cars", "unknown_field"},
			{`{"modules": {"equipment": {"enabled": "yes"}}}`, "config.modules.equipment.enabled", "invalid_format"},
			{`{"modules": {"equipment": {"uncertainty": "huge"}}}`, "config.modules.equipment.uncertainty", "invalid_enum"},
			{`{"modules": {"equipment": {"submodules": {"plane": {}}}}}`, "config.modules.equipment.submodules.plane", "unknown_field"},
			{`{"modules": {"equipment": {"submodules": {"it": {"threshold_kg": -1}}}}}`, "config.modules.equipment.submodules.it.threshold_kg", "out_of_range"},
			{`{"modules": {"equipment": {"submodules": {"it": {"threshold_kg": "10"}}}}}`, "config.modules.equipment.submodules.it.threshold_kg", "invalid_format"},
			{`{"modules": {"headcount": {"submodules": {"member": {"threshold_kg": 5}}}}}`, "config.modules.headcount.submodules.member.threshold_kg", "not_allowed"},
			{`{"modules": {"equipment": {"submodules": {"it": {"inputs_disabled": 1}}}}}`, "config.modules.equipment.submodules.it.inputs_disabled", "invalid_format"},
			{`{"reduction_objectives": {"goals": {}}}`, "config.reduction_objectives.goals", "invalid_format"},
			{`{"reduction_objectives": {"goals": [{"target_year": 2026, "reference_year": 2019, "reduction_percentage": 0.5}]}}`,
				"config.reduction_objectives.goals[0].target_year", "out_of_range"},
			{`{"reduction_objectives": {"goals": [{"target_year": 2030, "reference_year": 2030, "reduction_percentage": 0.5}]}}`,
				"config.reduction_objectives.goals[0].reference_year", "out_of_range"},
			{`{"reduction_objectives": {"goals": [{"target_year": 2030, "reference_year": 2019, "reduction_percentage": 1.5}]}}`,
				"config.reduction_objectives.goals[0].reduction_percentage", "out_of_range"},
			{`{"reduction_objectives": {"goals": [{"target_year": 2030.5, "reference_year": 2019, "reduction_percentage": 0.5}]}}`,
				"config.reduction_objectives.goals[0].target_year", "invalid_format"},
			{`{"reduction_objectives": {"goals": [{"target_year": 2030, "reduction_percentage": 0.5}]}}`,
				"config.reduction_objectives.goals[0].reference_year", "required"},
			{`{"reduction_objectives": {"institutional_footprint": [{"year": 2019, "category": "", "t_co2eq": 1}]}}`,
				"config.reduction_objectives.institutional_footprint[0].category", "required"},
			{`{"reduction_objectives": {"population_projections": [{"year": 2030, "population": -5}]}}`,
				"config.reduction_objectives.population_projections[0].population", "out_of_range"},
			{`{"reduction_objectives": {"unit_scenarios": [{"scenario": "x", "year": 2030, "reduction_percentage": 0.5, "extra": 1}]}}`,
				"config.reduction_objectives.unit_scenarios[0].extra", "unknown_field"},
			{`{"reduction_objectives": {"files": {"footprint": {"upload_id": "nope", "filename": "a.csv", "uploaded_at": "2026-01-01T00:00:00Z"}}}}`,
				"config.reduction_objectives.files.footprint.upload_id", "invalid_format"},
			{`{"reduction_objectives": {"files": {"budget": null}}}`, "config.reduction_objectives.files.budget", "unknown_field"},
		}
		for _, tt := range tests {
			errs := years.ValidateConfig(configWith(t, tt.patch), 2026)
			require.Len(t, errs, 1, tt.patch)
			require.Equal(t, tt.field, errs[0].Field, tt.patch)
			require.Equal(t, tt.code, errs[0].Code, tt.patch)
		}
	})

	t.Run("MergeObjectsReplaceArrays", func(t *testing.T) {
		t.Parallel()
		cfg := configWith(t, `{"modules": {"equipment": {"submodules": {"it": {"threshold_kg": 100}}}},
			"reduction_objectives": {"goals": [{"target_year": 2030, "reference_year": 2019, "reduction_percentage": 0.5}]}}`)
		years.MergeConfig(cfg, map[string]any{"modules": map[string]any{"equipment": map[string]any{"uncertainty": "low"}},
			"reduction_objectives": map[string]any{"goals": []any{}}})
		require.Empty(t, years.ValidateConfig(cfg, 2026))
		eq := cfg["modules"].(map[string]any)["equipment"].(map[string]any) //nolint:forcetypeassert // test
		require.Equal(t, "low", eq["uncertainty"])
		it := eq["submodules"].(map[string]any)["it"].(map[string]any) //nolint:forcetypeassert // test
		require.InDelta(t, 100.0, it["threshold_kg"], 0, "a sibling key survives the merge")
		require.Equal(t, true, it["enabled"])
		require.Empty(t, cfg["reduction_objectives"].(map[string]any)["goals"], "an array replaces") //nolint:forcetypeassert // test
	})

	t.Run("EnabledModules", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(configWith(t, `{"modules": {"purchases": {"enabled": false}}}`))
		require.NoError(t, err)
		mods := years.EnabledModules(b)
		require.Len(t, mods, 7)
		require.NotContains(t, mods, "purchases")
		require.Len(t, years.EnabledModules([]byte(`{}`)), 8, "a missing module is enabled")
	})
}
