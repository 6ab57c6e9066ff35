package emission_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

func dropIDs(ids ...emission.FactorID) *lookupOpts {
	return &lookupOpts{drop: func(f emission.Factor) bool {
		return slices.Contains(ids, f.ID)
	}}
}

// TestComputeNoRow covers every "no factor / missing input → no row" rule
// of docs/domain.md §6–§7: the entry gets no emission row and a calc status with
// a message.
func TestComputeNoRow(t *testing.T) {
	t.Parallel()

	dropSub := func(sub emission.SubmoduleKey) *lookupOpts {
		return &lookupOpts{drop: func(f emission.Factor) bool { return f.Submodule == sub }}
	}
	facilityFactor := func(id emission.FactorID, name string, v vals) emission.Factor {
		return emission.Factor{ID: id, Submodule: "facility", Classification: cls{"researchfacility_id": "4999", "researchfacility_name": name}, Values: v}
	}
	gvaJFK := &emission.Plane{OriginIATA: "GVA", DestinationIATA: "JFK", UserInstitutionalID: "1", CabinClass: "business"}

	tests := []struct {
		name    string
		opts    *lookupOpts
		nilLk   bool
		entry   emission.Entry
		status  emission.CalcStatus
		message string
	}{
		{name: "ai_no_factor", entry: emission.Entry{Submodule: "ai", Payload: &emission.AI{Provider: "Mistral", UsageType: "text", RequestsPerUserPerDay: "1_5", FTECount: 1}},
			status: emission.StatusNoFactor, message: `AI provider "Mistral"`},
		{name: "ai_unknown_requests_bucket", entry: emission.Entry{Submodule: "ai", Payload: &emission.AI{Provider: "Gemini (Google)", UsageType: "text", RequestsPerUserPerDay: "lots", FTECount: 1}},
			status: emission.StatusMissingInput, message: "requests_per_user_per_day"},
		{name: "additional_no_factor", entry: emission.Entry{Submodule: "additional", Payload: &emission.Additional{Name: "lhe", Unit: "L", AnnualConsumption: 1, CoefToKg: 1}},
			status: emission.StatusNoFactor, message: `"lhe"`},
		{name: "animal_facility_no_factor_for_type", entry: emission.Entry{Submodule: "animal_facility", Payload: &emission.AnimalFacility{ResearchfacilityID: "4201", ResearchfacilityType: "fish", Use: 1, UseUnit: "cage_days"}},
			status: emission.StatusNoFactor},
		{name: "animal_facility_use_unit_mismatch", entry: emission.Entry{Submodule: "animal_facility", Payload: &emission.AnimalFacility{ResearchfacilityID: "4201", ResearchfacilityType: "mice", Use: 1, UseUnit: "days"}},
			status: emission.StatusNoFactor, message: "use unit mismatch"},
		{name: "cloud_no_factor", entry: emission.Entry{Submodule: "cloud", Payload: &emission.Cloud{ServiceType: "storage", Provider: "AWS", SpentAmount: 10}},
			status: emission.StatusNoFactor},
		{name: "cloud_missing_fx", entry: emission.Entry{Submodule: "cloud", Payload: &emission.Cloud{ServiceType: "compute", Provider: "AWS", SpentAmount: 10, Currency: "GBP"}},
			status: emission.StatusMissingFXRate, message: "no FX rate for GBP in 2025"},
		{name: "cloud_unknown_service_type", entry: emission.Entry{Submodule: "cloud", Payload: &emission.Cloud{ServiceType: "gpu", Provider: "AWS", SpentAmount: 10}},
			status: emission.StatusMissingInput},
		{name: "energy_combustion_no_factor", entry: emission.Entry{Submodule: "energy_combustion", Payload: &emission.EnergyCombustion{Fuel: "coal", Quantity: 1}},
			status: emission.StatusNoFactor, message: `fuel "coal"`},
		{name: "entry_of_factors_only_submodule", entry: emission.Entry{Submodule: "embodied_energy", Payload: &emission.RoomEntry{}},
			status: emission.StatusMissingInput},
		{name: "equipment_hours_missing_no_default", entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{EquipmentClass: "Laptop", SubClass: "Gaming"}},
			status: emission.StatusMissingInput, message: "active_usage_hours_per_week"},
		{name: "equipment_no_factor", entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{EquipmentClass: "Printer", ActiveUsageHoursPerWeek: new(1), StandbyUsageHoursPerWeek: new(1)}},
			status: emission.StatusNoFactor, message: `"Printer"`},
		{name: "equipment_no_factor_in_other_submodule", entry: emission.Entry{Submodule: "scientific", Payload: &emission.Equipment{EquipmentClass: "Laptop", ActiveUsageHoursPerWeek: new(1), StandbyUsageHoursPerWeek: new(1)}},
			status: emission.StatusNoFactor},
		{name: "facility_ambiguous_same_id_two_names", opts: &lookupOpts{extra: []emission.Factor{
			facilityFactor(951, "A", vals{"use_unit": "hours", "total_use": 1.0, "kg_co2eq_sum": 1.0}),
			facilityFactor(952, "B", vals{"use_unit": "hours", "total_use": 1.0, "kg_co2eq_sum": 1.0}),
		}}, entry: emission.Entry{Submodule: "facility", Payload: &emission.Facility{ResearchfacilityID: "4999", ResearchfacilityName: "A", Use: 1, UseUnit: "hours"}},
			status: emission.StatusNoFactor, message: "ambiguous factor"},
		{name: "facility_factor_without_kg_sum", opts: &lookupOpts{extra: []emission.Factor{
			facilityFactor(953, "A", vals{"use_unit": "hours", "total_use": 1.0}),
		}}, entry: emission.Entry{Submodule: "facility", Payload: &emission.Facility{ResearchfacilityID: "4999", ResearchfacilityName: "A", Use: 1, UseUnit: "hours"}},
			status: emission.StatusNoFactor, message: "kg_co2eq_sum"},
		{name: "facility_no_factor", entry: emission.Entry{Submodule: "facility", Payload: &emission.Facility{ResearchfacilityID: "4104", Use: 1, UseUnit: "hours"}},
			status: emission.StatusNoFactor},
		{name: "facility_use_unit_mismatch", entry: emission.Entry{Submodule: "facility", Payload: &emission.Facility{ResearchfacilityID: "4101", ResearchfacilityName: "SCITAS", Use: 2, UseUnit: "days"}},
			status: emission.StatusNoFactor, message: `use unit mismatch: entry "days", factor "hours"`},
		{name: "member_no_factors", opts: dropSub("member"), entry: emission.Entry{Submodule: "member", Payload: &emission.Member{FTE: 1}},
			status: emission.StatusNoFactor, message: "no member factors for 2025"},
		{name: "member_nil_lookup", nilLk: true, entry: emission.Entry{Submodule: "member", Payload: &emission.Member{FTE: 1}},
			status: emission.StatusNoFactor},
		{name: "payload_of_other_submodule", entry: emission.Entry{Submodule: "member", Payload: &emission.Student{FTE: new(1.0)}},
			status: emission.StatusMissingInput, message: "does not belong"},
		{name: "payload_nil", entry: emission.Entry{Submodule: "member"},
			status: emission.StatusMissingInput},
		{name: "plane_no_haul_band", opts: dropIDs(211), entry: emission.Entry{Submodule: "plane", Payload: gvaJFK},
			status: emission.StatusNoFactor, message: "no haul band for 6296 km"},
		{name: "plane_unknown_airport", entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "GVA", DestinationIATA: "XXX", CabinClass: "economy"}},
			status: emission.StatusUnknownLocation, message: `unknown airport "XXX"`},
		{name: "plane_unknown_airports", entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "YYY", DestinationIATA: "XXX", CabinClass: "economy"}},
			status: emission.StatusUnknownLocation, message: `unknown airports "YYY" and "XXX"`},
		{name: "plane_unknown_cabin_class", entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "GVA", DestinationIATA: "CDG", CabinClass: "premium"}},
			status: emission.StatusMissingInput, message: "cabin class"},
		{name: "process_gas_no_factor", entry: emission.Entry{Submodule: "process_gas", Payload: &emission.ProcessGas{Category: "n2o", Quantity: 1}},
			status: emission.StatusNoFactor},
		{name: "process_gas_unknown_category", entry: emission.Entry{Submodule: "process_gas", Payload: &emission.ProcessGas{Category: "sf6", Quantity: 1}},
			status: emission.StatusMissingInput},
		{name: "purchase_ambiguous_additional_code", opts: &lookupOpts{extra: []emission.Factor{
			{ID: 751, Submodule: "services", Classification: cls{"purchase_institutional_code": "1", "purchase_additional_code": "X1"}, Values: vals{"ef_kg_co2eq_per_currency": 1.0}},
			{ID: 752, Submodule: "services", Classification: cls{"purchase_institutional_code": "2", "purchase_additional_code": "X1"}, Values: vals{"ef_kg_co2eq_per_currency": 1.0}},
		}}, entry: emission.Entry{Submodule: "services", Payload: &emission.Purchase{TotalSpentAmount: 1, PurchaseInstitutionalCode: "3", PurchaseAdditionalCode: "x1"}},
			status: emission.StatusNoFactor, message: `ambiguous additional code "x1"`},
		{name: "purchase_ambiguous_code_without_average", opts: dropIDs(701), entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 1, PurchaseInstitutionalCode: "43211500"}},
			status: emission.StatusNoFactor, message: "ambiguous factor for purchase code"},
		{name: "purchase_factor_currency_without_rate", opts: &lookupOpts{fx: emission.FXRates{"CHF": 0.95}},
			entry:  emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 1, Currency: "EUR", PurchaseInstitutionalCode: "43211600"}},
			status: emission.StatusMissingFXRate, message: "USD"},
		{name: "purchase_missing_fx_rate", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 1, Currency: "GBP", PurchaseInstitutionalCode: "43211500"}},
			status: emission.StatusMissingFXRate, message: "no FX rate for GBP in 2025"},
		{name: "purchase_no_factor_for_code", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 1, PurchaseInstitutionalCode: "99999999"}},
			status: emission.StatusNoFactor, message: `no factor for purchase code "99999999"`},
		{name: "purchase_no_factor_in_submodule", entry: emission.Entry{Submodule: "vehicles", Payload: &emission.Purchase{TotalSpentAmount: 1, PurchaseInstitutionalCode: "43211500"}},
			status: emission.StatusNoFactor},
		{name: "room_no_surface", entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "BC", RoomName: "BC-999", RoomType: "office"}},
			status: emission.StatusMissingInput, message: "surface"},
		{name: "room_no_type", entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "BC", RoomName: "BC-151"}},
			status: emission.StatusMissingInput, message: "room_type"},
		{name: "room_unknown_type", entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "BC", RoomName: "BC-150", RoomType: "kitchen"}},
			status: emission.StatusMissingInput, message: "kitchen"},
		{name: "student_no_fte", entry: emission.Entry{Submodule: "student", Payload: &emission.Student{Students: new(3.0), Months: new(12.0)}},
			status: emission.StatusMissingInput, message: "fte"},
		{name: "train_no_country_and_no_RoW_factor", opts: dropIDs(302, 303), entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
			OriginName: "Genève Cornavin", OriginCountryCode: "CH", DestinationName: "Paris Gare de Lyon", DestinationCountryCode: "FR", CabinClass: "second",
		}}, status: emission.StatusNoFactor, message: "no factor for train country FR"},
		{name: "train_unknown_cabin_class", entry: emission.Entry{Submodule: "train", Payload: &emission.Train{CabinClass: "economy"}},
			status: emission.StatusMissingInput},
		{name: "train_unknown_station", entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
			OriginName: "Genève Cornavin", OriginCountryCode: "FR", DestinationName: "Zürich HB", DestinationCountryCode: "CH", CabinClass: "first",
		}}, status: emission.StatusUnknownLocation, message: `unknown station "Genève Cornavin"`},
		{name: "unknown_submodule", entry: emission.Entry{Submodule: "bicycles", Payload: &emission.Member{}},
			status: emission.StatusMissingInput, message: "unknown submodule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var lk *emission.Lookup
			if !tt.nilLk {
				lk = fixtureLookup(t, tt.opts)
			}
			rows, out := compute(t, lk, tt.entry)
			require.Empty(t, rows)
			require.Equal(t, tt.status, out.Status, out.Message)
			require.True(t, out.Status.IsIssue())
			require.NotEmpty(t, out.Message)
			require.Contains(t, out.Message, tt.message)
			require.Zero(t, out.Kg)
		})
	}
}

