package emission_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

func kgPtr(v float64) *emission.Kg { k := emission.Kg(v); return &k }

type cls = map[string]string

type vals = map[string]any

// fixtureFactors are the factors of the worked examples of docs/domain.md §7.
// Ids are grouped by submodule (1xx headcount, 2xx plane, …).
func fixtureFactors() []emission.Factor {
	f := func(id emission.FactorID, sub emission.SubmoduleKey, c cls, v vals) emission.Factor {
		return emission.Factor{ID: id, Submodule: sub, Classification: c, Values: v}
	}
	return []emission.Factor{
		// H1
		f(101, "member", cls{"headcount_category": "food", "headcount_class": "vegetarian"},
			vals{"number_of_unit_per_fte": 100.0, "ef_kg_co2eq_per_unit": 2.0, "unit": "kg"}),
		f(102, "member", cls{"headcount_category": "commuting", "headcount_class": "car"},
			vals{"number_of_unit_per_fte": 2000.0, "ef_kg_co2eq_per_unit": 0.15, "unit": "km"}),
		f(103, "student", cls{"headcount_category": "food", "headcount_class": "vegetarian"},
			vals{"number_of_unit_per_fte": 100.0, "ef_kg_co2eq_per_unit": 2.0}),
		// Plane band table (docs/domain.md §7.2), RFI 2.
		f(201, "plane", cls{"category": "very_short_haul", "cabin_class": "economy"}, band(0.258, 0, 500)),
		f(202, "plane", cls{"category": "very_short_haul", "cabin_class": "business"}, band(0.387, 0, 500)),
		f(203, "plane", cls{"category": "very_short_haul", "cabin_class": "first"}, band(0.516, 0, 500)),
		f(204, "plane", cls{"category": "short_haul", "cabin_class": "economy"}, band(0.156, 500, 1500)),
		f(205, "plane", cls{"category": "short_haul", "cabin_class": "business"}, band(0.234, 500, 1500)),
		f(206, "plane", cls{"category": "short_haul", "cabin_class": "first"}, band(0.312, 500, 1500)),
		f(207, "plane", cls{"category": "medium_haul", "cabin_class": "economy"}, band(0.131, 1500, 3500)),
		f(208, "plane", cls{"category": "medium_haul", "cabin_class": "business"}, band(0.262, 1500, 3500)),
		f(209, "plane", cls{"category": "medium_haul", "cabin_class": "first"}, band(0.393, 1500, 3500)),
		f(210, "plane", cls{"category": "long_haul", "cabin_class": "economy"}, band(0.151, 3500, 20000)),
		f(211, "plane", cls{"category": "long_haul", "cabin_class": "business"}, band(0.437, 3500, 20000)),
		f(212, "plane", cls{"category": "long_haul", "cabin_class": "first"}, band(0.604, 3500, 20000)),
		// Train.
		f(301, "train", cls{"country_code": "CH"}, vals{"ef_kg_co2eq_per_km": 0.004}),
		f(302, "train", cls{"country_code": "FR"}, vals{"ef_kg_co2eq_per_km": 0.007}),
		f(303, "train", cls{"country_code": "RoW"}, vals{"ef_kg_co2eq_per_km": 0.056}),
		// B1 room factor and a building-level fallback row.
		f(401, "room", cls{"building_name": "BC", "room_type": "office"}, vals{
			"lighting_kwh_per_square_meter": 30.0, "cooling_kwh_per_square_meter": 10.0,
			"ventilation_kwh_per_square_meter": 20.0, "heating_kwh_per_square_meter": 100.0,
			"ef_kg_co2eq_per_kwh": 0.1, "energy_type": "thermal", "conversion_factor": 1.0,
		}),
		f(402, "room", cls{"building_name": "BC", "room_type": ""}, vals{
			"lighting_kwh_per_square_meter": 10.0, "cooling_kwh_per_square_meter": 5.0,
			"ventilation_kwh_per_square_meter": 10.0, "heating_kwh_per_square_meter": 40.0,
			"ef_kg_co2eq_per_kwh": 0.1, "energy_type": "elec",
		}),
		f(411, "embodied_energy", cls{"building_name": "BC", "category": "new-tech"}, vals{"ef_kg_co2eq_per_m2": 10.0}),
		f(412, "embodied_energy", cls{"building_name": "BC", "category": "ren-env"}, vals{"ef_kg_co2eq_per_m2": 2.0}),
		f(413, "embodied_energy", cls{"building_name": "default", "category": "new-env"}, vals{"ef_kg_co2eq_per_m2": 1.0}),
		// E1.
		f(501, "energy_combustion", cls{"name": "natural_gas"}, vals{"ef_kg_co2eq_per_unit": 0.2, "unit": "kWh"}),
		// Q1 (class level and sub-class level).
		f(601, "it", cls{"equipment_class": "Laptop", "sub_class": ""}, vals{
			"active_power_w": 100.0, "standby_power_w": 10.0,
			"active_usage_hours_per_week": 40.0, "standby_usage_hours_per_week": 128.0, "ef_kg_co2eq_per_kwh": 0.125,
		}),
		f(602, "it", cls{"equipment_class": "Laptop", "sub_class": "Gaming"}, vals{
			"active_power_w": 300.0, "standby_power_w": 10.0, "ef_kg_co2eq_per_kwh": 0.125,
		}),
		// U1 and the purchase rule.
		f(701, "it_equipment", cls{"purchase_institutional_code": "43211500"}, vals{"ef_kg_co2eq_per_currency": 0.5, "currency": "EUR"}),
		f(702, "it_equipment", cls{"purchase_institutional_code": "43211500", "purchase_additional_code": "IA23"}, vals{"ef_kg_co2eq_per_currency": 0.42}),
		f(703, "it_equipment", cls{"purchase_institutional_code": "43211500", "purchase_additional_code": "IA24"}, vals{"ef_kg_co2eq_per_currency": 0.55}),
		f(704, "it_equipment", cls{"purchase_institutional_code": "43211600"}, vals{"ef_kg_co2eq_per_currency": 0.4, "currency": "USD"}),
		// L1.
		f(801, "additional", cls{"name": "ln2"}, vals{"ef_kg_co2eq_per_kg": 0.25}),
		// F1, F2.
		f(901, "facility", cls{"researchfacility_id": "4101", "researchfacility_name": "SCITAS"}, vals{
			"use_unit": "hours", "total_use": 4800.0, "kg_co2eq_sum": 20000.0,
		}),
		f(902, "animal_facility", cls{"researchfacility_id": "4201", "researchfacility_name": "AF", "researchfacility_type": "mice"}, vals{
			"use_unit": "cage_days", "total_use": 1000.0,
			"buildings_rooms_share": 0.5, "kg_co2eq_sum_buildings_rooms": 100000.0,
			"purchases_common_share": 0.2, "kg_co2eq_sum_purchases_common": 50000.0,
			"equipment_share": 0.3, // no sum: skipped
		}),
		// Cloud.
		f(1001, "cloud", cls{"service_type": "compute", "provider": "AWS"}, vals{"ef_kg_co2eq_per_currency": 0.12}),
		f(1002, "cloud", cls{"service_type": "compute", "provider": ""}, vals{"ef_kg_co2eq_per_currency": 0.2, "currency": "EUR"}),
		// A1.
		f(1101, "ai", cls{"provider": "Gemini (Google)", "usage_type": "text"}, vals{"ef_g_co2eq_per_request": 1.0}),
		// G1.
		f(1201, "process_gas", cls{"category": "refrigerants", "subcategory": "R134a"}, vals{"ef_kg_co2eq_per_unit": 1430.0, "unit": "kg"}),
		f(1202, "process_gas", cls{"category": "ch4", "subcategory": ""}, vals{"ef_kg_co2eq_per_unit": 27.9}),
	}
}

