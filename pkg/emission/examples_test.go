package emission_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

type wantRow struct {
	typ    emission.EmissionType
	scope  emission.Scope
	cat    emission.Category
	kg     float64
	qty    float64
	unit   string
	factor emission.FactorID
}

// TestWorkedExamples covers every worked example of docs/domain.md §13 (and the
// §6.4 FX examples). Expected kg are the exact values of the formulas; the
// values printed in the spec (2 decimals) are checked with printedKg.
func TestWorkedExamples(t *testing.T) {
	t.Parallel()

	noFR := &lookupOpts{drop: func(f emission.Factor) bool { return f.Classification["country_code"] == "FR" }}

	tests := []struct {
		id         string
		opts       *lookupOpts
		entry      emission.Entry
		rows       []wantRow
		printedKg  float64 // entry total as printed in the spec, 2 decimals
		additional float64
		check      func(t *testing.T, out emission.Outcome)
	}{
		{
			id:    "A1_ai_gemini_5_20_2fte",
			entry: emission.Entry{Submodule: "ai", Payload: &emission.AI{Provider: "Gemini (Google)", UsageType: "text", RequestsPerUserPerDay: "5_20", FTECount: 2}},
			rows:  []wantRow{{"external_cloud_ai.ai.google", 3, "external_cloud_ai", 5.75, 5750, "request", 1101}},
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "google", out.Details.ProviderLeaf)
				require.InDelta(t, 5750, out.Details.RequestsPerYear, 1e-9)
			},
			printedKg: 5.75,
		},
		{
			id: "B1_room_office_20m2",
			entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{
				BuildingName: "BC", RoomName: "BC-150", RoomType: "office", RoomAllocationRatio: new(1.0),
			}},
			rows: []wantRow{
				{"buildings.rooms.lighting.office", 2, "buildings_room", 60, 600, "kWh", 401},
				{"buildings.rooms.cooling.office", 2, "buildings_room", 20, 200, "kWh", 401},
				{"buildings.rooms.ventilation.office", 2, "buildings_room", 40, 400, "kWh", 401},
				{"buildings.rooms.heating_thermal.office", 1, "buildings_energy_combustion", 200, 2000, "kWh", 401},
				{"buildings.construction_and_renovation.new_tech", 3, "embodied_energy", 200, 20, "m2", 411},
				{"buildings.construction_and_renovation.ren_env", 3, "embodied_energy", 40, 20, "m2", 412},
			},
			printedKg:  560,
			additional: 240,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.InDelta(t, 320, float64(out.Details.OperationalKg), 1e-9)
				require.InDelta(t, 240, float64(out.Details.EmbodiedKg), 1e-9)
				require.Equal(t, "thermal", out.Details.EnergyType)
				require.InDelta(t, 20, out.Details.SurfaceM2, 1e-9)
			},
		},
		{
			id: "B1_room_office_20m2_ratio_half",
			entry: emission.Entry{Submodule: "room", Payload: &emission.RoomEntry{
				BuildingName: "BC", RoomName: "BC-150", RoomAllocationRatio: new(0.5),
			}},
			rows: []wantRow{
				{"buildings.rooms.lighting.office", 2, "buildings_room", 30, 300, "kWh", 401},
				{"buildings.rooms.cooling.office", 2, "buildings_room", 10, 100, "kWh", 401},
				{"buildings.rooms.ventilation.office", 2, "buildings_room", 20, 200, "kWh", 401},
				{"buildings.rooms.heating_thermal.office", 1, "buildings_energy_combustion", 100, 1000, "kWh", 401},
				{"buildings.construction_and_renovation.new_tech", 3, "embodied_energy", 100, 10, "m2", 411},
				{"buildings.construction_and_renovation.ren_env", 3, "embodied_energy", 20, 10, "m2", 412},
			},
			printedKg:  280,
			additional: 120,
		},
		{
			id:        "E1_natural_gas_10000kWh",
			entry:     emission.Entry{Submodule: "energy_combustion", Payload: &emission.EnergyCombustion{Fuel: "natural_gas", Quantity: 10000}},
			rows:      []wantRow{{"buildings.combustion.natural_gas", 1, "buildings_energy_combustion", 2000, 10000, "kWh", 501}},
			printedKg: 2000,
		},
		{
			id:    "F1_facility_120_of_4800h",
			entry: emission.Entry{Submodule: "facility", Payload: &emission.Facility{ResearchfacilityID: "4103", ResearchfacilityName: "CLEANROOM-DEMO", Use: 120, UseUnit: "hours"}},
			rows:  []wantRow{{"research_facilities.facilities", 3, "research_facilities", 500, 120, "hours", 903}},
			opts: &lookupOpts{extra: []emission.Factor{{
				ID: 903, Submodule: "facility",
				Classification: cls{"researchfacility_id": "4103", "researchfacility_name": "CLEANROOM-DEMO"},
				Values:         vals{"use_unit": "hours", "total_use": 4800.0, "kg_co2eq_sum": 20000.0},
			}}},
			printedKg: 500,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.InDelta(t, 0.025, out.Details.UseShare, 1e-12)
			},
		},
		{
			id: "F2_animal_facility_mice",
			entry: emission.Entry{Submodule: "animal_facility", Payload: &emission.AnimalFacility{
				ResearchfacilityID: "4201", ResearchfacilityName: "AF", ResearchfacilityType: "mice", Use: 10, UseUnit: "cage_days",
			}},
			rows:      []wantRow{{"research_facilities.animal.mice", 3, "research_facilities", 600, 10, "cage_days", 902}},
			printedKg: 600,
		},
		{
			id:        "FX_6.4_consistency_1000USD_at_0.4_per_USD",
			entry:     emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{Name: "x", TotalSpentAmount: 1000, Currency: "USD", PurchaseInstitutionalCode: "43211600"}},
			rows:      []wantRow{{"purchases.it_equipment", 3, "purchases", 400, 1000 / 1.08, "EUR", 704}},
			printedKg: 400,
		},
		{
			id:        "G1_R134a_2kg",
			entry:     emission.Entry{Submodule: "process_gas", Payload: &emission.ProcessGas{Category: "refrigerants", Subcategory: "R134a", Quantity: 2}},
			rows:      []wantRow{{"process_emissions.refrigerants", 1, "process_emissions", 2860, 2, "kg", 1201}},
			printedKg: 2860,
		},
		{
			id:    "H1_member_fte_0.8",
			entry: emission.Entry{Submodule: "member", Payload: &emission.Member{Name: "Ada", SiusCode: "53", UserInstitutionalID: "123456", FTE: 0.8}},
			rows: []wantRow{
				{"food.vegetarian", 3, "food", 160, 80, "kg", 101},
				{"commuting.car", 3, "commuting", 240, 1600, "km", 102},
			},
			printedKg:  400,
			additional: 400,
		},
		{
			id:        "L1_ln2_500L",
			entry:     emission.Entry{Submodule: "additional", Payload: &emission.Additional{Name: "ln2", Unit: "L", AnnualConsumption: 500, CoefToKg: 0.8}},
			rows:      []wantRow{{"purchases.additional.ln2", 1, "purchases", 100, 400, "kg", 801}},
			printedKg: 100,
		},
		{
			id: "P1_plane_GVA_CDG_economy_x2",
			entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{
				OriginIATA: "GVA", DestinationIATA: "CDG", UserInstitutionalID: "1", CabinClass: "economy", NumberOfTrips: 2,
			}},
			rows:      []wantRow{{"professional_travel.plane.economy", 3, "professional_travel", 1006 * 0.156 * 2, 1006, "km", 204}},
			printedKg: 313.87,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "short_haul", out.Details.HaulBand)
				require.InDelta(t, 1006, out.Details.DistanceKm, 0)
			},
		},
		{
			id: "P2_plane_GVA_ZRH_economy",
			entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{
				OriginIATA: "GVA", DestinationIATA: "ZRH", UserInstitutionalID: "1", CabinClass: "economy", NumberOfTrips: 1,
			}},
			rows:      []wantRow{{"professional_travel.plane.economy", 3, "professional_travel", 325 * 0.258 * 2, 325, "km", 201}},
			printedKg: 167.70,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "very_short_haul", out.Details.HaulBand)
			},
		},
		{
			id: "P3_plane_GVA_JFK_business",
			entry: emission.Entry{Submodule: "plane", Payload: &emission.Plane{
				OriginIATA: "GVA", DestinationIATA: "JFK", UserInstitutionalID: "1", CabinClass: "business",
			}},
			rows:      []wantRow{{"professional_travel.plane.business", 3, "professional_travel", 6296 * 0.437 * 2, 6296, "km", 211}},
			printedKg: 5502.70,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "long_haul", out.Details.HaulBand)
			},
		},
		{
			id: "Q1_equipment_40_128h_100_10W",
			entry: emission.Entry{Submodule: "it", Payload: &emission.Equipment{
				EquipmentID: "INV-1", Name: "Laptop", EquipmentClass: "laptop",
				ActiveUsageHoursPerWeek: new(40), StandbyUsageHoursPerWeek: new(128),
			}},
			rows:      []wantRow{{"equipment.it", 2, "equipment", 34.32, 274.56, "kWh", 601}},
			printedKg: 34.32,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.InDelta(t, 100, out.Details.ActivePowerW, 0)
				require.InDelta(t, 10, out.Details.StandbyPowerW, 0)
				require.False(t, out.Details.HoursDefaulted)
			},
		},
		{
			id: "T1_train_Zurich_HB_Geneve_Cornavin_second",
			entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
				OriginName: "Zürich HB", OriginCountryCode: "CH", DestinationName: "Genève Cornavin", DestinationCountryCode: "CH",
				UserInstitutionalID: "1", CabinClass: "second",
			}},
			rows:      []wantRow{{"professional_travel.train.second", 3, "professional_travel", 269 * 0.004, 269, "km", 301}},
			printedKg: 1.08,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "CH", out.Details.FactorCountry)
			},
		},
		{
			id: "T2_train_Geneve_Cornavin_Paris_Gare_de_Lyon",
			entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
				OriginKey: emission.TrainNaturalKey("CH", "Genève Cornavin"), DestinationKey: emission.TrainNaturalKey("FR", "Paris Gare de Lyon"),
				UserInstitutionalID: "1", CabinClass: "second",
			}},
			rows:      []wantRow{{"professional_travel.train.second", 3, "professional_travel", 488 * 0.007, 488, "km", 302}},
			printedKg: 3.42,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.Equal(t, "FR", out.Details.FactorCountry)
			},
		},
		{
			id:   "T3_train_T2_without_FR_factor_RoW",
			opts: noFR,
			entry: emission.Entry{Submodule: "train", Payload: &emission.Train{
				OriginName: "Genève Cornavin", OriginCountryCode: "CH", DestinationName: "Paris Gare de Lyon", DestinationCountryCode: "FR",
				UserInstitutionalID: "1", CabinClass: "second",
			}},
			rows:      []wantRow{{"professional_travel.train.second", 3, "professional_travel", 488 * 0.056, 488, "km", 303}},
			printedKg: 27.33,
		},
		{
			id: "U1_purchase_1000CHF",
			entry: emission.Entry{Submodule: "it_equipment", Payload: &emission.Purchase{
				Name: "Mini PCs", TotalSpentAmount: 1000, Currency: "CHF", PurchaseInstitutionalCode: "43211500",
			}},
			rows:      []wantRow{{"purchases.it_equipment", 3, "purchases", 1000 / 0.95 * 0.5, 1000 / 0.95, "EUR", 701}},
			printedKg: 526.32,
			check: func(t *testing.T, out emission.Outcome) {
				t.Helper()
				require.InDelta(t, 1052.63, out.Details.AmountEUR, 0.005)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			lk := fixtureLookup(t, tt.opts)
			rows, out := compute(t, lk, tt.entry)
			require.Equal(t, emission.StatusOK, out.Status, out.Message)
			require.Empty(t, out.Message)
			require.Len(t, rows, len(tt.rows))
			for i, w := range tt.rows {
				r := rows[i]
				require.Equal(t, w.typ, r.EmissionType, "row %d", i)
				require.Equal(t, w.scope, r.Scope, "row %d", i)
				require.Equal(t, w.cat, r.Category, "row %d", i)
				require.InDelta(t, w.kg, float64(r.Kg), 1e-9, "row %d kg", i)
				require.InDelta(t, w.qty, r.Quantity, 1e-9, "row %d quantity", i)
				require.Equal(t, w.unit, r.QuantityUnit, "row %d unit", i)
				require.Equal(t, w.factor, r.FactorID, "row %d factor", i)
			}
			require.Equal(t, tt.rows[0].factor, out.PrimaryFactorID)
			require.InDelta(t, tt.printedKg, math.Round(float64(out.Kg)*100)/100, 1e-9, "printed total")
			require.InDelta(t, tt.additional, float64(out.KgAdditional), 1e-9)
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

// TestWorkedExampleDistances checks h, d1 and distance_km of P1–P3 and
// T1–T2 (docs/domain.md §7.2).
func TestWorkedExampleDistances(t *testing.T) {
	t.Parallel()
	locs := fixtureLocations()
	at := func(name string) emission.Location {
		for _, l := range locs {
			if l.IATA == name || l.Name == name {
				return l
			}
		}
		t.Fatalf("no location %s", name)
		return emission.Location{}
	}
	tests := []struct {
		id       string
		from, to string
		h        float64 // as printed, 2 decimals
		d1       float64
		train    bool
	}{
		{"P1", "GVA", "CDG", 407.74, 503, false},
		{"P2", "GVA", "ZRH", 229.79, 325, false},
		{"P3", "GVA", "JFK", 6201.27, 6296, false},
		{"T1", "Zürich HB", "Genève Cornavin", 223.94, 269, true},
		{"T2", "Genève Cornavin", "Paris Gare de Lyon", 407.22, 488, true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			a, b := at(tt.from), at(tt.to)
			h := emission.GreatCircleKm(a.Latitude, a.Longitude, b.Latitude, b.Longitude)
			require.InDelta(t, tt.h, h, 0.005)
			// Symmetric.
			require.InDelta(t, h, emission.GreatCircleKm(b.Latitude, b.Longitude, a.Latitude, a.Longitude), 1e-9)
			d1 := emission.PlaneTripKm(h)
			if tt.train {
				d1 = emission.TrainTripKm(h)
			}
			require.InDelta(t, tt.d1, d1, 0)
		})
	}
}

// TestWorkedExampleR1 checks the results example R1 (docs/domain.md §12.3) as
// far as the engine is concerned: the main/additional split of row sums
// and the derived headline arithmetic.
func TestWorkedExampleR1(t *testing.T) {
	t.Parallel()
	row := func(typ emission.EmissionType, kg float64) emission.Row {
		n, ok := emission.LookupNode(typ)
		require.True(t, ok)
		return emission.Row{EmissionType: typ, Scope: n.Scope, Category: n.Category, Kg: emission.Kg(kg)}
	}
	var tot emission.Totals
	tot.Add(
		row("food.non_vegetarian", 2500), row("commuting.car", 1500), // headcount 4 000
		row("professional_travel.plane.economy", 6000),
		row("buildings.rooms.lighting.office", 2000),
		row("buildings.construction_and_renovation.new_tech", 500),
	)
	require.InDelta(t, 12.5, tot.Total.Tonnes(), 1e-12)
	require.InDelta(t, 8000, float64(tot.Main), 1e-9)
	require.InDelta(t, 4500, float64(tot.Additional), 1e-9)
	require.InDelta(t, 2500, float64(tot.Under("buildings")), 1e-9)
	const fte, carKgPerKm, previous = 10.0, 0.2996, 10000.0
	require.InDelta(t, 1.25, tot.Total.Tonnes()/fte, 1e-12)
	require.InDelta(t, 41722, math.Round(float64(tot.Total)/carKgPerKm), 0)
	require.InDelta(t, 25.0, math.Round((float64(tot.Total)-previous)/previous*100*10)/10, 1e-12)
}
