package tableau_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/tableau"
)

// TestMapper covers the row mapping of docs/jobs.md §8.4, one object at a
// time.
func TestMapper(t *testing.T) {
	t.Parallel()
	m := &tableau.Mapper{
		Year: 2025,
		Unit: func(cf string) (int64, bool) {
			return map[string]int64{"7918": 11, "0828": 12}[cf], cf == "7918" || cf == "0828"
		},
		Airport: func(iata string) bool { return iata == "GVA" || iata == "CDG" },
	}
	// row is a valid object with some fields replaced (nil deletes one).
	row := func(with map[string]any) tableau.Row {
		base := map[string]any{
			"OUT_CO2_CORRECTED": 118.21, "OUT_DISTANCE_CORRECTED": 444.4, "SCIPER": "100001", "Centre financier": "F7918",
			"IN_Departure date": "20250120", "IN_Segment class": "AIR ECONOMY CLASS", "IN_Segment destination airport code": "CDG",
			"IN_Segment origin airport code": "gva", "IN_Supplier": "AIR FRANCE", "IN_Ticket number": "724-1", "PASSENGER_TYPE": "EMPLOYEE",
			"ROUND_TRIP": "YES", "TRANSPORT_TYPE": "AIR", "Number of trips": 2,
		}
		for k, v := range with {
			if v == nil {
				delete(base, k)
				continue
			}
			base[k] = v
		}
		out := tableau.Row{}
		for k, v := range base {
			b, err := json.Marshal(v)
			require.NoError(t, err)
			out[k] = b
		}
		return out
	}
	codes := func(mp tableau.Mapped) []string {
		var out []string
		for _, e := range mp.Errs {
			out = append(out, *e.Column+":"+e.Code+":"+string(e.Severity))
		}
		return out
	}

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		mp := m.Map(7, row(nil))
		require.True(t, mp.Valid())
		require.Empty(t, mp.Errs)
		require.Equal(t, int64(11), mp.UnitID)
		require.Equal(t, 7, mp.Row.Row)
		require.Equal(t, emission.SubPlane, mp.Row.Submodule)
		require.Equal(t, "100001", mp.Row.OwnerSciper)
		require.InDelta(t, 118.21, *mp.Row.KgOverride, 0)
		require.JSONEq(t, `{"origin_iata": "GVA", "destination_iata": "CDG", "user_institutional_id": "100001",
			"cabin_class": "economy", "departure_date": "2025-01-20", "number_of_trips": 2, "provider_distance_km": 444.4,
			"supplier": "AIR FRANCE", "ticket_number": "724-1", "transport_type": "AIR", "passenger_type": "EMPLOYEE",
			"round_trip": true}`, string(mp.Row.Data))
	})

	t.Run("Rules", func(t *testing.T) {
		t.Parallel()
		for name, tc := range map[string]struct {
			with  map[string]any
			valid bool
			errs  []string
			data  map[string]any // fields of data checked
			noKg  bool
		}{
			"BlankCF":            {with: map[string]any{"Centre financier": ""}, errs: []string{"Centre financier:required:error"}},
			"BusinessClass":      {with: map[string]any{"IN_Segment class": "AIR BUSINESS CLASS"}, valid: true, data: map[string]any{"cabin_class": "business"}},
			"CFWithoutLetter":    {with: map[string]any{"Centre financier": "7918"}, valid: true},
			"FirstClass":         {with: map[string]any{"IN_Segment class": "AIR FIRST CLASS"}, valid: true, data: map[string]any{"cabin_class": "first"}},
			"ISODate":            {with: map[string]any{"IN_Departure date": "2025-06-15T00:00:00"}, valid: true, data: map[string]any{"departure_date": "2025-06-15"}},
			"InvalidDate":        {with: map[string]any{"IN_Departure date": "2025-13-40"}, errs: []string{"IN_Departure date:invalid_date:error"}},
			"MissingCO2":         {with: map[string]any{"OUT_CO2_CORRECTED": nil}, valid: true, noKg: true},
			"MissingDestination": {with: map[string]any{"IN_Segment destination airport code": ""}, errs: []string{"IN_Segment destination airport code:required:error"}},
			"MissingSciper":      {with: map[string]any{"SCIPER": nil}, errs: []string{"SCIPER:required:error"}},
			"NegativeCO2":        {with: map[string]any{"OUT_CO2_CORRECTED": -1}, valid: true, noKg: true, errs: []string{"OUT_CO2_CORRECTED:override_ignored:warning"}},
			"NoRoundTrip":        {with: map[string]any{"ROUND_TRIP": "NO"}, valid: true, data: map[string]any{"round_trip": false}},
			"NullCF":             {with: map[string]any{"Centre financier": nil}, errs: []string{"Centre financier:required:error"}},
			"NumericSciper":      {with: map[string]any{"SCIPER": 100002}, valid: true, data: map[string]any{"user_institutional_id": "100002"}},
			"OtherClass":         {with: map[string]any{"IN_Segment class": "AIR PREMIUM ECONOMY CLASS"}, valid: true, data: map[string]any{"cabin_class": "economy"}},
			"TripsFractional":    {with: map[string]any{"Number of trips": 1.5}, errs: []string{"Number of trips:invalid_integer:error"}},
			"TripsNull":          {with: map[string]any{"Number of trips": nil}, valid: true, data: map[string]any{"number_of_trips": 1.0}},
			"TripsZero":          {with: map[string]any{"Number of trips": 0}, valid: true, data: map[string]any{"number_of_trips": 1.0}},
			"UnknownAirport":     {with: map[string]any{"IN_Segment destination airport code": "XYZ"}, valid: true, errs: []string{"IN_Segment destination airport code:unknown_location:warning"}},
			"UnknownCF":          {with: map[string]any{"Centre financier": "F9999"}, errs: []string{"Centre financier:unknown_unit:error"}},
			"ZeroPaddedCF":       {with: map[string]any{"Centre financier": "F0828"}, valid: true},
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				mp := m.Map(3, row(tc.with))
				require.Equal(t, tc.valid, mp.Valid(), "%v", mp.Errs)
				require.Equal(t, tc.errs, codes(mp))
				for _, e := range mp.Errs {
					require.Equal(t, 3, e.Row, "row = 1-based index in the returned rows")
				}
				if !tc.valid {
					return
				}
				var data map[string]any
				require.NoError(t, json.Unmarshal(mp.Row.Data, &data))
				for k, v := range tc.data {
					require.Equal(t, v, data[k], k)
				}
				require.Equal(t, tc.noKg, mp.Row.KgOverride == nil)
			})
		}
	})

	t.Run("OtherYearDroppedSilently", func(t *testing.T) {
		t.Parallel()
		mp := m.Map(1, row(map[string]any{"IN_Departure date": "20241230", "Centre financier": ""}))
		require.True(t, mp.OtherYear)
		require.False(t, mp.Valid())
		require.Empty(t, mp.Errs)
	})

	t.Run("SeveralErrorsOfOneRow", func(t *testing.T) {
		t.Parallel()
		mp := m.Map(1, row(map[string]any{"IN_Departure date": nil, "SCIPER": "", "Centre financier": "F1"}))
		require.ElementsMatch(t, []string{"IN_Departure date:required:error", "SCIPER:required:error", "Centre financier:unknown_unit:error"}, codes(mp))
		require.True(t, ingest.HasErrors(mp.Errs))
	})
}
