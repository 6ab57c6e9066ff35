package emission_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// demoTol is the tolerance of docs/domain.md Appendix A: totals are exact or
// rounded to 3 decimals, compared unrounded with 0.001 kg.
const demoTol = 0.001

type demoComputed struct {
	sampleEntry
	rows []emission.Row
	out  emission.Outcome
}

type demoResult struct {
	entries []demoComputed
}

func (d *demoResult) find(t *testing.T, file string, match func(map[string]string) bool) demoComputed {
	t.Helper()
	var found []demoComputed
	for _, e := range d.entries {
		if e.file == file && match(e.raw) {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "sample entry in %s", file)
	return found[0]
}

func (d *demoResult) totals(filter func(demoComputed) bool) (emission.Totals, int) {
	var tot emission.Totals
	n := 0
	for _, e := range d.entries {
		if filter(e) {
			n++
			tot.Add(e.rows...)
		}
	}
	return tot, n
}

// TestDemoLab loads the fourteen sample files of LAB-DEMO with the 2025
// factors, reference data and FX rates, computes every entry and compares
// with the expected totals of docs/domain.md Appendix A.
func TestDemoLab(t *testing.T) {
	t.Parallel()

	lk := demoLookup(t)
	d := &demoResult{}
	for _, s := range loadSamples(t) {
		rows, out := emission.Compute(&s.entry, lk, nil)
		d.entries = append(d.entries, demoComputed{sampleEntry: s, rows: rows, out: out})
	}

	t.Run("CalcIssues", func(t *testing.T) {
		t.Parallel()
		var issues []demoComputed
		for _, e := range d.entries {
			if e.out.Status.IsIssue() {
				issues = append(issues, e)
			}
		}
		require.Len(t, issues, 1)
		em := issues[0]
		require.Equal(t, "facility", em.file)
		require.Equal(t, "EM-DEMO", em.raw["researchfacility_name"])
		require.Equal(t, "days", em.raw["use_unit"])
		require.Equal(t, emission.StatusNoFactor, em.out.Status)
		require.Contains(t, em.out.Message, "use unit mismatch")
		require.Empty(t, em.rows)
	})

	t.Run("Headline", func(t *testing.T) {
		t.Parallel()
		tot, n := d.totals(func(demoComputed) bool { return true })
		require.Equal(t, 214, n)
		require.Equal(t, 776, tot.Rows)
		require.InDelta(t, 192431.663, float64(tot.Total), demoTol)
		require.InDelta(t, 168309.846, float64(tot.Main), demoTol)
		require.InDelta(t, 24121.8175, float64(tot.Additional), demoTol)
		require.InDelta(t, 192.432, tot.Total.Tonnes(), 0.0005)
		itKg := tot.Under("equipment.it") + tot.Under("purchases.it_equipment") +
			tot.Under("external_cloud_ai") + tot.Under("research_facilities.it_facilities")
		require.InDelta(t, 37528.150, float64(itKg), demoTol)
		require.InDelta(t, 1168, float64(tot.Under("research_facilities.it_facilities")), demoTol)
		require.InDelta(t, 107971, tot.QuantityByType["professional_travel.plane.economy"].Value+
			tot.QuantityByType["professional_travel.plane.business"].Value+
			tot.QuantityByType["professional_travel.plane.first"].Value, 0)
		require.InDelta(t, 7135, tot.QuantityByType["professional_travel.train.first"].Value+
			tot.QuantityByType["professional_travel.train.second"].Value, 0)

		var fte float64
		for _, e := range d.entries {
			switch p := e.entry.Payload.(type) {
			case *emission.Member:
				fte += p.FTE
			case *emission.Student:
				fte += *p.FTE
			}
		}
		require.InDelta(t, 23.3, fte, 1e-9)
		require.InDelta(t, 8.259, tot.Total.Tonnes()/fte, 0.0005)
		require.InDelta(t, 642295, float64(tot.Total)/0.2996, 0.5)
	})

	t.Run("PerCategory", func(t *testing.T) {
		t.Parallel()
		tot, _ := d.totals(func(demoComputed) bool { return true })
		want := map[emission.Category]float64{
			"process_emissions":           4640.80,
			"buildings_energy_combustion": 11610.00,
			"buildings_room":              6454.375,
			"equipment":                   9885.863,
			"external_cloud_ai":           898.663,
			"purchases":                   84797.228,
			"research_facilities":         8026.967,
			"professional_travel":         41995.95,
			"commuting":                   10953.38,
			"food":                        9290.90,
			"waste":                       628.7625,
			"embodied_energy":             3248.775,
		}
		require.Len(t, tot.ByCategory, len(want))
		for _, c := range emission.Categories() {
			require.InDelta(t, want[c.Key], float64(tot.ByCategory[c.Key]), demoTol, "category %s", c.Key)
		}
	})

	t.Run("PerModule", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			module                  emission.ModuleKey
			entries, rows           int
			total, main, additional float64
			s1, s2, s3              float64
		}{
			{"headcount", 21, 504, 20873.0425, 0, 20873.0425, 0, 0, 20873.0425},
			{"professional_travel", 50, 50, 41995.95, 41995.95, 0, 0, 0, 41995.95},
			{"buildings", 13, 93, 21313.15, 18064.375, 3248.775, 11610.00, 6454.375, 3248.775},
			{"equipment", 40, 40, 9885.863, 9885.863, 0, 0, 9885.863, 0},
			{"purchases", 63, 63, 84797.228, 84797.228, 0, 1119.60, 0, 83677.628},
			{"research_facilities", 9, 8, 8026.967, 8026.967, 0, 0, 0, 8026.967},
			{"external_cloud_ai", 12, 12, 898.663, 898.663, 0, 0, 0, 898.663},
			{"process_emissions", 6, 6, 4640.80, 4640.80, 0, 4640.80, 0, 0},
		}
		for _, tt := range tests {
			t.Run(string(tt.module), func(t *testing.T) {
				t.Parallel()
				tot, n := d.totals(func(e demoComputed) bool { return emission.ModuleOf(e.entry.Submodule) == tt.module })
				require.Equal(t, tt.entries, n)
				require.Equal(t, tt.rows, tot.Rows)
				require.InDelta(t, tt.total, float64(tot.Total), demoTol)
				require.InDelta(t, tt.main, float64(tot.Main), demoTol)
				require.InDelta(t, tt.additional, float64(tot.Additional), demoTol)
				require.InDelta(t, tt.s1, float64(tot.ByScope[1]), demoTol)
				require.InDelta(t, tt.s2, float64(tot.ByScope[2]), demoTol)
				require.InDelta(t, tt.s3, float64(tot.ByScope[3]), demoTol)
				// The module's rows are exactly those under its roots.
				info, ok := emission.LookupModule(tt.module)
				require.True(t, ok)
				var underRoots emission.Kg
				for _, root := range info.Roots {
					underRoots += tot.Under(root)
				}
				require.InDelta(t, float64(tot.Total), float64(underRoots), 1e-6)
			})
		}
	})

	t.Run("PerSubmodule", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			sub           emission.SubmoduleKey
			entries, rows int
			kg            float64
		}{
			{"member", 20, 480, 16841.58},
			{"student", 1, 24, 4031.4625},
			{"plane", 30, 30, 41867.842},
			{"train", 20, 20, 128.108},
			{"room", 10, 90, 11623.15},
			{"energy_combustion", 3, 3, 9690.00},
			{"scientific", 20, 20, 6636.11},
			{"it", 14, 14, 2918.4025},
			{"other", 6, 6, 331.3505},
			{"scientific_equipment", 9, 9, 14703.143},
			{"it_equipment", 12, 12, 32543.084},
			{"consumable_accessories", 9, 9, 5002.286},
			{"biological_chemical_gaseous", 9, 9, 16178.668},
			{"services", 13, 13, 5522.156},
			{"vehicles", 2, 2, 5100.427},
			{"other_purchases", 6, 6, 4627.863},
			{"additional", 3, 3, 1119.60},
			{"facility", 7, 6, 4735.50},
			{"animal_facility", 2, 2, 3291.467},
			{"cloud", 6, 6, 785.859},
			{"ai", 6, 6, 112.8035},
			{"process_gas", 6, 6, 4640.80},
		}
		for _, tt := range tests {
			t.Run(string(tt.sub), func(t *testing.T) {
				t.Parallel()
				tot, n := d.totals(func(e demoComputed) bool { return e.entry.Submodule == tt.sub })
				require.Equal(t, tt.entries, n)
				require.Equal(t, tt.rows, tot.Rows)
				require.InDelta(t, tt.kg, float64(tot.Total), demoTol)
			})
		}
		t.Run("room_operational_embodied", func(t *testing.T) {
			t.Parallel()
			tot, _ := d.totals(func(e demoComputed) bool { return e.entry.Submodule == "room" })
			require.InDelta(t, 8374.375, float64(tot.Under("buildings.rooms")), demoTol)
			require.InDelta(t, 3248.775, float64(tot.Under("buildings.construction_and_renovation")), demoTol)
		})
	})

	t.Run("SingleEntries", func(t *testing.T) {
		t.Parallel()
		col := func(k, v string) func(map[string]string) bool {
			return func(r map[string]string) bool { return r[k] == v }
		}
		row := func(n int) func(map[string]string) bool {
			i := 0
			return func(map[string]string) bool { i++; return i == n }
		}
		tests := []struct {
			name  string
			file  string
			match func(map[string]string) bool
			kg    float64
			tol   float64
			rows  int
			check func(t *testing.T, e demoComputed)
		}{
			{"member_100003", "member", col("user_institutional_id", "100003"), 801.98, demoTol, 24, func(t *testing.T, e demoComputed) {
				t.Helper()
				var tot emission.Totals
				tot.Add(e.rows...)
				require.InDelta(t, 334.4, float64(tot.Under("food")), demoTol)
				require.InDelta(t, 24.3, float64(tot.Under("waste")), demoTol)
				require.InDelta(t, 443.28, float64(tot.Under("commuting")), demoTol)
				require.InDelta(t, float64(e.out.Kg), float64(e.out.KgAdditional), 1e-9)
				require.InDelta(t, 1760, tot.QuantityByType["commuting.car"].Value, 1e-9)
				require.InDelta(t, 24, tot.QuantityByType["food.vegetarian"].Value, 1e-9)
				require.InDelta(t, 0, float64(tot.ByType["commuting.walking"]), 0)
				require.Contains(t, tot.ByType, emission.EmissionType("commuting.walking"))
			}},
			{"student_line", "student", row(1), 4031.4625, demoTol, 24, nil},
			{"equipment_INV-7918-001", "equipment", col("equipment_id", "INV-7918-001"), 142.48, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.InDelta(t, 1139.84, e.rows[0].Quantity, 1e-9)
				require.Equal(t, emission.EmissionType("equipment.scientific"), e.rows[0].EmissionType)
				require.Equal(t, emission.Scope2, e.rows[0].Scope)
			}},
			{"equipment_INV-7918-009_default_hours", "equipment", col("equipment_id", "INV-7918-009"), 273.00, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.True(t, e.out.Details.HoursDefaulted)
				require.InDelta(t, 2184, e.rows[0].Quantity, 1e-9)
			}},
			{"equipment_INV-7918-014_default_hours", "equipment", col("equipment_id", "INV-7918-014"), 30.29, demoTol, 1, nil},
			{"equipment_INV-7918-028_default_hours", "equipment", col("equipment_id", "INV-7918-028"), 12.116, demoTol, 1, nil},
			{"plane_row1_GVA_CDG", "plane", row(1), 156.936, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.InDelta(t, 503, e.rows[0].Quantity, 0)
				require.Equal(t, "short_haul", e.out.Details.HaulBand)
				require.InDelta(t, 2.0, e.rows[0].Meta.RFI, 0)
			}},
			{"plane_row2_GVA_JFK_business_P3", "plane", row(2), 5502.704, demoTol, 1, nil},
			{"plane_row26_GVA_ZRH_first", "plane", row(26), 335.4, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("professional_travel.plane.first"), e.rows[0].EmissionType)
			}},
			{"train_row1_Lausanne_Bern_first_x4", "train", row(1), 1.504, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.InDelta(t, 376, e.rows[0].Quantity, 0)
				require.Equal(t, emission.EmissionType("professional_travel.train.first"), e.rows[0].EmissionType)
				require.Equal(t, "both_ch", e.rows[0].Meta.CountryRule)
			}},
			{"train_row5_T2", "train", row(5), 3.416, demoTol, 1, nil},
			{"train_row15_Paris_London", "train", row(15), 14.455, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, "GB", e.out.Details.FactorCountry)
			}},
			{"room_BX-120", "room", col("room_name", "BX-120"), 342.25, demoTol, 9, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.InDelta(t, 203.5, float64(e.out.KgAdditional), demoTol)
				require.InDelta(t, 138.75, float64(e.out.Details.OperationalKg), demoTol)
				require.Equal(t, emission.EmissionType("buildings.rooms.heating_elec.office"), e.rows[3].EmissionType)
			}},
			{"room_HG-3.02", "room", col("room_name", "HG-3.02"), 4129.6, demoTol, 9, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("buildings.rooms.heating_thermal.laboratories"), e.rows[3].EmissionType)
				require.Equal(t, emission.Scope1, e.rows[3].Scope)
				require.InDelta(t, 1920, float64(e.rows[3].Kg), demoTol)
				require.InDelta(t, 729.6, float64(e.out.KgAdditional), demoTol)
			}},
			{"room_KW-001_ratio_quarter", "room", col("room_name", "KW-001"), 221.25, demoTol, 9, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.InDelta(t, 80.625, float64(e.out.KgAdditional), demoTol)
			}},
			{"combustion_natural_gas", "energy_combustion", col("fuel", "natural_gas"), 8400, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("buildings.combustion.natural_gas"), e.rows[0].EmissionType)
				require.Equal(t, emission.Scope1, e.rows[0].Scope)
			}},
			{"purchase_magnetic_stirrer_CHF", "purchases", col("name", "Magnetic stirrer hotplates"), 927.35, 0.005, 1, nil},
			{"purchase_gpu_node_USD_IA24", "purchases", col("name", "GPU node 4 GPUs"), 23616.64, 0.005, 1, nil},
			{"purchase_laptops_CHF_IA23", "purchases", col("name", "Laptops 14 inch"), 2409.62, 0.005, 1, nil},
			{"purchase_mini_pcs_code_average", "purchases", col("name", "Mini PCs for instruments"), 663.46, 0.005, 1, nil},
			{"additional_ln2", "additional", col("name", "ln2"), 969.6, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("purchases.additional.ln2"), e.rows[0].EmissionType)
				require.Equal(t, emission.Scope1, e.rows[0].Scope)
			}},
			{"additional_lhe", "additional", col("name", "lhe"), 90, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("purchases.additional.other"), e.rows[0].EmissionType)
			}},
			{"facility_SCITAS", "facility", col("researchfacility_name", "SCITAS"), 1000, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("research_facilities.it_facilities"), e.rows[0].EmissionType)
			}},
			{"facility_EM-DEMO_days", "facility", col("use_unit", "days"), 0, 0, 0, nil},
			{"animal_mice", "animal_facility", col("researchfacility_type", "mice"), 2476.8, demoTol, 1, nil},
			{"animal_fish", "animal_facility", col("researchfacility_type", "fish"), 814.667, demoTol, 1, nil},
			{"cloud_compute_AWS_USD", "cloud", func(r map[string]string) bool {
				return r["provider"] == "AWS" && r["service_type"] == "compute"
			}, 446.22, 0.005, 1, nil},
			{"cloud_virtualisation_Azure_CHF", "cloud", col("provider", "Azure"), 160.26, 0.005, 1, nil},
			{"ai_anthropic_code", "ai", col("provider", "Anthropic"), 14.375, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("external_cloud_ai.ai.anthropic"), e.rows[0].EmissionType)
				require.InDelta(t, 5750, e.rows[0].Quantity, 1e-9)
			}},
			{"ai_mistral_text", "ai", col("provider", "Mistral AI"), 6.555, demoTol, 1, func(t *testing.T, e demoComputed) {
				t.Helper()
				require.Equal(t, emission.EmissionType("external_cloud_ai.ai.mistral_ai"), e.rows[0].EmissionType)
			}},
			{"process_R134a", "process_gas", col("subcategory", "R134a"), 1836, demoTol, 1, nil},
			{"process_ch4_without_subcategory", "process_gas", func(r map[string]string) bool {
				return r["category"] == "ch4" && r["subcategory"] == ""
			}, 27.9, demoTol, 1, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := d.find(t, tt.file, tt.match)
				require.Len(t, e.rows, tt.rows)
				require.InDelta(t, tt.kg, float64(e.out.Kg), tt.tol)
				if tt.check != nil {
					tt.check(t, e)
				}
			})
		}
	})
}
