package emission_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// TestComputeOverride covers R2.5 / docs/domain.md §6.1 step 3: a kg override
// yields exactly one row on the resolved (or payload-derived) leaf.
func TestComputeOverride(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		entry   emission.Entry
		status  emission.CalcStatus
		typ     emission.EmissionType
		kg      float64
		factor  emission.FactorID
		qty     float64
		unit    string
		ignored bool
		rows    int
	}{
		{name: "ai_without_factor_uses_provider_leaf",
			entry:  emission.Entry{Submodule: "ai", KgOverride: kgPtr(3), Payload: &emission.AI{Provider: "ChatGPT", UsageType: "text", RequestsPerUserPerDay: "1_5", FTECount: 1}},
			status: emission.StatusOverride, typ: "external_cloud_ai.ai.openai", kg: 3, qty: 690, unit: "request", rows: 1},
		{name: "energy_combustion_unknown_fuel_goes_to_other",
			entry:  emission.Entry{Submodule: "energy_combustion", KgOverride: kgPtr(12), Payload: &emission.EnergyCombustion{Fuel: "coal", Quantity: 3}},
			status: emission.StatusOverride, typ: "buildings.combustion.other", kg: 12, rows: 1},
		{name: "invalid_cabin_class_cannot_place_override",
			entry:  emission.Entry{Submodule: "plane", KgOverride: kgPtr(1), Payload: &emission.Plane{OriginIATA: "GVA", DestinationIATA: "CDG", CabinClass: "premium"}},
			status: emission.StatusMissingInput, rows: 0},
		{name: "member_override_ignored",
			entry:  emission.Entry{Submodule: "member", KgOverride: kgPtr(1), Payload: &emission.Member{FTE: 0.8}},
			status: emission.StatusOK, typ: "food.vegetarian", kg: 160, factor: 101, qty: 80, unit: "kg", ignored: true, rows: 2},
		{name: "plane_with_factor",
			entry: emission.Entry{Submodule: "plane", KgOverride: kgPtr(152.685), Payload: &emission.Plane{
				OriginIATA: "GVA", DestinationIATA: "CDG", CabinClass: "economy", NumberOfTrips: 2,
			}},
			status: emission.StatusOverride, typ: "professional_travel.plane.economy", kg: 152.685, factor: 204, qty: 1006, unit: "km", rows: 1},
		{name: "plane_tableau_unknown_airport_uses_provider_distance",
			entry: emission.Entry{Submodule: "plane", KgOverride: kgPtr(420.5), Payload: &emission.Plane{
				OriginIATA: "CDG", DestinationIATA: "QQQ", CabinClass: "FIRST", ProviderDistanceKm: new(5834.0),
			}},
			status: emission.StatusOverride, typ: "professional_travel.plane.first", kg: 420.5, qty: 5834, unit: "km", rows: 1},
		{name: "purchase_missing_fx_keeps_factor",
			entry:  emission.Entry{Submodule: "it_equipment", KgOverride: kgPtr(7), Payload: &emission.Purchase{TotalSpentAmount: 1, Currency: "GBP", PurchaseInstitutionalCode: "43211500"}},
			status: emission.StatusOverride, typ: "purchases.it_equipment", kg: 7, factor: 701, rows: 1},
		{name: "purchase_no_factor_quantity_in_eur",
			entry:  emission.Entry{Submodule: "other_purchases", KgOverride: kgPtr(0), Payload: &emission.Purchase{TotalSpentAmount: 95, PurchaseInstitutionalCode: "1"}},
			status: emission.StatusOverride, typ: "purchases.other", kg: 0, qty: 100, unit: "EUR", rows: 1},
		{name: "room_override_ignored",
			entry: emission.Entry{Submodule: "room", KgOverride: kgPtr(1), Payload: &emission.RoomEntry{
				BuildingName: "BC", RoomName: "BC-150",
			}},
			status: emission.StatusOK, typ: "buildings.rooms.lighting.office", kg: 60, factor: 401, qty: 600, unit: "kWh", ignored: true, rows: 6},
		{name: "train_with_factor",
			entry: emission.Entry{Submodule: "train", KgOverride: kgPtr(2), Payload: &emission.Train{
				OriginName: "Zürich HB", OriginCountryCode: "CH", DestinationName: "Genève Cornavin", DestinationCountryCode: "CH", CabinClass: "first",
			}},
			status: emission.StatusOverride, typ: "professional_travel.train.first", kg: 2, factor: 301, qty: 269, unit: "km", rows: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, out := compute(t, fixtureLookup(t, nil), tt.entry)
			require.Equal(t, tt.status, out.Status, out.Message)
			require.Len(t, rows, tt.rows)
			require.Equal(t, tt.ignored, out.Details.OverrideIgnored)
			if tt.rows == 0 {
				return
			}
			r := rows[0]
			require.Equal(t, tt.typ, r.EmissionType)
			require.InDelta(t, tt.kg, float64(r.Kg), 1e-9)
			require.Equal(t, tt.factor, r.FactorID)
			require.Equal(t, tt.factor, out.PrimaryFactorID)
			require.Equal(t, tt.unit, r.QuantityUnit)
			require.InDelta(t, tt.qty, r.Quantity, 1e-9)
			if tt.status == emission.StatusOverride {
				require.True(t, r.Meta.Override)
				require.Empty(t, out.Message)
				require.InDelta(t, tt.kg, float64(out.Kg), 1e-9)
			}
		})
	}
}

// TestComputeAppendsToDst checks the append semantics of Compute.
func TestComputeAppendsToDst(t *testing.T) {
	t.Parallel()
	lk := fixtureLookup(t, nil)
	e := emission.Entry{Submodule: "member", Payload: &emission.Member{FTE: 1}}
	first := emission.Row{EmissionType: "equipment.it", Kg: 5}
	buf := make([]emission.Row, 1, 8)
	buf[0] = first
	rows, out := emission.Compute(&e, lk, buf)
	require.Len(t, rows, 3)
	require.Equal(t, first, rows[0])
	require.Equal(t, 2, out.Rows)
	require.InDelta(t, 500, float64(out.Kg), 1e-9)

	// Reusing the buffer gives identical rows (pure function).
	again, out2 := emission.Compute(&e, lk, rows[:1])
	require.Equal(t, rows, again)
	require.Equal(t, out, out2)
}