// TestComputeFallbacksAndMatching covers the key-set fallbacks of
// docs/domain.md §6.3, the per-submodule rules and folded matching (D3).
func TestComputeFallbacksAndMatching(t *testing.T) {
	t.Parallel()

	roomQQ := emission.Factor{ID: 421, Submodule: "room", Classification: cls{"building_name": "QQ", "room_type": "office"}, Values: vals{
		"lighting_kwh_per_square_meter": 1.0, "cooling_kwh_per_square_meter": 0.0, "ventilation_kwh_per_square_meter": 0.0,
		"heating_kwh_per_square_meter": 0.0, "ef_kg_co2eq_per_kwh": 1.0, "energy_type": "Electricity",
	}}

	type want struct {
		typ    emission.EmissionType
		kg     float64
		factor emission.FactorID
	}
	tests := []struct {
		name   string
		opts   *lookupOpts
		entry  emission.Entry
		status emission.CalcStatus
		rows   []want
		check  func(t *testing.T, rows []emission.Row, out emission.Outcome)
	}{
		{name: "ai_provider_kind_only_fallback", opts: &lookupOpts{extra: []emission.Factor{
			{ID: 1102, Submodule: "ai", Classification: cls{"provider": "Claude"}, Values: vals{"ef_kg_co2eq_per_request": 2.0}},
		}}, entry: emission.Entry{Submodule: "ai", Payload: &emission.AI{Provider: "claude", UsageType: "code", RequestsPerUserPerDay: "GT_100", FTECount: 0.1}},
			rows: []want{{"external_cloud_ai.ai.anthropic", 100 * 5 * 46 * 0.1 * 2 / 1000, 1102}}},
		{name: "animal_facility_total_use_zero_gives_zero_kg", opts: &lookupOpts{extra: []emission.Factor{
			{ID: 961, Submodule: "animal_facility", Classification: cls{"researchfacility_id": "4201", "researchfacility_type": "fish"}, Values: vals{
				"use_unit": "tank_days", "total_use": 0.0, "equipment_share": 1.0, "kg_co2eq_sum_equipment": 10.0,
			}},
		}}, entry: emission.Entry{Submodule: "animal_facility", Payload: &emission.AnimalFacility{ResearchfacilityID: "4201", ResearchfacilityType: "Fish", Use: 5, UseUnit: "TANK_DAYS"}},
			rows: []want{{"research_facilities.animal.fish", 0, 961}}},
		{name: "cloud_provider_kind_only_fallback", entry: emission.Entry{Submodule: "cloud", Payload: &emission.Cloud{ServiceType: "compute", Provider: "Exoscale", SpentAmount: 100}},
			rows: []want{{"external_cloud_ai.clouds.compute", 20, 1002}}},
		{name: "cloud_provider_match_folded", entry: emission.Entry{Submodule: "cloud", Payload: &emission.Cloud{ServiceType: "Compute", Provider: " aws ", SpentAmount: 108, Currency: "usd"}},
			rows: []want{{"external_cloud_ai.clouds.compute", 12, 1001}}},
		{name: "energy_combustion_folded_fuel", entry: emission.Entry{Submodule: "energy_combustion", Payload: &emission.EnergyCombustion{Fuel: "  Natural_GAS ", Quantity: 5}},
			rows: []want{{"buildings.combustion.natural_gas", 1, 501}}},
		{name: "equipment_default_hours", entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{EquipmentClass: "Laptop"}},
			rows: []want{{"equipment.it", 34.32, 601}},
			check: func(t *testing.T, _ []emission.Row, out emission.Outcome) {
				t.Helper()
				require.True(t, out.Details.HoursDefaulted)
			}},
		{name: "equipment_sub_class_exact", entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{EquipmentClass: "laptop", SubClass: "GAMING", ActiveUsageHoursPerWeek: new(10), StandbyUsageHoursPerWeek: new(0)}},
			rows: []want{{"equipment.it", 10 * 300 * 52 / 1000.0 * 0.125, 602}}},
		{name: "equipment_sub_class_kind_only_fallback", entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{EquipmentClass: "  LAPTOP ", SubClass: "Ultrabook", ActiveUsageHoursPerWeek: new(40), StandbyUsageHoursPerWeek: new(128)}},
			rows: []want{{"equipment.it", 34.32, 601}}},
		{name: "member_fte_zero_keeps_zero_rows", entry: emission.Entry{Submodule: "member", Payload: emission.Member{FTE: 0}},
			rows: []want{{"food.vegetarian", 0, 101}, {"commuting.car", 0, 102}}},
		{name: "plane_folded_codes_and_cabin", entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "gva", DestinationIATA: " zrh", CabinClass: "Economy"}},
			rows: []want{{"professional_travel.plane.economy", 167.7, 201}}},
		{name: "plane_provider_distance_is_quantity", entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "GVA", DestinationIATA: "ZRH", CabinClass: "economy", ProviderDistanceKm: new(250.5)}},
			rows: []want{{"professional_travel.plane.economy", 167.7, 201}},
			check: func(t *testing.T, rows []emission.Row, out emission.Outcome) {
				t.Helper()
				require.InDelta(t, 250.5, rows[0].Quantity, 0)
				require.InDelta(t, 325, out.Details.DistanceKm, 0)
			}},
		{name: "plane_swapped_coordinates", opts: &lookupOpts{locs: []emission.Location{
			// NRT with latitude and longitude exchanged in the reference data.
			{Mode: "plane", IATA: "SWP", Name: "Swapped NRT", Latitude: 140.386001, Longitude: 35.764702},
		}}, entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{OriginIATA: "GVA", DestinationIATA: "SWP", CabinClass: "business"}},
			rows: []want{{"professional_travel.plane.business",
				emission.PlaneTripKm(emission.GreatCircleKm(46.238098, 6.10895, 35.764702, 140.386001)) * 0.437 * 2, 211}},
			check: func(t *testing.T, _ []emission.Row, out emission.Outcome) {
				t.Helper()
				require.True(t, out.Details.CoordinatesSwapped)
			}},
		{name: "process_gas_kind_only_fallback", entry: emission.Entry{Submodule: "process_gas", Payload: &emission.ProcessGas{Category: "CH4", Subcategory: "biogenic", Quantity: 1}},
			rows: []want{{"process_emissions.ch4", 27.9, 1202}}},
		{name: "process_gas_refrigerant_alias", entry: emission.Entry{Submodule: "process_gas", Payload: &emission.ProcessGas{Category: "refrigerant", Subcategory: "r134A", Quantity: 1}},
			rows: []want{{"process_emissions.refrigerants", 1430, 1201}}},
		{name: "purchase_additional_code_IA23", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 100, Currency: "EUR", PurchaseInstitutionalCode: "43211500", PurchaseAdditionalCode: "ia23"}},
			rows: []want{{"purchases.it_equipment", 42, 702}}},
		{name: "purchase_additional_code_only", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 100, Currency: "EUR", PurchaseInstitutionalCode: "00000000", PurchaseAdditionalCode: "IA24"}},
			rows: []want{{"purchases.it_equipment", 55, 703}}},
		{name: "purchase_ambiguous_additional_code_resolved_by_institutional_code", opts: &lookupOpts{extra: []emission.Factor{
			{ID: 751, Submodule: "services", Classification: cls{"purchase_institutional_code": "1", "purchase_additional_code": "X1"}, Values: vals{"ef_kg_co2eq_per_currency": 1.0}},
			{ID: 752, Submodule: "services", Classification: cls{"purchase_institutional_code": "2", "purchase_additional_code": "X1"}, Values: vals{"ef_kg_co2eq_per_currency": 2.0}},
		}}, entry: emission.Entry{Submodule: "services", Payload: &emission.Purchase{TotalSpentAmount: 10, Currency: "EUR", PurchaseInstitutionalCode: "2", PurchaseAdditionalCode: "X1"}},
			rows: []want{{"purchases.services", 20, 752}}},
		{name: "purchase_code_average_without_additional_code", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 100, Currency: "EUR", PurchaseInstitutionalCode: "43211500"}},
			rows: []want{{"purchases.it_equipment", 50, 701}}},
		{name: "purchase_default_currency_CHF", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 95, PurchaseInstitutionalCode: "43211500"}},
			rows: []want{{"purchases.it_equipment", 50, 701}}},
		{name: "purchase_unknown_additional_code_falls_back_to_code", entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{TotalSpentAmount: 100, Currency: "EUR", PurchaseInstitutionalCode: "43211500", PurchaseAdditionalCode: "IA99"}},
			rows: []want{{"purchases.it_equipment", 50, 701}}},
		{name: "room_embodied_default_building", opts: &lookupOpts{extra: []emission.Factor{roomQQ}},
			entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "QQ", RoomName: "QQ-1", RoomType: "office", SurfaceM2: new(10.0)}},
			rows: []want{
				{"buildings.rooms.lighting.office", 10, 421}, {"buildings.rooms.cooling.office", 0, 421},
				{"buildings.rooms.ventilation.office", 0, 421}, {"buildings.rooms.heating_elec.office", 0, 421},
				{"buildings.construction_and_renovation.new_env", 10, 413},
			}},
		{name: "room_no_room_factor_keeps_embodied_rows", status: emission.StatusNoFactor,
			entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "ZZ", RoomName: "ZZ-001"}},
			rows:  []want{{"buildings.construction_and_renovation.new_env", 10, 413}},
			check: func(t *testing.T, _ []emission.Row, out emission.Outcome) {
				t.Helper()
				require.Contains(t, out.Message, `no factor for room in building "ZZ" with room_type "office"`)
			}},
		{name: "room_surface_from_entry_when_not_in_reference", opts: &lookupOpts{noRooms: true},
			entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "bc", RoomName: "BC-150", RoomType: "Office", SurfaceM2: new(10.0)}},
			rows: []want{
				{"buildings.rooms.lighting.office", 30, 401}, {"buildings.rooms.cooling.office", 10, 401},
				{"buildings.rooms.ventilation.office", 20, 401}, {"buildings.rooms.heating_thermal.office", 100, 401},
				{"buildings.construction_and_renovation.new_tech", 100, 411}, {"buildings.construction_and_renovation.ren_env", 20, 412},
			}},
		{name: "room_type_kind_only_fallback_electric", entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{BuildingName: "BC", RoomName: "BC-151", RoomType: "laboratories"}},
			rows: []want{
				{"buildings.rooms.lighting.laboratories", 20, 402}, {"buildings.rooms.cooling.laboratories", 10, 402},
				{"buildings.rooms.ventilation.laboratories", 20, 402}, {"buildings.rooms.heating_elec.laboratories", 80, 402},
				{"buildings.construction_and_renovation.new_tech", 200, 411}, {"buildings.construction_and_renovation.ren_env", 40, 412},
			}},
		{name: "student_fte_from_helpers", entry: emission.Entry{Submodule: "student", Payload: emission.Student{Students: new(13.0), Months: new(6.0), AverageFTE: new(1.0)}},
			rows: []want{{"food.vegetarian", 6.5 * 100 * 2, 103}}},
		{name: "train_destination_country_RoW_fallback", opts: &lookupOpts{extra: nil, drop: func(f emission.Factor) bool { return f.ID == 302 }},
			entry: emission.Entry{Submodule: "train", Payload: &emission.Train{OriginName: " genève   cornavin ", OriginCountryCode: "ch", DestinationName: "PARIS GARE DE LYON", DestinationCountryCode: "fr", CabinClass: "First"}},
			rows:  []want{{"professional_travel.train.first", 488 * 0.056, 303}},
			check: func(t *testing.T, rows []emission.Row, _ emission.Outcome) {
				t.Helper()
				require.Equal(t, "row_fallback", rows[0].Meta.CountryRule)
				require.Equal(t, "RoW", rows[0].Meta.FactorCountry)
			}},
		{name: "train_origin_country_when_destination_is_CH", entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
			OriginName: "Paris Gare de Lyon", OriginCountryCode: "FR", DestinationName: "Genève Cornavin", DestinationCountryCode: "CH", CabinClass: "second", NumberOfTrips: 2,
		}}, rows: []want{{"professional_travel.train.second", 2 * 488 * 0.007, 302}},
			check: func(t *testing.T, rows []emission.Row, _ emission.Outcome) {
				t.Helper()
				require.Equal(t, "origin", rows[0].Meta.CountryRule)
				require.InDelta(t, 976, rows[0].Quantity, 0)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts == nil {
				opts = &lookupOpts{}
			}
			lk := fixtureLookup(t, opts)
			rows, out := compute(t, lk, tt.entry)
			status := tt.status
			if status == "" {
				status = emission.StatusOK
			}
			require.Equal(t, status, out.Status, out.Message)
			require.Len(t, rows, len(tt.rows))
			for i, w := range tt.rows {
				require.Equal(t, w.typ, rows[i].EmissionType, "row %d", i)
				require.InDelta(t, w.kg, float64(rows[i].Kg), 1e-9, "row %d", i)
				require.Equal(t, w.factor, rows[i].FactorID, "row %d", i)
			}
			if tt.check != nil {
				tt.check(t, rows, out)
			}
		})
	}
}