func band(ef, minD, maxD float64) vals {
	return vals{"ef_kg_co2eq_per_km": ef, "rfi_adjustment": 2.0, "min_distance": minD, "max_distance": maxD}
}

// fixtureLocations are the reference coordinates of docs/domain.md §7.2.
func fixtureLocations() []emission.Location {
	return []emission.Location{
		{Mode: "plane", IATA: "GVA", Name: "Geneva", CountryCode: "CH", Latitude: 46.238098, Longitude: 6.10895},
		{Mode: "plane", IATA: "CDG", Name: "Paris CDG", CountryCode: "FR", Latitude: 49.012798, Longitude: 2.55},
		{Mode: "plane", IATA: "ZRH", Name: "Zurich", CountryCode: "CH", Latitude: 47.458056, Longitude: 8.548056},
		{Mode: "plane", IATA: "JFK", Name: "New York JFK", CountryCode: "US", Latitude: 40.639447, Longitude: -73.779317},
		{Mode: "train", Name: "Zürich HB", CountryCode: "CH", Latitude: 47.378186, Longitude: 8.539203},
		{Mode: "train", Name: "Genève Cornavin", CountryCode: "CH", Latitude: 46.210208, Longitude: 6.142428},
		{Mode: "train", Name: "Paris Gare de Lyon", CountryCode: "FR", Latitude: 48.844888, Longitude: 2.37352},
	}
}

type lookupOpts struct {
	drop    func(emission.Factor) bool // factors to leave out
	extra   []emission.Factor
	fx      emission.FXRates
	noRooms bool
	locs    []emission.Location // extra locations
}

func fixtureLookup(t *testing.T, opts *lookupOpts) *emission.Lookup {
	t.Helper()
	if opts == nil {
		opts = &lookupOpts{}
	}
	var factors []emission.Factor
	for _, f := range fixtureFactors() {
		if opts.drop == nil || !opts.drop(f) {
			factors = append(factors, f)
		}
	}
	factors = append(factors, opts.extra...)
	idx, err := emission.NewFactorIndex(factors)
	require.NoError(t, err)
	fx := opts.fx
	if fx == nil {
		fx = emission.FXRates{"CHF": 0.95, "USD": 1.08}
	}
	lk := &emission.Lookup{
		Year:      2025,
		Factors:   idx,
		Locations: emission.NewLocations(append(fixtureLocations(), opts.locs...)),
		FX:        fx,
	}
	if !opts.noRooms {
		lk.Rooms = emission.NewRooms([]emission.Room{
			{BuildingName: "BC", RoomName: "BC-150", RoomType: "office", SurfaceM2: 20},
			{BuildingName: "BC", RoomName: "BC-151", SurfaceM2: 20},
			{BuildingName: "ZZ", RoomName: "ZZ-001", RoomType: "office", SurfaceM2: 10},
		})
	}
	return lk
}

func compute(t *testing.T, lk *emission.Lookup, e emission.Entry) ([]emission.Row, emission.Outcome) {
	t.Helper()
	rows, out := emission.Compute(&e, lk, nil)
	require.Len(t, rows, out.Rows)
	var sum emission.Kg
	for _, r := range rows {
		require.True(t, emission.IsLeaf(r.EmissionType), "row on non-leaf %s", r.EmissionType)
		node, ok := emission.LookupNode(r.EmissionType)
		require.True(t, ok)
		require.Equal(t, node.Scope, r.Scope)
		require.Equal(t, node.Category, r.Category)
		require.GreaterOrEqual(t, float64(r.Kg), 0.0)
		sum += r.Kg
	}
	require.InDelta(t, float64(sum), float64(out.Kg), 1e-9)
	return rows, out
}
